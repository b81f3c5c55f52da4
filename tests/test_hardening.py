"""Hardening after an attack (issue 22, items 11 to 13): calibrated files that no longer match
what they were fitted to, valid files that burned CPU for minutes, and small API checks."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from model.core.errors import PriorsError
from model.priors.priors import load
from tests.conftest import ROOT

AUTHOR = ROOT / "priors" / "author.toml"


def aar(*args, cwd: Path, timeout: float = 20) -> tuple[subprocess.CompletedProcess, float]:
    """``aar-risk ARGS`` in a subprocess (from this checkout), and its wall time."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "model", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(),
    )
    return done, time.perf_counter() - start


def _env() -> dict:
    import os

    return {**os.environ, "PYTHONPATH": str(ROOT)}


def problems(path: Path) -> str:
    with pytest.raises(PriorsError) as info:
        load(path)
    return str(info.value)


# -- 11: a calibrated file records what it was fitted to -------------------------------------


@pytest.fixture(scope="module")
def tilted(tmp_path_factory) -> Path:
    """A folder with mine.toml (the author preset) and out/mine.calibrated.toml, its tilt."""
    import model

    folder = tmp_path_factory.mktemp("tilt")
    (folder / "out").mkdir()
    shutil.copy(AUTHOR, folder / "mine.toml")
    c = model.calibrate(folder / "mine.toml", methods="tilt", samples=20_000, seed=1)
    (folder / "out" / "mine.calibrated.toml").write_text(c.calibrated_priors(folder / "out"))
    return folder


@pytest.fixture
def tilt_copy(tilted, tmp_path) -> Path:
    shutil.copytree(tilted, tmp_path / "t")
    return tmp_path / "t"


def test_a_fresh_calibrated_file_records_its_digest_and_runs(tilt_copy):
    text = (tilt_copy / "out" / "mine.calibrated.toml").read_text()
    digest = re.search(r'^fitted_to = "([0-9a-f]{16})"$', text, re.M)
    assert digest, text[:800]
    priors = load(tilt_copy / "out" / "mine.calibrated.toml")
    assert priors.calibration.apply == "tilt" and priors.calibration.fitted_to == digest.group(1)
    assert priors.warnings == ()


def test_a_tilt_file_whose_base_changed_is_refused(tilt_copy):
    base = tilt_copy / "mine.toml"
    base.write_text(base.read_text().replace("alpha = 3, beta = 3", "alpha = 3, beta = 4", 1))
    message = problems(tilt_copy / "out" / "mine.calibrated.toml")
    assert "mine.calibrated.toml:" in message and "calibration.fitted_to" in message
    assert "re-run aar-risk calibrate on" in message and "mine.toml" in message


def test_a_tilt_file_whose_lambda_was_edited_is_refused(tilt_copy):
    path = tilt_copy / "out" / "mine.calibrated.toml"
    path.write_text(re.sub(r"^tilt_lambda = .*$", "tilt_lambda = 2.5", path.read_text(), flags=re.M))
    message = problems(path)
    line = next(i for i, t in enumerate(path.read_text().splitlines(), 1) if t.startswith("fitted_to"))
    assert f"mine.calibrated.toml:{line}: calibration.fitted_to:" in message
    assert "tilt_lambda" in message


def test_a_comment_or_a_source_edited_in_the_base_still_runs(tilt_copy):
    base = tilt_copy / "mine.toml"
    text = base.read_text().replace('description = """', 'description = """edited: ', 1)
    base.write_text("# my notes\n" + text.replace('source = "', 'source = "my source; ', 1))
    assert load(tilt_copy / "out" / "mine.calibrated.toml").warnings == ()


def test_an_update_file_whose_base_changed_warns_on_stderr_and_in_the_summary(tilt_copy):
    import model

    path = tilt_copy / "out" / "mine.calibrated.toml"
    text = path.read_text().replace('apply = "tilt"', 'apply = "update"')
    path.write_text(re.sub(r"^tilt_lambda = .*\n", "", text, flags=re.M))  # fitted_to is now stale too
    base = tilt_copy / "mine.toml"
    base.write_text(base.read_text().replace("alpha = 3, beta = 3", "alpha = 3, beta = 4", 1))
    done, _ = aar("validate", path, cwd=tilt_copy)
    assert done.returncode == 0, done.stderr
    assert re.search(
        r"warning: .*mine\.calibrated\.toml: calibration\.fitted_to: .*re-run aar-risk calibrate on "
        r".*mine\.toml",
        done.stderr,
    ), done.stderr
    with pytest.warns(UserWarning, match="re-run aar-risk calibrate"):
        view = model.load_priors(path)
    summary = model.simulate(view, samples=2000, seed=1).summary()
    assert any("re-run aar-risk calibrate" in w for w in summary["calibration_applied"]["warnings"])


def test_an_older_calibrated_file_without_digest_warns_but_runs(tilt_copy):
    path = tilt_copy / "out" / "mine.calibrated.toml"
    path.write_text(re.sub(r"^fitted_to = .*\n", "", path.read_text(), flags=re.M))
    priors = load(path)
    assert priors.calibration.apply == "tilt"
    assert len(priors.warnings) == 1 and "older" in priors.warnings[0] and "mine.toml" in priors.warnings[0]


def test_the_committed_example_calibrated_files_load_without_warning():
    files = sorted((ROOT / "reports" / "examples").glob("*/calibration/priors/*.calibrated.toml"))
    assert files
    for f in files:
        assert load(f).warnings == (), f


def test_the_run_digest_of_presets_is_unchanged():
    """summary.json's priors_digest must not move (a run report links its calibration by it)."""
    import json

    from model.report.summary import priors_digest

    for stem in ("author", "openai", "pessimist"):
        made = json.loads((ROOT / "reports" / "examples" / stem / "calibration" / "calibration.json").read_text())
        assert priors_digest(load(ROOT / "priors" / f"{stem}.toml")) == made["priors_digest"]


# -- 12: valid files that burned CPU ---------------------------------------------------------


def _long_keys(n: int) -> dict[str, str]:
    return {
        "dotted": '[meta]\nbase = "author"\n' + ".".join(["a"] * (n // 2)) + " = 1\n",
        "quoted": '[meta]\nbase = "author"\n' + ".".join(['"a"'] * (n // 4)) + " = 1\n",
        "inline": "[parameters]\nx = {" + ".".join(["a"] * (n // 2)) + " = 1}\n",
        "header": "[" + ".".join(["a"] * (n // 4)) + "]\n" + "".join(f"x{i}=1\n" for i in range(n // 12)),
    }


@pytest.mark.parametrize("shape", ["dotted", "quoted", "inline", "header"])
def test_a_400_kb_dotted_key_is_refused_within_a_couple_of_seconds(tmp_path, shape):
    path = tmp_path / f"{shape}.toml"
    path.write_text(_long_keys(400_000)[shape])
    done, took = aar("validate", path, cwd=tmp_path, timeout=10)
    assert done.returncode == 2, done.stderr
    assert re.search(rf"{shape}\.toml:\d+:\d+: .*: a dotted key of [\d,]+ parts \(at most 10", done.stderr)
    assert took < 3, took


def test_dotted_keys_within_the_limit_still_read(tmp_path):
    path = tmp_path / "ok.toml"
    path.write_text('[meta]\nbase = "author"\n[parameters]\ncontainment.dist = "beta"\ncontainment.ci90 = [0.2, 0.8]\n')
    assert load(path).variables["containment"].marginal.family == "beta"
    path.write_text('[meta]\nbase = "author"\nsource = "a.b.c.d.e.f.g.h.i.j.k.l.m.n"  # x.y.z.a.b.c.d.e.f.g.h.i.j\n')
    assert "dotted key" not in problems(path)


def _mixture(folder: Path, n: int) -> Path:
    comps = ", ".join(f'{{dist = "normal", mean = {1 + i * 1e-4:.6f}, sd = 0.1}}' for i in range(n))
    weights = [1 / n] * n
    weights[-1] = 1 - sum(weights[:-1])
    path = folder / f"mix{n}.toml"
    path.write_text(
        f'[meta]\nbase = "author"\n\n[parameters]\ndanger_threshold = {{dist = "mixture", '
        f"weights = {weights!r}, components = [{comps}]}}\n"
    )
    return path


def test_a_mixture_of_5000_components_is_refused_quickly(tmp_path):
    done, took = aar("validate", _mixture(tmp_path, 5000), cwd=tmp_path, timeout=10)
    assert done.returncode == 2
    assert (
        "mix5000.toml:5: parameters.danger_threshold.components: 5,000 components; a priors file's "
        "mixtures have at most 50 in all" in done.stderr
    )
    assert took < 3, took


def test_mixtures_of_50_components_together_are_accepted(tmp_path):
    assert load(_mixture(tmp_path, 48)).variables["danger_threshold"].marginal.family == "mixture"


def test_mixtures_of_more_than_50_components_together_are_refused(tmp_path):
    path = _mixture(tmp_path, 30)
    text = path.read_text().replace("danger_threshold =", "containment = 0.5\ndanger_threshold =")
    path.write_text(
        text
        + '[cruxes]\nrelative_difficulty = { dist = "mixture", weights = [0.5, 0.5], components = '
        + "["
        + ", ".join(['{ dist = "beta", alpha = 2, beta = 3 }'] * 2)
        + "] }\n"
    )
    assert load(path).variables["relative_difficulty"].marginal.family == "mixture"
    many = tmp_path / "many.toml"
    many.write_text(
        text.replace("mix30", "many")
        + '[cruxes]\nrelative_difficulty = { dist = "mixture", weights = '
        + repr([0.04] * 25)
        + ", components = ["
        + ", ".join(['{ dist = "beta", alpha = 2, beta = 3 }'] * 25)
        + "] }\n"
    )
    message = problems(many)
    assert re.search(
        r"many\.toml:\d+: parameters\.danger_threshold\.components: the mixtures have 57 components "
        r"together \(capability_needed 2, relative_difficulty 25, danger_threshold 30\); at most 50",
        message,
    ), message


def test_the_estimate_of_the_costliest_accepted_file_takes_under_a_second(tmp_path):
    """MAX_COMPONENTS over several mixtures: set-up and trial of estimate_seconds stay under a second
    (or, on a busy machine, within 10 times the plain preset's, measured beside it)."""
    from model.montecarlo.engine import estimate_seconds

    def mixture(family: str, n: int, **params) -> str:
        comps = ", ".join(
            "{" + f'dist = "{family}", ' + ", ".join(f"{k} = {v(i)!r}" for k, v in params.items()) + "}"
            for i in range(n)
        )
        return f'{{dist = "mixture", weights = {[1 / n] * n!r}, components = [{comps}]}}'

    path = tmp_path / "costly.toml"
    path.write_text(
        '[meta]\nbase = "author"\n\n[parameters]\n'
        f"danger_threshold = {mixture('lognormal', 20, mu=lambda i: i / 1000, sigma=lambda i: 0.2)}\n"
        f"containment = {mixture('beta', 10, alpha=lambda i: 2 + i / 50, beta=lambda i: 3.0)}\n"
        f"leakage = {mixture('beta', 10, alpha=lambda i: 1 + i / 50, beta=lambda i: 4.0)}\n"
        f"field_years = {mixture('lognormal', 6, mu=lambda i: 2 + i / 1000, sigma=lambda i: 0.5)}\n"
    )
    costly = load(path)
    start = time.perf_counter()
    seconds = estimate_seconds(costly, 2 * 10**10, workers=1)
    took = time.perf_counter() - start
    start = time.perf_counter()  # the same on the plain preset, side by side: a busy machine slows both
    estimate_seconds(load(ROOT / "priors" / "author.toml"), 2 * 10**10, workers=1)
    plain = time.perf_counter() - start
    assert took < max(1.0, 10 * plain), (took, plain)
    assert seconds > 2 * 10**10 / 10**8  # a real estimate: no machine runs 10^8 worlds a second


# -- 13: API and small input checks ----------------------------------------------------------


@pytest.mark.parametrize("text", ["١ to ٢", "１ to ２", "1 to ٢", "0.５ to 2"])
def test_non_ascii_digits_are_refused_in_a_to_b(tmp_path, text):
    path = tmp_path / "digits.toml"
    path.write_text(f'[meta]\nbase = "author"\n\n[parameters]\ndanger_threshold = "{text}"\n', encoding="utf-8")
    assert f'digits.toml:5: parameters.danger_threshold: expected "a to b" with numbers a < b' in problems(path)


def test_numpy_whole_numbers_are_accepted_by_the_api_and_others_refused():
    import numpy as np

    import model

    run = model.simulate(AUTHOR, samples=np.int64(1000), seed=np.int64(3), keep=np.int32(10))
    assert run.result.samples == 1000 and run.result.seed == 3 and len(run.to_dataframe()) == 10
    for bad in (np.float64(1000.5), np.bool_(True), float("inf"), float("nan"), "1000"):
        with pytest.raises(ValueError, match="samples must be a whole number"):
            model.simulate(AUTHOR, samples=bad)


# -- 13, the rest: workers and draws, threads, long base paths, scripts, SIGKILL ---------------


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True, float("nan")])
def test_the_api_checks_workers_as_the_command_line_does(bad):
    import model

    with pytest.raises(ValueError, match="workers"):
        model.simulate(AUTHOR, samples=1000, workers=bad)


def test_the_api_caps_workers_at_the_usable_cores():
    import model

    one = model.simulate(AUTHOR, samples=2000, seed=3, workers=1)
    many = model.simulate(AUTHOR, samples=2000, seed=3, workers=10**6)  # capped, not 10⁶ processes
    assert one.summary() == many.summary()


@pytest.mark.parametrize("draws", [0, 10, 99, 100.5])
def test_the_api_refuses_too_few_draws_as_the_command_line_does(draws):
    import model

    with pytest.raises(ValueError, match="draws"):
        model.calibrate(AUTHOR, methods="nuts", draws=draws, samples=1000)


def test_figures_from_several_threads_leave_matplotlibs_settings_alone():
    from concurrent.futures import ThreadPoolExecutor

    import matplotlib

    import model

    run = model.simulate(AUTHOR, samples=4000, seed=1, workers=1)
    with matplotlib.rc_context({"font.size": 13.0, "figure.dpi": 77.0}):
        before = dict(matplotlib.rcParams)
        with ThreadPoolExecutor(2) as pool:
            drawn = list(pool.map(lambda _: run.figures(), range(2)))
        after = dict(matplotlib.rcParams)
    assert before == after
    assert all(d == drawn[0] for d in drawn)  # the style applied to every thread's figures alike


@pytest.mark.parametrize(
    "base, said",
    [
        ("a/" * 250 + "x.toml", "506 characters; at most 400"),
        ("b" * 300 + ".toml", "305 bytes"),
        ("../" * 200 + "x.toml", "606 characters; at most 400"),
    ],
)
def test_a_long_base_path_gets_the_right_message(tmp_path, base, said):
    f = tmp_path / "long.toml"
    f.write_text(f'[meta]\nbase = "{base}"\n')
    text = problems(f)
    assert "meta.base" in text and said in text, text


_SCRIPT = """import model
c = model.calibrate({path!r}, methods=("nuts",), samples=20000, draws=100, tune=100, chains=2, workers=2)
print("calibrated", c.converged)
"""


@pytest.mark.slow
def test_calibrate_at_the_top_level_of_a_script_says_to_add_the_guard(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(_SCRIPT.format(path=str(AUTHOR)))
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300, env=_env()
    )
    assert done.returncode == 1
    assert "calibrated" not in done.stdout
    assert 'if __name__ == "__main__":' in done.stderr
    assert done.stderr.count("Traceback") == 1, done.stderr  # the script's own, ending in the hint
    assert done.stderr.rstrip().splitlines()[-1].startswith("model.montecarlo.workers.ReimportedMain: ")


@pytest.mark.slow
def test_calibrate_with_the_guard_runs(tmp_path):
    script = tmp_path / "script.py"
    body = _SCRIPT.format(path=str(AUTHOR)).replace("\nc = ", "\nif __name__ == '__main__':\n    c = ")
    script.write_text(body.replace("\nprint(", "\n    print("))
    done = subprocess.run(
        [sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=300, env=_env()
    )
    assert done.returncode == 0, done.stderr
    assert "calibrated" in done.stdout


@pytest.mark.slow
def test_sigkill_of_calibrate_leaves_nothing_on_the_terminal(tmp_path):
    """PyMC's forkserver and chains found their pipes broken and printed tracebacks under the prompt."""
    import os
    import signal

    from tests.test_safety import alive, tree

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "model",
            "calibrate",
            str(AUTHOR),
            "-n",
            "20000",
            "--draws",
            "300",
            "--method",
            "nuts",
            "-o",
            str(tmp_path / "cal"),
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )
    deadline = time.monotonic() + 120
    while len(tree(proc.pid)) < 4 and time.monotonic() < deadline:  # forkserver, its chains
        time.sleep(0.2)
    assert len(tree(proc.pid)) >= 4, "the chains never started"
    time.sleep(2)  # sampling
    kids = tree(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    out, err = proc.communicate(timeout=30)
    time.sleep(3)
    assert err == "", err
    assert not alive(kids)
