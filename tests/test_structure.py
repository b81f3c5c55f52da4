"""The structural model (docs/model.md, v3): closed forms, invariants, and numpy = PyTensor."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.core.structure import amdahl, climb, outcomes
from model.core.variables import NAMES

from .conftest import MIDDLE_WORLD


def closed_form(w: dict, h: float) -> dict:
    """docs/model.md's equations (v3) written out again with the math module, one world at a time."""
    sig = lambda x: 1 / (1 + math.exp(-x))
    phi = lambda x: 0.5 * math.erfc(-x / math.sqrt(2))
    C, R, H, S = (
        w[k] for k in ("capability_needed", "relative_difficulty", "alignment_difficulty", "technique_strength")
    )
    lam, beta = w["loop_hazard"], w["hazard_growth"]
    climb_ = C if beta == 0 else (math.exp(beta * C) - 1) / beta
    P = sig((S - R * H) / w["sharpness"]) * math.exp(-lam * climb_)
    K = sig((C - w["danger_threshold"]) / 0.1) * (1 - w["containment"])
    s = 1 / (1 - w["automation_fraction"])
    s_cap = 1 + w["skill_overlap"] * w["leakage"] * (s - 1)
    Ta, Tg, sd = w["field_years"], w["years_to_agi"], w["timing_noise"]
    override = w.get("years_to_build", 0.0)
    Tb = max(override if override > 0 else C * Tg + w["build_lag"], 1e-9)  # v3 C
    T_agi = Tb + (Tg - Tb) / s_cap if Tg > Tb else Tg
    race = lambda end, start: phi((math.log(end) - math.log(start)) / sd)
    q = race(Tb, Ta)  # the field solves alignment before the AAR exists
    base = race(Tg, Ta)
    field = {
        "success": base,
        "capability_externalities": 0.0,  # v3 A
        "aligned_too_slow": 1 - base,
        "misaligned_contained": 0.0,
        "x_risk": 0.0,
        "success_within_horizon": race(min(Tg, h), Ta),
    }
    d_solve = max(Ta - Tb, 0.0) / s  # v3 B: the race over the time left once the AAR exists
    left = lambda d: 0.0 if d <= 0 else phi((math.log(d) - math.log(max(d_solve, 1e-9))) / sd)
    W, W0 = left(max(Tg - Tb, 0.0) / s_cap), left(max(Tg - Tb, 0.0))
    aar = {
        "success": P * W,
        "capability_externalities": P * (W0 - W),
        "aligned_too_slow": P * (1 - W0),
        "misaligned_contained": (1 - P) * (1 - K),
        "x_risk": (1 - P) * K,
        "success_within_horizon": P * left(max(min(T_agi, h) - Tb, 0.0)),
    }
    out = {k: q * field[k] + (1 - q) * aar[k] for k in field}
    out["kicking_the_can"] = out["misaligned_contained"] + out["aligned_too_slow"]
    out["baseline_success"] = base
    out["harmless_failure_field_in_time"] = (1 - q) * (1 - P) * (1 - K) * base
    out["plan_solved"] = out["success"] + out["harmless_failure_field_in_time"]
    out["plan_minus_baseline"] = out["plan_solved"] - base
    out["t_build"] = Tb
    return out


WORLDS = [
    MIDDLE_WORLD,  # T_b derived: 0.9·9 + 0.5 = 8.6
    {**MIDDLE_WORLD, "hazard_growth": 0.0},  # the β → 0 limit
    {**MIDDLE_WORLD, "field_years": 2.0},  # alignment before the AAR exists
    {**MIDDLE_WORLD, "years_to_agi": 2.0, "years_to_build": 5.0},  # AGI before the AAR (override)
    {**MIDDLE_WORLD, "capability_needed": 1.8, "containment": 0.0, "hazard_growth": -0.7},  # AGI-complete
    {**MIDDLE_WORLD, "capability_needed": 0.3, "years_to_agi": 20.0},  # AAR early: T_b = 6.5
    {**MIDDLE_WORLD, "years_to_build": 3.0},  # v2's T_b as an explicit override
    {**MIDDLE_WORLD, "capability_needed": 0.0, "build_lag": 0.0},  # T_b at its floor
    {
        **MIDDLE_WORLD,
        "capability_needed": 0.2,
        "years_to_agi": 5.0,
        "automation_fraction": 0.999,
        "leakage": 0.0,
        "field_years": 10.0,
    },  # a 1000x AAR with years of AGI time left: W ≈ 1
]


@pytest.mark.parametrize("world", WORLDS)
def test_closed_form(world):
    got = outcomes({k: np.array([v]) for k, v in world.items()}, horizon=4.0)
    for key, want in closed_form(world, 4.0).items():
        assert float(getattr(got, key)[0]) == pytest.approx(want, rel=1e-12, abs=1e-15), key


@pytest.mark.parametrize("p, s", [(0.5, 2), (0.9, 10), (0.99, 100), (0.999, 1000)])
def test_amdahl_essay_values(p, s):
    assert amdahl(p) == pytest.approx(s, rel=1e-9)


def test_amdahl_thousand_years_in_a_week():
    """The essay's "thousands of years of work within every week": the code's speed-up at
    p = 0.99998 (the figure the presets cite) is 50,000×, within 4% of 52 weeks × 1000 years,
    and the world's speed-up in the equations is the same Amdahl value."""
    assert amdahl(0.99998) == pytest.approx(50_000, rel=1e-6)
    assert abs(amdahl(0.99998) / 52_000 - 1) < 0.04
    out = outcomes(
        {**{k: np.array([v]) for k, v in MIDDLE_WORLD.items()}, "automation_fraction": np.array([0.99998])}, horizon=4.0
    )
    assert float(out.speedup[0]) == pytest.approx(50_000, rel=1e-6)


def test_amdahl_stays_finite_at_one():
    assert np.isfinite(amdahl(np.array([1.0])))[0]


def test_climb_is_continuous_at_zero_growth():
    c = np.array([0.0, 0.5, 1.0, 2.0])
    from scipy.integrate import quad

    for beta in (1e-9, -1e-9, 1e-7, 1e-3, -0.5, 2.0):  # ∫₀ᶜ e^{βx} dx, integrated by scipy
        want = [quad(lambda x: math.exp(beta * x), 0.0, ci, epsabs=0, epsrel=1e-13)[0] for ci in c]
        np.testing.assert_allclose(climb(c, beta), want, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(climb(c, 0.0), c)


unit = st.floats(0.0, 1.0)
positive = st.floats(0.05, 60.0)
world_strategy = st.fixed_dictionaries(
    {
        "capability_needed": st.floats(0.0, 3.0),
        "relative_difficulty": st.floats(0.01, 2.0),
        "alignment_difficulty": st.floats(1.0, 10.0),
        "technique_strength": st.floats(1.0, 10.0),
        "loop_hazard": st.floats(0.0, 2.0),
        "hazard_growth": st.floats(-3.0, 3.0),
        "danger_threshold": st.floats(0.0, 3.0),
        "containment": unit,
        "automation_fraction": st.floats(0.0, 0.9999),
        "field_years": positive,
        "build_lag": st.floats(0.0, 5.0),
        "years_to_agi": positive,
        "skill_overlap": unit,
        "leakage": unit,
        "timing_noise": st.floats(0.05, 3.0),
        "sharpness": st.floats(0.05, 3.0),
    }
)


def _eval(world, **change):
    w = {**world, **change}
    return outcomes({k: np.array([v], dtype=float) for k, v in w.items()}, horizon=4.0)


@settings(max_examples=300, deadline=None)
@given(world_strategy)
def test_outcomes_are_probabilities_that_sum_to_one(world):
    o = _eval(world)
    parts = [o.success, o.kicking_the_can, o.capability_externalities, o.x_risk]
    assert all(0.0 <= float(p[0]) <= 1.0 + 1e-12 for p in parts)
    assert float(sum(parts)[0]) == pytest.approx(1.0, abs=1e-12)
    assert float(o.kicking_the_can[0]) == pytest.approx(
        float(o.misaligned_contained[0] + o.aligned_too_slow[0]), abs=1e-15
    )
    assert float(o.success_within_horizon[0]) <= float(o.success[0]) + 1e-15
    assert float(o.win[0]) <= float(o.win_without_uplift[0]) + 1e-15


# (variable, direction of success as it grows: -1 non-increasing, +1 non-decreasing)
# field_years (T_a) is not in the list: under v2 a slower field also moves weight from the
# field-first branch to the AAR-first one, which can raise success slightly (docs/model.md,
# "What v2 approximates"); test_success_falls_with_field_years_in_each_branch checks the rest.
# capability_needed (C) is checked with T_b fixed by the override: under v3 a larger C also
# delays the AAR, moving weight to the field-first branch, which can raise success
# (docs/model.md, "Which v2 checks still hold").
MONOTONE = [
    ("relative_difficulty", -1),
    ("alignment_difficulty", -1),
    ("loop_hazard", -1),
    ("hazard_growth", -1),
    ("leakage", -1),
    ("skill_overlap", -1),
    ("technique_strength", 1),
    ("years_to_agi", 1),
]


@settings(max_examples=150, deadline=None)
@given(world=world_strategy, bump=st.floats(0.01, 1.0))
def test_success_falls_with_field_years_in_each_branch(world, bump):
    """With the AAR built at once (AAR first) or never (field first), a slower field never helps."""
    for t_b in (1e-9, 1e9):  # the override pins T_b
        w = {**world, "years_to_build": t_b}
        lo, hi = float(_eval(w).success[0]), float(_eval(w, field_years=w["field_years"] + bump).success[0])
        assert hi - lo <= 1e-12 * max(lo, 1e-300) + 1e-15
        assert (
            float(_eval(w, field_years=w["field_years"] + bump).baseline_success[0])
            <= float(_eval(w).baseline_success[0]) + 1e-15
        )


@pytest.mark.parametrize("name, sign", MONOTONE)
@settings(max_examples=150, deadline=None)
@given(world=world_strategy, bump=st.floats(0.01, 1.0))
def test_success_is_monotone(name, sign, world, bump):
    up = world[name] + bump if name not in ("leakage", "skill_overlap") else min(world[name] + bump, 1.0)
    lo, hi = float(_eval(world).success[0]), float(_eval(world, **{name: up}).success[0])
    assert sign * (hi - lo) >= -1e-12 * max(lo, 1e-300) - 1e-15


@settings(max_examples=200, deadline=None)
@given(world=world_strategy, bump=st.floats(0.0001, 0.5))
def test_success_rises_with_automation_without_leakage(world, bump):
    world = {**world, "leakage": 0.0}
    p2 = min(world["automation_fraction"] + bump, 0.99999)
    assert float(_eval(world, automation_fraction=p2).success[0]) >= float(_eval(world).success[0]) - 1e-15


@settings(max_examples=200, deadline=None)
@given(world=world_strategy, t_b=positive, bump=st.floats(0.01, 1.0))
def test_capability_with_build_time_fixed(world, t_b, bump):
    """v2's checks on C hold where T_b is fixed (the override): success falls, x-risk rises."""
    world = {**world, "years_to_build": t_b}
    lo, hi = _eval(world), _eval(world, capability_needed=world["capability_needed"] + bump)
    assert float(hi.x_risk[0]) >= float(lo.x_risk[0]) - 1e-15
    assert float(hi.success[0]) <= float(lo.success[0]) * (1 + 1e-12) + 1e-15


@settings(max_examples=200, deadline=None)
@given(world=world_strategy, bump=st.floats(0.01, 1.0))
def test_capability_in_each_branch(world, bump):
    """With T_b derived, a larger C still makes the AAR harder to bootstrap and more dangerous
    (the AAR-first branch's P_boot falls and K rises) and never makes it come earlier."""
    lo, hi = _eval(world), _eval(world, capability_needed=world["capability_needed"] + bump)
    assert float(hi.p_boot[0]) <= float(lo.p_boot[0]) * (1 + 1e-12) + 1e-300
    assert float(hi.catastrophic[0]) >= float(lo.catastrophic[0]) - 1e-15
    assert float(hi.t_build[0]) >= float(lo.t_build[0])


@settings(max_examples=100, deadline=None)
@given(world_strategy)
def test_no_leakage_no_externalities(world):
    assert float(_eval(world, leakage=0.0).capability_externalities[0]) == 0.0


def test_numpy_and_pytensor_agree(rng):
    pytensor = pytest.importorskip("pytensor")
    import pytensor.tensor as pt

    from model.core.backend import pytensor_ops

    n = 4000
    worlds = {k: v * rng.uniform(0.3, 1.7, n) for k, v in MIDDLE_WORLD.items()}
    worlds["containment"] = rng.uniform(0, 1, n)
    worlds["automation_fraction"] = rng.uniform(0, 0.9999, n)
    worlds["hazard_growth"] = rng.normal(0, 1.5, n)
    worlds["hazard_growth"][:10] = 0.0
    worlds["skill_overlap"], worlds["leakage"] = rng.uniform(0, 1, n), rng.uniform(0, 1, n)
    worlds["years_to_build"] = np.where(rng.uniform(size=n) < 0.5, 0.0, rng.uniform(0.5, 12, n))  # both T_b modes
    symbols = {k: pt.dvector(k) for k in NAMES}
    graph = outcomes(symbols, 4.0, xp=pytensor_ops())
    fn = pytensor.function([symbols[k] for k in NAMES], list(graph), on_unused_input="ignore")
    got = fn(*[worlds[k] for k in NAMES])
    want = outcomes(worlds, 4.0)
    for name, a, b in zip(want._fields, got, want):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=name)
    # and the gradient is finite at β = 0 (the series branch of the climb term)
    grad = pytensor.grad(graph.success.sum(), symbols["hazard_growth"])
    g = pytensor.function([symbols[k] for k in NAMES], grad, on_unused_input="ignore")(*[worlds[k] for k in NAMES])
    assert np.all(np.isfinite(g))


# --- v3 (docs/model.md, "Model v3") ---------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(world=world_strategy, c=st.floats(1.0, 3.0))
def test_agi_complete_research_gives_no_aar_first_success(world, c):
    """C ≥ 1 with L ≥ 0: the AAR comes no earlier than AGI, so it can only kick the can. Every
    success is the field's (q·baseline), and the AAR adds no externalities."""
    o = _eval(world, capability_needed=c)
    assert float(o.t_build[0]) >= world["years_to_agi"]
    assert float(o.win[0]) == 0.0 and float(o.win_without_uplift[0]) == 0.0
    assert float(o.success[0]) == pytest.approx(float(o.field_first[0] * o.baseline_success[0]), rel=1e-12, abs=1e-300)
    assert float(o.capability_externalities[0]) == 0.0


@settings(max_examples=200, deadline=None)
@given(world_strategy)
def test_field_first_worlds_have_no_externalities(world):
    """Externalities come from the AAR-first branch alone: at most (1 − q)·P_boot, and 0 when
    the AAR comes (almost) never."""
    o = _eval(world)
    assert float(o.capability_externalities[0]) <= float((1 - o.field_first[0]) * o.p_boot[0]) + 1e-15
    late = _eval(world, years_to_build=1e12)
    assert float(late.capability_externalities[0]) == pytest.approx(0.0, abs=1e-12)


def _race(world, **change):
    o = _eval(world, **change)
    return float(o.win[0]), float(o.win_without_uplift[0]), float(o.success_within_horizon[0])


@settings(max_examples=300, deadline=None)
@given(world=world_strategy, t_b=positive, which=st.sampled_from(["field_years", "years_to_build", "years_to_agi"]))
def test_race_is_continuous_away_from_the_jump(world, t_b, which):
    """W (and W0, and success within the horizon) are continuous in T_a, T_b and T_g except on
    the set T_b = T_g ≥ T_a, where W may jump by at most 1 (docs/model.md, v3 B)."""
    world = {**world, "years_to_build": t_b}
    if abs(t_b - world["years_to_agi"]) < 1e-3 * max(t_b, 1.0) or abs(t_b - 4.0) < 1e-3:
        return  # at the jump, or its twin for the horizon (min(T_agi', h) = T_b with h = 4)
    eps = 1e-9 * max(world[which], 1.0)
    a, b = _race(world), _race(world, **{which: world[which] + eps})
    assert max(abs(x - y) for x, y in zip(a, b)) < 1e-4, (which, a, b)


def test_the_jump_is_where_the_spec_says():
    """At T_b = T_g ≥ T_a: just before AGI the AAR (with the field already done) wins; at AGI it cannot."""
    w = {**MIDDLE_WORLD, "field_years": 3.0, "years_to_agi": 8.0}
    before, at = _eval(w, years_to_build=8.0 - 1e-6), _eval(w, years_to_build=8.0)
    assert float(before.win_without_uplift[0]) > 0.99 and float(at.win_without_uplift[0]) == 0.0


def test_override_takes_build_time_from_the_draw():
    """A set years_to_build is T_b exactly (v2's handling): build_lag and C·T_g do not reach it,
    while the v3 races (A, B) still apply."""
    for c, lag in ((0.1, 0.0), (0.9, 3.0), (2.0, 10.0)):
        o = _eval(MIDDLE_WORLD, years_to_build=3.0, capability_needed=c, build_lag=lag)
        assert float(o.t_build[0]) == 3.0
    o = _eval(MIDDLE_WORLD, years_to_build=3.0)
    want = closed_form({**MIDDLE_WORLD, "years_to_build": 3.0}, 4.0)
    assert float(o.success[0]) == pytest.approx(want["success"], rel=1e-12)


def test_a_fast_aar_wins_its_race():
    """v3 B: a 1000x AAR that finishes in days, against an AGI months away, almost surely wins
    (v2 put the noise on whole dates and gave 0.58)."""
    w = {
        **MIDDLE_WORLD,
        "years_to_build": 4.0,
        "years_to_agi": 4.5,
        "field_years": 14.0,
        "automation_fraction": 0.999,
        "leakage": 0.0,
        "timing_noise": 0.6,
    }
    o = _eval(w)
    assert float(o.win[0]) > 0.999  # 10 years of work in 3.7 days against half a year


def test_build_time_closed_form():
    """T_b = C·T_g + L (v3 C), floored at 1e-9 years."""
    from model.core.structure import build_time

    np.testing.assert_allclose(
        build_time(np.array([0.5, 1.0, 0.0]), np.array([10.0, 8.0, 5.0]), np.array([1.0, 0.0, 0.0]), np.zeros(3)),
        [6.0, 8.0, 1e-9],
    )


@settings(max_examples=200, deadline=None)
@given(world=world_strategy, p=st.floats(0.9, 1 - 1e-9))
def test_a_horizon_past_agi_gives_success_exactly(world, p):
    """With h beyond T_g the horizon cuts nothing: success within it is success, to the last bit
    (d_h is min(d_agi', h − T_b), never a difference of two near-equal dates)."""
    w = {**world, "automation_fraction": p}
    o = outcomes({k: np.array([v], dtype=float) for k, v in w.items()}, horizon=1e6)
    assert float(o.success_within_horizon[0]) == float(o.success[0])
