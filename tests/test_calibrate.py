"""Calibration against the market: NUTS, reweighting and tilting agree where they should."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from model.analyses.calibration import methods as cal
from model import families as fam
from model.montecarlo.engine import simulate
from model.priors.priors import load

from .conftest import ROOT

AUTHOR = ROOT / "priors" / "author.toml"

pytensor = pytest.importorskip("pytensor")


@pytest.fixture(scope="module")
def author():
    return load(AUTHOR)


@pytest.fixture(scope="module")
def author_worlds(author):
    return simulate(author, samples=400_000, seed=17, workers=1, keep_worlds=True).worlds


@pytest.fixture(scope="module")
def author_nuts(author):
    market = cal.Market.from_priors(author)
    return cal.nuts(author, market, draws=1000, tune=1000, chains=4, seed=3, prior_draws=0)


FAMILIES = [
    fam.Normal(1, 2),
    fam.LogNormal(0.1, 0.5),
    fam.LogitNormal(0.3, 1.2),
    fam.Uniform(-1, 2),
    fam.Triangular(1, 2, 6),
    fam.Beta(2.5, 7),
    fam.Beta(0.5, 0.6),
    fam.Pert(2, 6, 10),
    fam.Gamma(0.7, 2),
    fam.Truncated(fam.Normal(1.05, 0.1), 0.9),
    fam.Truncated(fam.LogNormal(0, 1), 0.5, 3),
    fam.Mixture((fam.LogNormal(0, 0.2), fam.LogNormal(-1.2, 0.4)), (0.7, 0.3)),
]


@pytest.mark.parametrize("m", FAMILIES, ids=lambda m: m.family)
def test_pytensor_quantiles_match_scipy(m):
    """The quantile on a grid reaching 1e-6 of either end, ``from_z`` and its gradient, for the
    registered families and the truncations and mixtures of them calibration meets. One graph
    per family, compiled once without C code (FAST_COMPILE: a cold compile folder, as in CI,
    took 47 s for the three C functions of every family); NUTS, marked slow, runs the C code.
    tests/test_families_properties.py checks ``from_z`` on random members of each family."""
    import pytensor.tensor as pt

    from model.families.tensor import from_z_tensor, ppf_tensor

    u, z = pt.dvector("u"), pt.dvector("z")
    f = pytensor.function(
        [u, z],
        [ppf_tensor(m, u), from_z_tensor(m, z), pytensor.grad(from_z_tensor(m, z).sum(), z)],
        mode="FAST_COMPILE",
    )
    grid, zz = np.linspace(1e-6, 1 - 1e-6, 2001), np.linspace(-5, 5, 201)
    ppf, from_z, grad = f(grid, zz)
    np.testing.assert_allclose(ppf, m.ppf(grid), rtol=0, atol=1e-8)
    np.testing.assert_allclose(from_z, m.from_z(zz), atol=1e-8)
    assert np.all(np.isfinite(grad)) and np.all(grad >= 0)  # quantiles are increasing


def test_point_mass_in_a_mixture_points_to_reweight():
    from model.families.tensor import CalibrationError, check

    with pytest.raises(CalibrationError, match="--method reweight"):
        check("capability_needed", fam.Mixture((fam.Point(0.0), fam.LogNormal(0, 1)), (0.5, 0.5)))


def test_tilt_hits_the_target(author_worlds):
    s = author_worlds["success_within_horizon"]
    for target in (0.05, 0.14, 0.4):
        w, lam, kl = cal.tilt(s, target)
        assert abs(w @ s - target) < 1e-6
        assert kl >= 0 and (lam > 0) == (target > s.mean())
        # KL of the tilted weights against the uniform prior weights, computed directly
        assert kl == pytest.approx(float(np.sum(w * np.log(w * s.size))), rel=1e-6, abs=1e-9)


def test_no_trust_means_no_update(author, author_worlds):
    w = cal.reweight(author_worlds, cal.Market(0.14, 4.0, 1e-9))
    np.testing.assert_allclose(w, 1 / w.size, rtol=1e-6)
    out = cal.weighted_summary(author_worlds, w, author)
    assert out["outcomes"]["success"]["mean"] == pytest.approx(author_worlds["success"].mean(), rel=1e-6)


def test_reweighting_moves_towards_the_market(author, author_worlds):
    w = cal.reweight(author_worlds, cal.Market(0.14, 4.0, 2000.0))
    assert abs(w @ author_worlds["success_within_horizon"] - 0.14) < 0.02
    assert cal.kish_ess(w) < w.size


@pytest.mark.slow
def test_nuts_converges_and_agrees_with_reweighting(author, author_nuts):
    """NUTS's chains mix (r̂, ESS, E-BFMI gates) and its posterior agrees with reweighting. Under
    model v3 the author's calibration has a few divergences (3 of 4000 draws with this seed; the
    AAR-first race is steep where T_b nears T_g or the horizon: docs/model.md, "NUTS under v3"),
    so the product's gate of none fails and `calibrate` says so; here at most 0.25% are allowed,
    and the agreement below is the check that the few do not bias the answer."""
    diag = cal.diagnostics(author_nuts)
    assert [g for g in cal.failed_gates(diag) if not g.startswith("divergences")] == [], diag
    assert diag["divergences"] <= 0.0025 * 4000, diag
    big = simulate(author, samples=1_000_000, seed=23, keep_worlds=True).worlds
    rw = cal.weighted_summary(big, cal.reweight(big, cal.Market.from_priors(author)), author)
    nu = cal.nuts_summary(author_nuts, author, big)
    for name, a in rw["variables"].items():
        b = nu["variables"][name]
        tol = max(3 * math.hypot(a["mcse"], b["mcse"]), 0.02 * a["prior_sd"])
        assert abs(a["posterior_mean"] - b["posterior_mean"]) <= tol, (name, a, b)
    for q in cal.REPORTED:
        assert abs(rw["outcomes"][q]["mean"] - nu["outcomes"][q]["mean"]) <= 0.01, q


@pytest.mark.slow
def test_nuts_with_no_trust_samples_the_prior(author, author_worlds):
    idata = cal.nuts(author, cal.Market(0.14, 4.0, 1e-6), draws=1000, tune=500, chains=2, seed=5, prior_draws=0)
    for name in ("capability_needed", "relative_difficulty", "automation_fraction", "years_to_agi"):
        x = idata.posterior[name].values.ravel()
        assert stats.ks_2samp(x, author_worlds[name]).pvalue > 0.001, name


@pytest.mark.slow
def test_nuts_with_huge_trust_reaches_the_target(author):
    idata = cal.nuts(author, cal.Market(0.14, 4.0, 1000.0), draws=300, tune=500, chains=2, seed=9, prior_draws=0)
    assert abs(float(idata.posterior["success_within_horizon"].mean()) - 0.14) < 0.02


def test_calibrated_priors_file_runs(tmp_path, author):
    from model.analyses.calibration.pipeline import run
    from model.report.calibration import make

    computed = run(author, cal.Market.from_priors(author), ("reweight", "tilt"), samples=100_000, seed=1, workers=1)
    (summary, content), converged = make(computed, tmp_path), computed.converged
    assert converged and set(summary["methods"]) == {"reweight", "tilt"}
    (tmp_path / "priors").mkdir()
    path = tmp_path / "priors" / "author.calibrated.toml"
    path.write_text(content["priors/author.calibrated.toml"])
    calibrated = load(path)  # inherits the original through a relative base
    assert calibrated.base.resolve() == author.path.resolve() and "calibrated" in calibrated.name
    assert calibrated.calibration.apply == "update"
    # the same worlds (seed and samples) weighted by the file reproduce the reweighting exactly
    res = simulate(calibrated, samples=100_000, seed=1, workers=1)
    want = summary["methods"]["reweight"]["success_within_horizon"]["mean"]
    assert res.estimates["success_within_horizon"].mean == pytest.approx(want, rel=1e-9)
    assert res.ess == pytest.approx(summary["methods"]["reweight"]["ess"], rel=1e-9)
    data = json.loads(content["calibration.json"])
    assert data["target"] == 0.14 and data["horizon_years"] == 4 and data["trust"] == 20
    assert set(data["prior"]["outcomes"]) >= {"success", "kicking_the_can", "capability_externalities", "x_risk"}
    tilt = data["methods"]["tilt"]
    assert abs(tilt["success_within_horizon"]["mean"] - 0.14) < 1e-6 and tilt["kl"] > 0
    first = list(data["methods"]["reweight"]["variables"])[:2]
    assert first == ["capability_needed", "relative_difficulty"]  # cruxes first
