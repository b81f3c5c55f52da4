"""Report folders under attack (issue 22, items 7-10): planted locks, mounts inside, nested
reports, a folder swapped mid-run, a full disk. Each test failed before its fix."""

from __future__ import annotations

import errno
import os
import subprocess
from pathlib import Path

import pytest

from model.core.errors import OutputError
from model.report import output
from model.report.output import ReportFolder


def lock_of(folder: Path) -> Path:
    return output._sibling(folder, "lock")


@pytest.fixture
def tmpfs(tmp_path):
    """A mount function: ``tmpfs(path, size)`` mounts a small tmpfs (root only), unmounted after."""
    mounted = []

    def mount(path: Path, size: str = "1m") -> Path:
        path.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
        if done.returncode != 0:
            pytest.skip("cannot mount a tmpfs here (needs root)")
        mounted.append(path)
        return path

    yield mount
    for path in reversed(mounted):
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


# -- 7. the lock never follows a link, never truncates what is not ours ------------------------


def test_a_planted_lock_symlink_is_refused_and_its_target_kept(tmp_path):
    precious = tmp_path / "precious.txt"
    precious.write_text("three years of work")
    out = tmp_path / "report"
    lock_of(out).symlink_to(precious)
    with pytest.raises(OutputError, match="symbolic link"):
        ReportFolder(out, "run").prepare()
    assert precious.read_text() == "three years of work"
    assert not out.exists()


def test_a_planted_hard_link_lock_is_refused(tmp_path):
    precious = tmp_path / "precious.txt"
    precious.write_text("three years of work")
    out = tmp_path / "report"
    os.link(precious, lock_of(out))
    with pytest.raises(OutputError, match="not a lock"):
        ReportFolder(out, "run").prepare()
    assert precious.read_text() == "three years of work"


@pytest.mark.parametrize("kind", ["fifo", "folder", "foreign file"])
def test_a_lock_that_is_not_a_regular_file_of_ours_is_refused(tmp_path, kind):
    out = tmp_path / "report"
    lock = lock_of(out)
    if kind == "fifo":
        os.mkfifo(lock)
    elif kind == "folder":
        lock.mkdir()
    else:
        lock.write_text("my notes, not a lock\n")
    with pytest.raises(OutputError, match="not a lock"):
        ReportFolder(out, "run").prepare()
    if kind == "foreign file":
        assert lock.read_text() == "my notes, not a lock\n"


def test_a_stale_lock_of_a_killed_run_is_taken(tmp_path):
    out = tmp_path / "report"
    lock_of(out).write_text(f"999999 {out.name}\n")  # what a killed run leaves
    with ReportFolder(out, "run") as folder:
        folder.commit({"a.txt": "a"})
    assert (out / "a.txt").read_text() == "a"
    assert not lock_of(out).exists()


# -- 8. a mount inside a report folder ----------------------------------------------------------


def test_a_folder_with_a_mount_inside_is_refused(tmp_path, tmpfs):
    out = tmp_path / "report"
    with ReportFolder(out, "run") as folder:
        folder.commit({"a.txt": "a"})
    inside = tmpfs(out / "data")
    (inside / "kept.txt").write_text("on another file system")
    with pytest.raises(OutputError, match="mounted inside"):
        ReportFolder(out, "run").prepare()
    assert (inside / "kept.txt").read_text() == "on another file system"
    assert os.path.ismount(inside)


# -- 9. nested report folders -------------------------------------------------------------------


def test_a_folder_inside_one_being_written_is_refused(tmp_path):
    outer = ReportFolder(tmp_path / "x", "run").prepare()
    try:
        with pytest.raises(OutputError, match="another aar-risk is writing"):
            ReportFolder(tmp_path / "x" / "sub", "run").prepare()
        with pytest.raises(OutputError, match="another aar-risk is writing"):
            ReportFolder(tmp_path / "x" / "a" / "b", "run").prepare()
    finally:
        outer.release()


def test_a_folder_holding_one_being_written_deeper_is_refused(tmp_path):
    inner = ReportFolder(tmp_path / "x" / "a" / "b", "run").prepare()
    try:
        with pytest.raises(OutputError, match="another aar-risk is writing"):
            ReportFolder(tmp_path / "x", "run").prepare()
    finally:
        inner.release()


def test_nested_runs_one_after_the_other_work(tmp_path):
    with ReportFolder(tmp_path / "x", "run") as x:
        x.commit({"a.txt": "a"})
    with ReportFolder(tmp_path / "x" / "sub", "run") as sub:
        sub.commit({"b.txt": "b"})
    with ReportFolder(tmp_path / "x", "run") as x:
        x.commit({"a.txt": "a2"})
    assert (tmp_path / "x" / "sub" / "b.txt").read_text() == "b"
    assert (tmp_path / "x" / "a.txt").read_text() == "a2"


def test_a_calibration_inside_its_report_still_works(tmp_path):
    with ReportFolder(tmp_path / "x", "run") as x:
        x.commit({"a.txt": "a"})
    with ReportFolder(tmp_path / "x" / "calibration", "calibration", lock_at=tmp_path / "x") as cal:
        cal.commit({"c.txt": "c"})
    assert (tmp_path / "x" / "calibration" / "c.txt").read_text() == "c"


# -- 10. a folder swapped mid-run, a full disk ---------------------------------------------------


@pytest.mark.parametrize("existed", [True, False])
def test_a_folder_swapped_for_a_symlink_mid_run_writes_nothing_into_the_target(tmp_path, existed):
    out = tmp_path / "report"
    if existed:
        with ReportFolder(out, "run") as folder:
            folder.commit({"a.txt": "a"})
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "thesis.txt").write_text("three years of work")
    folder = ReportFolder(out, "run").prepare()
    try:
        if existed:
            os.rename(out, tmp_path / "moved-away")
        out.symlink_to(mine)
        with pytest.raises(OutputError, match="changed while"):
            folder.commit({"a.txt": "new"})
    finally:
        folder.release()
    assert sorted(os.listdir(mine)) == ["thesis.txt"]
    assert out.is_symlink()


def test_a_folder_replaced_by_another_mid_run_is_refused(tmp_path):
    out = tmp_path / "report"
    with ReportFolder(out, "run") as folder:
        folder.commit({"a.txt": "a"})
    folder = ReportFolder(out, "run").prepare()
    try:
        os.rename(out, tmp_path / "moved-away")
        out.mkdir()
        (out / "thesis.txt").write_text("three years of work")
        with pytest.raises(OutputError, match="changed while"):
            folder.commit({"a.txt": "new"})
    finally:
        folder.release()
    assert sorted(os.listdir(out)) == ["thesis.txt"]


def test_a_failed_lock_write_leaves_no_lock_file(tmp_path, monkeypatch):
    real_write = os.write

    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(output.os, "write", full)
    out = tmp_path / "report"
    with pytest.raises(OutputError, match="No space left"):
        ReportFolder(out, "run").prepare()
    monkeypatch.setattr(output.os, "write", real_write)
    assert sorted(os.listdir(tmp_path)) == []


def test_a_full_disk_leaves_nothing_behind(tmp_path, tmpfs):
    disk = tmpfs(tmp_path / "disk", "64k")
    (disk / "filler").write_bytes(b"x" * 64 * 1024)
    with pytest.raises(OutputError, match="No space left"):
        ReportFolder(disk / "report", "run").prepare()
    assert sorted(os.listdir(disk)) == ["filler"]
