"""One-sided truncations of unbounded families, even far in a tail, load, validate and draw
finite values inside their bounds with the truncated distribution (scipy's truncnorm)."""

from __future__ import annotations


import numpy as np
import pytest
from scipy import special, stats

import model
from model import families as fam
from model.priors.priors import load

from .conftest import MIDDLE_WORLD, aar_in_process, write_priors

#: (variable, prior as written, lower, upper): each keeps only one side of an unbounded family
ONE_SIDED = {
    "normal_lower_at_median": (
        "relative_difficulty",
        '{ dist = "normal", mean = 0.5, sd = 0.1, lower = 0.5 }',
        0.5,
        np.inf,
    ),
    "normal_lower_4sd": ("relative_difficulty", '{ dist = "normal", mean = 0.5, sd = 0.1, lower = 0.9 }', 0.9, np.inf),
    "normal_upper_4sd": ("hazard_growth", '{ dist = "normal", mean = 1.0, sd = 0.5, upper = -1.0 }', -np.inf, -1.0),
    "lognormal_lower_10x_median": (
        "danger_threshold",
        '{ dist = "lognormal", mu = 0.0, sigma = 0.5, lower = 10.0 }',
        10.0,
        np.inf,
    ),
    "mixture_lower_far": (
        "danger_threshold",
        '{ dist = "mixture", weights = [0.5, 0.5], lower = 5.0, components = '
        '[{ dist = "lognormal", mu = 0.0, sigma = 0.3 }, { dist = "lognormal", mu = 0.5, sigma = 0.3 }] }',
        5.0,
        np.inf,
    ),
    "gamma_lower_far": ("field_years", '{ dist = "gamma", shape = 2.0, scale = 3.0, lower = 60.0 }', 60.0, np.inf),
    "logitnormal_lower_far": (
        "containment",
        '{ dist = "logitnormal", ci90 = [0.1, 0.9], lower = 0.995 }',
        0.995,
        1.0,
    ),  # 4 sd out on the logit scale
}
#: the copula coordinates of the loader's probes and beyond
Z_FAR = np.concatenate([np.linspace(-40, 40, 81), [-9.0, 9.0, 8.3, 8.4]])


def _file(tmp_path, case):
    name, value, _, _ = ONE_SIDED[case]
    return write_priors(tmp_path, case, {**MIDDLE_WORLD, name: value})


@pytest.mark.parametrize("case", ONE_SIDED)
def test_one_sided_truncation_loads_and_runs_inside_its_bounds(tmp_path, case):
    name, _, lower, upper = ONE_SIDED[case]
    priors = load(_file(tmp_path, case))
    m = priors.variables[name].marginal
    x = m.exact_from_z(Z_FAR)
    assert np.all(np.isfinite(x)) and np.all((lower <= x) & (x <= upper))
    assert np.all(np.diff(x[:81]) >= 0)  # still a quantile function out there
    run = model.simulate(priors, samples=5_000, seed=2, workers=1, keep=5_000)
    drawn = run.to_dataframe()[name].to_numpy()
    assert np.all(np.isfinite(drawn)) and drawn.min() > lower and drawn.max() < upper
    assert all(np.isfinite(e.mean) for e in run.estimates.values())


@pytest.mark.parametrize("case", ["normal_lower_4sd", "lognormal_lower_10x_median"])
def test_aar_risk_validate_accepts_it(tmp_path, case):
    r = aar_in_process("validate", _file(tmp_path, case), cwd=tmp_path)
    assert r.returncode == 0, r.stderr


@pytest.mark.parametrize(
    "mean, sd, lower, upper",
    [
        (0.5, 0.1, 0.9, np.inf),  # 4 sd out
        (0.5, 0.1, 1.1, np.inf),  # 6 sd out: kept mass 1e-9, the loader's floor
        (0.0, 1.0, 0.0, np.inf),  # at the median
        (0.0, 1.0, -np.inf, -5.0),
        (0.0, 1.0, 4.0, 4.5),
    ],
)
def test_truncated_normal_equals_scipys_truncnorm(mean, sd, lower, upper):
    m = fam.Truncated(fam.Normal(mean, sd), lower, upper)
    a, b = (lower - mean) / sd, (upper - mean) / sd
    ref = stats.truncnorm(a, b, loc=mean, scale=sd)
    mass = stats.norm.sf(a) - stats.norm.sf(b) if a > 0 else stats.norm.cdf(b) - stats.norm.cdf(a)
    assert m.kept_mass == pytest.approx(mass, rel=1e-12)
    # scipy's truncnorm is accurate up to z = 5 (its isf drifts beyond: 1e-2 at z = 8)
    z = np.linspace(-9, 5, 141)
    expected = np.where(z < 0, ref.ppf(special.ndtr(z)), ref.isf(special.ndtr(-z)))
    np.testing.assert_allclose(m.exact_from_z(z), expected, rtol=1e-9, atol=0)
    z = np.linspace(-8.4, 9, 175)
    scale = float(np.ptp(m.exact_from_z(np.array([-7.0, 7.0]))))
    np.testing.assert_allclose(m.from_z(z), m.exact_from_z(z), rtol=0, atol=1e-9 * scale)  # the engine's table
    draws = m.from_z(np.random.default_rng(5).standard_normal(20_000))
    assert draws.min() >= lower and draws.max() <= upper
    assert stats.kstest(draws, ref.cdf).pvalue > 0.01
    u = np.linspace(0.01, 0.99, 99)
    np.testing.assert_allclose(m.cdf(ref.ppf(u)), u, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("lower", [0.0, 4.0, 6.0])
def test_truncated_normal_far_upper_tail_keeps_its_survival_exact(lower):
    # beyond scipy's reach: the value with a share Φ(−z) of the kept mass above it satisfies
    # log S(x) = log Φ(−z) + log S(lower), with S the normal survival function (log_ndtr)
    m = fam.Truncated(fam.Normal(0.0, 1.0), lower)
    z = np.linspace(5, 9, 41)
    x = m.exact_from_z(z)
    assert np.all(np.isfinite(x)) and np.all(np.diff(x) > 0)
    np.testing.assert_allclose(special.log_ndtr(-x), special.log_ndtr(-z) + special.log_ndtr(-lower), rtol=1e-10)


def test_truncated_lognormal_far_in_its_upper_tail_equals_truncnorm_of_its_log():
    mu, sigma, lower = 0.0, 0.5, 10.0  # ln 10 / 0.5 = 4.6 sd out
    m = fam.Truncated(fam.LogNormal(mu, sigma), lower)
    a = (np.log(lower) - mu) / sigma
    ref = stats.truncnorm(a, np.inf, loc=mu, scale=sigma)
    draws = m.from_z(np.random.default_rng(6).standard_normal(20_000))
    assert draws.min() >= lower and np.all(np.isfinite(draws))
    assert stats.kstest(np.log(draws), ref.cdf).pvalue > 0.01
    z = np.linspace(-9, 5, 29)
    np.testing.assert_allclose(np.log(m.exact_from_z(z)), ref.isf(special.ndtr(-z)), rtol=1e-9)
    z = np.linspace(5, 9, 9)
    t = (np.log(m.exact_from_z(z)) - mu) / sigma
    np.testing.assert_allclose(special.log_ndtr(-t), special.log_ndtr(-z) + special.log_ndtr(-a), rtol=1e-10)


def test_truncated_mixture_far_in_its_upper_tail_follows_its_survival_function():
    comps = [(0.5, stats.lognorm(0.3, scale=1.0)), (0.5, stats.lognorm(0.3, scale=np.exp(0.5)))]
    m = fam.Truncated(fam.Mixture((fam.LogNormal(0.0, 0.3), fam.LogNormal(0.5, 0.3)), (0.5, 0.5)), 5.0)

    def sf(x):  # of the mixture, from scipy
        return sum(w * c.sf(x) for w, c in comps)

    assert m.kept_mass == pytest.approx(sf(5.0), rel=1e-9)
    draws = m.from_z(np.random.default_rng(7).standard_normal(20_000))
    assert draws.min() >= 5.0 and np.all(np.isfinite(draws))
    assert stats.kstest(draws, lambda x: 1 - sf(x) / sf(5.0)).pvalue > 0.01
    z = np.linspace(0, 9, 10)
    np.testing.assert_allclose(sf(m.exact_from_z(z)) / sf(5.0), special.ndtr(-z), rtol=1e-8)


def test_an_untruncated_family_that_overflows_is_still_refused(tmp_path):
    path = write_priors(
        tmp_path, "wide", {**MIDDLE_WORLD, "field_years": '{ dist = "lognormal", mu = 0.0, sigma = 90.0 }'}
    )
    with pytest.raises(model.PriorsError, match="far tail"):
        load(path)
