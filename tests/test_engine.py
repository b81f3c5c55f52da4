"""The Monte Carlo engine: closed forms, reproducibility, copula, streaming summaries."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from model.montecarlo.engine import BLOCK, QUANTITIES, Sampler, block_rng, simulate
from model.priors.priors import load

from .conftest import MIDDLE_WORLD, ROOT
from .conftest import write_priors
from .test_structure import closed_form

AUTHOR = ROOT / "priors" / "author.toml"


@pytest.fixture(scope="module")
def author():
    return load(AUTHOR)


@pytest.mark.parametrize(
    "change", [{}, {"hazard_growth": 0.0}, {"field_years": 2.0}, {"capability_needed": 1.8, "containment": 0.0}]
)
def test_point_priors_give_the_closed_form(tmp_path, change):
    world = {**MIDDLE_WORLD, **change}
    res = simulate(load(write_priors(tmp_path, "points", world)), samples=1000, workers=1)
    want = closed_form(world, 4.0)
    for q in QUANTITIES:
        e = res.estimates[q]
        assert e.mean == pytest.approx(want[q], rel=1e-12, abs=1e-15), q
        assert e.mcse == pytest.approx(0.0, abs=1e-15)
        assert e.p5 == e.p50 == e.p95 == pytest.approx(want[q], rel=1e-12, abs=1e-15), q


def test_horizon_and_target_are_honoured(tmp_path):
    world = {**MIDDLE_WORLD, "field_years": 3.5, "years_to_build": 2.0}
    p = load(write_priors(tmp_path, "h", world))
    for h in (1.0, 4.0, 20.0):
        res = simulate(p, samples=10, workers=1, horizon=h, target=0.3)
        assert res.estimates["success_within_horizon"].mean == pytest.approx(
            closed_form(world, h)["success_within_horizon"], rel=1e-12
        )
        assert res.target_percentile == (1.0 if closed_form(world, h)["success_within_horizon"] <= 0.3 else 0.0)


def test_same_seed_same_result(author):
    a = simulate(author, samples=150_000, seed=5, workers=1)
    b = simulate(author, samples=150_000, seed=5, workers=1)
    c = simulate(author, samples=150_000, seed=6, workers=1)
    assert a == b
    assert a.estimates["success"].mean != c.estimates["success"].mean


def test_workers_and_task_size_do_not_change_results(author):
    n = 3 * BLOCK + 12_345  # a partial last block too
    one = simulate(author, samples=n, seed=11, workers=1)
    two = simulate(author, samples=n, seed=11, workers=2)
    grouped = simulate(author, samples=n, seed=11, workers=2, blocks_per_task=3)
    assert one == two == grouped
    # equality is not vacuous: it sees one crux-map cell or one histogram bin
    from dataclasses import replace

    hist = one.histograms.copy()
    hist[0, hist.shape[1] // 2] += 1
    assert replace(one, histograms=hist) != one
    counts = one.crux_map.counts.copy()
    counts[0, 0] += 1
    assert replace(one, crux_map=replace(one.crux_map, counts=counts)) != one


def test_blocks_follow_the_documented_seeding(author):
    res = simulate(author, samples=BLOCK + 10, seed=3, workers=1, keep_worlds=True)
    sampler = Sampler.from_priors(author)
    second = sampler.draw(np.random.Generator(np.random.PCG64(np.random.SeedSequence(3, spawn_key=(1,)))), 10)
    np.testing.assert_array_equal(res.worlds["loop_hazard"][BLOCK:], second["loop_hazard"])
    assert (
        block_rng(3, 1).random()
        == np.random.Generator(np.random.PCG64(np.random.SeedSequence(3, spawn_key=(1,)))).random()
    )


def test_global_numpy_random_state_is_untouched(author):
    before = np.random.get_state()
    simulate(author, samples=5000, workers=1)
    after = np.random.get_state()
    assert before[0] == after[0] and np.array_equal(before[1], after[1]) and before[2:] == after[2:]


def test_streamed_summaries_match_the_kept_worlds(author):
    res = simulate(author, samples=200_000, seed=1, workers=1, keep_worlds=True)
    n = res.samples
    for q in QUANTITIES:
        x, e = res.worlds[q], res.estimates[q]
        assert e.mean == pytest.approx(x.mean(), rel=1e-12, abs=1e-15), q
        assert e.mcse == pytest.approx(x.std(ddof=1) / np.sqrt(n), rel=1e-9), q
        for f, got in ((0.05, e.p5), (0.5, e.p50), (0.95, e.p95)):
            lo, hi = np.quantile(x, [max(f - 1e-4, 0), min(f + 1e-4, 1)])
            assert lo - 1e-9 <= got <= hi + 1e-9, (q, f, got, lo, hi)
    sh = res.worlds["success_within_horizon"]
    assert res.target_percentile == np.mean(sh <= 0.14)


def test_outcomes_sum_to_one_in_every_world(author):
    res = simulate(author, samples=50_000, workers=1, keep_worlds=True)
    w = res.worlds
    total = w["success"] + w["kicking_the_can"] + w["capability_externalities"] + w["x_risk"]
    np.testing.assert_allclose(total, 1.0, atol=1e-12)


@pytest.mark.parametrize("rho", [-0.6, 0.3, 0.8])
def test_copula_reaches_the_rank_correlation(tmp_path, rho):
    values = {
        **MIDDLE_WORLD,
        "capability_needed": '{ dist = "beta", alpha = 2, beta = 5 }',
        "danger_threshold": '"0.8 to 1.6"',
        "containment": '{ dist = "uniform", low = 0, high = 1 }',
    }
    extra = f'\n[correlations]\n"capability_needed, danger_threshold" = {rho}\n'
    p = load(write_priors(tmp_path, "cop", values, extra))
    res = simulate(p, samples=200_000, workers=1, keep_worlds=True)
    w = res.worlds
    assert stats.spearmanr(w["capability_needed"], w["danger_threshold"]).statistic == pytest.approx(rho, abs=0.01)
    assert abs(stats.spearmanr(w["capability_needed"], w["containment"]).statistic) < 0.01


def test_marginals_survive_the_copula(author):
    res = simulate(author, samples=100_000, workers=1, keep_worlds=True)
    m = author.variables["relative_difficulty"].marginal
    assert stats.kstest(res.worlds["relative_difficulty"], m.cdf).pvalue > 0.001
