"""Never hang (issue 16): nothing starts before the inputs are checked, every wait on a child
is bounded and notices its death, and bad input exits 2 at once even on a busy machine."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from model.montecarlo import workers

from .conftest import FIXTURES, ROOT, aar_in_process
from .test_safety import alive, tree

AUTHOR = ROOT / "priors" / "author.toml"
BAD = sorted((FIXTURES / "bad").glob("*.toml"))


# -- nothing starts before the inputs are checked ---------------------------------------------


@pytest.fixture
def no_children(monkeypatch):
    """Fail the test if anything starts a child process."""
    started = []

    def refuse(self, *a, **kw):
        started.append(self)
        raise AssertionError("a process was started")

    monkeypatch.setattr(mp.process.BaseProcess, "start", refuse)
    return started


@pytest.mark.parametrize(
    "bad",
    [FIXTURES / "bad" / "syntax.toml", FIXTURES / "bad" / "unknown_variable.toml", Path("/nonexistent/x.toml")],
    ids=lambda p: p.name,
)
@pytest.mark.parametrize("command", [["run"], ["run", "--sensitivity"], ["sensitivity"], ["calibrate"]])
def test_bad_input_starts_no_process(tmp_path, no_children, bad, command):
    result = aar_in_process(*command, bad, "-o", tmp_path / "out", cwd=tmp_path)
    assert result.returncode == 2, result
    assert not no_children
    assert not (tmp_path / "out").exists()


def test_an_unusable_folder_starts_no_process(tmp_path, no_children):
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.txt").write_text("three years of work")
    result = aar_in_process("run", AUTHOR, "-o", tmp_path / "mine", "-n", "1000", cwd=tmp_path)
    assert result.returncode == 1 and "did not write" in result.stderr, result
    assert not no_children


def test_a_second_bad_file_starts_no_process(tmp_path, no_children):
    """Several files: all are checked before the first one's work starts."""
    result = aar_in_process("run", AUTHOR, FIXTURES / "bad" / "nan.toml", "-n", "1000", cwd=tmp_path)
    assert result.returncode == 2 and "nan.toml" in result.stderr, result
    assert not no_children


# -- bounded waits ------------------------------------------------------------------------------


def _sleep_forever() -> None:
    while True:
        time.sleep(1)


def _refuse_sigterm() -> None:
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _sleep_forever()


def _send_then_exit(conn) -> None:
    conn.send("hello")
    conn.close()


def test_a_sigterm_at_once_is_never_lost():
    """A child signalled the moment it starts (before its handlers are set) still stops:
    the race that hung ``run`` (the SIGTERM ran the parent's handler or was dropped)."""
    previous = signal.signal(signal.SIGTERM, lambda *a: None)  # a Python handler the child inherits
    try:
        for _ in range(40):
            child = workers.start(_sleep_forever)
            child.terminate()  # at once: the child is still in multiprocessing's bootstrap
            child.join(5)
            assert child.exitcode == -signal.SIGTERM
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_stop_kills_a_child_that_ignores_sigterm():
    child = workers.start(_refuse_sigterm)
    time.sleep(0.5)  # let it ignore SIGTERM
    t0 = time.monotonic()
    workers.stop(child)
    assert time.monotonic() - t0 < workers.GRACE + 1
    assert child._closed  # reaped and closed


def test_receive_notices_a_dead_child_within_a_step():
    ctx = workers.context()
    mine, theirs = ctx.Pipe()
    child = workers.start(_sleep_forever)
    t0 = time.monotonic()
    os.kill(child.pid, signal.SIGKILL)
    with pytest.raises(workers.ChildDied):
        workers.receive(mine, watch=[child])
    assert time.monotonic() - t0 < 2
    workers.stop(child)


def test_receive_gets_a_message_sent_just_before_death():
    ctx = workers.context()
    mine, theirs = ctx.Pipe()
    child = workers.start(_send_then_exit, (theirs,))
    theirs.close()
    child.join(5)
    assert workers.receive(mine, watch=[child]) == "hello"
    with pytest.raises(workers.ChildDied):  # then the closed end
        workers.receive(mine, watch=[child])


def _square(x: int) -> int:
    if x == 13:
        raise ValueError("unlucky")
    if x == 99:
        os._exit(7)  # a worker that dies (killed, out of memory)
    return x * x


def test_pool_keeps_order_and_raises_a_workers_error():
    with workers.Pool(2, _square) as pool:
        assert list(pool.results(((i,) for i in range(12)), window=4)) == [i * i for i in range(12)]
    with workers.Pool(2, _square) as pool, pytest.raises(ValueError, match="unlucky"):
        list(pool.results(((i,) for i in range(20)), window=4))


def test_pool_raises_when_a_worker_dies():
    t0 = time.monotonic()
    with workers.Pool(2, _square) as pool, pytest.raises(workers.ChildDied):
        list(pool.results(((i,) for i in range(95, 105)), window=4))
    assert time.monotonic() - t0 < 5


def test_same_seed_same_worlds_whatever_the_workers():
    import model

    priors = model.load_priors(AUTHOR)
    one = model.simulate(priors, samples=150_000, seed=7, workers=1)
    two = model.simulate(priors, samples=150_000, seed=7, workers=2)
    assert one.summary() == two.summary()
    assert np.array_equal(one.result.histograms, two.result.histograms)


# -- the real command, a child killed mid-run -----------------------------------------------------


def _children_when_up(proc: subprocess.Popen, count: int, timeout: float = 60) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        kids = tree(proc.pid)
        if len(kids) >= count:
            return kids
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("the run never started its processes")


@pytest.mark.parametrize("victim", ["simulation worker", "drawing process"])
def test_a_killed_child_ends_the_run_with_one_line(tmp_path, victim):
    """SIGKILL of a child (the OOM killer's way): one message, exit 1, nothing written, no
    process left, within seconds, not a wait for ever."""
    samples = "2e7" if victim == "simulation worker" else "3e6"  # a long run draws after simulating
    proc = subprocess.Popen(
        [sys.executable, "-m", "model", "run", str(AUTHOR), "-n", samples, "-w", "2", "-o", str(tmp_path / "out")],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    kids = _children_when_up(proc, 2 if victim == "simulation worker" else 3)
    victim_pid = max(kids) if victim == "simulation worker" else min(kids)  # the drawing process starts first
    time.sleep(0.3)
    os.kill(victim_pid, signal.SIGKILL)
    t0 = time.monotonic()
    out, err = proc.communicate(timeout=30)
    assert time.monotonic() - t0 < 5 or victim == "drawing process"  # its death is seen once the figures are due
    assert proc.returncode == 1, err
    assert "Traceback" not in err and err.count("error:") == 1, err
    assert "stopped unexpectedly" in err
    assert not (tmp_path / "out").exists()
    time.sleep(0.5)
    assert not alive(kids)


# -- bad input on a busy machine ------------------------------------------------------------------


@pytest.fixture
def burners():
    """Two CPU-burning processes beside the test, as on a shared machine."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    yield
    for p in procs:
        p.kill()
        p.wait()


def _bad_run(args: list, cwd: Path) -> subprocess.CompletedProcess:
    """The real command, as a user or CI runs it: pipes, no -q, at most 15 s."""
    return subprocess.run(
        [sys.executable, "-m", "model", "run", *map(str, args)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=15,
    )


def _assert_refused(result: subprocess.CompletedProcess, named: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and "interrupted" not in result.stderr, result.stderr
    assert result.stderr.startswith("error: ") and named in result.stderr, result.stderr


@pytest.mark.slow
@pytest.mark.load
def test_a_missing_file_under_load_thirty_times(tmp_path, burners):
    for _ in range(30):
        result = _bad_run(["/nonexistent/x.toml", "-o", tmp_path / "out"], tmp_path)
        _assert_refused(result, "/nonexistent/x.toml")
        assert not (tmp_path / "out").exists()


@pytest.mark.slow
@pytest.mark.load
@pytest.mark.parametrize("bad", BAD, ids=lambda p: p.stem)
def test_every_bad_fixture_under_load(tmp_path, burners, bad):
    result = _bad_run([bad, "-o", tmp_path / "out"], tmp_path)
    _assert_refused(result, bad.name)
    assert not (tmp_path / "out").exists()
    assert not any(p.name.startswith(".aar-") for p in tmp_path.iterdir())
