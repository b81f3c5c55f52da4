"""aar-risk end to end, in a temporary folder, as a user runs it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from model.core.variables import NAMES

from .conftest import FIXTURES, ROOT

OUTCOME_FIELDS = {"mean", "mcse", "p5", "p50", "p95"}


def aar(*args, cwd: Path, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "model", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=300, **kw
    )


def test_run_with_the_default_priors(tmp_path):
    r = aar("run", "-n", 20_000, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "reports" / "author"
    assert "report written to reports/author/" in r.stderr
    s = json.loads((out / "summary.json").read_text())
    assert s["samples"] == 20_000 and s["seed"] == 2023 and s["name"] == "Essay author"
    assert set(s["outcomes"]) == {"success", "kicking_the_can", "capability_externalities", "x_risk"}
    assert set(s["kicking_the_can_parts"]) == {"misaligned_contained", "aligned_too_slow"}
    for block in [
        *s["outcomes"].values(),
        *s["kicking_the_can_parts"].values(),
        *(s[k] for k in ("success_within_horizon", "baseline_success", "plan_solved", "plan_minus_baseline")),
    ]:
        assert set(block) == OUTCOME_FIELDS
        assert block["p5"] <= block["p50"] <= block["p95"]
    assert sum(v["mean"] for v in s["outcomes"].values()) == pytest.approx(1.0, abs=1e-12)
    assert s["calibration_target"]["target"] == 0.14 and s["calibration_target"]["horizon_years"] == 4
    assert 0 <= s["calibration_target"]["percentile"] <= 1
    assert {"model", "numpy", "scipy"} <= set(s["versions"])
    md = (out / "report.md").read_text()
    assert "## The four outcomes" in md and "seed 2023" in md and "20,000 worlds" in md
    assert (out / "report.html").stat().st_size > 50_000
    assert sorted(p.name for p in (out / "figures").iterdir()) == sorted(
        [
            "ambition.png",
            "amdahl.png",
            "crux_map.png",
            "horizon.png",
            "outcomes.png",
            "plan_vs_baseline.png",
            "priors.png",
        ]
    )


def test_options_and_worker_independence(tmp_path):
    preset = ROOT / "priors" / "pessimist.toml"
    a = aar("run", preset, "-n", 70_000, "--seed", 9, "-o", "one", "--workers", 1, "-q", cwd=tmp_path)
    b = aar("run", preset, "-n", 70_000, "--seed", 9, "-o", "two", "--workers", 2, "-q", cwd=tmp_path)
    assert a.returncode == b.returncode == 0, a.stderr + b.stderr
    one, two = (tmp_path / d / "summary.json" for d in ("one", "two"))
    assert one.read_bytes() == two.read_bytes()
    assert json.loads(one.read_text())["seed"] == 9
    assert a.stdout == ""  # --quiet prints only where the report went (on stderr)


def test_json_to_stdout(tmp_path):
    r = aar("run", "-n", 5000, "--json", "-o", "j", cwd=tmp_path)
    assert r.returncode == 0
    assert json.loads(r.stdout) == json.loads((tmp_path / "j" / "summary.json").read_text())


@pytest.mark.parametrize("name", ["syntax", "unknown_variable", "multiple", "correlation_not_pd"])
def test_bad_priors_exit_2_without_traceback(tmp_path, name):
    path = FIXTURES / "bad" / f"{name}.toml"
    r = aar("run", path, "-n", 1000, "-o", "out", cwd=tmp_path)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and str(path) in r.stderr
    assert not (tmp_path / "out").exists()


def test_unwritable_output_keeps_going_nowhere(tmp_path):
    (tmp_path / "a_file").write_text("not a folder")
    r = aar("run", "-n", 1000, "-o", "a_file/report", cwd=tmp_path)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert r.stderr.count("\n") == 1 and "cannot write the report to a_file/report" in r.stderr
    assert (tmp_path / "a_file").read_text() == "not a folder"


@pytest.mark.slow  # a whole CLI run end to end: the full suite (.ci/run) runs it
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_run_keeps_the_earlier_report(tmp_path, sig):
    assert aar("run", "-n", 2000, "-o", "rep", "-q", cwd=tmp_path).returncode == 0
    before = {p: p.read_bytes() for p in (tmp_path / "rep").rglob("*") if p.is_file()}
    proc = subprocess.Popen(
        [sys.executable, "-m", "model", "run", "-n", "50000000", "-o", "rep", "--workers", "1"],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(3)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "Traceback" not in err and "interrupted" in err
    assert {p: p.read_bytes() for p in (tmp_path / "rep").rglob("*") if p.is_file()} == before
    assert sorted(os.listdir(tmp_path)) == ["rep"]  # no temporary folders left


def test_several_priors_files_in_one_run(tmp_path):
    r = aar("run", ROOT / "priors/openai.toml", ROOT / "priors/pessimist.toml", "-n", 3000, "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert sorted(os.listdir(tmp_path / "reports")) == ["openai", "pessimist"]
    r = aar("run", ROOT / "priors/openai.toml", ROOT / "priors/pessimist.toml", "-o", "x", cwd=tmp_path)
    assert r.returncode == 2 and "one PRIORS file" in r.stderr


def test_validate(tmp_path):
    r = aar("validate", ROOT / "priors/openai.toml", cwd=tmp_path, env={**os.environ, "COLUMNS": "200"})
    assert r.returncode == 0, r.stderr
    assert "capability_needed" in r.stdout and "inherited (author.toml)" in r.stdout and "valid" in r.stdout
    bad = aar("validate", FIXTURES / "bad" / "multiple.toml", cwd=tmp_path)
    assert bad.returncode == 2 and "3 problems" in bad.stderr and "Traceback" not in bad.stderr


def test_init_writes_a_template_that_runs_and_refuses_to_overwrite(tmp_path):
    r = aar("init", "mine", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "priors" / "mine.toml").read_text()
    assert 'base = "author"' in text and text.count("#   scale:") == len(NAMES)
    run = aar("run", "priors/mine.toml", "-n", 2000, "-q", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    again = aar("init", "mine", cwd=tmp_path)
    assert again.returncode != 0 and "already exists" in again.stderr
    assert (tmp_path / "priors" / "mine.toml").read_text() == text


def test_init_takes_a_file_name_too_and_answers_a_path_with_the_right_form(tmp_path):
    """Issue 20 item 5: aar-risk init my.toml writes priors/my.toml; a path gets the right form."""
    r = aar("init", "my.toml", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "priors" / "my.toml").is_file() and not (tmp_path / "priors" / "my.toml.toml").exists()
    bad = aar("init", "sub/dir.toml", cwd=tmp_path)
    assert bad.returncode == 2 and "aar-risk init my-view" in bad.stderr and "Traceback" not in bad.stderr


def test_compare_end_to_end(tmp_path):
    files = [ROOT / "priors" / f"{n}.toml" for n in ("author", "openai")]
    r = aar("compare", *files, "-n", 20_000, "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "reports" / "compare-author-openai"
    data = json.loads((out / "compare.json").read_text())
    assert len(data["files"]) == 2 and set(data["outcomes"]) == set(data["files"])
    pair = data["attribution"][0]
    assert pair["method"] == "shapley" and pair["from"] == data["files"][0]
    total = pair["outcomes"]["success"]["total"]
    assert sum(pair["outcomes"]["success"]["by_variable"].values()) == pytest.approx(total, abs=1e-12)
    assert {"compare.html", "compare.md", "figures"} <= set(os.listdir(out))


def test_help_is_light(tmp_path):
    code = (
        "import sys; sys.argv = ['aar-risk', '--help']\nimport model.cli.commands\n"
        "try:\n    model.cli.commands.cli()\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('numpy', 'scipy', 'pymc', 'pytensor') if m in sys.modules))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert "run" in r.stdout and r.stdout.strip().endswith("[]")


@pytest.mark.slow  # a whole CLI run end to end: the full suite (.ci/run) runs it
def test_calibrate_reweight_end_to_end_and_run_keeps_it(tmp_path):
    r = aar("calibrate", "-n", 50_000, "--method", "reweight", "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    folder = tmp_path / "reports" / "author" / "calibration"
    data = json.loads((folder / "calibration.json").read_text())
    assert set(data["methods"]) == {"reweight"} and data["methods"]["reweight"]["ess"] > 1000
    calibrated = folder / "priors" / "author.calibrated.toml"
    assert aar("run", calibrated, "-n", 5000, "-o", "cal-run", "-q", cwd=tmp_path).returncode == 0
    before = (folder / "calibration.json").read_bytes()
    assert aar("run", "-n", 3000, "-q", cwd=tmp_path).returncode == 0  # rewrites reports/author/
    assert (folder / "calibration.json").read_bytes() == before
    # the run report links the calibration of these very priors; summary.json does not say it
    report = (tmp_path / "reports" / "author" / "report.md").read_text()
    assert "[calibration/report.md](calibration/report.md)" in report
    assert "calibration_report" not in json.loads((tmp_path / "reports" / "author" / "summary.json").read_text())
    assert "calibration/report.md" in (tmp_path / "reports" / "author" / "report.md").read_text()


def test_calibrate_refuses_nuts_on_a_point_mass_mixture(tmp_path):
    path = tmp_path / "atoms.toml"
    path.write_text(
        f'[meta]\nbase = "{(ROOT / "priors/author.toml").as_posix()}"\n[cruxes]\n'
        'capability_needed = { dist = "mixture", components = [0.0, "0.5 to 1.5"], weights = [0.2, 0.8] }\n'
    )
    r = aar("calibrate", path, "--method", "nuts", cwd=tmp_path)
    assert r.returncode == 2 and "--method reweight" in r.stderr and "Traceback" not in r.stderr
    ok = aar("calibrate", path, "--method", "reweight", "-n", 20_000, "-q", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr


@pytest.mark.slow  # real NUTS sampling; tests/test_cli_fast.py checks the same path in process
def test_unconverged_nuts_exits_3_and_says_so(tmp_path):
    r = aar("calibrate", "--method", "nuts", "--draws", 100, "--chains", 2, "-n", 20_000, "-q", cwd=tmp_path)
    assert r.returncode == 3, r.stderr
    report = (tmp_path / "reports" / "author" / "calibration" / "report.md").read_text()
    assert report.splitlines()[2].startswith("> **NUTS did not converge")
    data = json.loads((tmp_path / "reports" / "author" / "calibration" / "calibration.json").read_text())
    assert data["methods"]["nuts"]["converged"] is False and data["calibrated_priors"] is None
    # -q: only where it went and why it failed; none of PyMC's own log lines
    assert "NUTS" not in r.stderr.replace("NUTS did not converge", "") and "Sampling" not in r.stderr, r.stderr


@pytest.mark.slow  # a whole CLI run end to end: the full suite (.ci/run) runs it
def test_sensitivity_end_to_end(tmp_path):
    r = aar("sensitivity", "-n", 100_000, "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    out = tmp_path / "reports" / "author"
    sens = json.loads((out / "sensitivity.json").read_text())
    assert set(sens["outcomes"]) == {
        "success",
        "kicking_the_can",
        "capability_externalities",
        "x_risk",
        "success_within_horizon",
        "plan_minus_baseline",
    }
    assert sens["decision"]["evpi"] >= max(sens["decision"]["evppi"].values())
    md = (out / "report.md").read_text()
    assert "## Which belief matters" in md and "(figures/tornado.png)" in md
    for f in ("tornado.png", "crux_curves.png", "sobol.png", "value_of_information.png"):
        assert (out / "figures" / f).stat().st_size > 10_000
    html = (out / "report.html").read_text()
    assert html.count('src="data:image/png;base64,') == 11
