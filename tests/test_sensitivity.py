"""Sensitivity: Sobol indices (SALib), given-data indices, tornado and value of information."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from model.montecarlo import binned

from model.cli import terminal
from model.montecarlo.engine import simulate
from model.priors.priors import load
from model.report.render import _env
from model.analyses.sensitivity import _resolved, analyse, salib_sobol
from model.core.variables import NAMES

from .conftest import MIDDLE_WORLD, ROOT, write_priors

ISHIGAMI_S1 = (0.3139, 0.4424, 0.0)  # a = 7, b = 0.1 (Ishigami & Homma 1990)
ISHIGAMI_ST = (0.5576, 0.4424, 0.2437)


def ishigami(x):
    return np.sin(x[:, 0]) + 7 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def test_salib_sobol_reproduces_ishigami():
    res = salib_sobol(["x1", "x2", "x3"], lambda u: {"y": ishigami(-np.pi + 2 * np.pi * u)}, base=8192, seed=3)
    for i, name in enumerate(["x1", "x2", "x3"]):
        assert res["y"]["first_order"][name]["value"] == pytest.approx(ISHIGAMI_S1[i], abs=0.03)
        assert res["y"]["total"][name]["value"] == pytest.approx(ISHIGAMI_ST[i], abs=0.03)
        lo, hi = res["y"]["first_order"][name]["ci"]
        assert lo < hi


def test_given_data_estimator_reproduces_ishigami():
    rng = np.random.default_rng(11)
    u = rng.random((3, 1_000_000))
    y = ishigami((-np.pi + 2 * np.pi * u).T)
    counts, sums, _, _ = binned.accumulate(u, y[None, :], None)
    s1 = binned.first_order(counts, sums, np.array([[y.var()]]))[:, 0]
    np.testing.assert_allclose(s1, ISHIGAMI_S1, atol=0.01)


@pytest.fixture(scope="module")
def author_sens():
    p = load(ROOT / "priors" / "author.toml")
    r = simulate(p, samples=300_000, seed=4, workers=1, utilities=p.decision.utilities)
    return p, r, analyse(p, r, seed=4)


def test_json_shape(author_sens):
    p, _, sens = author_sens
    for q in (
        "success",
        "kicking_the_can",
        "capability_externalities",
        "x_risk",
        "success_within_horizon",
        "plan_minus_baseline",
    ):
        block = sens["outcomes"][q]
        for key in ("first_order", "total", "given_data_first_order", "tornado"):
            assert set(block[key]) == set(NAMES), (q, key)
        assert set(block["first_order"]["capability_needed"]) == {"value", "ci", "resolved"}
        assert sorted(block["ranking"]) == sorted(n for n in NAMES if p.used(n))  # v3: one of two unused
        assert "years_to_build" not in block["ranking"]
        assert set(block["tornado"]["capability_needed"]) == {"p5", "p95"}
    d = sens["decision"]
    assert d["best_action"] in ("build", "don't build")
    assert set(d["net_benefit"]) == {"mean", "mcse"} and "expected_net_benefit" not in d
    assert set(d["worth_learning"]) <= set(d["evppi"]) and set(d["evppi_noise"]) == set(d["evppi"])
    assert {"capability_needed", "cruxes_jointly"} <= set(d["evppi"]) and set(d["flip_probability"]) == set(d["evppi"])


def test_every_partial_evpi_is_at_most_the_evpi(author_sens):
    d = author_sens[2]["decision"]
    assert d["evpi"] >= 0
    assert all(0 <= v <= d["evpi"] + 1e-12 for v in d["evppi"].values())


def test_first_order_indices_sum_to_at_most_one(author_sens):
    for q, block in author_sens[2]["outcomes"].items():
        first, total = block["first_order"], block["total"]
        noise = sum((v["ci"][1] - v["ci"][0]) / 2 for v in first.values())
        assert sum(v["value"] for v in first.values()) <= 1.0 + noise, q  # Sobol: Σ S_i ≤ 1
        for n, v in first.items():  # S_i ≤ S_Ti, up to the two intervals' half-widths
            slack = (v["ci"][1] - v["ci"][0] + total[n]["ci"][1] - total[n]["ci"][0]) / 2
            assert v["value"] <= total[n]["value"] + slack + 1e-9, (q, n)
        assert sum(block["given_data_first_order"].values()) <= 1.02, q


def test_one_varying_belief_explains_everything(tmp_path):
    p = load(write_priors(tmp_path, "only_c", {**MIDDLE_WORLD, "capability_needed": '"0.3 to 1.6"'}))
    r = simulate(p, samples=200_000, workers=1, utilities=p.decision.utilities)
    sens = analyse(p, r)
    block = sens["outcomes"]["success"]
    assert block["first_order"]["capability_needed"]["value"] >= 0.95
    assert block["total"]["capability_needed"]["value"] >= 0.95
    assert block["given_data_first_order"]["capability_needed"] >= 0.95
    for v in NAMES:
        if v != "capability_needed":
            assert block["first_order"][v]["value"] <= 0.02 and block["total"][v]["value"] <= 0.02, v


def test_a_belief_that_cannot_change_the_decision_is_worth_nothing(tmp_path):
    # fully contained: the danger threshold cannot matter, so learning it is worth nothing
    world = {
        **MIDDLE_WORLD,
        "containment": 1.0,
        "danger_threshold": '"0.5 to 1.5"',
        "capability_needed": '"0.3 to 1.6"',
    }
    p = load(write_priors(tmp_path, "contained", world))
    r = simulate(p, samples=200_000, workers=1, utilities=p.decision.utilities)
    d = analyse(p, r)["decision"]
    assert d["evppi"]["danger_threshold"] == pytest.approx(0.0, abs=1e-3 * max(d["evpi"], 1e-6))
    assert d["flip_probability"]["danger_threshold"] == 0.0


def test_sensitivity_bins_do_not_depend_on_workers():
    p = load(ROOT / "priors" / "pessimist.toml")
    a = simulate(p, samples=140_000, seed=2, workers=1, utilities=(1, 1, 0.5))
    b = simulate(p, samples=140_000, seed=2, workers=2, utilities=(1, 1, 0.5))
    for f in dataclasses.fields(a.sensitivity):
        np.testing.assert_array_equal(getattr(a.sensitivity, f.name), getattr(b.sensitivity, f.name))


def _two_drivers(tmp_path):
    """Success driven by the technique's strength, existential risk by the danger threshold."""
    world = {
        **MIDDLE_WORLD,
        "years_to_build": 3.0,
        "capability_needed": 1.3,
        "technique_strength": '"3 to 7"',
        "danger_threshold": '"0.9 to 1.8"',
    }
    p = load(write_priors(tmp_path, "drivers", world))
    r = simulate(p, samples=100_000, seed=1, workers=1, utilities=p.decision.utilities)
    return analyse(p, r, seed=1)


def test_each_outcome_is_ranked_by_its_own_index(tmp_path):
    sens = _two_drivers(tmp_path)
    assert sens["outcomes"]["success"]["ranking"][0] == "technique_strength"
    assert sens["outcomes"]["x_risk"]["ranking"][0] == "danger_threshold"
    for q, block in sens["outcomes"].items():
        gd = [block["given_data_first_order"][v] for v in block["ranking"]]
        assert gd == sorted(gd, reverse=True), q
    # the terminal's x-risk table leads with what drives x-risk (v1 ranked every column by success)
    text = terminal.render([], [], terminal=False) + _terminal(sens)
    xrisk = text.split("x-risk caused by the AAR: which belief matters")[1].splitlines()
    assert xrisk[2].split()[0] == "danger_threshold" and float(xrisk[2].split()[1]) > 0.5
    # and so does the report's table, the given-data column first
    md = _env().get_template("sensitivity.md.j2").render(sens=sens)
    table = md.split("### Existential risk")[1].split("###")[0].splitlines()
    assert table[2].startswith("| variable | first order, given data")
    assert table[4].startswith("| `danger_threshold`")


def _terminal(sens) -> str:
    import io

    buf = io.StringIO()
    terminal.sensitivity(sens, file=buf, terminal=False)
    return buf.getvalue()


@pytest.mark.parametrize(
    "value, ci, ok",
    [
        (1.19, [0.9, 1.5], False),  # above 1: not a share of variance
        (3.16, [-3.3, 9.6], False),  # interval far wider than the estimate
        (0.029, [-0.011, 0.069], False),  # wider than the index and reaching below 0
        (0.114, [0.056, 0.172], True),  # wide, but inside [0, 1]
        (0.671, [0.549, 0.794], True),
        (0.003, [-0.001, 0.006], True),  # small and resolved as small
        (float("nan"), [0.0, 0.1], False),
    ],
)
def test_which_sobol_indices_are_resolved(value, ci, ok):
    assert _resolved(value, ci) is ok


def test_unresolved_sobol_indices_are_not_shown_as_shares(author_sens):
    import copy

    sens = copy.deepcopy(author_sens[2])
    sens["outcomes"]["x_risk"]["total"]["capability_needed"] = {"value": 3.16, "ci": [-3.3, 9.6], "resolved": False}
    md = _env().get_template("sensitivity.md.j2").render(sens=sens)
    row = next(
        line for line in md.split("### Existential risk")[1].splitlines() if line.startswith("| `capability_needed`")
    )
    assert "not resolved at this sample size" in row and "3.160" not in row
    assert "assume your beliefs are independent" in md
    assert "not resolved" in _terminal(sens)
