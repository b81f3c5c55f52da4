"""The machine-readable summary of a run (summary.json), built from engine results."""

from __future__ import annotations

import platform
from typing import Any

from model.core.quantities import EXTRA, OUTCOMES, PARTS, Q
from model.core.version import __version__
from model.montecarlo.engine import BLOCK, Result
from model.priors.priors import Priors


def versions() -> dict[str, str]:
    import numpy
    import pydantic
    import scipy

    return {
        "model": __version__,
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "pydantic": pydantic.__version__,
        "python": platform.python_version(),
    }


def display_path(path) -> str:
    """A path as the user would type it: relative to the working folder when inside it."""
    from pathlib import Path

    p = Path(path)
    try:
        return p.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(p)


def ambition_curve(result: Result, least: int = 200) -> list[dict[str, float]]:
    """Mean outcomes per speed-up bin with at least ``least`` worlds (the ambition curve)."""
    a = result.ambition
    return [
        {
            "speedup_from": float(a.edges[i]),
            "speedup_to": float(a.edges[i + 1]),
            "worlds": int(a.counts[i]),
            **{q: float(a.means[q][i]) for q in a.means},
        }
        for i in range(len(a.counts))
        if a.counts[i] >= least
    ]


#: Below this effective sample size (or 10% of the worlds) a weighted run warns.
ESS_WARNING = 1000


def priors_digest(priors: Priors) -> str:
    """A fingerprint of what a priors file (with its bases) says: a calibration made from
    other priors is stale, and the run report does not link it (model/priors/fitted.py)."""
    from model.priors.fitted import content_digest

    return content_digest(priors)


def applied(priors: Priors, result: Result) -> dict[str, Any] | None:
    """How a calibrated priors file weighted its worlds, and how many effective worlds are left."""
    if result.weighting is None:
        return None
    c = priors.calibration
    assert result.ess is not None  # a run sets it
    ess = float(result.ess)
    return {
        "apply": result.weighting[0],
        "target": c.target,
        "horizon_years": c.horizon_years,
        "trust": c.trust,
        "tilt_lambda": c.tilt_lambda,
        "effective_sample_size": ess,
        "warning": ess < ESS_WARNING or ess < 0.1 * result.samples,
        "fitted_to": c.fitted_to,
        "warnings": list(priors.warnings),
    }


def build(priors: Priors, result: Result) -> dict[str, Any]:
    est = {k: v.as_dict() for k, v in result.estimates.items()}
    return {
        "priors": display_path(priors.path),
        "priors_digest": priors_digest(priors),
        "name": priors.name,
        "description": priors.description,
        "samples": result.samples,
        "seed": result.seed,
        "outcomes": {k: est[k] for k in OUTCOMES},
        "kicking_the_can_parts": {k: est[k] for k in PARTS},
        **{k: est[k] for k in EXTRA},
        "calibration_target": {
            "target": result.target,
            "horizon_years": result.horizon,
            "percentile": result.target_percentile,
            "source": priors.calibration.source,
        },
        "variables": {
            n: {
                "written": p.written,
                "family": p.marginal.family,
                "source": p.source,
                "from": display_path(p.origin),
                **({"unused": p.unused} if p.unused else {}),
            }
            for n, p in priors.variables.items()
        },
        "notices": list(priors.notices),
        "ambition_curve": ambition_curve(result),
        "calibration_applied": applied(priors, result),
        **({"given_evidence": given_evidence(result)} if result.given is not None else {}),
        "correlations": {f"{a}, {b}": rho for (a, b), rho in priors.correlations.items()},
        "method": {
            "estimator": "mean of per-world probabilities; mcse = sd / sqrt(samples)",
            "percentiles": "5th/50th/95th of per-world probabilities from a 32768-bin logit-grid "
            "histogram (bin width 0.0014 in logit), clamped to the observed range",
            "block_size": BLOCK,
            "seeding": "block b uses numpy SeedSequence(seed, spawn_key=(b,)) with PCG64",
        },
        "versions": versions(),
    }


def _finite(x: float) -> float | None:
    """JSON has no NaN: a median of no world is null."""
    import math

    return x if math.isfinite(x) else None


def _pair(mean: float | None, mcse: float | None) -> dict[str, float | None]:
    return {"mean": mean, "mcse": mcse}


def given_evidence(result: Result) -> dict[str, Any]:
    """The run given its evidence (MODEL.md §5.v3): the outcomes again, each entry's Bayes factor
    and what it alone moves, the cruxes' medians and the timeline before and after."""
    from model.core.evidence import ORIGIN
    from model.montecarlo.given import MONTHS, TIMELINE_EVENTS
    from model.priors.evidence import as_written

    g = result.given
    assert g is not None  # called only for a run with evidence
    ess = g.given.ess

    def view(m, keys) -> dict[str, Any]:
        return {q: _pair(m.means[q], m.mcse[q]) for q in keys}

    entries = []
    for e, (bf, bf_err), alone in zip(g.entries, g.bayes_factors, g.alone, strict=True):
        entries.append(
            {
                **as_written(e),
                "words": e.words(),
                "bayes_factor": _pair(bf, bf_err),
                "alone": {
                    "outcomes": view(alone, OUTCOMES),
                    Q.success_within_horizon: _pair(
                        alone.means[Q.success_within_horizon], alone.mcse[Q.success_within_horizon]
                    ),
                    "crux_medians": {n: _finite(m) for n, m in alone.crux_medians.items()},
                    "effective_sample_size": alone.ess,
                },
            }
        )
    return {
        "as_of": g.as_of.isoformat(),
        "outcomes": view(g.given, OUTCOMES),
        "kicking_the_can_parts": view(g.given, PARTS),
        **view(g.given, EXTRA),
        "effective_sample_size": ess,
        "warning": ess < ESS_WARNING or ess < 0.1 * result.samples,
        "crux_medians": {
            n: {"prior": _finite(g.prior.crux_medians[n]), "given": _finite(g.given.crux_medians[n])}
            for n in g.given.crux_medians
        },
        "entries": entries,
        "timeline": {
            "origin": ORIGIN.isoformat(),
            "months": list(range(1, MONTHS + 1)),
            "events": list(TIMELINE_EVENTS),
            **{
                v: {e: [_finite(round(float(x), 7)) for x in g.timeline[v][e]] for e in TIMELINE_EVENTS}
                for v in ("prior", "given")
            },
        },
    }
