"""The decision "build the AAR or not" (MODEL.md §6, v2): net benefit, its Monte Carlo error,
value of information about zero, and flip probabilities finer than one bin."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from model.montecarlo import binned

from model.cli import terminal
from model.montecarlo.engine import simulate
from model.priors.priors import load
from model.report.render import _env
from model.priors.schema import Decision
from model.analyses.sensitivity import analyse, decision
from model.core.structure import outcomes

from .conftest import MIDDLE_WORLD, ROOT, write_priors


def _point_outcomes(world: dict, horizon: float = 4.0):
    return outcomes({k: np.array([float(v)]) for k, v in world.items()}, horizon)


def _decision_table(v, c_x, c_e=None) -> str:
    lines = ["", "[decision]", f"value_of_success = {v!r}", f"cost_of_catastrophe = {c_x!r}"]
    if c_e is not None:
        lines.append(f"cost_of_capability_externalities = {c_e!r}")
    return "\n".join(lines) + "\n"


def _analyse(path, samples=4_000):
    p = load(path)
    r = simulate(p, samples=samples, seed=3, workers=1, utilities=p.decision.utilities)
    return p, r, analyse(p, r, seed=3)


def test_net_benefit_is_the_v2_closed_form_with_its_error(tmp_path):
    # point priors: every world is the same, so NB is v·(plan_solved − baseline) − c_x·x_risk exactly
    world = {**MIDDLE_WORLD, "leakage": 0.6}
    path = write_priors(tmp_path, "point", world, _decision_table(2.0, 3.0, 0.0))
    _, _, sens = _analyse(path)
    o = _point_outcomes(world)
    expected = 2.0 * float(o.plan_minus_baseline[0]) - 3.0 * float(o.x_risk[0])
    nb = sens["decision"]["net_benefit"]
    assert "expected_net_benefit" not in sens["decision"]
    assert nb["mean"] == pytest.approx(expected, abs=1e-12)
    assert nb["mcse"] is not None and nb["mcse"] < 1e-8  # a constant has no Monte Carlo error
    assert sens["decision"]["best_action"] == ("build" if expected > 0 else "don't build")


def test_an_extra_externality_cost_is_charged_on_top_of_the_lost_race(tmp_path):
    world = {**MIDDLE_WORLD, "leakage": 0.6, "skill_overlap": 0.9}
    o = _point_outcomes(world)
    assert float(o.capability_externalities[0]) > 1e-3  # the test needs some externalities
    base = _analyse(write_priors(tmp_path, "none", world, _decision_table(1.0, 1.0, 0.0)))[2]
    extra = _analyse(write_priors(tmp_path, "extra", world, _decision_table(1.0, 1.0, 0.7)))[2]
    diff = base["decision"]["net_benefit"]["mean"] - extra["decision"]["net_benefit"]["mean"]
    assert diff == pytest.approx(0.7 * float(o.capability_externalities[0]), abs=1e-12)
    for sens in (base, extra):  # the report says in one line what the extra cost adds
        md = _env().get_template("sensitivity.md.j2").render(sens=sens)
        assert "already cost the race they lose" in md and "net benefit of building" in md


@pytest.mark.xfail(
    Decision().cost_of_capability_externalities != 0,
    strict=True,
    reason="schema.py still defaults cost_of_capability_externalities to 0.5 (v1)",
)
def test_by_default_capability_externalities_are_charged_once(tmp_path):
    world = {**MIDDLE_WORLD, "leakage": 0.6, "skill_overlap": 0.9}
    _, _, sens = _analyse(write_priors(tmp_path, "default", world))
    o = _point_outcomes(world)
    v, c_x = Decision().value_of_success, Decision().cost_of_catastrophe
    expected = v * float(o.plan_minus_baseline[0]) - c_x * float(o.x_risk[0])
    assert sens["decision"]["net_benefit"]["mean"] == pytest.approx(expected, abs=1e-12)


def test_net_benefit_error_is_the_sd_across_worlds_over_root_n():
    p = load(ROOT / "priors" / "author.toml")
    v, c_x, c_e = p.decision.utilities
    r = simulate(p, samples=70_000, seed=5, workers=1, keep_worlds=True, utilities=p.decision.utilities)
    w = r.worlds
    nb = v * w["plan_minus_baseline"] - c_x * w["x_risk"] - c_e * w["capability_externalities"]
    got = decision(p, r)["net_benefit"]
    assert got["mean"] == pytest.approx(nb.mean(), abs=1e-12)
    assert got["mcse"] == pytest.approx(nb.std(ddof=1) / np.sqrt(nb.size), rel=1e-6)


def test_utilities_other_than_the_files_are_refused():
    p = load(ROOT / "priors" / "author.toml")
    v, c_x, c_e = p.decision.utilities
    r = simulate(p, samples=20_000, seed=5, workers=1, utilities=(v, c_x + 1.0, c_e))
    with pytest.raises(ValueError, match="other utilities"):
        decision(p, r)


# --- value of information: about zero, and flip probabilities -----------------------------------


def _two_beliefs(tmp_path):
    """Priors whose only random variables are the two cruxes (rows 0 and 1 of the bins)."""
    world = {**MIDDLE_WORLD, "capability_needed": '"0.5 to 1.5"', "relative_difficulty": '"0.4 to 1.2"'}
    p = load(write_priors(tmp_path, "two", world, _decision_table(1.0, 1.0, 0.0)))
    assert p.random_names() == ("capability_needed", "relative_difficulty")
    return p


def _synthetic(p, u: np.ndarray, nb: np.ndarray):
    """What the engine accumulates for worlds at copula coordinates ``u`` with net benefit ``nb``
    (put in plan_minus_baseline, x-risk and externalities 0, so NB = 1·pmb)."""
    outs = np.zeros((len(binned.OUTPUTS), nb.size))
    outs[binned.OUTPUTS.index("plan_minus_baseline")] = nb
    outs[binned.OUTPUTS.index("net_benefit")] = nb
    counts, sums, jc, js = binned.accumulate(u, outs, (0, 1))
    sens = (
        counts,
        sums,
        jc,
        js,
        np.array([np.maximum(nb, 0).sum()]),
        np.array([np.count_nonzero(nb > 0)]),
        (outs**2).sum(axis=1),
        outs.sum(axis=1),
    )
    return decision(p, SimpleNamespace(samples=nb.size, sensitivity=sens))


def test_no_belief_is_listed_when_perfect_information_is_worth_nothing(tmp_path):
    p = _two_beliefs(tmp_path)
    rng = np.random.default_rng(1)
    u = rng.random((2, 200_000))
    d = _synthetic(p, u, -0.3 + 0.1 * u[0])  # never worth building: nothing to learn
    assert d["evpi"] == 0 and d["evpi_negligible"] and d["worth_learning"] == []
    text = terminal.render([], terminal.sensitivity_lines({"decision": d}), terminal=False)
    assert "no belief is worth resolving for this decision" in text
    assert "most worth learning" not in text


def test_a_belief_that_only_adds_noise_is_not_worth_learning(tmp_path):
    # NB does not depend on either belief and its mean is near 0: the regression's partial EVPI
    # is pure Monte Carlo noise (v1 listed it as "most worth learning")
    p = _two_beliefs(tmp_path)
    rng = np.random.default_rng(2)
    u = rng.random((2, 200_000))
    d = _synthetic(p, u, 0.002 + rng.normal(0, 0.5, u.shape[1]))
    assert d["evppi"]["capability_needed"] > 0  # the noise the estimator picks up
    assert d["evppi"]["capability_needed"] <= 2 * d["evppi_noise"]["capability_needed"]
    assert d["worth_learning"] == []  # neither belief, nor both together


def test_only_learning_both_cruxes_together_can_flip_the_decision(tmp_path):
    # building pays only when both cruxes are in their top decile: neither alone flips the decision
    p = _two_beliefs(tmp_path)
    rng = np.random.default_rng(3)
    u = rng.random((2, 400_000))
    d = _synthetic(p, u, -0.2 + 1.0 * ((u[0] > 0.9) & (u[1] > 0.9)))
    assert d["evpi"] == pytest.approx(0.01 * 0.8, rel=0.05) and not d["evpi_negligible"]
    assert d["evppi"]["capability_needed"] == 0 and d["evppi"]["relative_difficulty"] == 0
    assert d["worth_learning"] == ["cruxes_jointly"]
    assert d["flip_probability"]["cruxes_jointly"] == pytest.approx(0.01, abs=0.003)


def test_flip_probability_is_finer_than_one_bin():
    # NB = u − t: the decision (build) flips exactly when u < t, with probability t
    rng = np.random.default_rng(4)
    u = rng.random((1, 400_000))
    for t in (0.3137, 0.0512, 0.2):
        nb = u[0] - t
        counts, sums, _, _ = binned.accumulate(u, nb[None, :], None)
        value, flip = binned.evppi(counts[0], sums[0, :, 0])
        assert flip == pytest.approx(t, abs=2e-3), t  # 40 bins alone would say a multiple of 2.5%
        assert value == pytest.approx(t**2 / 2, abs=2e-3)  # EVPPI = E[max(t − u, 0)]


def test_joint_flip_probability_is_finer_than_one_cell():
    rng = np.random.default_rng(5)
    u = rng.random((2, 400_000))
    nb = u[0] + u[1] - 0.7  # build; flips where u0 + u1 < 0.7, area 0.245
    _, _, jc, js = binned.accumulate(u, nb[None, :], (0, 1))
    assert binned.flip_probability(jc, js[:, 0], joint=True) == pytest.approx(0.245, abs=3e-3)


def test_flip_probability_is_zero_when_no_bin_flips():
    counts = np.full(binned.BINS, 100)
    sums = -np.linspace(1, 2, binned.BINS) * 100
    assert binned.evppi(counts, sums) == (0.0, 0.0)


# --- v3 D: the break-even cost ---------------------------------------------------------------


def test_break_even_cost_is_the_ratio_of_means_and_swaps_the_decision():
    """c_x* = (v·E[plan − baseline] − c_e·E[ext]) / E[x_risk] (docs/model.md, v3 D): at that cost
    the net benefit is 0, below it building wins, above it not building does."""
    from model.analyses.sensitivity import break_even

    means = {"plan_minus_baseline": 0.06, "x_risk": 0.02, "capability_externalities": 0.01}
    errors = {"plan_minus_baseline": 0.001, "x_risk": 0.0005, "capability_externalities": 0.0001}
    got = break_even(means, errors, v=2.0, c_e=1.0)
    assert got["value"] == pytest.approx((2.0 * 0.06 - 0.01) / 0.02)
    nb = lambda c_x: 2.0 * 0.06 - c_x * 0.02 - 1.0 * 0.01  # noqa: E731
    assert nb(got["value"]) == pytest.approx(0.0, abs=1e-15) and nb(0.9 * got["value"]) > 0 > nb(1.1 * got["value"])
    want_se = got["value"] * ((2.0 * 0.001) ** 2 / (0.11**2) + (0.0001 / 0.11) ** 2 + (0.0005 / 0.02) ** 2) ** 0.5
    assert got["mcse"] == pytest.approx(want_se)
    assert "less than 5.5 in utility units (2.75 times value_of_success = 2" in got["words"]


@pytest.mark.parametrize(
    "means, words",
    [
        ({"plan_minus_baseline": 0.05, "x_risk": 0.0, "capability_externalities": 0.0}, "build at any cost"),
        ({"plan_minus_baseline": -0.01, "x_risk": 0.03, "capability_externalities": 0.0}, "never build"),
        ({"plan_minus_baseline": 0.0, "x_risk": 0.0, "capability_externalities": 0.0}, "never build"),
    ],
)
def test_break_even_cost_is_null_with_words_at_the_edges(means, words):
    from model.analyses.sensitivity import break_even

    got = break_even(means, dict.fromkeys(means, 0.001), v=1.0)
    assert got["value"] is None and got["mcse"] is None and got["words"].startswith(words)


def test_sensitivity_json_states_the_break_even_cost():
    from model.analyses.sensitivity import analyse

    p = load(ROOT / "priors" / "author.toml")
    r = simulate(p, samples=8_000, seed=3, workers=1, utilities=p.decision.utilities)
    d = analyse(p, r, seed=3)["decision"]
    be = d["break_even_cost"]
    gain, risk = r.estimates["plan_minus_baseline"].mean, r.estimates["x_risk"].mean
    if gain > 0:
        assert be["value"] == pytest.approx(gain / risk, rel=1e-9)
    else:
        assert be["value"] is None and be["words"].startswith("never build")
