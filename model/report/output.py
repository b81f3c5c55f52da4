"""Report folders: write only where this program wrote before, whole or not at all.

The protocol (docs/reports.md):

* A report folder holds a marker file, ``.aar-report`` (JSON: the kind of report
  and the list of files the program wrote there).
* A folder may be written if it does not exist, is empty, or is marked. Anything
  else (a folder of the user's own files, the current folder or one above it, a
  mount point, ``/``) is refused before any work, with a message.
* Replacing a marked folder replaces only the files its marker lists. Marked
  sub-reports (such as ``calibration/``) and any file the program did not write
  are carried into the new folder unchanged (as hard links).
* The new report is built in a hidden sibling ``.aar-<hash>.new`` and swapped in
  with one atomic ``renameat2(RENAME_EXCHANGE)``; where the file system lacks it,
  by two renames, which the next run repairs if a kill falls between them.
* A lock ``.aar-<hash>.lock`` beside the folder (so renaming the folder does not
  lose it) makes a second writer of the same folder stop with a message.

Sibling names use a hash of the folder's name, so a legal 255-byte name still
fits, and no user path is ever used as a glob pattern.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import hashlib
import json
import os
import shutil
import stat
from collections.abc import Mapping
from pathlib import Path

from model.core.errors import OutputError

#: The file that marks a folder as a report this program wrote.
MARKER = ".aar-report"
_TOOL = "aar-cruxes"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def _sibling(folder: Path, suffix: str) -> Path:
    """``.aar-<hash>.<suffix>`` beside ``folder``: fixed length, whatever the name."""
    return folder.parent / f".aar-{_digest(folder.name)}.{suffix}"


def _digest(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def _is_ours(folder: Path, name: str) -> bool:
    """Whether ``folder/name`` is a lock, staging or set-aside folder this program made for a
    report *named in it*: the shape alone is not enough (a user's file may look the same)."""
    head, _, suffix = name.rpartition(".")
    if suffix not in ("lock", "new", "old") or not head.startswith(".aar-") or len(head) != 21:
        return False
    path = folder / name
    try:
        if suffix == "lock":
            if not stat.S_ISREG(os.lstat(path).st_mode) or os.lstat(path).st_size > 4096:
                return False
            pid, _, owner = path.read_bytes().decode("utf-8", "surrogateescape").rstrip("\n").partition(" ")
            return pid.isdigit() and _digest(owner) == head[5:]
    except OSError:
        return False
    marker = read_marker(path) if path.is_dir() and not path.is_symlink() else None
    return (
        marker is not None
        and isinstance(marker.get("name"), str)
        and _digest(marker["name"]) == head[5:]
        and (suffix == "old" or marker.get("kind") == "staging")
    )


def read_marker(folder: Path) -> dict | None:
    """The marker of ``folder`` if it is a report this program wrote, else None."""
    path = Path(folder) / MARKER
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode) or os.lstat(path).st_size > 1 << 20:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    if not isinstance(data, dict) or data.get("tool") != _TOOL or not isinstance(data.get("files"), list):
        return None
    return data


def _mount_points() -> set[str]:
    points = set()
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as fh:
            for line in fh:
                parts = line.split()
                if len(parts) > 4:
                    points.add(parts[4].encode().decode("unicode_escape"))
    except OSError:
        pass
    return points


def _reason(exc: OSError) -> str:
    text = exc.strerror or str(exc) or exc.__class__.__name__
    if exc.errno == errno.ENAMETOOLONG:
        text = "the name is too long for the file system"
    return text


class ReportFolder:
    """Exclusive, all-or-nothing writing of one report folder.

    Use ``prepare()`` before any work (it refuses unsafe folders, takes the lock
    and checks that the folder can be written), then ``commit(files)`` once, and
    ``release()`` always (or use it as a context manager).

    ``lock_at`` names the folder whose lock is taken (default: ``out`` itself); a
    sub-report such as ``calibration/`` locks its parent report, so the two are
    never written at the same time.
    """

    def __init__(self, out: Path, kind: str, lock_at: Path | None = None):
        self.shown = Path(out)
        self.kind = kind
        self.path = Path(os.path.realpath(os.path.abspath(out)))  # a symlinked --out writes its target
        self.lock_at = Path(os.path.realpath(os.path.abspath(lock_at))) if lock_at else self.path
        self._lock_fd: int | None = None
        self._lock_path: Path | None = None
        self._staging: Path | None = None
        self._identity: tuple[int, int] | None = None  # the folder's (device, inode) when prepared

    # -- context manager -------------------------------------------------------------
    def __enter__(self) -> ReportFolder:
        self.prepare()
        return self

    def __exit__(self, *exc) -> None:
        self.release()

    # -- checks ----------------------------------------------------------------------
    def _fail(self, why: str) -> OutputError:
        return OutputError(f"cannot write the report to {self.shown}: {why}")

    def _refuse_unsafe(self) -> None:
        p = self.path
        if os.path.islink(p):
            raise self._fail("it is a symbolic link that leads nowhere (a loop?)")
        if any(len(part.encode("utf-8", "surrogateescape")) > 255 for part in p.parts):
            raise self._fail("a name in it is too long for the file system (at most 255 bytes)")
        if p == p.parent:
            raise self._fail("it is the root folder; choose a new folder for the report")
        cwd = Path(os.path.realpath(os.getcwd()))
        if p == cwd or p in cwd.parents:
            raise self._fail(
                "it is the current folder or contains it, which cannot be replaced; "
                "choose a new folder, e.g. --out ./report"
            )
        if str(p) in _mount_points() or os.path.ismount(p):
            raise self._fail(
                "it is a mount point, which cannot be replaced atomically; "
                f"write to a folder inside it, e.g. --out {self.shown / 'report'}"
            )
        for parent in p.parents:
            if parent.exists() and not parent.is_dir():
                raise self._fail(f"{parent} is a file, not a folder")
        if p.exists() and not p.is_dir():
            raise self._fail("it exists and is not a folder")

    def _check_contents(self) -> None:
        """Refuse a folder that is neither new, empty, ours, nor a holder of our sub-reports,
        and one with a sub-report being written right now."""
        p = self.path
        if not p.exists():
            return
        self._check_sub_locks()
        if read_marker(p) is not None:
            return
        try:
            entries = sorted(os.listdir(p))
        except OSError as exc:
            raise self._fail(_reason(exc)) from None
        foreign = [e for e in entries if not _is_ours(p, e) and read_marker(p / e) is None]
        if foreign:
            shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
            raise self._fail(
                f"it holds files this program did not write ({shown}); nothing was "
                "changed. Choose a new or empty folder, or one aar-risk wrote before"
            )

    def _check_mounts_inside(self) -> None:
        """A file system mounted inside the folder would be carried into the new report and
        emptied with the old one: refuse it."""
        prefix = str(self.path).rstrip("/") + "/"
        inside = sorted(m for m in _mount_points() if m.startswith(prefix))
        if inside:
            raise self._fail(f"a file system is mounted inside it ({inside[0]}); unmount it or choose another folder")

    def _check_sub_locks(self) -> None:
        """Refuse while any report inside this folder, at any depth, is being written."""
        if not self.path.is_dir():
            return
        for root, _dirs, names in os.walk(self.path, onerror=lambda e: None):
            for name in names:
                if name.endswith(".lock") and _is_ours(Path(root), name) and _held(Path(root) / name):
                    raise self._fail("another aar-risk is writing a report inside it; wait for it to finish")

    def _check_holders(self) -> None:
        """Refuse while a report folder that holds this one (at any height) is being written:
        its swap would remove this folder's lock and staging."""
        for above in self.lock_at.parents:
            if above == above.parent:
                break
            lock = _sibling(above, "lock")
            if os.path.lexists(lock) and _is_ours(above.parent, lock.name) and _held(lock):
                raise self._fail(f"another aar-risk is writing {above}, which holds this folder; wait for it to finish")

    def _check_holder(self) -> None:
        """A sub-report's parent (``lock_at``) must itself be safe to hold our folders."""
        if self.lock_at == self.path:
            return
        holder = ReportFolder(self.lock_at, "folder")
        holder.shown = self.shown.parent
        holder._refuse_unsafe()
        holder._check_contents()

    # -- lock ------------------------------------------------------------------------
    def _lock(self) -> None:
        path = _sibling(self.lock_at, "lock")
        for _ in range(20):
            fd = self._open_lock(path)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise self._fail(
                    f"another aar-risk is writing {self.lock_at} (lock {path}); "
                    "wait for it to finish or choose another --out"
                ) from None
            try:  # the holder before us may have removed the file: lock the file that is there
                same = os.path.samestat(os.fstat(fd), os.lstat(path))
            except FileNotFoundError:
                same = False
            if same:
                try:
                    os.ftruncate(fd, 0)
                    os.write(fd, f"{os.getpid()} {self.lock_at.name}\n".encode("utf-8", "surrogateescape"))
                except OSError:  # a full disk: leave no empty lock behind
                    _unlink_if_same(path, fd)
                    os.close(fd)
                    raise
                self._lock_fd, self._lock_path = fd, path
                return
            os.close(fd)
        raise self._fail(f"could not take the lock {path}")

    def _open_lock(self, path: Path) -> int:
        """Open (or create) the lock file, never through a link, and only if it is ours: a
        regular file with one name, empty or naming this folder."""
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK, 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise self._fail(f"{path} is a symbolic link, not a lock aar-risk made; remove it") from None
            if exc.errno == errno.EISDIR:
                raise self._fail(f"{path} is a folder, not a lock aar-risk made; move it away") from None
            raise
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1 or (st.st_size and not _is_ours(path.parent, path.name)):
            os.close(fd)
            raise self._fail(
                f"{path} is not a lock aar-risk made (a file of yours, a link or a pipe "
                "with the lock's name); move it away"
            )
        return fd

    def _unlock(self) -> None:
        if self._lock_fd is None:
            return
        assert self._lock_path is not None  # set with the descriptor
        _unlink_if_same(self._lock_path, self._lock_fd)  # never another file put in its place
        os.close(self._lock_fd)
        self._lock_fd = None

    # -- recovery --------------------------------------------------------------------
    def _recover(self) -> None:
        """Repair what a killed run left beside the folder (we hold the lock)."""
        new, old = _sibling(self.path, "new"), _sibling(self.path, "old")
        parent = self.path.parent
        if os.path.lexists(old):
            if not _is_ours(parent, old.name):
                raise self._fail(
                    f"{old} is in the way and was not made by aar-risk for this folder; move it away first"
                )
            if not self.path.exists():
                os.rename(old, self.path)  # killed between the two renames: put it back
            else:
                shutil.rmtree(old)
        if os.path.lexists(new):
            if _is_ours(parent, new.name) or (new.is_dir() and not new.is_symlink() and not os.listdir(new)):
                shutil.rmtree(new)  # a killed run's staging folder (or an empty one made just before)
            else:
                raise self._fail(
                    f"{new} is in the way and was not made by aar-risk for this folder; move it away first"
                )

    # -- public ----------------------------------------------------------------------
    def prepare(self) -> ReportFolder:
        """Refuse unsafe folders, lock, repair leftovers and check we can write. No work yet."""
        try:
            self._refuse_unsafe()
            self._check_holder()
            self.lock_at.parent.mkdir(parents=True, exist_ok=True)
            self._lock()  # before anything is made, so a refused run makes nothing
            self._check_holders()
            if self.lock_at != self.path and not self.lock_at.exists():  # a holder for sub-reports
                self.lock_at.mkdir()
                _write(self.lock_at / MARKER, _marker("folder", []))
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._recover()
            self._check_mounts_inside()
            self._check_contents()
            self._identity = _identity(self.path)
            staging = _sibling(self.path, "new")
            os.mkdir(staging)
            self._staging = staging
            _write(staging / MARKER, _marker("staging", [], self.path.name))
        except OutputError:
            self.release()
            raise
        except OSError as exc:
            self.release()
            raise self._fail(_reason(exc) + (f" ({exc.filename})" if exc.filename else "")) from None
        return self

    def commit(self, files: Mapping[str, str | bytes]) -> Path:
        """Swap in a folder holding ``files`` (relative path → content), keeping what we did not write."""
        if self._staging is None:
            raise RuntimeError("prepare() first")
        staging = self._staging
        try:
            for rel in files:
                _check_relative(rel)
                _write(staging / rel, files[rel])
            self._check_unchanged()
            if self._identity is not None:
                _carry_over(self.path, staging, set(files))
            _write(staging / MARKER, _marker(self.kind, sorted(files)))
            os.chmod(staging, 0o755)
            _fsync_dir(staging)
            self._swapped = False
            self._swap(staging)
            self._staging = None
        except OutputError:
            self._staging = None
            raise
        except OSError as exc:
            if getattr(self, "_swapped", False):
                self._staging = None
                raise self._fail(f"{_reason(exc)} after the new report was put in place") from None
            raise self._fail(f"{_reason(exc)}; the earlier report, if any, is unchanged") from None
        return self.path

    def _check_unchanged(self) -> None:
        """The folder must be what it was when prepared (not swapped for a link or another folder)."""
        if _identity(self.path) != self._identity:
            now = (
                "a symbolic link"
                if os.path.islink(self.path)
                else "another folder"
                if os.path.lexists(self.path)
                else "gone"
            )
            raise self._fail(f"it changed while the report was being made (it is now {now}); nothing was written")

    def _swap(self, staging: Path) -> None:
        self._check_unchanged()
        if self._identity is None:
            os.rename(staging, self.path)
        elif _exchange(staging, self.path):
            if _identity(staging) != self._identity:  # swapped in the last instant: put it back
                _exchange(staging, self.path)
                self._check_unchanged()
            # staging now holds the earlier report: mark it as ours to remove, then remove it
            self._swapped = True
            _write(staging / MARKER, _marker("staging", [], self.path.name))
            self._remove_earlier(staging)
        else:  # no atomic exchange here: two renames, repaired by _recover if killed between
            old = _sibling(self.path, "old")
            earlier = read_marker(self.path) or {"kind": "run", "files": []}
            _write(self.path / MARKER, _marker(earlier["kind"], earlier["files"], self.path.name))
            os.rename(self.path, old)
            os.rename(staging, self.path)
            self._swapped = True
            self._remove_earlier(old)
        _fsync_dir(self.path.parent)

    def _remove_earlier(self, folder: Path) -> None:
        try:
            shutil.rmtree(folder)
        except OSError as exc:
            raise OutputError(
                f"the new report is in {self.shown}, but the earlier one could not be "
                f"removed from {folder}: {_reason(exc)}"
            ) from None

    def release(self) -> None:
        """Drop an unfinished staging folder and the lock; the earlier report is untouched."""
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None
        self._unlock()


def _identity(path: Path) -> tuple[int, int] | None:
    """(device, inode) of a real folder at ``path`` (never through a link); None if nothing is there."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    return (st.st_dev, st.st_ino) if stat.S_ISDIR(st.st_mode) else (-1, -1)


def _held(lock: Path) -> bool:
    """Whether another process holds ``lock`` (a lock file that is not ours counts as free)."""
    try:
        fd = os.open(lock, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def _unlink_if_same(path: Path, fd: int) -> None:
    try:
        if os.path.samestat(os.fstat(fd), os.lstat(path)):
            os.unlink(path)
    except OSError:
        pass


def _marker(kind: str, files: list[str], name: str | None = None) -> str:
    data = {"tool": _TOOL, "kind": kind, "files": files}
    if name is not None:
        data["name"] = name
    return json.dumps(data, indent=1) + "\n"  # ASCII: a name that is not UTF-8 survives


def _check_relative(rel: str) -> None:
    parts = Path(rel).parts
    if not parts or Path(rel).is_absolute() or ".." in parts or parts[0] == MARKER:
        raise ValueError(f"not a relative report path: {rel!r}")


def _write(path: Path, content: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _link_or_copy(src: str, dst: str) -> None:
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dst, follow_symlinks=False)


def _carry_over(old: Path, new: Path, written: set[str]) -> None:
    """Carry into ``new`` everything of ``old`` the program did not write (as hard links).

    Files the earlier marker lists are replaced; marked sub-reports and the user's
    own files are kept. A user's file where the new report writes one is an error.
    """
    marker = read_marker(old)
    ours = set(marker["files"]) if marker else set()

    def walk(rel: Path) -> None:
        for entry in sorted(os.listdir(old / rel)):
            r = rel / entry
            src, dst = old / r, new / r
            key = r.as_posix()
            if rel == Path(".") and (entry == MARKER or _is_ours(old, entry)):
                continue
            is_dir = os.path.isdir(src) and not os.path.islink(src)
            if key in ours and not is_dir:  # markers list files only: a listed folder is kept
                continue
            if is_dir:
                if read_marker(src) is not None or not any(f.startswith(key + "/") for f in ours | written):
                    if os.path.lexists(dst):
                        raise OSError(errno.EEXIST, f"{key} exists in both the earlier and the new report")
                    shutil.copytree(src, dst, symlinks=True, copy_function=_link_or_copy)
                else:
                    dst.mkdir(parents=True, exist_ok=True)
                    walk(r)
            elif key in written or os.path.lexists(dst):
                raise OSError(errno.EEXIST, f"the new report would replace {key}, which this program did not write")
            else:
                dst.parent.mkdir(parents=True, exist_ok=True)
                _link_or_copy(str(src), str(dst))

    walk(Path("."))


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2); False where not supported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.renameat2
    except (OSError, AttributeError):
        return False
    fn.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if fn(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def write_folder(out: Path, files: Mapping[str, str | bytes], kind: str = "report") -> Path:
    """Prepare, commit and release in one call (for callers with no long work)."""
    with ReportFolder(out, kind) as folder:
        return folder.commit(files)
