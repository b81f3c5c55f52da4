"""Simulation-based calibration of the NUTS update (Talts et al. 2018, arXiv:1804.06788),
with the market likelihood of docs/model.md (v2).

A reduced model, the two cruxes free and every other belief a point: draw the
cruxes from their prior, simulate a market reading from the likelihood, sample
the posterior with NUTS, and record the rank of the true value among the
posterior draws. If the inference is right, ranks are uniform.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from model.analyses.calibration import methods as cal
from model.montecarlo.engine import Sampler
from model.priors.priors import load
from model.core.structure import outcomes

from .conftest import MIDDLE_WORLD, write_priors

pytestmark = pytest.mark.slow

SIMULATIONS = 200
KEEP = 99  # thinned posterior draws per simulation: ranks 0..99
BINS = 10
TRUST = 50.0


def run_sbc(tmp_path_factory, fit_trust: float, simulations: int):
    """Ranks of the truth among posterior draws. Market readings come from the likelihood's
    own generative model, y = k/TRUST with k ~ Binomial(TRUST, s_h); the posterior is fitted
    with ``fit_trust`` (TRUST for the right model, anything else for a wrong one)."""
    pm = pytest.importorskip("pymc")
    folder = tmp_path_factory.mktemp("sbc")
    world = {
        **MIDDLE_WORLD,
        "capability_needed": '"0.5 to 1.5"',
        "relative_difficulty": '{ dist = "beta", ci90 = [0.3, 0.9] }',
        "field_years": 5.0,
        "years_to_agi": 8.0,
        "years_to_build": 2.5,
    }
    priors = load(
        write_priors(folder, "reduced", world, '\n[correlations]\n"capability_needed, relative_difficulty" = 0.3\n')
    )
    model = cal.build_model(priors, cal.Market(0.14, 4.0, fit_trust), settable_target=True)
    sampler = Sampler.from_priors(priors)
    rng = np.random.default_rng(1804)
    ranks = {"capability_needed": [], "relative_difficulty": [], "log_likelihood": []}
    post_sd = {"capability_needed": [], "relative_difficulty": []}
    for i in range(simulations):
        truth = sampler.draw(rng, 1)
        s_true = float(outcomes(truth, 4.0).success_within_horizon[0])
        y = rng.binomial(int(TRUST), s_true) / TRUST
        pm.set_data({"market_target": y}, model=model)
        idata = pm.sample(
            model=model,
            draws=400,
            tune=500,
            chains=1,
            cores=1,
            random_seed=int(rng.integers(2**31)),
            progressbar=False,
            compute_convergence_checks=False,
            target_accept=0.9,
        )
        post = idata.posterior
        idx = np.linspace(0, 399, KEEP).astype(int)
        for name in post_sd:
            x = post[name].values.ravel()
            ranks[name].append(int(np.sum(x[idx] < truth[name][0])))
            post_sd[name].append(float(x.std()))
        s_post = post["success_within_horizon"].values.ravel()[idx]
        ll = lambda s: (
            cal.log_likelihood(s, cal.Market(y, 4.0, fit_trust))
            if 0 < y < 1
            else (fit_trust * np.log(np.clip(s if y == 1 else 1 - s, 1e-12, 1)))
        )
        ranks["log_likelihood"].append(int(np.sum(ll(s_post) < ll(np.array(s_true)))))
    prior_sd = {n: float(np.std(sampler.draw(np.random.default_rng(0), 200_000)[n])) for n in post_sd}
    return ranks, post_sd, prior_sd


def uniformity_p(ranks) -> float:
    counts = np.bincount(np.asarray(ranks) * BINS // (KEEP + 1), minlength=BINS)
    return float(stats.chisquare(counts).pvalue)


@pytest.fixture(scope="module")
def sbc(tmp_path_factory):
    return run_sbc(tmp_path_factory, TRUST, SIMULATIONS)


@pytest.mark.parametrize("name", ["capability_needed", "relative_difficulty", "log_likelihood"])
def test_ranks_are_uniform(sbc, name):
    ranks = np.asarray(sbc[0][name])
    assert ranks.size == SIMULATIONS
    assert uniformity_p(ranks) > 0.01, np.bincount(ranks * BINS // (KEEP + 1), minlength=BINS)


def test_posterior_is_narrower_than_prior(sbc):
    _, post_sd, prior_sd = sbc
    for name, sds in post_sd.items():
        assert np.mean(sds) < prior_sd[name], name


def test_a_wrong_likelihood_fails_sbc(tmp_path_factory):
    """The check can fail: fitted as if the market were worth 8× the questions it is, the
    posterior is overconfident and the truth falls in its tails (U-shaped ranks)."""
    ranks, _, _ = run_sbc(tmp_path_factory, 8 * TRUST, 100)
    assert min(uniformity_p(ranks[n]) for n in ranks) < 0.01
