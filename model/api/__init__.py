"""The Python face of aar-cruxes, for notebooks and scripts (docs/api.md).

Seven functions, each returning a typed result whose ``.summary()`` is exactly the JSON
the command line writes for the same priors, samples and seed; ``report_run``,
``Calibration.files`` and ``Comparison.files`` give the very files it writes::

    import model
    view = model.load_priors("priors/author.toml")
    run = model.simulate(view, samples=200_000, seed=1)
    run.summary()["outcomes"]["success"]        # {"mean": …, "mcse": …, "p5": …, …}

Progress is a callback ``progress(label, done, total)``; nothing here prints. PyMC,
ArviZ, matplotlib and SALib are imported only by the functions that use them.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from model.api.arguments import calibration_methods, checked_market, checked_workers, count, plain, tell
from model.core.limits import MAX_SAMPLES, MAX_SEED, MIN_DRAWS
from model.core.quantities import OUTCOMES, Q
from model.montecarlo.engine import Estimate, Result
from model.priors.priors import Priors

if TYPE_CHECKING:  # the calibration pipeline imports scipy.optimize: only calibrate needs it
    from model.analyses.calibration.pipeline import CalibrationRun, Progress
    from model.analyses.cruxes import CruxScore, LeftOut, Survey, SurveyScores
    from model.api.given import Given

__all__ = [
    "OUTCOMES",
    "Calibration",
    "Comparison",
    "Given",
    "PeopleCruxes",
    "Progress",
    "Run",
    "RunReport",
    "Sensitivity",
    "SurveyCruxes",
    "calibrate",
    "compare",
    "cruxes",
    "load_priors",
    "report_run",
    "sensitivity",
    "simulate",
    "survey_cruxes",
]


def __getattr__(name: str):
    if name in ("cruxes", "PeopleCruxes"):  # many people's priors files (model/api/people.py)
        from model.api import people

        return getattr(people, name)
    if name == "Given":  # the typed view of a run given its evidence (Run.given)
        from model.api.given import Given

        return Given
    if name == "Progress":  # ``progress(label, done, total)``, as the calibration pipeline defines it
        from model.analyses.calibration.pipeline import Progress

        return Progress
    raise AttributeError(f"module 'model.api' has no attribute {name!r}")


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
        return (
            f"Run({self.priors.name!r}, samples={self.result.samples:,}, seed={self.result.seed}, "
            + ", ".join(f"{q}={e[q].mean:.4f}" for q in OUTCOMES)
            + ")"
        )

    @property
    def estimates(self) -> Mapping[str, Estimate]:
        """Mean, Monte Carlo error and 5/50/95th percentiles of every reported quantity, under
        the priors as written (a file with evidence: before it; see :attr:`given`)."""
        return self.result.estimates

    @cached_property
    def given(self) -> Given | None:
        """The same worlds given the file's evidence (MODEL.md §5.v3), None without evidence:
        ``.estimates`` (weighted mean and Monte Carlo error of every quantity), ``.as_of``,
        ``.effective_sample_size`` and ``.entries`` (each with its ``bayes_factor`` and its
        ``alone`` estimates); summary.json's ``given_evidence``.

        >>> run = simulate("priors/author-2026.toml", samples=20_000, seed=1)
        >>> g = run.given
        >>> g.as_of, len(g.entries), g.entries[0].words
        (datetime.date(2026, 12, 1), 4, 'no useful AAR by Dec 2026')
        >>> 0 < g.entries[0].bayes_factor.mean < 1, g.estimates["success"].mean != run.estimates["success"].mean
        (True, True)
        """
        from model.api.given import given_view

        return None if self.result.given is None else given_view(self.result.given)

    def summary(self) -> dict:
        """summary.json, as ``aar-risk run`` writes it for the same priors, samples and seed."""
        from model.report.summary import build

        return plain(build(self.priors, self.result))

    def to_dataframe(self):
        """The kept worlds (``simulate(..., keep=n)``) as a pandas DataFrame: one row per world,
        one column per variable and quantity, and ``u:<variable>`` for its copula coordinate.

        A calibrated file's worlds also have ``weight`` (summing to one over the kept rows):
        its numbers are weighted means, so use ``(df[q] * df.weight).sum()``, not ``df[q].mean()``."""
        if self.worlds is None:
            raise ValueError(
                "no worlds were kept: call model.simulate(..., keep=n) with the number of worlds you want as rows"
            )
        import pandas as pd

        return pd.DataFrame(dict(self.worlds))

    def figures(self) -> dict[str, bytes]:
        """The run report's figures, as PNG bytes by file name."""
        from model.report.figures import render_all

        return render_all(self.priors, self.result)


def _first_worlds(priors: Priors, worlds: Mapping[str, Any] | None, keep: int) -> dict:
    """The first ``keep`` of the run's kept worlds, with their normalised weights when the
    file is calibrated."""
    from model.montecarlo.engine import log_weights, priors_weighting

    assert worlds is not None, "the run kept its worlds (keep_worlds=True)"

    # v3: the unused one of build_lag and years_to_build is a placeholder, not a belief
    worlds = {k: v[:keep] for k, v in worlds.items() if k not in priors.variables or priors.used(k)}
    weighting = priors_weighting(priors)
    if weighting is not None:
        import numpy as np

        logw = log_weights(weighting, worlds[Q.success_within_horizon])
        w = np.exp(logw - logw.max())
        worlds["weight"] = w / w.sum()
    return worlds


def simulate(
    priors: Priors | str | Path,
    *,
    samples: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    keep: int | None = 0,
    progress: Progress | None = None,
) -> Run:
    """Monte Carlo of a priors file (or its path): the four outcomes and every reported quantity.

    ``samples`` and ``seed`` default to the file's ``[simulation]``; results depend only on
    them, not on ``workers``. ``keep=n`` also keeps the first ``n`` worlds for
    :meth:`Run.to_dataframe` (memory grows with ``n`` only; ``n`` at most ``samples``). A calibrated
    file (``[calibration] apply``) is weighted, as ``aar-risk run`` weights it.

    >>> run = simulate("priors/author.toml", samples=100_000, seed=1, keep=1000)
    >>> run.estimates["success"].mean, len(run.to_dataframe())
    (0..., 1000)
    """
    return _simulate(_priors(priors), samples, seed, workers, keep, progress)


def _simulate(
    view: Priors,
    samples: int | None,
    seed: int | None,
    workers: int | None,
    keep: int | None,
    progress: Progress | None,
    utilities: tuple[float, float, float] | None = None,
) -> Run:
    from model.montecarlo.engine import simulate as engine_simulate

    n = count(samples, "samples", 1, MAX_SAMPLES, view.simulation.samples)
    seed = count(seed, "seed", 0, MAX_SEED, view.simulation.seed)
    keep = count(keep, "keep", 0, None, 0)
    if keep > n:
        raise ValueError(f"keep={keep:,} is more than the run's {n:,} worlds")
    workers = checked_workers(workers)
    label = f"simulating {view.path.stem}"
    if progress is not None:
        progress(label, 0, n)
    result = engine_simulate(
        view,
        samples=n,
        seed=seed,
        workers=workers,
        utilities=utilities,
        keep_worlds=keep,
        progress=tell(progress, label, n),
    )
    if keep == 0:
        return Run(view, result)
    return Run(view, replace(result, worlds=None), _first_worlds(view, result.worlds, keep))


@dataclass(frozen=True)
class RunReport:
    """A run's report: its :class:`Run`, its :class:`Sensitivity` (if asked for) and every
    file of its folder by relative path (report.html, report.md, summary.json, figures/…)."""

    run: Run
    sensitivity: Sensitivity | None = field(repr=False)
    files: Mapping[str, str | bytes] = field(repr=False)

    def summary(self) -> dict:
        """summary.json as the files hold it (:meth:`Run.summary`)."""
        return json.loads(self.files["summary.json"])


def report_run(
    priors: Priors | str | Path,
    *,
    samples: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    sensitivity: bool = False,
    folder: str | Path | None = None,
    progress: Progress | None = None,
) -> RunReport:
    """Simulate a priors file and make its report, as ``aar-risk run`` writes it: the figures
    are drawn in two worker processes (those of the priors while a run of up to 10⁷ worlds
    simulates), ``sensitivity=True`` adds the sensitivity section and sensitivity.json, and
    a calibration in ``folder``'s ``calibration/`` (the folder the files will be written to) is
    linked from the report, marked stale if it was made from other priors. Nothing is written.

    Call it from a script's ``if __name__ == "__main__":`` block (it starts processes).

    >>> r = report_run("priors/author.toml", samples=20_000, seed=1)
    >>> sorted(r.files)[:3], r.summary() == r.run.summary()
    (['figures/ambition.png', 'figures/amdahl.png', 'figures/crux_map.png'], True)
    """
    from model.report.drawing import DRAW_WHILE_SIMULATING, Drawing

    view = _priors(priors)
    if sensitivity:
        _sensitivity_applies(view, samples)
    now = count(samples, "samples", 1, MAX_SAMPLES, view.simulation.samples) <= DRAW_WHILE_SIMULATING
    with Drawing(now=now) as drawing:
        drawing.start(view, now=now)
        run = _simulate(
            view, samples, seed, workers, 0, progress, utilities=view.decision.utilities if sensitivity else None
        )
        _stage(progress, "drawing figures")
        figures = drawing.finish(run.result)
        _stage(progress, "drawing figures", done=True)
        sens = _sensitivity(run, progress) if sensitivity else None
        if sens is not None:
            from model.report.sensitivity import render

            figures.update(render(sens.data, {q: e.mean for q, e in run.result.estimates.items()}))
        from model.report.render import files  # Jinja2, once the figures are in

        summary = run.summary()
        content = files(
            summary,
            figures,
            None if sens is None else sens.summary(),
            _calibration_link(folder, summary["priors_digest"]),
        )
    return RunReport(run, sens, content)


def _stage(progress: Progress | None, label: str, done: bool = False) -> None:
    """A stage of unknown length begins (``total`` None), or is done."""
    if progress is not None:
        progress(label, 1, 1) if done else progress(label, 0, None)


def _sensitivity(run: Run, progress: Progress | None) -> Sensitivity:
    """The sensitivity analysis of a run simulated with the file's decision utilities."""
    from model.analyses.sensitivity import analyse

    _stage(progress, "sensitivity (SALib, EVPI)")
    sens = Sensitivity(run, analyse(run.priors, run.result, seed=run.result.seed))
    _stage(progress, "sensitivity (SALib, EVPI)", done=True)
    return sens


def _calibration_link(folder: str | Path | None, digest: str) -> dict:
    """Whether ``folder`` holds a calibration (``exists``) of these very priors (``current``;
    else it is stale), and when current its calibrated numbers for the report to show inline
    (``numbers``, :func:`model.report.calibration.inline_numbers`; None if it holds none)."""
    from model.report.render import NO_CALIBRATION

    if folder is None:
        return NO_CALIBRATION
    try:
        made = json.loads((Path(folder) / "calibration" / "calibration.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return NO_CALIBRATION
    current = isinstance(made, dict) and made.get("priors_digest") == digest
    if not current:
        return {"exists": True, "current": False, "numbers": None}
    from model.report.calibration import inline_numbers

    return {"exists": True, "current": True, "numbers": inline_numbers(made)}


@dataclass(frozen=True)
class Sensitivity:
    """Which belief drives each outcome (Sobol and given-data indices, tornado) and the value
    of information of each crux for the decision to build the AAR."""

    run: Run = field(repr=False)
    data: Mapping[str, Any] = field(repr=False)

    def summary(self) -> dict:
        """sensitivity.json, as ``aar-risk sensitivity`` writes it."""
        return plain(self.data)


def sensitivity(
    priors: Priors | str | Path,
    *,
    samples: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> Sensitivity:
    """Sensitivity of every outcome to every belief (SALib Sobol indices, given-data indices,
    tornado swings, partial EVPI). Not for a calibrated file: run it on the file's base.
    ``samples`` sets the Monte Carlo part (given-data indices, tornado, EVPI); the Sobol
    indices always use SALib's own design of 4096 base samples.

    >>> s = sensitivity("priors/author.toml", samples=100_000, seed=1)
    >>> s.summary()["outcomes"]["success"]["ranking"][0]
    '...'
    """
    view = _priors(priors)
    _sensitivity_applies(view, samples)
    return _sensitivity(
        _simulate(view, samples, seed, workers, 0, progress, utilities=view.decision.utilities), progress
    )


def _sensitivity_applies(view: Priors, samples: int | None) -> None:
    """Refuse a calibrated file (its worlds are weighted) and too few worlds to mean anything."""
    from model.analyses.sensitivity import check_samples

    if view.calibration.apply is not None:
        raise ValueError(f"{view.path} is calibrated (its worlds are weighted); run sensitivity on its base")
    check_samples(count(samples, "samples", 1, MAX_SAMPLES, view.simulation.samples))


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

        return plain(build(self.computed, calibrated(self.computed, folder)[0]))

    def files(self, folder: str | Path) -> dict[str, str | bytes]:
        """Every file of the calibration report, by path relative to ``folder`` (where it will be
        written: calibration.json, report.md/.html, figures/, calibration.nc, and the calibrated
        file in priors/, whose ``base`` is a path from there); ``summary(folder / "priors")``
        is its calibration.json."""
        from model.report.calibration import make

        return make(self.computed, Path(folder))[1]

    def calibrated_priors(self, folder: str | Path | None = None) -> str | None:
        """The calibrated priors file's text, to be saved in ``folder`` (see :meth:`summary`)."""
        from model.report.calibration import calibrated

        return calibrated(self.computed, folder)[1]


def calibrate(
    priors: Priors | str | Path,
    *,
    target: float | None = None,
    horizon: float | None = None,
    trust: float | None = None,
    methods: tuple[str, ...] = ("nuts", "reweight", "tilt"),
    samples: int | None = None,
    seed: int | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    workers: int | None = None,
    progress: Progress | None = None,
) -> Calibration:
    """Calibrate a priors file against the market (default: its ``[calibration]``, 14% in 4
    years): NUTS (PyMC), importance reweighting and entropic tilting. A file with evidence is
    calibrated given it: every method multiplies its entries' likelihoods into the market's (the
    tilt is relative to the prior given the evidence), and the calibrated file's view given the
    evidence reproduces the calibration (docs/model.md, "Calibration given the evidence").

    >>> c = calibrate("priors/author.toml", methods=("reweight", "tilt"), samples=200_000, seed=1)
    >>> round(c.summary()["methods"]["tilt"]["success_within_horizon"]["mean"], 6)
    0.14
    """
    from model.analyses.calibration.methods import check_nuts
    from model.analyses.calibration.pipeline import run
    from model.montecarlo.workers import refuse_reimported_main

    refuse_reimported_main("model.calibrate")
    view = _priors(priors)
    methods = calibration_methods(view, methods)
    if "nuts" in methods:
        check_nuts(view)
    market = checked_market(view, target, horizon, trust)
    samples = count(samples, "samples", 1, MAX_SAMPLES, view.simulation.samples)
    seed = count(seed, "seed", 0, MAX_SEED, view.simulation.seed)
    draws = count(draws, "draws", MIN_DRAWS)
    tune, chains = (count(v, k, 1) for k, v in (("tune", tune), ("chains", chains)))
    return Calibration(
        run(
            view,
            market,
            methods,
            samples,
            seed,
            draws=draws,
            tune=tune,
            chains=chains,
            workers=checked_workers(workers),
            progress=progress,
        )
    )


@dataclass(frozen=True)
class Comparison:
    """Two or more views side by side, and each pair's difference attributed to variables."""

    runs: tuple[Run, ...] = field(repr=False)
    attributions: tuple = field(repr=False)

    @cached_property
    def _built(self) -> dict:
        from model.report.compare import build

        return build([(r.priors, r.result) for r in self.runs], list(self.attributions))

    def summary(self) -> dict:
        """compare.json, as ``aar-risk compare`` writes it."""
        return plain(self._built)

    def files(self) -> dict[str, str | bytes]:
        """Every file of the comparison report (compare.json, compare.md/.html, figures/), by
        relative path."""
        from model.report.compare import files

        return files(self._built)


def compare(
    *priors: Priors | str | Path,
    samples: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> Comparison:
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
    samples = count(samples, "samples", 1, MAX_SAMPLES, views[0].simulation.samples)
    seed = count(seed, "seed", 0, MAX_SEED, views[0].simulation.seed)
    runs = tuple(_simulate(v, samples, seed, workers, 0, progress) for v in views)
    pairs = list(itertools.pairwise(views))
    attributions = []
    for i, (a, b) in enumerate(pairs):
        if progress is not None:
            progress("attributing differences", i, len(pairs))
        attributions.append(attribute(a, b, samples=given, seed=seed))
    if progress is not None:
        progress("attributing differences", len(pairs), len(pairs))
    return Comparison(runs, tuple(attributions))


@dataclass(frozen=True)
class SurveyCruxes:
    """A survey table's binary cruxes: per crux, the median value of discrimination over
    cross-camp pairs and each camp's median value of information; the rows left out."""

    survey: Survey = field(repr=False)
    scores: SurveyScores = field(repr=False)

    def __repr__(self) -> str:
        return f"SurveyCruxes({self.survey.source!r}, cruxes={len(self.cruxes)}, left_out={len(self.incoherent)})"

    @property
    def cruxes(self) -> tuple[CruxScore, ...]:
        """Every crux, by descending median VoD (cruxes without pairs last)."""
        return self.scores.cruxes

    @property
    def incoherent(self) -> tuple[LeftOut, ...]:
        """Every row (or pair) left out of a median, and why."""
        return self.scores.incoherent

    def summary(self) -> dict:
        """survey.json, as ``aar-risk cruxes --survey TABLE --json`` prints it."""
        return {"survey": self.scores.as_dict()}

    def files(self) -> dict[str, str | bytes]:
        """Every file of the survey report (survey.json, report.md/.html, figures/), by relative path."""
        from model.report.survey import files

        return files(self.summary(), self.survey.source)


def survey_cruxes(table: Any) -> SurveyCruxes:
    """The binary-crux metrics of a survey table (a CSV path or a pandas DataFrame): one row
    per person and crux, with columns ``person, camp, crux, p_u, p_c, p_u_given_c`` (or FRI's
    ``person, Camp, ID, PU, Pc, PUc``). Raises :class:`model.SurveyError` naming the file,
    line and column of every problem; incoherent rows are listed in the result, not raised.

    >>> s = survey_cruxes("tests/fixtures/survey/fri-style.csv")
    >>> [(c["crux"], c["pairs"]) for c in s.summary()["survey"]["cruxes"]]
    [('agi_complete', 6), ('aar_as_hard', 9), ('early_warning', 6)]
    >>> s.incoherent[0].person, s.incoherent[0].why[:11]
    ('fay', 'incoherent:')
    """
    from model.analyses.cruxes import read_survey, score

    survey = read_survey(table)
    return SurveyCruxes(survey, score(survey))
