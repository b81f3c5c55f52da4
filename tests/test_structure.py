"""The structural model (docs/model.md, v2): closed forms, invariants, and numpy = PyTensor."""

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
    """docs/model.md's equations (v2) written out again with the math module, one world at a time."""
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
    Ta, Tb, Tg, sd = w["field_years"], w["years_to_build"], w["years_to_agi"], w["timing_noise"]
    T_solve = Tb + (Ta - Tb) / s if Ta > Tb else Ta
    T_agi = Tb + (Tg - Tb) / s_cap if Tg > Tb else Tg
    race = lambda end, start: phi((math.log(end) - math.log(start)) / sd)
    q = race(Tb, Ta)  # the field solves alignment before the AAR exists
    field = {
        "success": race(T_agi, Ta),
        "capability_externalities": race(Tg, Ta) - race(T_agi, Ta),
        "aligned_too_slow": 1 - race(Tg, Ta),
        "misaligned_contained": 0.0,
        "x_risk": 0.0,
        "success_within_horizon": race(min(T_agi, h), Ta),
    }
    W, W0 = race(T_agi, T_solve), race(Tg, T_solve)
    aar = {
        "success": P * W,
        "capability_externalities": P * (W0 - W),
        "aligned_too_slow": P * (1 - W0),
        "misaligned_contained": (1 - P) * (1 - K),
        "x_risk": (1 - P) * K,
        "success_within_horizon": P * race(min(T_agi, h), T_solve),
    }
    out = {k: q * field[k] + (1 - q) * aar[k] for k in field}
    base = race(Tg, Ta)
    out["kicking_the_can"] = out["misaligned_contained"] + out["aligned_too_slow"]
    out["baseline_success"] = base
    out["plan_solved"] = out["success"] + (1 - q) * (1 - P) * (1 - K) * base
    out["plan_minus_baseline"] = out["plan_solved"] - base
    return out


WORLDS = [
    MIDDLE_WORLD,
    {**MIDDLE_WORLD, "hazard_growth": 0.0},  # the β → 0 limit
    {**MIDDLE_WORLD, "field_years": 2.0},  # alignment before the AAR exists
    {**MIDDLE_WORLD, "years_to_agi": 2.0, "years_to_build": 5.0},  # AGI before the AAR
    {**MIDDLE_WORLD, "capability_needed": 1.8, "containment": 0.0, "hazard_growth": -0.7},
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
        "years_to_build": positive,
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
MONOTONE = [
    ("capability_needed", -1),
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
    for t_b in (1e-9, 1e9):
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
@given(world=world_strategy, bump=st.floats(0.01, 1.0))
def test_x_risk_rises_with_capability(world, bump):
    lo = float(_eval(world).x_risk[0])
    hi = float(_eval(world, capability_needed=world["capability_needed"] + bump).x_risk[0])
    assert hi >= lo - 1e-15


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
