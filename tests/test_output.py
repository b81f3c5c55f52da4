"""A report folder is replaced whole or not at all."""

from __future__ import annotations

import errno
import os

import pytest

from model import output
from model.errors import OutputError


def _snapshot(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_replaces_the_whole_folder(tmp_path):
    out = tmp_path / "rep"
    output.write_folder(out, {"a.txt": "1", "figures/x.png": b"\x89"})
    output.write_folder(out, {"b.txt": "2"})
    assert _snapshot(out) == {"b.txt": b"2"}
    assert os.listdir(tmp_path) == ["rep"]


def test_full_disk_keeps_the_earlier_report(tmp_path, monkeypatch):
    out = tmp_path / "rep"
    output.write_folder(out, {"summary.json": "{}", "report.md": "old"})
    before = _snapshot(out)
    calls = {"n": 0}
    real = os.fsync

    def failing_fsync(fd):
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    monkeypatch.setattr(output.os, "fsync", failing_fsync)
    with pytest.raises(OutputError, match="No space left on device"):
        output.write_folder(out, {"summary.json": "{new}", "report.md": "new", "report.html": "new"})
    assert _snapshot(out) == before
    assert os.listdir(tmp_path) == ["rep"]


def test_a_killed_run_is_recovered_by_the_next(tmp_path):
    out = tmp_path / "rep"
    output.write_folder(out, {"a.txt": "old"})
    # a run killed between its two renames: old report moved aside, temp folder left
    os.rename(out, tmp_path / ".rep.old-123")
    (tmp_path / ".rep.tmp-abc").mkdir()
    output.check_writable(out)
    output.write_folder(out, {"a.txt": "new"})
    assert _snapshot(out) == {"a.txt": b"new"}
    assert os.listdir(tmp_path) == ["rep"]


def test_refuses_a_file_in_the_way(tmp_path):
    (tmp_path / "f").write_text("keep")
    with pytest.raises(OutputError, match="f is a file, not a folder"):
        output.check_writable(tmp_path / "f" / "rep")
    with pytest.raises(OutputError, match="not a folder"):
        output.check_writable(tmp_path / "f")
    assert (tmp_path / "f").read_text() == "keep"
