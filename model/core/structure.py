"""Per-world outcome probabilities of the AAR plan (docs/model.md, "Equations, one world at a time").

Pure functions of arrays over a leading world axis. ``xp`` is a namespace from
:mod:`model.core.backend`, so the same equations run on numpy arrays (Monte Carlo)
and on PyTensor tensors (PyMC). Everything is smooth in the world variables so
that NUTS can differentiate it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import NamedTuple

from model.core.backend import Array, Ops, numpy_ops

#: Width of the logistic step at the danger threshold, in capability units.
DANGER_WIDTH = 0.1
#: 1 - p is kept at least this large, so s = 1/(1 - p) stays finite (docs/model.md, "Equations").
MIN_UNAUTOMATED = 1e-12
#: Shortest time in years T_b can be, so its logarithm is finite.
MIN_YEARS = 1e-9
#: Least time in years the AAR-first race gives alignment once the AAR exists (docs/model.md,
#: v3 B: ``max(d_solve, 1e-9)``).
RACE_FLOOR = 1e-9
#: The value of ``years_to_build`` that means "not set: T_b = C·T_g + L" (any set value is > 0).
OVERRIDE_UNSET = 0.0
#: s_h is kept inside [S_FLOOR, 1 − S_FLOOR] in the market likelihood, so ln s_h stays finite.
S_FLOOR = 1e-12
#: Below this |β·C| the climb term uses its series, avoiding 0/0.
_SERIES = 1e-8
#: Above this β·C the loop hazard is computed on the log scale, so e^{β·C} cannot overflow.
_STEEP = 30.0
#: Largest log of the integrated hazard kept: e^{-e^{700}} is 0 already.
_LOG_HAZARD_CAP = 700.0


class Outcomes(NamedTuple):
    """Per-world probabilities and the intermediate quantities behind them."""

    p_align: object  # aligned in either branch: q + (1 − q)·P_boot
    p_boot: object  # the AAR bootstraps its own alignment (the AAR-first branch)
    field_first: object  # q: today's field solves alignment before the AAR exists
    catastrophic: object
    speedup: object
    capability_speedup: object
    t_build: object  # T_b: C·T_g + L, or the drawn years_to_build where it overrides
    t_solve: object
    t_agi: object
    win: object  # the AAR-first race over the time left (v3 B)
    win_without_uplift: object
    success: object
    kicking_the_can: object
    misaligned_contained: object
    aligned_too_slow: object
    capability_externalities: object
    x_risk: object
    success_within_horizon: object
    aar_success_within_horizon: object  # its AAR-first term alone, (1 − q)·P_boot·W_h (MODEL.md §5.v3, market)
    baseline_success: object
    plan_solved: object
    harmless_failure_field_in_time: object  # plan_solved − success: the AAR failed harmlessly, the field won
    plan_minus_baseline: object


def climb(c: Array, beta: Array, xp: Ops = numpy_ops) -> Array:
    """Integrated loop hazard per unit λ0: ∫₀ᶜ e^{βx} dx = expm1(β·C)/β, → C as β → 0.

    Essay: "The feedback loop could break down ... deception could prevent
    operators from getting honest feedback", more so at higher capability.
    """
    bc = beta * c
    small = xp.abs(bc) < _SERIES
    safe = xp.where(small, 1.0, bc)  # keeps the untaken branch (and its gradient) finite
    return c * xp.where(small, 1.0 + bc / 2.0, xp.expm1(safe) / safe)


def survival(lam: Array, c: Array, beta: Array, xp: Ops = numpy_ops) -> Array:
    """exp(−λ0·climb): the chance the bootstrapping loop survives the climb to C.

    Exactly 1 when λ0 = 0 (for any β·C), and 0 when the hazard is too large to
    represent. Past β·C = _STEEP the hazard is taken on the log scale,
    ln λ0 + ln C + β·C − ln(β·C) + ln(1 − e^{−β·C}), so nothing overflows; the
    untaken branches get harmless inputs so their gradients stay finite.
    """
    bc = beta * c
    steep = bc > _STEEP
    on = steep & (lam > 0)
    hazard = lam * climb(c, xp.where(steep, 0.0, beta), xp)
    x = xp.where(on, xp.minimum(bc, 1e30), _STEEP + 1.0)  # past 1e30 (or at ∞) the survival is 0 anyway
    log_hazard = xp.log(xp.where(on, lam, 1.0)) + xp.log(xp.where(on, c, 1.0)) + x - xp.log(x) + xp.log(-xp.expm1(-x))
    steep_hazard = xp.where(on, xp.exp(xp.minimum(log_hazard, _LOG_HAZARD_CAP)), 0.0)
    return xp.exp(-xp.where(steep, steep_hazard, hazard))


def amdahl(p: Array, xp: Ops = numpy_ops) -> Array:
    """Amdahl's law: automating a fraction p of the work speeds it up 1/(1 − p).

    Essay: "50% automated -> 2x ... 99.9% automated -> 1000x".
    """
    return 1.0 / xp.maximum(1.0 - p, MIN_UNAUTOMATED)


def finish_time(total: Array, built: Array, speedup: Array, xp: Ops = numpy_ops) -> Array:
    """Years to finish ``total`` years of work that runs ``speedup``× faster after ``built``.

    T − (T − T_b)⁺·(1 − 1/s), which is T_b + (T − T_b)/s when T > T_b and T otherwise
    (docs/model.md, "Equations", the speed-up); written so that s = 1 gives exactly T, with no rounding.
    """
    return total - xp.maximum(total - built, 0.0) * (1.0 - 1.0 / speedup)


def build_time(c: Array, t_g: Array, lag: Array, override: Array, xp: Ops = numpy_ops) -> Array:
    """T_b, years until a useful AAR exists (docs/model.md, v3 C).

    Capability grows linearly from GPT-4 (0, mid-2023) to a top human alignment researcher
    (1, AGI) at T_g, so the AAR exists a build lag L after capability reaches C:
    T_b = C·T_g + L. Essay: "if alignment research is AGI-complete ... the automated
    alignment researcher ... would be as capable as AGI". A drawn ``years_to_build`` > 0
    overrides the derivation (``OVERRIDE_UNSET``, 0, means none); T_b is kept at least
    MIN_YEARS so its logarithm is finite.
    """
    derived = c * t_g + lag
    return xp.maximum(xp.where(override > OVERRIDE_UNSET, override, derived), MIN_YEARS)


def remaining_race(d_end: Array, d_solve: Array, sigma: Array, xp: Ops = numpy_ops) -> Array:
    """P(alignment is solved in d_solve years, before the other event in d_end years), both
    counted from the AAR's arrival, with log-normal noise σ (docs/model.md, v3 B).

    0 where d_end = 0 (AGI came no later than the AAR); a field that was already done
    (d_solve = 0) counts as RACE_FLOOR, so it wins almost surely. The untaken branch gets
    harmless inputs so its gradient stays finite.
    """
    started = d_end > 0.0
    ratio = xp.log(xp.where(started, d_end, 1.0)) - xp.log(xp.maximum(d_solve, RACE_FLOOR))
    return xp.where(started, xp.normal_cdf(ratio / sigma), 0.0)


def aar_races(
    t_a: Array,
    t_b: Array,
    t_g: Array,
    s: Array,
    s_cap: Array,
    sigma: Array,
    horizon: float,
    xp: Ops = numpy_ops,
) -> tuple[Array, Array, Array]:
    """The AAR-first races, counted from T_b (docs/model.md, v3 B): W' (AGI sped up by the
    AAR), W0 (AGI not sped up) and the race to min(T_agi', h) for success within the horizon.

    d_solve = (T_a − T_b)⁺/s, d_agi' = (T_g − T_b)⁺/s_cap, d_agi0 = (T_g − T_b)⁺,
    d_h = (min(T_agi', h) − T_b)⁺.
    """
    d_solve = xp.maximum(t_a - t_b, 0.0) / s
    d_agi0 = xp.maximum(t_g - t_b, 0.0)
    d_agi = d_agi0 / s_cap
    # (min(T_agi', h) − T_b)⁺ = (min(d_agi', h − T_b))⁺, without subtracting two near-equal dates
    d_h = xp.maximum(xp.minimum(d_agi, horizon - t_b), 0.0)
    return (
        remaining_race(d_agi, d_solve, sigma, xp),
        remaining_race(d_agi0, d_solve, sigma, xp),
        remaining_race(d_h, d_solve, sigma, xp),
    )


def aar_fate(w: Mapping[str, Array], xp: Ops = numpy_ops) -> tuple[Array, Array, Array, Array]:
    """What becomes of the AAR once built (docs/model.md, "Equations" 1–3): P_boot, K, s, s_cap."""
    c, r = w["capability_needed"], w["relative_difficulty"]
    # 1. Aligned: the initial technique reaches the AAR's difficulty R·H, and the
    #    bootstrapping loop survives the climb from GPT-4 (C = 0) to C.
    technique_ok = xp.sigmoid((w["technique_strength"] - r * w["alignment_difficulty"]) / w["sharpness"])
    p_boot = technique_ok * survival(w["loop_hazard"], c, w["hazard_growth"], xp)
    # 2. A misaligned AAR past the danger threshold that is not contained.
    catastrophic = xp.sigmoid((c - w["danger_threshold"]) / DANGER_WIDTH) * (1.0 - w["containment"])
    # 3. Speed-ups: alignment by Amdahl; capabilities through overlap and leakage.
    s = amdahl(w["automation_fraction"], xp)
    return p_boot, catastrophic, s, 1.0 + w["skill_overlap"] * w["leakage"] * (s - 1.0)


def outcomes(w: Mapping[str, Array], horizon: float, xp: Ops = numpy_ops) -> Outcomes:
    """All per-world probabilities for worlds ``w`` (a mapping of variable name → array).

    Equations of docs/model.md ("The equations", v3); ``horizon`` is the market's h in years.
    Two branches: the field solves alignment before the AAR exists (weight q), or
    the AAR comes first and must bootstrap its own alignment (weight 1 − q).
    """
    p_boot, catastrophic, s, s_cap = aar_fate(w, xp)  # 1.–3.
    # 4. When the AAR exists (v3: c(t) = t/T_g, so T_b = C·T_g + L; a drawn years_to_build > 0
    #    overrides it), when alignment is solved, and when AGI arrives.
    t_a, t_g = w["field_years"], w["years_to_agi"]
    t_b = build_time(w["capability_needed"], t_g, w["build_lag"], w.get("years_to_build", OVERRIDE_UNSET), xp)
    t_solve = finish_time(t_a, t_b, s, xp)
    t_agi = finish_time(t_g, t_b, s_cap, xp)
    # 5. Which comes first, the field's solution or the AAR (q), with log-normal timing noise.
    sigma = w["timing_noise"]
    log_a = xp.log(t_a)
    q = xp.normal_cdf((xp.log(t_b) - log_a) / sigma)
    baseline = xp.normal_cdf((xp.log(t_g) - log_a) / sigma)  # 8. today's field alone
    #    v3 A: field first, the race is the baseline's; v3 B: AAR first, over the time left.
    win, win0, aar_h = aar_races(t_a, t_b, t_g, s, s_cap, sigma, horizon, xp)
    # 6. The four outcomes (exclusive and exhaustive): q·field first + (1 − q)·AAR first.
    aar = 1.0 - q
    x_risk = aar * (1.0 - p_boot) * catastrophic
    contained = aar * (1.0 - p_boot) * (1.0 - catastrophic)
    too_slow = q * (1.0 - baseline) + aar * p_boot * (1.0 - win0)
    externalities = aar * p_boot * (win0 - win)
    success = q * baseline + aar * p_boot * win
    # 7. Success by the horizon h: the field's race to min(T_g, h), the AAR's to min(T_agi', h).
    field_h = xp.normal_cdf((xp.log(xp.minimum(t_g, horizon)) - log_a) / sigma)
    aar_success_h = aar * p_boot * aar_h
    success_h = q * field_h + aar_success_h
    # 8. Alignment solved with the plan: where the AAR fails harmlessly, the field carries on alone.
    harmless = contained * baseline
    plan_solved = success + harmless
    return Outcomes(
        p_align=q + aar * p_boot,
        p_boot=p_boot,
        field_first=q,
        catastrophic=catastrophic,
        speedup=s,
        capability_speedup=s_cap,
        t_build=t_b,
        t_solve=t_solve,
        t_agi=t_agi,
        win=win,
        win_without_uplift=win0,
        success=success,
        kicking_the_can=contained + too_slow,
        misaligned_contained=contained,
        aligned_too_slow=too_slow,
        capability_externalities=externalities,
        x_risk=x_risk,
        success_within_horizon=success_h,
        aar_success_within_horizon=aar_success_h,
        baseline_success=baseline,
        plan_solved=plan_solved,
        harmless_failure_field_in_time=harmless,
        plan_minus_baseline=plan_solved - baseline,
    )


def market_log_likelihood(success_h: Array, trust: float, y: float, xp: Ops = numpy_ops) -> Array:
    """The market as evidence worth ``trust`` resolved questions that came out at rate y:

        log L(s_h) = trust · (y·ln s_h + (1 − y)·ln(1 − s_h))

    As a function of s_h it peaks exactly at y (the v1 Beta likelihood peaked below it,
    e.g. at 0.121 for y = 0.14 and trust 20, and so moved views *away* from the market);
    it is flat at trust 0, and as trust grows the calibrated mean of s_h goes to y.
    One function for reweighting, weighted runs (numpy) and NUTS (PyTensor, where y may be
    a data tensor). docs/model.md, "Calibration against the market".
    """
    s = xp.clip(success_h, S_FLOOR, 1.0 - S_FLOOR)
    return trust * (y * xp.log(s) + (1.0 - y) * xp.log1p(-s))


def market_log_likelihood_max(trust: float, y: float) -> float:
    """The largest value of :func:`market_log_likelihood` (at s_h = y): weights divided by
    its exponential are at most 1."""
    return trust * (y * math.log(y) + (1.0 - y) * math.log1p(-y))
