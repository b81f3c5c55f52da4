"""aar-risk in this process, where the process itself is not under test (issue 17, item 5).

tests/test_cli.py runs the command end to end in subprocesses; what needs no real process
(exit statuses, messages, files) is checked here in a fraction of the time.
"""

from __future__ import annotations

import json

import numpy as np

from .conftest import aar_in_process


def _unmixed_nuts(calls: list):
    """A stand-in for :func:`model.analyses.calibration.methods.nuts`: InferenceData of the
    shape NUTS returns (the latent z, every variable and reported quantity, divergences and
    energy), from chains that disagree, so the convergence gates fail as they do for a short
    run, in milliseconds instead of a minute of compiling and sampling."""

    def nuts(priors, market, draws=1000, tune=1000, chains=4, seed=2023, **kw):
        import arviz as az

        from model.analyses.calibration.methods import REPORTED
        from model.core.structure import outcomes
        from model.core.variables import NAMES

        calls.append({"draws": draws, "tune": tune, "chains": chains})
        rng = np.random.default_rng(seed)
        random = list(priors.random_names())
        z = rng.standard_normal((chains, draws, len(random)))
        z[1::2] += 1.5  # every other chain elsewhere: r̂ far above 1.01
        worlds = {}
        for n in NAMES:
            m = priors.variables[n].marginal
            worlds[n] = (
                m.from_z(z[..., random.index(n)].ravel()) if n in random else np.full(chains * draws, float(m.value))
            )
        o = outcomes(worlds, market.horizon)
        posterior = {
            "z": z,
            **{n: worlds[n].reshape(chains, draws) for n in random},
            **{q: np.asarray(getattr(o, q)).reshape(chains, draws) for q in REPORTED},
        }
        stats = {
            "diverging": np.zeros((chains, draws), dtype=bool),
            "energy": rng.standard_normal((chains, draws)).cumsum(axis=1),
        }
        return az.from_dict(
            posterior=posterior, sample_stats=stats, coords={"variable": random}, dims={"z": ["variable"]}
        )

    return nuts


def test_unconverged_nuts_exits_3_and_says_so(tmp_path, monkeypatch):
    """The exit-3 path of ``calibrate --method nuts`` with the sampler stubbed; test_cli.py's
    test of the same name (marked slow) samples for real and checks PyMC's log stays quiet."""
    from model.analyses.calibration import methods

    calls: list = []
    monkeypatch.setattr(methods, "nuts", _unmixed_nuts(calls))
    r = aar_in_process("calibrate", "--method", "nuts", "--draws", 100, "--chains", 2, "-n", 20_000, "-q", cwd=tmp_path)
    assert r.returncode == 3, r
    assert calls == [{"draws": 100, "tune": 1000, "chains": 2}]  # the options reach the sampler
    folder = tmp_path / "reports" / "author" / "calibration"
    report = (folder / "report.md").read_text()
    assert report.splitlines()[2].startswith("> **NUTS did not converge")
    data = json.loads((folder / "calibration.json").read_text())
    nuts = data["methods"]["nuts"]
    assert nuts["converged"] is False and data["calibrated_priors"] is None
    assert any(f.startswith("r_hat_max = ") for f in nuts["failed"]), nuts["failed"]
    assert (folder / "calibration.nc").stat().st_size > 0
    assert not (folder / "priors").exists()  # no calibrated priors file from an unconverged fit
    # -q: where it went, then why it failed; nothing else
    lines = r.stderr.splitlines()
    assert len(lines) == 2 and lines[0].startswith("calibration written to reports/author/calibration/"), lines
    assert lines[1].startswith("error: NUTS did not converge: r_hat_max = "), lines
    assert r.stdout == ""
