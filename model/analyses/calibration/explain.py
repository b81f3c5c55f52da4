"""Why the calibration came out as it did (issue 20): which beliefs moved most, which outcomes
moved against the direction of success within the horizon, and how the update and the tilt
differ. Pure: numbers in, numbers out; :mod:`model.report.calibration` puts them in words.

* The update reweights each world by how close its success within the horizon s_h is to the
  market, removing worlds on *both* sides (far above and far below): an outcome not tied one to
  one to s_h can move either way, even against s_h's own move.
* The update conditions on the market as evidence worth ``trust`` observations, so it narrows
  the worlds' spread of s_h around the market; the tilt is the smallest change (in KL) whose
  mean s_h is the market's exactly, so it shifts the whole distribution and keeps its spread.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from model.core.quantities import OUTCOMES, Q
from model.core.variables import CRUXES

#: The Monte Carlo error of a median over that of a mean, for a normal variable: √(π/2).
MEDIAN_ERROR = math.sqrt(math.pi / 2)
#: The direction each outcome takes when success moves up: success with it, every failure against.
WITH_SUCCESS = {q: 1 if q == Q.success else -1 for q in OUTCOMES}


def opposite(update: Mapping[str, dict], tilt: Mapping[str, dict]) -> list[str]:
    """The beliefs the update and the tilt move in opposite directions: their median shifts
    (``shift_sd``, :func:`model.analyses.calibration.methods.variable_shift`) have opposite signs."""
    return [n for n in update if n in tilt and update[n]["shift_sd"] * tilt[n]["shift_sd"] < 0]


def moved_most(variables: Mapping[str, dict], flagged: list[str]) -> list[dict]:
    """Each belief's prior median → calibrated median (its own units) and the shift in prior
    standard deviations, largest |shift| first; ``crux`` and ``opposite`` (in ``flagged``) marked.
    ``mcse``: the calibrated median's Monte Carlo error, about √(π/2) times its mean's; ``shift_mcse``
    that error in prior standard deviations (so the numbers are shown to the precision they have)."""
    rows = [
        {
            "variable": n,
            "crux": n in CRUXES,
            "prior_median": v["prior_median"],
            "posterior_median": v["posterior_median"],
            "shift_sd": v["shift_sd"],
            "opposite": n in flagged,
            "mcse": MEDIAN_ERROR * v["mcse"],
            "shift_mcse": MEDIAN_ERROR * v["mcse"] / v["prior_sd"] if v["prior_sd"] > 0 else None,
            "kl": v["kl"],
            "kl_resolution": v.get("kl_resolution"),
        }
        for n, v in variables.items()
    ]
    for r in rows:  # a shift smaller than twice its error: its direction is Monte Carlo noise
        r["within_error"] = r["shift_mcse"] is not None and abs(r["shift_sd"]) < 2 * r["shift_mcse"]
    return sorted(rows, key=lambda r: -abs(r["shift_sd"]))


def against(start: Mapping[str, dict], after: Mapping[str, dict]) -> dict:
    """How success within the horizon moved from ``start`` to ``after`` (outcome blocks with
    ``mean``), and the outcomes that moved against it: success the other way, or a failure the
    same way (:data:`WITH_SUCCESS`), each marked ``within_error`` when smaller than twice its Monte
    Carlo error. Changes are probabilities (×100 for pp)."""
    s_h = Q.success_within_horizon
    moved = after[s_h]["mean"] - start[s_h]["mean"]
    sign = float(np.sign(moved))
    changes = {q: after[q]["mean"] - start[q]["mean"] for q in OUTCOMES}
    return {
        "success_within_horizon": {"before": start[s_h]["mean"], "after": after[s_h]["mean"], "change": moved},
        "against": [
            {"outcome": q, "change": c, "mcse": after[q].get("mcse"), "within_error": _within(c, after[q].get("mcse"))}
            for q, c in changes.items()
            if sign != 0 and np.sign(c) == -sign * WITH_SUCCESS[q]
        ],
    }


def _within(change: float, mcse: float | None) -> bool:
    """Whether a change is smaller than twice its Monte Carlo error (its sign is then noise)."""
    return mcse is not None and abs(change) < 2 * mcse


def spread(s_h: np.ndarray, w: np.ndarray | None = None) -> float:
    """The standard deviation across worlds of s_h, weighted by ``w`` (equal weights without)."""
    x = np.asarray(s_h, dtype=float)
    w = np.full(x.size, 1 / x.size) if w is None else np.asarray(w, dtype=float) / np.sum(w)
    mean = float(w @ x)
    return math.sqrt(max(float(w @ (x - mean) ** 2), 0.0))


def kl_weights(w: np.ndarray, base: np.ndarray | None = None) -> float:
    """KL(w ‖ base) in nats of two weightings of the same worlds (base uniform when None)."""
    w = np.asarray(w, dtype=float)
    q = np.full(w.size, 1 / w.size) if base is None else np.asarray(base, dtype=float)
    held = w > 0
    return max(float(np.sum(w[held] * np.log(w[held] / q[held]))), 0.0)


def explain(start: dict, methods: Mapping[str, dict], spreads: Mapping[str, float]) -> dict:
    """calibration.json's ``explains``: per method its beliefs that moved most and the outcomes
    that moved against success within the horizon (from ``start``, the prior or the prior given
    the evidence); the update's method (NUTS when it ran and converged, else reweighting), the
    beliefs it and the tilt move in opposite directions, and each one's ESS, KL and spread of s_h."""
    update = next(
        (m for m in ("nuts", "reweight") if m in methods and methods[m].get("converged", True)),
        next((m for m in ("nuts", "reweight") if m in methods), None),
    )
    tilt = "tilt" if "tilt" in methods else None
    flagged = opposite(methods[update]["variables"], methods[tilt]["variables"]) if update and tilt else []
    moved = {k: moved_most(m["variables"], flagged) for k, m in methods.items()}
    noisy = {r["variable"] for k in (update, tilt) if k for r in moved[k] if r["within_error"]}
    return {
        "update": update,
        "tilt": tilt,
        "opposite": flagged,
        "opposite_within_error": [n for n in flagged if n in noisy],
        "opposite_cruxes": [n for n in flagged if n in CRUXES],
        "beliefs": len(next(iter(methods.values()))["variables"]) if methods else 0,
        "moved_most": moved,
        "outcomes": {k: against(start["outcomes"], m["outcomes"]) for k, m in methods.items()},
        "spread": dict(spreads),
        # NUTS: its smallest bulk effective sample size over every latent and outcome
        "ess": {k: m.get("ess", m.get("diagnostics", {}).get("ess_bulk_min")) for k, m in methods.items()},
        "kl": {k: m.get("kl") for k, m in methods.items()},
    }
