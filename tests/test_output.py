"""The report-folder protocol: write only where we wrote before, whole or not at all."""

from __future__ import annotations

import errno
import os
import subprocess

import pytest

from model.report import output
from model.core.errors import OutputError
from model.report.output import MARKER, ReportFolder, read_marker


def _snapshot(folder):
    """Every file and folder under ``folder`` with its bytes (folders as None)."""
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else None) for p in sorted(folder.rglob("*"))
    }


def _user_files(folder):
    (folder / "photos").mkdir(parents=True)
    (folder / "photos" / "cat.jpg").write_bytes(b"\xff\xd8 cat")
    (folder / "thesis.txt").write_text("three years of work")


def test_a_new_folder_is_written_and_marked(tmp_path):
    out = tmp_path / "rep"
    output.write_folder(out, {"a.txt": "1", "figures/x.png": b"\x89"}, kind="run")
    assert (out / "a.txt").read_text() == "1"
    assert read_marker(out) == {"tool": "aar-cruxes", "kind": "run", "files": ["a.txt", "figures/x.png"]}
    assert os.listdir(tmp_path) == ["rep"]  # no lock, staging or set-aside folder left


def test_replacing_removes_only_what_the_program_wrote(tmp_path):
    out = tmp_path / "rep"
    output.write_folder(out, {"a.txt": "1", "figures/x.png": b"\x89"})
    (out / "notes.md").write_text("mine")  # the user adds files to a report folder
    (out / "figures" / "annotated.png").write_bytes(b"mine too")
    output.write_folder(out / "calibration", {"c.json": "{}"}, kind="calibration")
    output.write_folder(out, {"b.txt": "2", "figures/y.png": b"\x90"})
    snap = _snapshot(out)
    assert snap["b.txt"] == b"2" and snap["figures/y.png"] == b"\x90"
    assert "a.txt" not in snap and "figures/x.png" not in snap
    assert snap["notes.md"] == b"mine" and snap["figures/annotated.png"] == b"mine too"
    assert snap["calibration/c.json"] == b"{}"
    assert sorted(os.listdir(tmp_path)) == ["rep"]


@pytest.mark.parametrize("make", ["files", "one_hidden_file", "empty_subfolder"])
def test_a_folder_of_the_users_is_refused_before_any_work(tmp_path, make):
    out = tmp_path / "mydocs"
    out.mkdir()
    if make == "files":
        _user_files(out)
    elif make == "one_hidden_file":
        (out / ".env").write_text("SECRET=1")
    else:
        (out / "later").mkdir()
    before = _snapshot(out)
    with pytest.raises(OutputError, match="did not write"):
        ReportFolder(out, "run").prepare()
    assert _snapshot(out) == before
    assert os.listdir(tmp_path) == ["mydocs"]


def test_an_empty_folder_is_used(tmp_path):
    out = tmp_path / "empty"
    out.mkdir()
    output.write_folder(out, {"a.txt": "1"})
    assert (out / "a.txt").read_text() == "1" and read_marker(out) is not None


def test_a_folder_holding_only_sub_reports_is_used(tmp_path):
    out = tmp_path / "rep"
    with ReportFolder(out / "calibration", "calibration", lock_at=out) as f:  # the parent is created
        f.commit({"c.json": "{}"})
    output.write_folder(out, {"a.txt": "1"})
    assert (out / "calibration" / "c.json").read_text() == "{}" and (out / "a.txt").exists()


@pytest.mark.parametrize("name", ["*", "[a-z]*", "?", "rep*", "rép ort"])
def test_folder_names_are_never_patterns(tmp_path, name):
    for sibling in (".thesis.old-backup", ".photos.tmp-import", "rep-old", "a"):
        (tmp_path / sibling).mkdir()
        (tmp_path / sibling / "keep.txt").write_text(sibling)
    before = _snapshot(tmp_path)
    output.write_folder(tmp_path / name, {"a.txt": "1"})
    output.write_folder(tmp_path / name, {"a.txt": "2"})
    after = _snapshot(tmp_path)
    assert {k: v for k, v in after.items() if not k.startswith(name)} == before
    assert (tmp_path / name / "a.txt").read_text() == "2"


def test_a_second_writer_is_refused_while_the_first_works(tmp_path):
    out = tmp_path / "rep"
    first = ReportFolder(out, "run").prepare()
    with pytest.raises(OutputError, match="another aar-risk is writing"):
        ReportFolder(out, "run").prepare()
    # a calibration of the same report takes the same lock
    with pytest.raises(OutputError, match="another aar-risk is writing"):
        ReportFolder(out / "calibration", "calibration", lock_at=out).prepare()
    first.commit({"a.txt": "1"})
    first.release()
    ReportFolder(out, "run").prepare().release()  # free again
    assert os.listdir(tmp_path) == ["rep"]


def test_a_kill_between_the_renames_is_repaired(tmp_path, monkeypatch):
    out = tmp_path / "rep"
    output.write_folder(out, {"a.txt": "old"})
    old = output._sibling(out, "old")
    (out / MARKER).write_text(output._marker("run", ["a.txt"], "rep"))  # as _swap names it first
    os.rename(out, old)  # a run killed after moving the report aside, before the new one
    staging = output._sibling(out, "new")
    staging.mkdir()
    (staging / MARKER).write_text(output._marker("staging", [], "rep"))
    with ReportFolder(out, "run"):  # the next run restores it first
        assert (out / "a.txt").read_text() == "old"
    assert os.listdir(tmp_path) == ["rep"]
    # and a report set aside after a completed swap is just removed
    output.write_folder(out, {"a.txt": "new"})
    output.write_folder(tmp_path / "x", {"z": "1"})
    (tmp_path / "x" / MARKER).write_text(output._marker("run", ["z"], "rep"))
    os.rename(tmp_path / "x", old)
    output.write_folder(out, {"a.txt": "newer"})
    assert (out / "a.txt").read_text() == "newer" and sorted(os.listdir(tmp_path)) == ["rep"]


def test_without_an_atomic_exchange_two_renames_still_work(tmp_path, monkeypatch):
    monkeypatch.setattr(output, "_exchange", lambda a, b: False)
    out = tmp_path / "rep"
    output.write_folder(out, {"a.txt": "1"})
    (out / "mine.txt").write_text("keep")
    output.write_folder(out, {"a.txt": "2"})
    assert (out / "a.txt").read_text() == "2" and (out / "mine.txt").read_text() == "keep"
    assert os.listdir(tmp_path) == ["rep"]


def test_full_disk_keeps_the_earlier_report(tmp_path, monkeypatch):
    out = tmp_path / "rep"
    output.write_folder(out, {"summary.json": "{}", "report.md": "old"})
    before = _snapshot(out)
    calls = {"n": 0}
    real = os.fsync

    def failing_fsync(fd):
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(fd)

    monkeypatch.setattr(output.os, "fsync", failing_fsync)
    folder = ReportFolder(out, "run").prepare()
    with pytest.raises(OutputError, match="No space left on device"):
        folder.commit({"summary.json": "{new}", "report.md": "new", "report.html": "new"})
    folder.release()
    assert _snapshot(out) == before
    assert os.listdir(tmp_path) == ["rep"]


def test_a_users_file_where_the_report_writes_is_an_error(tmp_path):
    out = tmp_path / "rep"
    output.write_folder(out, {"a.txt": "1"})
    (out / "report.md").write_text("the user's own report.md")
    before = _snapshot(out)
    with pytest.raises(OutputError, match="did not write"):
        output.write_folder(out, {"a.txt": "2", "report.md": "ours"})
    assert _snapshot(out) == before


def test_long_legal_names_work_and_too_long_ones_are_refused(tmp_path):
    out = tmp_path / ("r" * 250)
    output.write_folder(out, {"a.txt": "1"})
    output.write_folder(out, {"a.txt": "2"})
    assert (out / "a.txt").read_text() == "2"
    with pytest.raises(OutputError, match="too long"):
        ReportFolder(tmp_path / ("r" * 300), "run").prepare()


def test_a_file_in_the_way_is_refused(tmp_path):
    (tmp_path / "f").write_text("keep")
    with pytest.raises(OutputError, match="f is a file, not a folder"):
        ReportFolder(tmp_path / "f" / "rep", "run").prepare()
    with pytest.raises(OutputError, match="not a folder"):
        ReportFolder(tmp_path / "f", "run").prepare()
    assert (tmp_path / "f").read_text() == "keep"


def test_a_symlinked_folder_writes_its_target_and_stays_a_link(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to("real")
    output.write_folder(tmp_path / "link", {"a.txt": "1"})
    output.write_folder(tmp_path / "link", {"a.txt": "2"})
    assert (tmp_path / "link").is_symlink() and (tmp_path / "real" / "a.txt").read_text() == "2"
    assert sorted(os.listdir(tmp_path)) == ["link", "real"]


def test_the_current_folder_its_parents_and_root_are_refused(tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    for out in (".", str(work), str(tmp_path), "/", ".."):
        with pytest.raises(OutputError, match="current folder|root folder"):
            ReportFolder(out, "run").prepare()
    assert os.listdir(work) == [] and os.listdir(tmp_path) == ["work"]


def test_a_mount_point_is_refused(tmp_path):
    point = tmp_path / "mnt"
    point.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "none", str(point)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here")
    try:
        with pytest.raises(OutputError, match="mount point"):
            ReportFolder(point, "run").prepare()
        assert os.listdir(point) == []
    finally:
        subprocess.run(["umount", str(point)], check=True)


def test_look_alike_hidden_names_are_the_users(tmp_path):
    """Only this folder's own siblings, with a marker that names it, count as the program's."""
    out = tmp_path / "t2"
    (out / ".aar-0123456789abcdef.new").mkdir(parents=True)
    (out / ".aar-0123456789abcdef.new" / "precious.txt").write_text("mine")
    (out / ".aar-0123456789abcdef.lock").write_text("x")
    with pytest.raises(OutputError, match="did not write"):
        ReportFolder(out, "run").prepare()
    # a real report next door whose name happens to be this folder's staging name
    victim = tmp_path / "victim"
    lookalike = output._sibling(victim, "new")
    output.write_folder(lookalike, {"a.txt": "1"})
    (lookalike / "mynotes.md").write_text("mine")
    with pytest.raises(OutputError, match="in the way"):
        ReportFolder(victim, "run").prepare()
    assert (lookalike / "mynotes.md").read_text() == "mine"


def test_a_marker_never_deletes_a_folder(tmp_path):
    out = tmp_path / "t3"
    (out / "docs").mkdir(parents=True)
    (out / "docs" / "a.txt").write_text("d")
    (out / MARKER).write_text('{"tool": "aar-cruxes", "kind": "run", "files": ["docs"]}')
    output.write_folder(out, {"report.md": "x"})
    assert (out / "docs" / "a.txt").read_text() == "d"


def test_a_sub_report_being_written_blocks_its_parent(tmp_path):
    parent = tmp_path / "par"
    output.write_folder(parent, {"a.txt": "1"})
    child = ReportFolder(parent / "child", "run").prepare()
    try:
        with pytest.raises(OutputError, match="inside it"):
            ReportFolder(parent, "run").prepare()
    finally:
        child.release()


def test_a_sub_report_refuses_a_users_folder_as_its_parent(tmp_path):
    docs = tmp_path / "userdocs"
    docs.mkdir()
    (docs / "thesis.tex").write_text("t")
    with pytest.raises(OutputError, match="did not write"):
        ReportFolder(docs / "calibration", "calibration", lock_at=docs).prepare()
    assert os.listdir(docs) == ["thesis.tex"]


def test_a_symlink_loop_is_refused_before_work(tmp_path):
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    with pytest.raises(OutputError, match="symbolic link"):
        ReportFolder(tmp_path / "a", "run").prepare()


def test_a_name_that_is_not_utf8_works(tmp_path):
    out = tmp_path / os.fsdecode(b"bad\xff\xfe")
    output.write_folder(out, {"a.txt": "1"})
    output.write_folder(out, {"a.txt": "2"})
    assert (out / "a.txt").read_text() == "2" and len(os.listdir(tmp_path)) == 1
