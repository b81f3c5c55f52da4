"""Model v2 outputs (issue 9): the ambition curve, fixed crux-map axes, labels that say what
the numbers are, and the 'with the plan' row wherever the plan's effect is shown."""

from __future__ import annotations

import json

import numpy as np
import pytest

from model.montecarlo.engine import MAP_AXES, simulate
from model.priors.priors import load
from model.core.quantities import DEFINITIONS, LABELS, QUANTITIES

from .conftest import ROOT, aar_in_process


@pytest.fixture(scope="module")
def author_result():
    return simulate(load(ROOT / "priors/author.toml"), samples=300_000, seed=2, workers=1)


def test_the_ambition_curve_respects_the_couplings(author_result):
    a = author_result.ambition
    ok = a.counts >= 2000
    gain, x_risk = a.means["plan_minus_baseline"][ok], a.means["x_risk"][ok]
    # the author's couplings: more automation needs more capability and is harder to align, so
    # the AAR's own risk rises and what the plan adds falls. (Success itself need not fall under
    # v3: more capability also delays the AAR, so the field more often finishes first.)
    assert x_risk[-1] > x_risk[0] + 0.05 and gain[-1] < gain[0] - 0.01
    assert int(a.counts.sum()) == author_result.samples


def test_the_curve_is_the_conditional_mean(author_result):
    """Summed back over bins, the curve gives the overall mean."""
    a = author_result.ambition
    seen = a.counts > 0
    total = float(np.sum(a.counts[seen] * a.means["success"][seen]) / a.counts.sum())
    assert total == pytest.approx(author_result.estimates["success"].mean, abs=1e-9)


def test_crux_maps_share_default_axes():
    for name in ("author", "openai"):
        m = simulate(load(ROOT / f"priors/{name}.toml"), samples=20_000, seed=1, workers=1).crux_map
        assert m.c_edges[0] <= MAP_AXES["capability_needed"][0] and m.c_edges[-1] >= 2.0
        assert m.r_edges[0] <= 0.0 and m.r_edges[-1] >= 1.5
    pess = simulate(load(ROOT / "priors/pessimist.toml"), samples=20_000, seed=1, workers=1).crux_map
    p995 = float(load(ROOT / "priors/pessimist.toml").variables["capability_needed"].marginal.ppf(np.array([0.995]))[0])
    assert pess.c_edges[-1] == pytest.approx(max(2.0, p995))  # widened to the prior's tail


def test_every_quantity_has_a_label_and_a_definition():
    assert all(q.label and q.definition for q in QUANTITIES)
    assert "caused by the AAR" in LABELS["x_risk"] and "baseline" in DEFINITIONS["x_risk"]


def test_every_output_shows_the_plan_row_and_says_what_x_risk_is(tmp_path):
    r = aar_in_process("run", ROOT / "priors/author.toml", "-n", "20000", "-o", tmp_path / "r", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    for text in (r.stdout, (tmp_path / "r" / "report.md").read_text(), (tmp_path / "r" / "report.html").read_text()):
        assert LABELS["plan_solved"] in text and LABELS["x_risk"] in text
        assert "Existential risk the plan adds" not in text and DEFINITIONS["plan_minus_baseline"][:40] in text
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert summary["ambition_curve"] and {"speedup_from", "speedup_to", "worlds", "success"} <= set(
        summary["ambition_curve"][0]
    )
    assert (tmp_path / "r" / "figures" / "ambition.png").stat().st_size > 10_000
