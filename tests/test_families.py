"""Every family against an independent scipy construction; interval fits; truncation; mixtures."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import special, stats

from model import families as fam
from model.priors.schema import FAMILIES, ToSpec

N = 40_000


def _draw(marginal, seed=7):
    return marginal.from_z(np.random.default_rng(seed).standard_normal(N))


# (marginal as the priors file writes it, independent scipy reference)
CASES = [
    ({"dist": "normal", "mean": 2.0, "sd": 0.5}, stats.norm(2.0, 0.5)),
    ({"dist": "normal", "ci90": [0.0, 3.29]}, stats.norm(1.645, 3.29 / (2 * stats.norm.ppf(0.95)))),
    ({"dist": "lognormal", "mu": 0.3, "sigma": 0.4}, stats.lognorm(0.4, scale=np.exp(0.3))),
    ({"dist": "beta", "alpha": 2.5, "beta": 7.0}, stats.beta(2.5, 7.0)),
    ({"dist": "beta", "alpha": 0.6, "beta": 0.8}, stats.beta(0.6, 0.8)),
    ({"dist": "uniform", "low": -1.0, "high": 3.0}, stats.uniform(-1.0, 4.0)),
    ({"dist": "triangular", "min": 1.0, "mode": 2.0, "max": 6.0}, stats.triang(0.2, loc=1.0, scale=5.0)),
    # PERT(1, 4, 9): α = 1 + 4·3/8 = 2.5, β = 1 + 4·5/8 = 3.5 (Vose 2008)
    ({"dist": "pert", "min": 1.0, "mode": 4.0, "max": 9.0}, stats.beta(2.5, 3.5, loc=1.0, scale=8.0)),
    ({"dist": "gamma", "shape": 2.0, "scale": 1.5}, stats.gamma(2.0, scale=1.5)),
    ({"dist": "normal", "mean": 0.0, "sd": 1.0, "lower": -0.5, "upper": 2.0}, stats.truncnorm(-0.5, 2.0)),
    (
        {"dist": "lognormal", "mu": 0.0, "sigma": 1.0, "upper": 2.0},
        stats.truncnorm(-np.inf, np.log(2.0)),
    ),  # compared on the log scale below
]


@pytest.mark.parametrize("table, ref", CASES, ids=lambda v: v["dist"] if isinstance(v, dict) else "")
def test_draws_match_scipy(table, ref):
    m = FAMILIES[table["dist"]].model_validate(table).to_marginal()
    x = _draw(m)
    u = np.linspace(0.01, 0.99, 99)
    q = m.ppf(u)
    if "upper" in table and table["dist"] == "lognormal":
        x, q = np.log(x), np.log(q)
    assert stats.kstest(x, ref.cdf).pvalue > 0.01
    np.testing.assert_allclose(q, ref.ppf(u), rtol=1e-9, atol=1e-12)


def test_logitnormal_against_transformed_normal():
    m = FAMILIES["logitnormal"].model_validate({"dist": "logitnormal", "ci90": [0.2, 0.9]}).to_marginal()
    logit = special.logit(_draw(m))
    ref = stats.norm(
        (special.logit(0.2) + special.logit(0.9)) / 2,
        (special.logit(0.9) - special.logit(0.2)) / (2 * 1.6448536269514722),
    )
    assert stats.kstest(logit, ref.cdf).pvalue > 0.01


INTERVALS = [
    {"dist": "normal", "ci90": [-2.0, 5.0]},
    {"dist": "lognormal", "ci90": [0.03, 0.4]},
    {"dist": "beta", "ci90": [0.05, 0.5]},
    {"dist": "beta", "ci90": [0.5, 0.95]},
    {"dist": "beta", "ci90": [0.001, 0.01]},
    {"dist": "logitnormal", "ci90": [0.5, 0.995]},
]


@pytest.mark.parametrize("table", INTERVALS, ids=lambda t: f"{t['dist']}{t['ci90']}")
def test_interval_fit_hits_its_percentiles(table):
    m = FAMILIES[table["dist"]].model_validate(table).to_marginal()
    np.testing.assert_allclose(m.ppf(np.array([0.05, 0.95])), table["ci90"], rtol=1e-6)
    np.testing.assert_allclose(m.cdf(np.array(table["ci90"])), [0.05, 0.95], atol=1e-9)


@pytest.mark.parametrize("a, b, family", [(0.6, 1.5, "lognormal"), (-1.0, 2.0, "normal"), (0.0, 1.0, "normal")])
def test_a_to_b(a, b, family):
    m = ToSpec(ci90=[a, b]).to_marginal()
    assert m.family == family
    np.testing.assert_allclose(m.ppf(np.array([0.05, 0.95])), [a, b], rtol=1e-9, atol=1e-12)


def test_truncation_keeps_the_mass_and_never_clips():
    m = FAMILIES["normal"].model_validate({"dist": "normal", "mean": 1.05, "sd": 0.1, "lower": 0.9}).to_marginal()
    x = _draw(m)
    assert x.min() > 0.9  # no atom piled on the bound
    ref = stats.truncnorm((0.9 - 1.05) / 0.1, np.inf, loc=1.05, scale=0.1)
    assert stats.kstest(x, ref.cdf).pvalue > 0.01


def test_mixture_with_point_mass():
    m = fam.Mixture((fam.Point(0.0), fam.LogNormal(0.0, 0.3), fam.LogNormal(-1.0, 0.5)), (0.25, 0.5, 0.25))
    x = _draw(m)
    assert np.mean(x == 0.0) == pytest.approx(0.25, abs=0.01)
    cont = x[x > 0]
    ref = lambda t: (0.5 * stats.lognorm.cdf(t, 0.3) + 0.25 * stats.lognorm.cdf(t, 0.5, scale=np.exp(-1))) / 0.75
    assert stats.kstest(cont, ref).pvalue > 0.01
    u = np.linspace(0.3, 0.99, 50)
    np.testing.assert_allclose(m.cdf(m.ppf(u)), u, atol=1e-9)


def test_mixture_of_points_is_discrete():
    m = fam.Mixture((fam.Point(1.0), fam.Point(3.0)), (0.3, 0.7))
    x = _draw(m)
    assert set(np.unique(x)) == {1.0, 3.0}
    assert np.mean(x == 1.0) == pytest.approx(0.3, abs=0.01)


@pytest.mark.parametrize(
    "m",
    [
        fam.Beta(3.0, 5.0),
        fam.Beta(0.5, 0.5),
        fam.Pert(2, 6, 10),
        fam.Gamma(0.7, 2.0),
        fam.Mixture((fam.LogNormal(0, 0.2), fam.LogNormal(-1.2, 0.4)), (0.7, 0.3)),
        fam.Truncated(fam.Normal(0, 1), -0.5, 2.0),
    ],
    ids=lambda m: m.family,
)
def test_quantile_table_matches_the_exact_quantile(m):
    z = np.concatenate([np.linspace(-8.4, 4.99, 20_001), np.random.default_rng(1).standard_normal(10_000)])
    assert m._z_table is not None, "a table should be available for this family"
    lo, hi = m.ppf(np.array([1e-12, 1 - 1e-12]))
    np.testing.assert_allclose(m.from_z(z), m._exact_from_z(z), rtol=0, atol=1e-9 * (hi - lo))


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (fam.Beta(2.5, 8.0), lambda: stats.beta(2.5, 8.0)),
        (fam.Beta(0.4, 0.7), lambda: stats.beta(0.4, 0.7)),
        (fam.Pert(3.0, 7.0, 10.0), lambda: stats.beta(*fam.Pert(3.0, 7.0, 10.0).shapes, loc=3.0, scale=7.0)),
        (fam.LogNormal(0.3, 0.8), lambda: stats.lognorm(s=0.8, scale=np.exp(0.3))),
        (fam.Normal(1.4, 0.67), lambda: stats.norm(1.4, 0.67)),
    ],
)
def test_families_compute_scipy_stats_numbers_bit_for_bit(ours, theirs):
    """Beta, PERT, lognormal and normal compute without importing scipy.stats (≈ 0.5 s at
    start-up) yet give its very numbers, edges, NaN and out-of-range values included (the beta
    density to 1e-12: scipy computes it with a private function)."""
    ref = theirs()
    u = np.concatenate([np.linspace(0, 1, 2001), [-0.1, 1.1, np.nan, 1e-300, 1 - 2**-53]])
    x = np.concatenate(
        [np.asarray(ref.ppf(u[1:-6])), np.linspace(-2, 12, 301), [0.0, 1.0, 3.0, 10.0, np.nan, -np.inf, np.inf]]
    )
    assert np.array_equal(ours.ppf(u), ref.ppf(u), equal_nan=True)
    assert np.array_equal(ours.cdf(x), ref.cdf(x), equal_nan=True)
    if ours.family in ("beta", "pert"):  # scipy's own beta density is private: a public formula, to 1e-12
        np.testing.assert_allclose(ours.pdf(x), ref.pdf(x), rtol=1e-12, atol=0, equal_nan=True)
        assert np.array_equal(np.isnan(ours.pdf(x)), np.isnan(ref.pdf(x)))
    else:
        assert np.array_equal(ours.pdf(x), ref.pdf(x), equal_nan=True)
    assert ours.support == tuple(float(v) for v in ref.support())
    assert float(ours.ppf(0.3)) == float(ref.ppf(0.3)) and np.ndim(ours.cdf(0.5)) == 0


def test_logitnormal_density_is_scipy_stats_bit_for_bit():
    m = fam.LogitNormal(0.8, 1.9)
    x = np.concatenate([np.linspace(0, 1, 1001), [-0.5, 1.5]])
    inside = (x > 0) & (x < 1)
    xs = np.where(inside, x, 0.5)
    ref = np.where(inside, stats.norm.pdf(special.logit(xs), 0.8, 1.9) / (xs * (1 - xs)), 0.0)
    assert np.array_equal(m.pdf(x), ref)
