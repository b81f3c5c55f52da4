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

from model.analyses.calibrate import Market
from model.analyses.calibration import CalibrationRun
from model.core.quantities import OUTCOMES
from model.montecarlo.engine import BLOCK, Estimate, Result
from model.spec.priors import Priors

__all__ = ["OUTCOMES", "load_priors", "simulate", "sensitivity", "calibrate", "compare",
           "Run", "Sensitivity", "Calibration", "Comparison", "Progress"]

#: ``progress(label, done, total)``, called as work advances (``total`` may be None).
Progress = Callable[[str, int, "int | None"], None]


def _plain(data: Any) -> Any:
    """``data`` as JSON reads it back (tuples as lists, keys as strings): what the files hold."""
    return json.loads(json.dumps(data))


def _tell(progress: Progress | None, label: str, total: int) -> Callable[[int], None] | None:
    return None if progress is None else (lambda done: progress(label, done, total))


def load_priors(path: str | Path) -> Priors:
    """Read and validate a priors file (and the files it inherits from).

    Raises :class:`model.PriorsError` listing every problem with its file, line and key.

    >>> view = load_priors("priors/author.toml")
    >>> view.variables["capability_needed"].written
    '...'
    """
    from model.spec.priors import load

    return load(path)


def _priors(priors: Priors | str | Path) -> Priors:
    return priors if isinstance(priors, Priors) else load_priors(priors)


@dataclass(frozen=True)
class Run:
    """One simulation of a priors file: its estimates and, if asked for, some of its worlds."""

    priors: Priors
    result: Result = field(repr=False)
    worlds: Mapping[str, Any] | None = field(default=None, repr=False)  # the first `keep` worlds

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
        one column per variable and quantity, and ``u:<variable>`` for its copula coordinate."""
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
    """The first ``keep`` worlds of the run (whole blocks are drawn, so they equal the run's own)."""
    from model.montecarlo.engine import simulate as engine_simulate

    n = min(samples, math.ceil(keep / BLOCK) * BLOCK)
    worlds = engine_simulate(priors, samples=n, seed=seed, workers=workers, keep_worlds=True).worlds
    return {k: v[:keep] for k, v in worlds.items()}


def simulate(priors: Priors | str | Path, *, samples: int | None = None, seed: int | None = None,
             workers: int | None = None, keep: int = 0, progress: Progress | None = None,
             _utilities: tuple[float, float, float] | None = None) -> Run:
    """Monte Carlo of a priors file (or its path): the four outcomes and every reported quantity.

    ``samples`` and ``seed`` default to the file's ``[simulation]``; results depend only on
    them, not on ``workers``. ``keep=n`` also keeps the first ``n`` worlds for
    :meth:`Run.to_dataframe` (memory grows with ``n`` only). A calibrated file (``[calibration]
    apply``) is weighted, as ``aar-risk run`` weights it.

    >>> run = simulate("priors/author.toml", samples=100_000, seed=1, keep=1000)
    >>> run.estimates["success"].mean, len(run.to_dataframe())
    (0..., 1000)
    """
    from model.montecarlo.engine import simulate as engine_simulate

    view = _priors(priors)
    n = view.simulation.samples if samples is None else int(samples)
    seed = view.simulation.seed if seed is None else int(seed)
    result = engine_simulate(view, samples=n, seed=seed, workers=workers, utilities=_utilities,
                             progress=_tell(progress, "simulating", n))
    worlds = _first_worlds(view, int(keep), n, seed, workers) if keep > 0 else None
    return Run(view, result, worlds)


@dataclass(frozen=True)
class Sensitivity:
    """Which belief drives each outcome (Sobol and given-data indices, tornado) and the value
    of information of each crux for the decision to build the AAR."""

    run: Run
    data: Mapping[str, Any] = field(repr=False)

    def summary(self) -> dict:
        """sensitivity.json, as ``aar-risk sensitivity`` writes it."""
        return _plain(self.data)


def sensitivity(priors: Priors | str | Path, *, samples: int | None = None, seed: int | None = None,
                workers: int | None = None, progress: Progress | None = None) -> Sensitivity:
    """Sensitivity of every outcome to every belief (SALib Sobol indices, given-data indices,
    tornado swings, partial EVPI). Not for a calibrated file: run it on the file's base.

    >>> s = sensitivity("priors/author.toml", samples=100_000, seed=1)
    >>> s.summary()["outcomes"]["success"]["ranking"][0]
    '...'
    """
    from model.analyses.sensitivity import analyse

    view = _priors(priors)
    if view.calibration.apply is not None:
        raise ValueError(f"{view.path} is calibrated (its worlds are weighted); run sensitivity on its base")
    run = simulate(view, samples=samples, seed=seed, workers=workers, progress=progress,
                   _utilities=view.decision.utilities)
    if progress is not None:
        progress("sensitivity (SALib, EVPI)", 0, None)
    return Sensitivity(run, analyse(view, run.result, seed=run.result.seed))


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
              chains: int = 4, workers: int | None = None, progress: Progress | None = None,
              _checked: bool = False) -> Calibration:
    """Calibrate a priors file against the market (default: its ``[calibration]``, 14% in 4
    years): NUTS (PyMC), importance reweighting and entropic tilting.

    >>> c = calibrate("priors/author.toml", methods=("reweight", "tilt"), samples=200_000, seed=1)
    >>> c.summary()["methods"]["reweight"]["success_within_horizon"]["mean"]
    0...
    """
    from model.analyses.calibration import METHODS, run

    view = _priors(priors)
    if view.calibration.apply is not None:
        raise ValueError(f"{view.path} is already calibrated; calibrate the file it inherits from")
    unknown = set(methods) - set(METHODS)
    if unknown or not methods:
        raise ValueError(f"methods must be some of {METHODS}, got {tuple(methods)}")
    if "nuts" in methods and not _checked:  # the CLI checks before it takes the report folder
        from model.analyses.calibrate import check_nuts

        check_nuts(view)
    market = Market.from_priors(view, target, horizon, trust)
    return Calibration(run(view, market, tuple(m for m in METHODS if m in methods), samples, seed,
                           draws=draws, tune=tune, chains=chains, workers=workers, progress=progress))


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
    """Simulate each view with the same seed (default: the first file's) and attribute each
    consecutive pair's differences to variables with Shapley values.

    >>> c = compare("priors/author.toml", "priors/openai.toml", samples=100_000, seed=1)
    >>> sorted(c.summary()["files"])
    [...]
    """
    from model.analyses.compare import attribute

    if len(priors) < 2:
        raise ValueError("compare needs at least two priors files")
    views = [_priors(p) for p in priors]
    seed = views[0].simulation.seed if seed is None else int(seed)
    runs = tuple(simulate(v, samples=samples, seed=seed, workers=workers, progress=progress) for v in views)
    pairs = list(zip(views, views[1:]))
    attributions = []
    for i, (a, b) in enumerate(pairs):
        if progress is not None:
            progress("attributing differences", i, len(pairs))
        attributions.append(attribute(a, b, samples=samples, seed=seed))
    return Comparison(runs, tuple(attributions))

