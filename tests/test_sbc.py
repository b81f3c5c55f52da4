"""Simulation-based calibration of the NUTS update (Talts et al. 2018, arXiv:1804.06788).

A reduced model, the two cruxes free and every other belief a point: draw the
cruxes from their prior, simulate a market reading from the likelihood, sample
the posterior with NUTS, and record the rank of the true value among the
posterior draws. If the inference is right, ranks are uniform.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from model import calibrate as cal
from model.engine import Sampler
from model.priors import load
from model.structure import outcomes

from .conftest import MIDDLE_WORLD, write_priors

pytestmark = pytest.mark.slow

SIMULATIONS = 200
KEEP = 99  # thinned posterior draws per simulation: ranks 0..99
BINS = 10
TRUST = 50.0


@pytest.fixture(scope="module")
def sbc(tmp_path_factory):
    pm = pytest.importorskip("pymc")
    folder = tmp_path_factory.mktemp("sbc")
    world = {**MIDDLE_WORLD, "capability_needed": '"0.5 to 1.5"',
             "relative_difficulty": '{ dist = "beta", ci90 = [0.3, 0.9] }',
             "field_years": 5.0, "years_to_agi": 8.0, "years_to_build": 2.5}
    priors = load(write_priors(folder, "reduced", world,
                               '\n[correlations]\n"capability_needed, relative_difficulty" = 0.3\n'))
    market = cal.Market(0.14, 4.0, TRUST)
    model = cal.build_model(priors, market, settable_target=True)
    sampler = Sampler.from_priors(priors)
    rng = np.random.default_rng(1804)
    ranks = {"capability_needed": [], "relative_difficulty": [], "log_likelihood": []}
    post_sd = {"capability_needed": [], "relative_difficulty": []}
    for i in range(SIMULATIONS):
        truth = sampler.draw(rng, 1)
        s_true = float(outcomes(truth, market.horizon).success_within_horizon[0])
        y = float(np.clip(rng.beta(1 + TRUST * s_true, 1 + TRUST * (1 - s_true)), 1e-9, 1 - 1e-9))
        pm.set_data({"market_target": y}, model=model)
        idata = pm.sample(model=model, draws=400, tune=500, chains=1, cores=1, random_seed=int(rng.integers(2**31)),
                          progressbar=False, compute_convergence_checks=False, target_accept=0.9)
        post = idata.posterior
        idx = np.linspace(0, 399, KEEP).astype(int)
        for name in post_sd:
            x = post[name].values.ravel()
            ranks[name].append(int(np.sum(x[idx] < truth[name][0])))
            post_sd[name].append(float(x.std()))
        s_post = post["success_within_horizon"].values.ravel()[idx]
        ll = lambda s: stats.beta.logpdf(y, 1 + TRUST * s, 1 + TRUST * (1 - s))
        ranks["log_likelihood"].append(int(np.sum(ll(s_post) < ll(s_true))))
    prior_sd = {n: float(np.std(sampler.draw(np.random.default_rng(0), 200_000)[n])) for n in post_sd}
    return ranks, post_sd, prior_sd


@pytest.mark.parametrize("name", ["capability_needed", "relative_difficulty", "log_likelihood"])
def test_ranks_are_uniform(sbc, name):
    ranks = np.asarray(sbc[0][name])
    assert ranks.size == SIMULATIONS
    counts = np.bincount(ranks * BINS // (KEEP + 1), minlength=BINS)
    assert stats.chisquare(counts).pvalue > 0.01, counts


def test_posterior_is_narrower_than_prior(sbc):
    _, post_sd, prior_sd = sbc
    for name, sds in post_sd.items():
        assert np.mean(sds) < prior_sd[name], name
