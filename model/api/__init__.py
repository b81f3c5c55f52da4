"""The Python face of aar-cruxes, for notebooks and scripts (docs/api.md).

Five functions, each returning a typed result whose ``.summary()`` is exactly the JSON
the command line writes for the same priors, samples and seed::

    import model
    view = model.load_priors("priors/author.toml")
    run = model.simulate(view, samples=200_000, seed=1)
    run.summary()["outcomes"]["success"]        # {"mean": …, "mcse": …, "p5": …, …}

Progress is a callback ``progress(label, done, total)``; nothing here prints. PyMC,
ArviZ, matplotlib and SALib are imported only by the functions that use them.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from model.analyses.calibration.methods import Market
from model.analyses.calibration.pipeline import CalibrationRun, Progress
from model.core.quantities import OUTCOMES, Q
from model.montecarlo.engine import BLOCK, Estimate, Result
from model.priors.priors import Priors

__all__ = ["OUTCOMES", "load_priors", "simulate", "sensitivity", "calibrate", "compare",
           "Run", "Sensitivity", "Calibration", "Comparison", "Progress"]



def _plain(data: Any) -> Any:
    """``data`` as JSON reads it back (tuples as lists, keys as strings): what the files hold."""
    return json.loads(json.dumps(data))


def _tell(progress: Progress | None, label: str, total: int) -> Callable[[int], None] | None:
    return None if progress is None else (lambda done: progress(label, done, total))


def _count(value: Any, name: str, least: int, most: int | None = None, default: int | None = None) -> int:
    """An integer argument, checked as the command line checks it (no silent truncation)."""
    if value is None and default is not None:
        return default
    import numbers

    # numpy's integers and floats count (np.int64(1000) is a whole number); bools do not
    if (isinstance(value, bool) or type(value).__name__ == "bool_" or not isinstance(value, numbers.Real)
            or not math.isfinite(value) or value != int(value)):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    value = int(value)
    if value < least or (most is not None and value > most):
        raise ValueError(f"{name} must be in [{least}, {most if most is not None else '∞'}], got {value}")
    return value


MAX_SAMPLES, MAX_SEED = 10**11, 2**63 - 1
#: Fewest NUTS draws per chain, as on the command line (``--draws``): fewer cannot pass ArviZ's checks.
MIN_DRAWS = 100


def _workers(workers: Any) -> int | None:
    """Worker processes: None (all usable cores) or a whole number ≥ 1, capped at the usable
    cores (as ``--workers`` is; results do not depend on it)."""
    if workers is None:
        return None
    from model.montecarlo.workers import usable_cores

    return min(_count(workers, "workers", 1), usable_cores())


def load_priors(path: str | Path) -> Priors:
    """Read and validate a priors file (and the files it inherits from).

    Raises :class:`model.PriorsError` listing every problem with its file, line and key. A
    calibrated file that cannot be checked against what it was fitted to, or an update made
    for other priors, gives a ``UserWarning`` (also in ``Priors.warnings`` and the summary).

    >>> view = load_priors("priors/author.toml")
    >>> view.variables["capability_needed"].written
    '...'
    """
    import warnings

    from model.priors.priors import load

    view = load(path)
    for warning in view.warnings:
        warnings.warn(warning, UserWarning, stacklevel=2)
    return view


def _priors(priors: Priors | str | Path) -> Priors:
    return priors if isinstance(priors, Priors) else load_priors(priors)


@dataclass(frozen=True)
class Run:
    """One simulation of a priors file: its estimates and, if asked for, some of its worlds."""

    priors: Priors = field(repr=False)
    result: Result = field(repr=False)
    worlds: Mapping[str, Any] | None = field(default=None, repr=False)  # the first `keep` worlds

    def __repr__(self) -> str:
        e = self.result.estimates
        return (f"Run({self.priors.name!r}, samples={self.result.samples:,}, seed={self.result.seed}, "
                + ", ".join(f"{q}={e[q].mean:.4f}" for q in OUTCOMES) + ")")

    @property
    def estimates(self) -> Mapping[str, Estimate]:
        """Mean, Monte Carlo error and 5/50/95th percentiles of every reported quantity."""
        return self.result.estimates

    def summary(self) -> dict:
        """summary.json, as ``aar-risk run`` writes it for the same priors, samples and seed."""
        from model.report.summary import build

        return _plain(build(self.priors, self.result))

    def to_dataframe(self):
        """The kept worlds (``simulate(..., keep=n)``) as a pandas DataFrame: one row per world,
        one column per variable and quantity, and ``u:<variable>`` for its copula coordinate.

        A calibrated file's worlds also have ``weight`` (summing to one over the kept rows):
        its numbers are weighted means, so use ``(df[q] * df.weight).sum()``, not ``df[q].mean()``."""
        if self.worlds is None:
            raise ValueError("no worlds were kept: call model.simulate(..., keep=n) with the number "
                             "of worlds you want as rows")
        import pandas as pd

        return pd.DataFrame(dict(self.worlds))

    def figures(self) -> dict[str, bytes]:
        """The run report's figures, as PNG bytes by file name."""
        from model.report.figures import render_all

        return render_all(self.priors, self.result)


def _first_worlds(priors: Priors, keep: int, samples: int, seed: int, workers: int | None) -> dict:
    """The first ``keep`` worlds of the run (whole blocks are drawn, so they equal the run's own),
    with their normalised weights when the file is calibrated."""
    from model.montecarlo.engine import log_weights, priors_weighting
    from model.montecarlo.engine import simulate as engine_simulate

    n = min(samples, math.ceil(keep / BLOCK) * BLOCK)
    result = engine_simulate(priors, samples=n, seed=seed, workers=workers, keep_worlds=True)
    worlds = {k: v[:keep] for k, v in result.worlds.items()}
    weighting = priors_weighting(priors)
    if weighting is not None:
        import numpy as np

        logw = log_weights(weighting, worlds[Q.success_within_horizon])
        w = np.exp(logw - logw.max())
        worlds["weight"] = w / w.sum()
    return worlds


def simulate(priors: Priors | str | Path, *, samples: int | None = None, seed: int | None = None,
             workers: int | None = None, keep: int | None = 0, progress: Progress | None = None) -> Run:
    """Monte Carlo of a priors file (or its path): the four outcomes and every reported quantity.

    ``samples`` and ``seed`` default to the file's ``[simulation]``; results depend only on
    them, not on ``workers``. ``keep=n`` also keeps the first ``n`` worlds for
    :meth:`Run.to_dataframe` (memory grows with ``n`` only; ``n`` at most ``samples``). A calibrated file (``[calibration]
    apply``) is weighted, as ``aar-risk run`` weights it.

    >>> run = simulate("priors/author.toml", samples=100_000, seed=1, keep=1000)
    >>> run.estimates["success"].mean, len(run.to_dataframe())
    (0..., 1000)
    """
    return _simulate(_priors(priors), samples, seed, workers, keep, progress)


def _simulate(view: Priors, samples: int | None, seed: int | None, workers: int | None, keep: int | None,
              progress: Progress | None, utilities: tuple[float, float, float] | None = None) -> Run:
    from model.montecarlo.engine import simulate as engine_simulate

    n = _count(samples, "samples", 1, MAX_SAMPLES, view.simulation.samples)
    seed = _count(seed, "seed", 0, MAX_SEED, view.simulation.seed)
    keep = _count(keep, "keep", 0, None, 0)
    if keep > n:
        raise ValueError(f"keep={keep:,} is more than the run's {n:,} worlds")
    workers = _workers(workers)
    result = engine_simulate(view, samples=n, seed=seed, workers=workers, utilities=utilities,
                             progress=_tell(progress, f"simulating {view.path.stem}", n))
    worlds = _first_worlds(view, keep, n, seed, workers) if keep > 0 else None
    return Run(view, result, worlds)


@dataclass(frozen=True)
class Sensitivity:
    """Which belief drives each outcome (Sobol and given-data indices, tornado) and the value
    of information of each crux for the decision to build the AAR."""

    run: Run = field(repr=False)
    data: Mapping[str, Any] = field(repr=False)

    def summary(self) -> dict:
        """sensitivity.json, as ``aar-risk sensitivity`` writes it."""
        return _plain(self.data)


def sensitivity(priors: Priors | str | Path, *, samples: int | None = None, seed: int | None = None,
                workers: int | None = None, progress: Progress | None = None) -> Sensitivity:
    """Sensitivity of every outcome to every belief (SALib Sobol indices, given-data indices,
    tornado swings, partial EVPI). Not for a calibrated file: run it on the file's base.
    ``samples`` sets the Monte Carlo part (given-data indices, tornado, EVPI); the Sobol
    indices always use SALib's own design of 4096 base samples.

    >>> s = sensitivity("priors/author.toml", samples=100_000, seed=1)
    >>> s.summary()["outcomes"]["success"]["ranking"][0]
    '...'
    """
    from model.analyses.sensitivity import analyse

    view = _priors(priors)
    if view.calibration.apply is not None:
        raise ValueError(f"{view.path} is calibrated (its worlds are weighted); run sensitivity on its base")
    from model.analyses.sensitivity import check_samples

    check_samples(_count(samples, "samples", 1, MAX_SAMPLES, view.simulation.samples))
    run = _simulate(view, samples, seed, workers, 0, progress, utilities=view.decision.utilities)
    if progress is not None:
        progress("sensitivity (SALib, EVPI)", 0, 1)
    done = Sensitivity(run, analyse(view, run.result, seed=run.result.seed))
    if progress is not None:
        progress("sensitivity (SALib, EVPI)", 1, 1)
    return done


@dataclass(frozen=True)
class Calibration:
    """A calibration against the market: each method's posterior summary, NUTS's ArviZ
    ``InferenceData`` (``.idata``), and the calibrated priors file."""

    computed: CalibrationRun = field(repr=False)

    @property
    def idata(self):
        """NUTS's ArviZ InferenceData (None when NUTS was not among the methods)."""
        return self.computed.idata

    @property
    def converged(self) -> bool:
        """Whether NUTS (if it ran) passed every convergence gate."""
        return self.computed.converged

    def summary(self, folder: str | Path | None = None) -> dict:
        """calibration.json, as ``aar-risk calibrate`` writes it; the calibrated file's ``base``
        is a path from ``folder`` (where you would save it; default beside the priors file)."""
        from model.report.calibration import build, calibrated

        return _plain(build(self.computed, calibrated(self.computed, folder)[0]))

    def calibrated_priors(self, folder: str | Path | None = None) -> str | None:
        """The calibrated priors file's text, to be saved in ``folder`` (see :meth:`summary`)."""
        from model.report.calibration import calibrated

        return calibrated(self.computed, folder)[1]


def calibrate(priors: Priors | str | Path, *, target: float | None = None, horizon: float | None = None,
              trust: float | None = None, methods: tuple[str, ...] = ("nuts", "reweight", "tilt"),
              samples: int | None = None, seed: int | None = None, draws: int = 1000, tune: int = 1000,
              chains: int = 4, workers: int | None = None, progress: Progress | None = None) -> Calibration:
    """Calibrate a priors file against the market (default: its ``[calibration]``, 14% in 4
    years): NUTS (PyMC), importance reweighting and entropic tilting.

    >>> c = calibrate("priors/author.toml", methods=("reweight", "tilt"), samples=200_000, seed=1)
    >>> round(c.summary()["methods"]["tilt"]["success_within_horizon"]["mean"], 6)
    0.14
    """
    from model.analyses.calibration.methods import check_nuts
    from model.montecarlo.workers import refuse_reimported_main

    refuse_reimported_main("model.calibrate")
    view = _priors(priors)
    methods = _methods(view, methods)
    if "nuts" in methods:
        check_nuts(view)
    return _calibrate(view, _market(view, target, horizon, trust), methods, samples, seed, draws, tune, chains,
                      workers, progress)


def _methods(view: Priors, methods: tuple[str, ...] | str) -> tuple[str, ...]:
    from model.analyses.calibration.pipeline import METHODS

    if view.calibration.apply is not None:
        raise ValueError(f"{view.path} is already calibrated; calibrate the file it inherits from")
    methods = (methods,) if isinstance(methods, str) else tuple(methods)
    if not methods or set(methods) - set(METHODS):
        raise ValueError(f"methods must be one or more of {METHODS}, got {methods}")
    return tuple(m for m in METHODS if m in methods)


def _market(view: Priors, target: float | None, horizon: float | None, trust: float | None) -> Market:
    """The market, checked as the command line checks it: 0 < target < 1, horizon > 0, 0 ≤ trust ≤ 1e6."""
    market = Market.from_priors(view, target, horizon, trust)
    for name, value, ok in (("target", market.target, 0 < market.target < 1),
                            ("horizon", market.horizon, 0 < market.horizon < math.inf),
                            ("trust", market.trust, 0 <= market.trust <= 1e6)):
        if not ok:  # NaN fails every comparison
            raise ValueError(f"{name} = {value!r} is outside its range (0 < target < 1, horizon > 0, "
                             "0 <= trust <= 1e6)")
    return market


def _calibrate(view: Priors, market: Market, methods: tuple[str, ...], samples: int | None, seed: int | None,
               draws: int, tune: int, chains: int, workers: int | None, progress: Progress | None) -> Calibration:
    """:func:`calibrate` after its checks (the command line makes them before it takes the folder)."""
    from model.analyses.calibration.pipeline import run

    samples = _count(samples, "samples", 1, MAX_SAMPLES, view.simulation.samples)
    seed = _count(seed, "seed", 0, MAX_SEED, view.simulation.seed)
    draws = _count(draws, "draws", MIN_DRAWS)
    tune, chains = (_count(v, k, 1) for k, v in (("tune", tune), ("chains", chains)))
    workers = _workers(workers)
    return Calibration(run(view, market, methods, samples, seed, draws=draws, tune=tune, chains=chains,
                           workers=workers, progress=progress))


@dataclass(frozen=True)
class Comparison:
    """Two or more views side by side, and each pair's difference attributed to variables."""

    runs: tuple[Run, ...] = field(repr=False)
    attributions: tuple = field(repr=False)

    def summary(self) -> dict:
        """compare.json, as ``aar-risk compare`` writes it."""
        from model.report.compare import build

        return _plain(build([(r.priors, r.result) for r in self.runs], list(self.attributions)))


def compare(*priors: Priors | str | Path, samples: int | None = None, seed: int | None = None,
            workers: int | None = None, progress: Progress | None = None) -> Comparison:
    """Simulate each view with the same samples and seed (default: the first file's) and attribute
    each consecutive pair's differences to variables with Shapley values (on ``samples`` worlds if
    given, else the attribution's own 131,072). Calibrated files are refused: no variable's
    share can hold a weighting by the market.

    >>> c = compare("priors/author.toml", "priors/openai.toml", samples=100_000, seed=1)
    >>> [len(c.summary()["files"]), c.summary()["samples"]]
    [2, 100000]
    """
    from model.analyses.compare import attribute, check_comparable

    if len(priors) < 2:
        raise ValueError("compare needs at least two priors files")
    views = [_priors(p) for p in priors]
    check_comparable(views)
    given = samples  # the attribution's own default (model.analyses.compare.SAMPLES) unless given
    samples = _count(samples, "samples", 1, MAX_SAMPLES, views[0].simulation.samples)
    seed = _count(seed, "seed", 0, MAX_SEED, views[0].simulation.seed)
    runs = tuple(_simulate(v, samples, seed, workers, 0, progress) for v in views)
    pairs = list(zip(views, views[1:]))
    attributions = []
    for i, (a, b) in enumerate(pairs):
        if progress is not None:
            progress("attributing differences", i, len(pairs))
        attributions.append(attribute(a, b, samples=given, seed=seed))
    if progress is not None:
        progress("attributing differences", len(pairs), len(pairs))
    return Comparison(runs, tuple(attributions))

