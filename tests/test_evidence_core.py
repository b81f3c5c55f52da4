"""The evidence likelihoods of MODEL.md §5.v3 (model/core/evidence.py)."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
from scipy import integrate, stats

from model.core.evidence import (
    ORIGIN,
    bayes_factor,
    by_log_likelihood,
    capability_at,
    event_time,
    log_normal_cdf,
    max_log_likelihood,
    measurement_log_likelihood,
    not_by_log_likelihood,
    years_since_origin,
)
from model.core.structure import market_log_likelihood, outcomes

from .conftest import MIDDLE_WORLD

#: Arguments of log Φ from the far lower tail (where Φ underflows) to the far upper one.
EXTREMES = np.array([-1e4, -1e3, -200.0, -40.0, -38.5, -10.0, -1.0 - 1e-12, -1.0, -0.5, 0.0, 3.0, 9.0, 40.0, 1e3])

#: The lognormal T_b of the closed form: 90% interval 2 to 8 years (median 4).
MU_B = math.log(4.0)
SIGMA_B = math.log(8.0 / 4.0) / stats.norm.ppf(0.95)
NO_AAR_BY = 3.42


def random_times(rng, n):
    """Event times, dates and timing noise from ordinary to extreme (far tails of Φ)."""
    t_event = np.exp(rng.uniform(-6.0, 5.0, n))
    t = np.exp(rng.uniform(-6.0, 5.0, n))
    sigma = np.exp(rng.uniform(-5.0, 1.0, n))
    return t_event, t, sigma


def test_log_normal_cdf_agrees_with_scipy_including_the_far_tails(rng):
    x = np.concatenate([EXTREMES, rng.normal(0.0, 15.0, 2000)])
    assert np.allclose(log_normal_cdf(x), stats.norm.logcdf(x), rtol=1e-12, atol=0.0)


def test_not_by_and_by_agree_with_scipy(rng):
    t_event, t, sigma = random_times(rng, 3000)
    z = (np.log(t_event) - np.log(t)) / sigma
    assert np.abs(z).max() > 100  # the inputs reach far into the tails
    not_by = not_by_log_likelihood(t_event, t, sigma)
    by = by_log_likelihood(t_event, t, sigma)
    assert np.isfinite(not_by).all() and np.isfinite(by).all()
    assert np.allclose(not_by, stats.norm.logcdf(z), rtol=1e-12, atol=1e-300)
    assert np.allclose(by, stats.norm.logcdf(-z), rtol=1e-12, atol=1e-300)
    assert np.allclose(np.exp(not_by) + np.exp(by), 1.0, rtol=0.0, atol=1e-14)


def test_measurement_agrees_with_scipy(rng):
    quantity = rng.normal(0.0, 3.0, 1000)
    value, sd = 0.7, 0.2
    assert np.allclose(
        measurement_log_likelihood(quantity, value, sd), stats.norm.logpdf(value, loc=quantity, scale=sd), rtol=1e-12
    )


def test_numpy_and_pytensor_agree_with_finite_gradients(rng):
    pytensor = pytest.importorskip("pytensor")
    import pytensor.tensor as pt

    from model.core.backend import pytensor_ops

    xp = pytensor_ops()
    t_event, t, sigma = random_times(rng, 400)
    quantity = rng.normal(0.0, 3.0, 400)
    x = np.concatenate([EXTREMES, rng.normal(0.0, 15.0, 400)])

    s_event, s_t, s_sigma, s_q, s_x = (pt.dvector(n) for n in ("t_event", "t", "sigma", "quantity", "x"))
    graphs = [
        not_by_log_likelihood(s_event, s_t, s_sigma, xp),
        by_log_likelihood(s_event, s_t, s_sigma, xp, strength=0.5),
        measurement_log_likelihood(s_q, 0.7, 0.2, xp),
        log_normal_cdf(s_x, xp),
    ]
    total = sum(g.sum() for g in graphs)
    grads = pytensor.grad(total, [s_event, s_sigma, s_q, s_x])
    fn = pytensor.function([s_event, s_t, s_sigma, s_q, s_x], graphs + grads)
    got = fn(t_event, t, sigma, quantity, x)

    expected = [
        not_by_log_likelihood(t_event, t, sigma),
        by_log_likelihood(t_event, t, sigma, strength=0.5),
        measurement_log_likelihood(quantity, 0.7, 0.2),
        stats.norm.logcdf(x),
    ]
    for a, b in zip(got[:4], expected, strict=True):
        assert np.isfinite(a).all()
        assert np.allclose(a, b, rtol=1e-9, atol=1e-300)
    for g in got[4:]:
        assert np.isfinite(g).all()
    # d/dx log Φ(x) = φ(x)/Φ(x), the inverse Mills ratio (≈ −x in the far lower tail).
    mills = np.exp(stats.norm.logpdf(x) - stats.norm.logcdf(x))
    assert np.allclose(got[7], mills, rtol=1e-6)


def test_strength_is_an_exponent(rng):
    t_event, t, sigma = random_times(rng, 500)
    quantity = rng.normal(0.0, 3.0, 500)
    for f, args in [
        (not_by_log_likelihood, (t_event, t, sigma)),
        (by_log_likelihood, (t_event, t, sigma)),
        (measurement_log_likelihood, (quantity, 0.7, 0.2)),
    ]:
        assert np.array_equal(f(*args, strength=0.0), np.zeros(500))
        assert np.allclose(f(*args, strength=2.5), 2.5 * f(*args))
    assert max_log_likelihood("measurement", sd=0.2, strength=0.0) == 0.0
    assert max_log_likelihood("market", value=0.14, trust=20.0, strength=0.0) == 0.0


def lognormal_build_times(rng, n):
    return np.exp(rng.normal(MU_B, SIGMA_B, n))


def test_no_aar_by_3_42_years_takes_p_tb_le_4_from_half_to_0_225(rng):
    """MODEL.md §5.v3 closed form, the hard limit σ_t → 0, by importance weights over the prior."""
    t_b = lognormal_build_times(rng, 4_000_000)
    weights = np.exp(not_by_log_likelihood(t_b, NO_AAR_BY, 1e-3))
    early = t_b <= 4.0
    assert early.mean() == pytest.approx(0.50, abs=2e-3)
    assert np.sum(weights * early) / np.sum(weights) == pytest.approx(0.225, abs=2e-3)


def test_not_by_matches_a_one_dimensional_integral(rng):
    """MODEL.md §5.v3: with one uncertain time a not_by entry is a one-dimensional integral."""
    sigma_t = 0.3

    def mass(upper):
        def integrand(u):
            return stats.norm.pdf(u, MU_B, SIGMA_B) * stats.norm.cdf((u - math.log(NO_AAR_BY)) / sigma_t)

        return integrate.quad(integrand, MU_B - 12 * SIGMA_B, math.log(upper), epsabs=1e-12, epsrel=1e-10)[0]

    exact = mass(4.0) / mass(math.exp(MU_B + 12 * SIGMA_B))
    assert 0.225 < exact < 0.5  # softer than the hard limit, still an update
    t_b = lognormal_build_times(rng, 2_000_000)
    weights = np.exp(not_by_log_likelihood(t_b, NO_AAR_BY, sigma_t))
    assert np.sum(weights * (t_b <= 4.0)) / np.sum(weights) == pytest.approx(exact, abs=2e-3)


def test_years_since_origin():
    assert years_since_origin(ORIGIN) == 0.0
    assert years_since_origin(date(2027, 7, 5)) == pytest.approx(4.0, abs=0.003)
    assert years_since_origin(date(2023, 1, 5)) < 0.0


def test_bayes_factor_of_what_the_prior_expects_is_one(rng):
    t_b = lognormal_build_times(rng, 100_000)
    soon = years_since_origin(date(2023, 7, 6))
    bf, mcse = bayes_factor(not_by_log_likelihood(t_b, soon, 0.3), max_log_likelihood("not_by"))
    assert bf == pytest.approx(1.0, abs=1e-9) and mcse < 1e-9
    # A surprising entry is evidence: "an AAR by 3.42 years" has P(T_b ≤ 3.42) ≈ 0.355 in the hard limit.
    bf, mcse = bayes_factor(by_log_likelihood(t_b, NO_AAR_BY, 1e-3), max_log_likelihood("by"))
    assert bf == pytest.approx(stats.norm.cdf((math.log(NO_AAR_BY) - MU_B) / SIGMA_B), abs=5 * mcse)
    assert 0.0 < mcse < 3e-3


def test_bayes_factor_with_weights(rng):
    ll = np.log(rng.uniform(0.0, 1.0, 1000))
    assert bayes_factor(ll, 0.0, np.full(1000, 3.0))[0] == pytest.approx(bayes_factor(ll, 0.0)[0], rel=1e-12)
    assert bayes_factor(ll, 0.0, np.full(1000, 3.0))[1] == pytest.approx(bayes_factor(ll, 0.0)[1], rel=1e-3)
    # Weight only on some worlds: the mean over those worlds.
    chosen = ll > math.log(0.5)
    assert bayes_factor(ll, 0.0, chosen.astype(float))[0] == pytest.approx(np.exp(ll[chosen]).mean(), rel=1e-12)


def test_max_log_likelihood_is_the_largest_value(rng):
    value, sd = 0.7, 0.2
    quantity = np.concatenate([[value], rng.normal(value, 1.0, 1000)])
    top = max_log_likelihood("measurement", value=value, sd=sd)
    ll = measurement_log_likelihood(quantity, value, sd)
    assert ll.max() == pytest.approx(top, rel=1e-15) and ll[0] == pytest.approx(top, rel=1e-15)
    assert top == pytest.approx(-math.log(sd * math.sqrt(2.0 * math.pi)), rel=1e-15)
    for y in (0.0, 0.14, 0.5, 1.0):
        top = max_log_likelihood("market", value=y, trust=20.0, strength=2.0)
        s = np.concatenate([[y], rng.uniform(0.0, 1.0, 1000)])
        ll = 2.0 * market_log_likelihood(s, 20.0, y)
        assert ll.max() == pytest.approx(top, abs=1e-12) and np.all(ll <= top + 1e-12)
    assert max_log_likelihood("not_by") == max_log_likelihood("by") == 0.0
    with pytest.raises(ValueError, match="kind"):
        max_log_likelihood("rumour")
    with pytest.raises(ValueError, match="sd"):
        max_log_likelihood("measurement", value=1.0)


def test_event_times_and_capability():
    w = {k: np.array([v]) for k, v in MIDDLE_WORLD.items()}
    out = outcomes(w, 4.0)
    assert event_time("aar", w, out)[0] == pytest.approx(0.9 * 9.0 + 0.5)  # T_b = C·T_g + L
    assert event_time("agi", w, out)[0] == 9.0
    assert event_time("field", w, out)[0] == 12.0
    with pytest.raises(ValueError, match="event"):
        event_time("singularity", w, out)
    # §3.v3 C: capability grows linearly to 1 at T_g.
    assert capability_at(4.5, 9.0) == 0.5 and capability_at(9.0, 9.0) == 1.0
