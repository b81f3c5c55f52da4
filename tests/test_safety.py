"""Nothing lost, nothing hung: the CLI asserting on files, exit codes and the process table
(issue 8). Signals, worker processes and a second process's lock need a real process; the
rest runs the command in this process (:func:`tests.conftest.aar_in_process`)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import ROOT, aar_in_process

AUTHOR = ROOT / "priors" / "author.toml"
#: So many worlds that a run which started working would still be running at the assert.
HUGE = "1e10"


def aar(*args, cwd: Path, timeout: float = 300):
    """The command in this process: what it says, writes and exits with."""
    return aar_in_process(*args, cwd=cwd)


def aar_process(*args, cwd: Path, timeout: float = 300, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "model", *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=timeout, **kw
    )


def start(*args, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "model", *map(str, args)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def snapshot(folder: Path) -> dict:
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() and not p.is_symlink() else None)
        for p in sorted(folder.rglob("*"))
    }


def tree(pid: int) -> list[int]:
    """Live processes below ``pid`` (zombies count as gone)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    fields = fh.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[0] not in ("Z", "X"):
                children.setdefault(int(fields[1]), []).append(int(entry))
    out, todo = [], list(children.get(pid, []))
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def alive(pids) -> list[int]:
    def live(p):
        try:
            with open(f"/proc/{p}/stat") as fh:
                return fh.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
        except OSError:
            return False

    return [p for p in pids if live(p)]


def user_folder(path: Path) -> Path:
    (path / "photos").mkdir(parents=True)
    (path / "photos" / "cat.jpg").write_bytes(b"\xff\xd8 a cat")
    (path / "thesis.txt").write_text("three years of work")
    return path


# -- the report folder -------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "sensitivity", "compare"])
def test_a_folder_of_the_users_is_refused_before_any_work(tmp_path, command):
    docs = user_folder(tmp_path / "my docs")
    before = snapshot(docs)
    files = [AUTHOR, ROOT / "priors" / "openai.toml"] if command == "compare" else [AUTHOR]
    t = time.perf_counter()
    r = aar(command, *files, "-n", HUGE, "-o", docs, cwd=tmp_path, timeout=60)
    assert r.returncode == 1, r.stderr
    assert time.perf_counter() - t < 30  # refused up front, not after 10¹⁰ worlds
    assert "did not write" in r.stderr and "Traceback" not in r.stderr
    assert snapshot(docs) == before and sorted(os.listdir(tmp_path)) == ["my docs"]


def test_calibrate_never_touches_a_users_calibration_folder(tmp_path):
    out = tmp_path / "rep"
    user_folder(out / "calibration")
    before = snapshot(out)
    r = aar("calibrate", AUTHOR, "--method", "reweight", "-n", 5000, "-o", out, cwd=tmp_path)
    assert r.returncode == 1 and "did not write" in r.stderr
    assert snapshot(out) == before


@pytest.mark.parametrize("out", [".", "{cwd}", "/", "{parent}"])
def test_the_current_folder_and_root_are_refused_up_front(tmp_path, out):
    work = tmp_path / "work"
    work.mkdir()
    shutil.copy(AUTHOR, work / "mine.toml")
    before = snapshot(tmp_path)
    r = aar("run", "mine.toml", "-n", HUGE, "-o", out.format(cwd=work, parent=tmp_path), cwd=work, timeout=60)
    assert r.returncode == 1 and "cannot write the report" in r.stderr, r.stderr
    assert snapshot(tmp_path) == before


def test_a_glob_in_the_folder_name_touches_no_sibling(tmp_path):
    for sibling in (".thesis.old-backup", ".photos.tmp-import", "drafts"):
        (tmp_path / sibling).mkdir()
        (tmp_path / sibling / "keep.txt").write_text(sibling)
    before = snapshot(tmp_path)
    for _ in range(2):
        r = aar("run", AUTHOR, "-n", 2000, "-o", tmp_path / "*", "-q", cwd=tmp_path)
        assert r.returncode == 0, r.stderr
    after = snapshot(tmp_path)
    assert {k: v for k, v in after.items() if not k.startswith("*")} == before
    assert (tmp_path / "*" / "summary.json").is_file()


def test_a_second_run_on_the_same_folder_is_refused_and_the_first_completes(tmp_path):
    first = start("run", AUTHOR, "-n", "3e6", "-o", "rep", "-q", cwd=tmp_path)
    deadline = time.time() + 60
    while not any(n.endswith(".lock") for n in os.listdir(tmp_path)) and time.time() < deadline:
        time.sleep(0.05)
    second = aar("run", AUTHOR, "-n", 2000, "-o", "rep", "-q", cwd=tmp_path)
    assert second.returncode == 1 and "another aar-risk is writing" in second.stderr
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    summary = json.loads((tmp_path / "rep" / "summary.json").read_text())
    assert summary["samples"] == 3_000_000
    assert {"report.md", "report.html", "figures", "summary.json"} <= set(os.listdir(tmp_path / "rep"))
    assert sorted(os.listdir(tmp_path)) == ["rep"]


def test_two_files_with_one_stem_are_refused(tmp_path):
    for who in ("alice", "bob"):
        (tmp_path / who).mkdir()
        shutil.copy(AUTHOR, tmp_path / who / "view.toml")
    r = aar("run", "alice/view.toml", "bob/view.toml", "-n", 2000, cwd=tmp_path)
    assert r.returncode == 2 and "would both write" in r.stderr
    assert not (tmp_path / "reports").exists()


def test_a_symlinked_out_writes_through_and_leaves_nothing_stale(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to("real")
    for _ in range(2):
        assert aar("run", AUTHOR, "-n", 2000, "-o", "link", "-q", cwd=tmp_path).returncode == 0
    assert (tmp_path / "link").is_symlink() and (tmp_path / "real" / "summary.json").is_file()
    assert sorted(os.listdir(tmp_path)) == ["link", "real"]


def test_a_mount_point_is_refused_up_front(tmp_path):
    point = tmp_path / "out"
    point.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "none", str(point)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        r = aar("run", AUTHOR, "-n", HUGE, "-o", point, cwd=tmp_path, timeout=60)
        assert r.returncode == 1 and "mount point" in r.stderr
        assert os.listdir(point) == []
    finally:
        subprocess.run(["umount", str(point)], check=True)


def test_the_quickstart_leaves_a_clone_clean(tmp_path):
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("not a git checkout")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    r = aar("run", "-n", 5000, "-q", cwd=clone)
    assert r.returncode == 0, r.stderr
    assert (clone / "reports" / "author" / "summary.json").is_file()
    status = subprocess.run(["git", "status", "--porcelain"], cwd=clone, capture_output=True, text=True)
    assert status.stdout == ""
    for example in ("author", "openai", "pessimist"):  # the examples are marked report folders
        assert json.loads((clone / "reports" / "examples" / example / ".aar-report").read_text())["tool"]


# -- interrupts --------------------------------------------------------------------------------


def _running(tmp_path, *extra):
    """A long run in the background, once its workers are up."""
    proc = start("run", AUTHOR, "-n", HUGE, "-o", "rep", *extra, cwd=tmp_path)
    deadline = time.time() + 60
    while time.time() < deadline and len(tree(proc.pid)) < 2:
        time.sleep(0.1)
    time.sleep(0.5)
    return proc


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_stops_a_huge_run_at_once_and_keeps_the_report(tmp_path, sig, code):
    assert aar("run", AUTHOR, "-n", 2000, "-o", "rep", "-q", cwd=tmp_path).returncode == 0
    before = snapshot(tmp_path / "rep")
    proc = _running(tmp_path, "-w", "2")
    workers = tree(proc.pid)
    assert workers, "the run should have worker processes"
    t = time.perf_counter()
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert time.perf_counter() - t < 5  # the benchmark measures the real figure (< 1 s)
    assert proc.returncode == code
    lines = [line for line in err.splitlines() if line.strip() and not line.startswith("note:")]
    assert len(lines) == 1 and lines[0].startswith("interrupted:"), err
    time.sleep(0.5)
    assert alive(workers) == []
    assert snapshot(tmp_path / "rep") == before
    assert sorted(os.listdir(tmp_path)) == ["rep"]


def test_ctrl_c_then_sigterm_does_not_hang(tmp_path):
    proc = _running(tmp_path)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode in (130, 143)


def test_workers_die_with_a_killed_parent(tmp_path):
    proc = _running(tmp_path, "-w", "2")
    workers = tree(proc.pid)
    assert workers
    proc.kill()
    proc.communicate(timeout=30)
    deadline = time.time() + 10
    while alive(workers) and time.time() < deadline:
        time.sleep(0.1)
    assert alive(workers) == []


def test_workers_are_capped_at_the_core_count(tmp_path):
    proc = _running(tmp_path, "-w", "1000")
    try:
        counts = []
        for _ in range(10):
            counts.append(len(tree(proc.pid)))
            time.sleep(0.1)
        assert 1 <= max(counts) <= len(os.sched_getaffinity(0))
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert "capped at the" in err


def test_a_long_run_is_announced_with_its_time(tmp_path):
    import select

    proc = start("run", AUTHOR, "-n", "1e11", "-o", "rep", cwd=tmp_path)  # hours on any machine
    # the note comes before any work: wait for its line (a fixed 3 s was too short on a busy machine)
    first = proc.stderr.readline() if select.select([proc.stderr], [], [], 120)[0] else ""
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    err = first + err
    assert "will take about" in err and ("hours" in err or "days" in err), err


# -- sizes and counts --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "n, ok",
    [("2e4", True), ("20_000", True), ("20,000", True), ("1e12", False), ("2.5", False), ("0", False), ("lots", False)],
)
def test_samples_accept_scientific_and_grouped_forms(tmp_path, n, ok):
    r = aar("run", AUTHOR, "-n", n, "-o", "rep", "--json", cwd=tmp_path, timeout=60)
    if ok:
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["samples"] == 20_000
    else:
        assert r.returncode == 2 and "Traceback" not in r.stderr and "--samples" in r.stderr
        assert not (tmp_path / "rep").exists()


def test_several_files_print_one_json_document(tmp_path):
    r = aar("run", AUTHOR, ROOT / "priors" / "openai.toml", "-n", 2000, "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    docs = json.loads(r.stdout)
    assert [d["name"] for d in docs] == [
        "Essay author",
        json.loads((tmp_path / "reports" / "openai" / "summary.json").read_text())["name"],
    ]


def test_one_world_has_no_error_to_show(tmp_path):
    r = aar("run", AUTHOR, "-n", 1, "-o", "rep", "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert all(v["mcse"] is None for v in summary["outcomes"].values())
    table = aar("run", AUTHOR, "-n", 1, "-o", "rep", cwd=tmp_path)
    assert table.returncode == 0 and "± 0.00" not in table.stdout


def test_progress_is_reported_at_least_every_four_blocks():
    from model.montecarlo.engine import BLOCK, simulate
    from model.priors.priors import load

    calls = []
    simulate(load(AUTHOR), samples=40 * BLOCK, seed=1, workers=2, progress=calls.append)
    assert len(calls) >= 10 and calls == sorted(calls) and calls[-1] == 40 * BLOCK


# -- calibration -------------------------------------------------------------------------------


@pytest.mark.slow
def test_an_interrupted_calibration_writes_nothing(tmp_path):
    r = aar("calibrate", AUTHOR, "--method", "reweight", "-n", 20_000, "-o", "rep", "-q", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    before = snapshot(tmp_path / "rep")
    proc = start("calibrate", AUTHOR, "--method", "nuts", "-n", 20_000, "-o", "rep", "--draws", 20_000, cwd=tmp_path)
    deadline = time.time() + 240
    while time.time() < deadline and len(tree(proc.pid)) < 3:  # PyMC's forkserver and chains are up
        time.sleep(0.2)
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert snapshot(tmp_path / "rep") == before


@pytest.mark.slow
def test_a_calibration_records_its_draws_and_chains(tmp_path):
    r = aar_process(
        "calibrate",
        AUTHOR,
        "--method",
        "nuts",
        "-n",
        20_000,
        "-o",
        "rep",
        "--draws",
        200,
        "--chains",
        2,
        "--json",
        cwd=tmp_path,
    )
    assert r.returncode in (0, 3), r.stderr
    nuts = json.loads(r.stdout)["methods"]["nuts"]
    assert nuts["draws"] == 200 and nuts["chains"] == 2 and nuts["tune"] == 1000


def test_an_unwritable_pytensor_folder_falls_back_to_a_private_one(tmp_path):
    code = (
        "from model.analyses.calibration.methods import ensure_compiledir; ensure_compiledir(); "
        "import pytensor; print(pytensor.config.compiledir)"
    )
    for env in ({"HOME": "/proc"}, {"PYTENSOR_FLAGS": "compiledir=/proc/aar-cannot-write"}):
        full = {k: v for k, v in os.environ.items() if k != "PYTENSOR_FLAGS"} | env
        r = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, env=full, cwd=ROOT, timeout=120
        )
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip().startswith(os.environ.get("TMPDIR", "/tmp")), r.stdout


def test_calibrate_refuses_a_folder_of_the_users(tmp_path):
    docs = user_folder(tmp_path / "userdocs")
    before = snapshot(docs)
    r = aar("calibrate", AUTHOR, "--method", "reweight", "-n", 5000, "-o", docs, cwd=tmp_path)
    assert r.returncode == 1 and "did not write" in r.stderr, r.stderr
    assert snapshot(docs) == before


def test_a_swallowed_signal_still_stops_the_commit(tmp_path, monkeypatch):
    """Python drops an exception raised by a signal handler inside a weakref callback; the
    report is then still not swapped in."""
    from model.cli import commands as cli
    from model.report import output

    folder = output.ReportFolder(tmp_path / "rep", "run").prepare()
    monkeypatch.setitem(cli._stop, "signalled", True)
    monkeypatch.setitem(cli._stop, "signum", signal.SIGINT)
    with pytest.raises(cli.Interrupted):
        cli._commit(folder, {"a.txt": "1"})
    folder.release()
    assert not (tmp_path / "rep").exists() and os.listdir(tmp_path) == []
