"""aar-risk compare: every difference attributed, exact Shapley values up to 12 players, honest
errors beyond, --samples honoured, crux maps on common axes."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest

from model.analyses import compare
from model.analyses.compare import (
    CORRELATIONS,
    attribute,
    common_edges,
    crux_maps,
    players,
)
from model.analyses.compare import maps as crux_maps_module
from model.core.structure import outcomes
from model.core.variables import NAMES

#: The variables a derived-T_b world uses (v3: years_to_build is the unset override).
USED = tuple(n for n in NAMES if n != "years_to_build")
from model.montecarlo.engine import simulate
from model.priors.priors import load

from .conftest import MIDDLE_WORLD, ROOT, aar_in_process, write_priors

#: A second point world: every variable moved, none across a boundary of its support.
OTHER_WORLD = {
    "capability_needed": 1.2,
    "relative_difficulty": 0.5,
    "alignment_difficulty": 7.0,
    "technique_strength": 5.5,
    "loop_hazard": 0.1,
    "hazard_growth": 0.8,
    "danger_threshold": 0.9,
    "containment": 0.6,
    "automation_fraction": 0.99,
    "field_years": 9.0,
    "build_lag": 1.5,
    "years_to_agi": 12.0,
    "skill_overlap": 0.3,
    "leakage": 0.5,
    "timing_noise": 0.8,
    "sharpness": 0.7,
}


def _point_value(world: dict, horizon: float) -> np.ndarray:
    o = outcomes({k: np.array([float(v)]) for k, v in world.items()}, horizon)
    return np.array([float(np.asarray(getattr(o, q)).ravel()[0]) for q in compare.COMPARED])


def _shapley_by_orderings(names: list[str], value) -> dict[str, np.ndarray]:
    """The definition: each player's marginal contribution averaged over all n! orderings."""
    phi = {p: 0.0 for p in names}
    orders = list(itertools.permutations(names))
    for order in orders:
        members: set = set()
        for p in order:
            phi[p] = phi[p] + (value(members | {p}) - value(members)) / len(orders)
            members.add(p)
    return phi


def test_exact_shapley_equals_the_definition_settings_included(tmp_path):
    # point priors: v(S) is the closed form of the hybrid world, so Shapley values are known exactly
    moved = ["capability_needed", "technique_strength", "years_to_agi", "leakage"]  # in NAMES order
    a = load(write_priors(tmp_path, "a", MIDDLE_WORLD))
    b_world = {**MIDDLE_WORLD, **{k: OTHER_WORLD[k] for k in moved}}
    b = load(write_priors(tmp_path, "b", b_world, "\n[calibration]\nhorizon_years = 7.5\n"))
    at = attribute(a, b, samples=64)
    assert at.players == (*moved, "horizon_years") and at.method == "shapley" and at.inert == ()

    def value(members):
        world = {k: (b_world if k in members else MIDDLE_WORLD)[k] for k in USED}
        return _point_value(world, 7.5 if "horizon_years" in members else 4.0)

    want = _shapley_by_orderings(list(at.players), value)
    for k, q in enumerate(compare.COMPARED):
        for p in at.players:
            assert at.by_variable[q][p] == pytest.approx(want[p][k], abs=1e-12), (q, p)
            assert at.se[q][p] == pytest.approx(0.0, abs=1e-12)  # identical worlds: no noise
        assert sum(at.by_variable[q].values()) == pytest.approx(at.total[q], abs=1e-13)


def test_a_difference_in_the_horizon_alone_is_attributed(tmp_path):
    a = write_priors(tmp_path, "a", {**MIDDLE_WORLD, "years_to_build": '"1 to 6"', "years_to_agi": '"4 to 20"'})
    b = tmp_path / "b.toml"
    b.write_text('[meta]\nbase = "a.toml"\n[calibration]\nhorizon_years = 8.0\n')
    pa, pb = load(a), load(b)
    at = attribute(pa, pb, samples=65_536, seed=3)
    assert at.players == ("horizon_years",)
    q = "success_within_horizon"
    assert at.by_variable[q]["horizon_years"] == at.total[q]
    ra, rb = (simulate(p, samples=65_536, seed=3, workers=1) for p in (pa, pb))
    diff = rb.estimates[q].mean - ra.estimates[q].mean
    assert diff > 0.01  # v1 attributed this to "no players, total 0"
    assert at.total[q] == pytest.approx(diff, abs=4 * (ra.estimates[q].mcse + rb.estimates[q].mcse))
    for other in ("success", "x_risk", "kicking_the_can"):  # the horizon moves nothing else
        assert at.total[other] == 0.0


def test_settings_no_outcome_depends_on_are_listed_with_zero(tmp_path):
    a = write_priors(tmp_path, "a", {**MIDDLE_WORLD, "capability_needed": '"0.5 to 1.5"'})
    b = tmp_path / "b.toml"
    b.write_text(
        '[meta]\nbase = "a.toml"\n[parameters]\ncontainment = 0.8\n'
        "[calibration]\ntarget = 0.3\ntrust = 5.0\n[decision]\ncost_of_catastrophe = 2.0\n"
    )
    at = attribute(load(a), load(b), samples=16_384)
    assert at.players == ("containment", "target", "trust", "cost_of_catastrophe")
    assert at.inert == ("target", "trust", "cost_of_catastrophe")
    for q in compare.COMPARED:
        assert all(at.by_variable[q][p] == 0.0 and at.se[q][p] == 0.0 for p in at.inert)
        assert at.by_variable[q]["containment"] == pytest.approx(at.total[q], abs=1e-15)


def test_the_correlation_table_is_one_player(tmp_path):
    world = {
        **MIDDLE_WORLD,
        "years_to_build": 3.0,
        "capability_needed": '"0.4 to 1.6"',
        "danger_threshold": '"0.7 to 1.5"',
    }
    a = write_priors(tmp_path, "a", world)
    b = write_priors(tmp_path, "b", world, '\n[correlations]\n"capability_needed, danger_threshold" = -0.6\n')
    at = attribute(load(a), load(b), samples=65_536)
    assert at.players == (CORRELATIONS,)
    assert abs(at.total["x_risk"]) > 0.01 and at.by_variable["x_risk"][CORRELATIONS] == at.total["x_risk"]


def _beta(v: float) -> str:
    return f'{{ dist = "beta", ci90 = [{0.8 * v:g}, {min(0.99, 1.1 * v):g}] }}'


def _uncertain(world: dict) -> dict:
    """Each point of ``world`` widened to a 90% interval around it (beta for probabilities)."""
    unit = ("containment", "automation_fraction", "skill_overlap", "leakage")
    return {n: _beta(v) if n in unit else f'"{0.8 * v:g} to {1.2 * v:g}"' for n, v in world.items()}


def _twelve_and_more(tmp_path, k: int):
    """Files differing in the first k variables, all random (so the worlds carry noise)."""
    base = _uncertain(MIDDLE_WORLD)
    a = load(write_priors(tmp_path, "a", base))
    b = load(write_priors(tmp_path, f"b{k}", {**base, **{n: _uncertain(OTHER_WORLD)[n] for n in list(USED)[:k]}}))
    assert len(players(a, b)) == k
    return a, b


def test_twelve_players_are_exact_and_traced_evaluation_changes_nothing(tmp_path):
    a, b = _twelve_and_more(tmp_path, 12)
    at = attribute(a, b, samples=4_096)
    assert at.method == "shapley" and at.orderings is None  # v1 sampled orderings beyond 8
    for q in compare.COMPARED:
        assert sum(at.by_variable[q].values()) == pytest.approx(at.total[q], abs=1e-12)
    few = load(
        write_priors(
            tmp_path,
            "few",
            {
                **{n: v for n, v in MIDDLE_WORLD.items()},
                "capability_needed": '"0.5 to 1.5"',
                "leakage": 0.4,
                "relative_difficulty": '"0.4 to 1.2"',
            },
        )
    )
    more = tmp_path / "more.toml"
    more.write_text(
        '[meta]\nbase = "few.toml"\n[cruxes]\ncapability_needed = "0.8 to 1.9"\n'
        "[parameters]\nleakage = 0.7\ncontainment = 0.2\n[calibration]\nhorizon_years = 6.0\n"
        '[correlations]\n"capability_needed, relative_difficulty" = 0.3\n'
    )
    fast, slow = (attribute(few, load(more), samples=20_000, trace=t) for t in (True, False))
    assert (
        fast.players == slow.players == ("capability_needed", "containment", "leakage", CORRELATIONS, "horizon_years")
    )
    for q in compare.COMPARED:
        for p in fast.players:
            assert fast.by_variable[q][p] == pytest.approx(slow.by_variable[q][p], abs=1e-15)


def test_beyond_twelve_players_the_error_includes_the_orderings(tmp_path):
    # point priors: no world noise at all, so any error is the sampling of orderings
    moved = list(USED)[:14]
    a = load(write_priors(tmp_path, "a", MIDDLE_WORLD))
    b = load(write_priors(tmp_path, "b", {**MIDDLE_WORLD, **{n: OTHER_WORLD[n] for n in moved}}))
    assert len(players(a, b)) == 14
    sampled = attribute(a, b, samples=1)
    exact = attribute(a, b, samples=1, exact_players=14)
    assert sampled.orderings == compare.ORDERINGS and "ordering sampling" in sampled.method
    assert exact.method == "shapley"
    errors = []
    for q in compare.COMPARED:
        assert sum(sampled.by_variable[q].values()) == pytest.approx(sampled.total[q], abs=1e-12)
        for p in sampled.players:
            miss = abs(sampled.by_variable[q][p] - exact.by_variable[q][p])
            assert sampled.se[q][p] == pytest.approx(sampled.ordering_se[q][p], abs=1e-15)  # no world noise
            if miss > 1e-9:
                assert sampled.se[q][p] > 0  # v1 reported only the world noise: 0 here
                errors.append(miss / sampled.se[q][p])
    assert len(errors) > 20 and np.sqrt(np.mean(np.square(errors))) < 2.0 and max(errors) < 5.0


def test_the_combined_error_holds_both_parts(tmp_path):
    a, b = _twelve_and_more(tmp_path, 13)
    at = attribute(a, b, samples=2_048, orderings=16)
    assert at.orderings == 16 and "sampled orderings" in at.method
    for q in compare.COMPARED:
        assert sum(at.by_variable[q].values()) == pytest.approx(at.total[q], abs=1e-12)
        assert all(at.se[q][p] >= at.ordering_se[q][p] for p in at.players)
        assert any(at.se[q][p] > at.ordering_se[q][p] * 1.0001 for p in at.players)  # world noise too


def test_common_crux_map_edges_cover_every_view():
    views = [load(ROOT / "priors" / f"{n}.toml") for n in ("author", "openai", "pessimist")]
    c, r = common_edges(views)
    assert c[0] <= 0 and c[-1] >= 2 and r[0] <= 0 and r[-1] >= 1.5
    for p in views:
        for edges, name in ((c, "capability_needed"), (r, "relative_difficulty")):
            lo, hi = p.variables[name].marginal.ppf(np.array([0.005, 0.995]))
            assert edges[0] <= lo and hi <= edges[-1]


def test_crux_maps_share_edges_and_rebin_the_runs_own_worlds():
    views = [load(ROOT / "priors" / f"{n}.toml") for n in ("author", "pessimist")]
    runs = [(p, simulate(p, samples=70_000, seed=6, workers=1)) for p in views]
    maps = crux_maps(runs)
    assert maps.counts[0].shape == maps.counts[1].shape
    for (p, r), counts, worlds in zip(runs, maps.counts, maps.worlds):
        assert counts.sum() == worlds and worlds >= 0.98 * r.samples
    # binning again on a run's own edges gives the run's own map exactly
    p, r = runs[0]
    counts, means = crux_maps_module.bin_map(p, r, (r.crux_map.c_edges, r.crux_map.r_edges), r.samples)
    np.testing.assert_array_equal(counts, r.crux_map.counts)
    np.testing.assert_allclose(
        np.nan_to_num(means["success"]), np.nan_to_num(r.crux_map.means["success"]), rtol=0, atol=1e-12
    )


def test_compare_honours_samples_and_draws_the_crux_maps(tmp_path):
    files = [ROOT / "priors" / f"{n}.toml" for n in ("author", "pessimist")]
    r = aar_in_process("compare", *files, "-n", "5000", "-o", "cmp", "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    data = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    assert data["samples"] == 5000 and data["attribution"][0]["samples"] == 5000  # v1: always 131,072
    maps = data["crux_maps"]
    assert maps["capability_needed"][0] <= 0 and maps["capability_needed"][1] >= 2
    assert set(maps["views"]) == set(data["files"])
    assert (tmp_path / "cmp" / "figures" / "crux_maps.png").stat().st_size > 20_000
    md = (tmp_path / "cmp" / "compare.md").read_text()
    assert "(figures/crux_maps.png)" in md and "## The two cruxes, side by side" in md
    pair = data["attribution"][0]
    for q, block in pair["outcomes"].items():
        assert sum(block["by_variable"].values()) == pytest.approx(block["total"], abs=1e-12)
    assert math.isfinite(pair["outcomes"]["success"]["total_se"])


def test_compare_shows_what_each_file_believes_and_every_outcomes_largest_change(tmp_path):
    """Issue 20, item 3: the differing priors side by side (family, 5th/50th/95th, source) in
    compare.json, .md and .html; in the terminal, every compared outcome's change of each pair
    in pp with its largest driver (not success alone); differences in pp, never %."""
    from model.core.quantities import LABELS, SIGNED

    files = [ROOT / "priors" / f"{n}.toml" for n in ("author", "pessimist")]
    r = aar_in_process("compare", *files, "-n", "5000", "-o", "cmp", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    data = json.loads((tmp_path / "cmp" / "compare.json").read_text())
    views = [load(f) for f in files]
    differ = {
        n
        for n in NAMES
        if views[0].variables[n].marginal != views[1].variables[n].marginal
        and not all(v.variables[n].unused for v in views)
    }
    assert set(data["priors"]) == differ and differ
    md = (tmp_path / "cmp" / "compare.md").read_text()
    page = (tmp_path / "cmp" / "compare.html").read_text()
    assert "What each file believes" in md and "What each file believes" in page
    for n in differ:
        for f, v in zip(data["files"], views, strict=True):
            shown, prior = data["priors"][n][f], v.variables[n]
            assert shown["family"] == prior.marginal.family and shown["source"] == prior.source
            p5, p50, p95 = prior.marginal.ppf(np.array([0.05, 0.5, 0.95]))
            assert (shown["p5"], shown["p50"], shown["p95"]) == pytest.approx((p5, p50, p95))
            cell = f"{shown['family']}: {p5:.3g} / {p50:.3g} / {p95:.3g}"
            assert cell in md, cell
    lines = r.stdout.splitlines()
    pair = data["attribution"][0]
    for q, block in pair["outcomes"].items():
        by = {k: x for k, x in block["by_variable"].items() if k not in pair["inert"]}
        top = max(by, key=lambda k: abs(by[k]))
        said = f"{100 * block['total']:+.1f} pp"
        assert any(
            line.startswith(LABELS[q]) and said in line and top in line and f"{100 * by[top]:+.1f} pp" in line
            for line in lines
        ), (q, said, top, r.stdout)
    for q in SIGNED:  # a difference of probabilities, side by side: in pp
        row = next(line for line in lines if line.startswith(LABELS[q]))
        assert row.rstrip().endswith("pp") and "%" not in row.replace(LABELS[q], ""), row
