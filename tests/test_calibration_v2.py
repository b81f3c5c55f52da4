"""Calibration v2 (docs/model.md, Calibration): toward the market, carried exactly by the
calibrated priors file, every number with its Monte Carlo error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from model.analyses.calibration import methods as cal
from model.montecarlo.engine import simulate
from model.priors.priors import load

from .conftest import ROOT, aar_in_process


def aar(*args, cwd: Path):
    """aar-risk in this process (exit status, stdout, stderr)."""
    return aar_in_process(*args, cwd=cwd)


@pytest.fixture(scope="module")
def worlds():
    return {
        name: simulate(load(ROOT / f"priors/{name}.toml"), samples=200_000, seed=5, workers=1, keep_worlds=True).worlds
        for name in ("author", "openai", "pessimist")
    }


@pytest.mark.parametrize("y, trust", [(0.14, 20.0), (0.5, 3.0), (0.02, 100.0)])
def test_the_likelihood_peaks_at_the_market(y, trust):
    s = np.linspace(0.001, 0.999, 99_801)
    ll = cal.log_likelihood(s, cal.Market(y, 4.0, trust))
    assert s[np.argmax(ll)] == pytest.approx(y, abs=2e-5)
    assert ll.max() <= cal.log_likelihood_max(cal.Market(y, 4.0, trust)) + 1e-9


@pytest.mark.parametrize("name", ["author", "openai", "pessimist"])
@pytest.mark.parametrize("trust", [5.0, 20.0, 100.0])
def test_reweighting_moves_toward_the_market(worlds, name, trust):
    w = cal.reweight(worlds[name], cal.Market(0.14, 4.0, trust))
    prior = float(np.mean(worlds[name]["success_within_horizon"]))
    post = float(w @ worlds[name]["success_within_horizon"])
    # Closer, not necessarily between: under v3 many worlds have s_h near 0 (no AAR within the
    # horizon) and the update can pass the market (openai, trust 5: 0.264 -> 0.124).
    assert abs(post - 0.14) < abs(prior - 0.14) + 1e-9, (prior, post)


def test_more_trust_comes_closer(worlds):
    gaps = [
        abs(
            float(cal.reweight(worlds["openai"], cal.Market(0.14, 4.0, t)) @ worlds["openai"]["success_within_horizon"])
            - 0.14
        )
        for t in (1, 5, 20, 100)
    ]
    assert gaps == sorted(gaps, reverse=True)


def test_trust_zero_leaves_the_prior_unchanged(worlds):
    w = cal.reweight(worlds["author"], cal.Market(0.14, 4.0, 0.0))
    assert np.allclose(w, 1 / w.size)


def test_every_calibrated_number_has_its_error(worlds):
    from model.analyses.calibration.pipeline import run
    from model.report.calibration import make

    summary, files = make(
        run(load(ROOT / "priors/author.toml"), cal.Market(0.14, 4.0, 20.0), ("reweight", "tilt"), 50_000, 3)
    )
    for block in (summary["prior"], *summary["methods"].values()):
        assert set(block["success_within_horizon"]) == {"mean", "mcse"}
        for est in block["outcomes"].values():
            assert set(est) == {"mean", "mcse"} and est["mcse"] > 0
    for v in summary["methods"]["reweight"]["variables"].values():
        assert v["kl_resolution"] > 0 and v["ess"] > 0


@pytest.mark.slow  # a whole CLI run end to end: the full suite (.ci/run) runs it
@pytest.mark.parametrize("method, apply", [("reweight", "update"), ("tilt", "tilt")])
def test_running_the_calibrated_file_gives_the_calibration(tmp_path, method, apply):
    shutil.copy(ROOT / "priors/author.toml", tmp_path / "mine.toml")
    r = aar("calibrate", "mine.toml", "--method", method, "-n", 100_000, "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    made = json.loads(r.stdout)
    assert made["calibrated_priors"]["apply"] == apply
    calibrated = tmp_path / "reports" / "mine" / "calibration" / made["calibrated_priors"]["path"]
    v = aar("validate", calibrated, cwd=calibrated.parent)  # validates where it was written
    assert v.returncode == 0, v.stderr
    run = aar("run", calibrated, "-n", 200_000, "-o", tmp_path / "check", "--json", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    got = json.loads(run.stdout)
    assert got["calibration_applied"]["apply"] == apply and got["calibration_applied"]["effective_sample_size"] > 1000
    want = 0.14 if method == "tilt" else made["methods"][method]["success_within_horizon"]["mean"]
    est = got["success_within_horizon"]
    assert abs(est["mean"] - want) <= max(0.01, 3 * est["mcse"])
    if method == "reweight":
        for q, block in made["methods"]["reweight"]["outcomes"].items():
            if q in got["outcomes"]:
                assert abs(got["outcomes"][q]["mean"] - block["mean"]) <= max(0.01, 3 * got["outcomes"][q]["mcse"]), q


def test_a_stale_calibration_is_not_linked(tmp_path):
    mine = tmp_path / "mine.toml"
    shutil.copy(ROOT / "priors/author.toml", mine)
    assert aar("calibrate", mine, "--method", "reweight", "-n", 20_000, "-q", cwd=tmp_path).returncode == 0
    assert aar("run", mine, "-n", 20_000, "-q", cwd=tmp_path).returncode == 0
    md = (tmp_path / "reports" / "mine" / "report.md").read_text()
    assert "(calibration/report.md)" in md
    mine.write_text(mine.read_text().replace("trust = 20", "trust = 21"))
    assert aar("run", mine, "-n", 20_000, "-q", cwd=tmp_path).returncode == 0
    md = (tmp_path / "reports" / "mine" / "report.md").read_text()
    assert "(calibration/report.md)" not in md and "made from other priors" in md
    assert (tmp_path / "reports" / "mine" / "calibration" / "calibration.json").is_file()  # kept, not linked


@pytest.mark.slow
def test_nuts_and_reweighting_agree_and_pass_the_gates():  # the gates as v3 allows (see below)
    from model.analyses.calibration.pipeline import run
    from model.report.calibration import make

    computed = run(load(ROOT / "priors/author.toml"), cal.Market(0.14, 4.0, 20.0), ("nuts", "reweight"), 400_000, 11)
    summary, _ = make(computed)
    # the gates but for divergences: under v3 a few are expected (docs/model.md, "NUTS under v3");
    # at most 0.25% of the draws, and the agreement with reweighting below is the real check
    made = summary["methods"]["nuts"]
    assert all(f.startswith("divergences") for f in made["failed"]), made["failed"]
    assert made["diagnostics"]["divergences"] <= 0.0025 * made["draws"] * made["chains"], made["diagnostics"]
    nuts, rw = summary["methods"]["nuts"]["outcomes"], summary["methods"]["reweight"]["outcomes"]
    for q in nuts:
        assert abs(nuts[q]["mean"] - rw[q]["mean"]) < 0.01, q
    prior = summary["prior"]["success_within_horizon"]["mean"]
    post = summary["methods"]["nuts"]["success_within_horizon"]["mean"]
    assert min(prior, 0.14) - 0.01 <= post <= max(prior, 0.14) + 0.01
