"""The calibration pipeline: prior worlds, then NUTS, reweighting and tilting against the
market, and the weighting a calibrated priors file applies (docs/model.md, Calibration).

With evidence (``[[evidence]]``) every method is given it, and so is every number called
"calibrated"; the starting point is the prior given the evidence (docs/model.md, "Calibration
given the evidence"). The calibrated file inherits the evidence with its base: its
``given_evidence`` view is the calibration.

Pure computation: :mod:`model.report.calibration` turns a :class:`CalibrationRun` into
calibration.json, figures and the calibrated priors file.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from model.analyses.calibration import explain
from model.analyses.calibration import methods as cal
from model.analyses.calibration.methods import Market
from model.core.weights import kish_ess, normalise_log
from model.montecarlo.engine import Result, simulate, usable_cores
from model.priors.beliefs import Priors

#: ``progress(label, done, total)``: called as each stage advances.
Progress = Callable[[str, int, "int | None"], None]
#: Worlds of the weighted run that checks a calibrated file reproduces its calibration.
RUN_CHECK_SAMPLES = 200_000
METHODS = ("nuts", "reweight", "tilt")
NUTS_LABEL = "NUTS (compile, then draws)"


@dataclass(frozen=True)
class CalibrationRun:
    """Everything one calibration computed; the report and the API read it, never change it."""

    priors: Priors
    market: Market
    samples: int
    seed: int
    worlds: Mapping[str, np.ndarray] = field(repr=False)  # the prior worlds, per variable and quantity
    prior: dict = field(repr=False)  # summary of the prior worlds
    methods: Mapping[str, dict] = field(repr=False)  # per method: its summary (calibration.json)
    #: per method: (samples by variable, weights or None for equally weighted NUTS draws)
    posteriors: Mapping[str, tuple[Mapping[str, np.ndarray], np.ndarray | None]] = field(repr=False)
    idata: Any = field(default=None, repr=False)  # NUTS's ArviZ InferenceData
    converged: bool = True
    apply: str | None = None  # what the calibrated priors file applies: "update" or "tilt"
    tilt_lambda: float | None = None
    source: str | None = None  # the method whose posterior the refitted marginals picture
    run_check: Result | None = field(default=None, repr=False)  # the calibrated file, run
    #: with evidence: the prior given the evidence (summary, and its weights on ``worlds``)
    prior_given: dict | None = field(default=None, repr=False)
    evidence_weights: np.ndarray | None = field(default=None, repr=False)
    #: why it came out so (:func:`model.analyses.calibration.explain.explain`)
    explained: dict | None = field(default=None, repr=False)

    @property
    def evidence(self):
        """The evidence entries every method was given (the priors', in order)."""
        return self.priors.evidence

    @property
    def weighting(self) -> tuple | None:
        """The weighting of the calibrated file, as :func:`model.montecarlo.engine.simulate` takes it."""
        if self.apply == "update":
            return ("update", self.market.trust, self.market.target)
        if self.apply == "tilt":
            return ("tilt", self.tilt_lambda)
        return None


def _weighted(worlds, w: np.ndarray, priors: Priors, **extra) -> dict:
    ess = kish_ess(w)
    return {
        **cal.weighted_summary(worlds, w, priors),
        **extra,
        "ess": ess,
        "warning": ess < cal.ESS_WARNING or ess < 0.1 * len(w),
    }


def _nuts(
    priors: Priors, market: Market, worlds, draws: int, tune: int, chains: int, seed: int, tell: Progress, cores: int
) -> tuple[dict, tuple, Any]:
    idata = cal.nuts(
        priors,
        market,
        draws=draws,
        tune=tune,
        chains=chains,
        seed=seed,
        cores=min(chains, cores),
        progress=lambda done, total: tell(NUTS_LABEL, done, total),
    )
    diag = cal.diagnostics(idata)
    failed = cal.failed_gates(diag)
    summary = {
        **cal.nuts_summary(idata, priors, worlds),
        "draws": draws,
        "tune": tune,
        "chains": chains,
        "converged": not failed,
        "failed": failed,
        "diagnostics": diag,
    }
    draws_by_name = {n: idata.posterior[n].values.ravel() for n in (*priors.random_names(), "success_within_horizon")}
    return summary, (draws_by_name, None), idata


def run(
    priors: Priors,
    market: Market,
    methods: tuple[str, ...] = METHODS,
    samples: int | None = None,
    seed: int | None = None,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    workers: int | None = None,
    progress: Progress | None = None,
) -> CalibrationRun:
    """Calibrate ``priors`` against ``market`` with each of ``methods``.

    The calibrated file applies the update (the market likelihood, which NUTS samples and
    reweighting approximates) when either ran and NUTS, if it ran, converged; else the tilt.
    """
    tell = progress or (lambda label, done, total: None)
    samples = priors.simulation.samples if samples is None else int(samples)
    seed = priors.simulation.seed if seed is None else int(seed)
    mc = simulate(
        priors,
        samples=samples,
        seed=seed,
        workers=workers,
        keep_worlds=True,
        horizon=market.horizon,
        target=market.target,
        progress=lambda done: tell("prior worlds", done, samples),
    )
    worlds = mc.worlds
    assert worlds is not None  # keep_worlds=True
    log_ev = cal.evidence_log_likelihood(priors.evidence, worlds, market.horizon)
    results, posteriors, idata, lam = _methods(
        priors, market, worlds, methods, (draws, tune, chains), seed, workers, tell, log_ev
    )
    converged, apply, source = _choice(results)
    w_ev = None if log_ev is None else normalise_log(log_ev)
    prior_given = None if w_ev is None else _weighted(worlds, w_ev, priors)
    start = cal.prior_summary(worlds) if prior_given is None else prior_given
    out = CalibrationRun(
        priors,
        market,
        mc.samples,
        mc.seed,
        worlds,
        cal.prior_summary(worlds),
        results,
        posteriors,
        idata,
        converged,
        apply,
        lam if apply == "tilt" else None,
        source,
        prior_given=prior_given,
        evidence_weights=w_ev,
        explained=explain.explain(start, results, _spreads(worlds, posteriors, w_ev)),
    )
    return out if apply is None else _with_run_check(out, seed, workers, tell)


def _with_run_check(out: CalibrationRun, seed: int, workers: int | None, tell) -> CalibrationRun:
    """``out`` with its calibrated file run (RUN_CHECK_SAMPLES worlds), as ``aar-risk run`` runs it."""
    check = simulate(
        out.priors,
        samples=RUN_CHECK_SAMPLES,
        seed=seed,
        workers=workers,
        horizon=out.market.horizon,
        target=out.market.target,
        weighting=out.weighting,
        progress=lambda done: tell("running the calibrated file", done, RUN_CHECK_SAMPLES),
    )
    from dataclasses import replace

    return replace(out, run_check=check)


def _methods(priors: Priors, market: Market, worlds, methods, nuts_sizes, seed, workers, tell, log_ev=None):
    """Each method's results and posterior (worlds, weights), NUTS's InferenceData, the tilt's λ:
    each given the evidence (``log_ev``, the worlds' evidence log-likelihood, or None)."""
    draws, tune, chains = nuts_sizes
    results: dict[str, dict] = {}
    posteriors: dict[str, tuple] = {}
    idata = None
    if "nuts" in methods:
        tell(NUTS_LABEL, 0, chains * (tune + draws))  # compiling first: the bar shows it has begun
        cores = max(1, min(workers or usable_cores(), usable_cores()))  # PyMC's chain processes too
        results["nuts"], posteriors["nuts"], idata = _nuts(
            priors, market, worlds, draws, tune, chains, seed, tell, cores
        )
    if "reweight" in methods:
        w = cal.reweight(worlds, market, log_ev)
        kl = explain.kl_weights(w, None if log_ev is None else normalise_log(log_ev))
        results["reweight"], posteriors["reweight"] = _weighted(worlds, w, priors, kl=kl), (worlds, w)
        if "nuts" in results:
            results["nuts"] = cross_checked(results["nuts"], results["reweight"])
    lam = None
    if "tilt" in methods:
        w, lam, kl = cal.tilt(worlds["success_within_horizon"], market.target, log_ev)
        results["tilt"], posteriors["tilt"] = _weighted(worlds, w, priors, kl=kl, **{"lambda": lam}), (worlds, w)
    return results, posteriors, idata, lam


#: At most this share of NUTS's draws may diverge when NUTS agrees with reweighting: model v3 has
#: kinks and one jump (docs/model.md, "NUTS under v3"), where a trajectory can diverge.
DIVERGENCE_SHARE = 0.0025
#: NUTS agrees with reweighting when every reported mean is within this many combined errors.
AGREEMENT_Z = 4.0


def cross_checked(nuts: dict, reweight: dict) -> dict:
    """NUTS's summary with a few divergences reported rather than fatal, when they are its only
    failed gate, at most DIVERGENCE_SHARE of its draws, and NUTS agrees with reweighting (an
    independent estimate of the same posterior) on every reported mean: the divergences then did
    not move the answer by more than Monte Carlo error. Otherwise unchanged."""
    diag = nuts["diagnostics"]
    total = nuts["draws"] * nuts["chains"]
    only = [f for f in nuts["failed"] if not f.startswith("divergences")] == [] and nuts["failed"]
    if not only or diag["divergences"] > DIVERGENCE_SHARE * total:
        return nuts
    worst = 0.0
    for q, a in nuts["outcomes"].items():
        b = reweight["outcomes"][q]
        err = math.hypot(a.get("mcse") or 0.0, b.get("mcse") or 0.0)
        if err > 0:
            worst = max(worst, abs(a["mean"] - b["mean"]) / err)
    if worst > AGREEMENT_Z:
        return nuts
    note = (
        f"{diag['divergences']} divergent transition{'' if diag['divergences'] == 1 else 's'} "
        f"({100 * diag['divergences'] / total:.2g}% of draws), at the "
        f"model's kinks (docs/model.md, NUTS under v3); NUTS agrees with reweighting on every reported mean "
        f"(largest difference {worst:.1f} combined Monte Carlo errors), so they are reported, not fatal"
    )
    return {**nuts, "converged": True, "failed": [], "warnings": [*nuts.get("warnings", []), note]}


def _spreads(worlds, posteriors: Mapping[str, tuple], w_start: np.ndarray | None) -> dict[str, float]:
    """The spread (standard deviation) of s_h across worlds: at the start (the prior, or the prior
    given the evidence) and under each method."""
    s_h = "success_within_horizon"
    return {
        "start": explain.spread(worlds[s_h], w_start),
        **{k: explain.spread(draws[s_h], w) for k, (draws, w) in posteriors.items()},
    }


def _choice(results: dict[str, dict]) -> tuple[bool, str | None, str | None]:
    """Whether NUTS converged (if it ran), what the calibrated file applies, and whose posterior
    its refitted marginals picture."""
    converged = results.get("nuts", {}).get("converged", True)
    apply = (
        "update"
        if "reweight" in results or ("nuts" in results and converged)
        else "tilt"
        if "tilt" in results
        else None
    )
    source = (
        None
        if apply is None
        else "nuts"
        if "nuts" in results and converged
        else next(m for m in ("reweight", "tilt", "nuts") if m in results)
    )
    return converged, apply, source
