"""Which files a priors file is made of (itself, its bases, the evidence files any of them
lists), and whether any of them changed since last looked.

Polling ``stat`` is cheap (a few files, every ~150 ms) and sees what editors do: write in
place, write a new file and rename it over the old one, delete and recreate.
"""

from __future__ import annotations

import hashlib
import os
import stat as _stat
import tomllib
from pathlib import Path

from model.core.limits import MAX_BASE_CHARS, MAX_NESTING
from model.core.text import controls
from model.priors.priors import MAX_BASE_DEPTH, PRESET_NAME, preset_path
from model.priors.tomltext import long_key, nesting

#: What ``stat`` says of a file: (inode, size, mtime in ns), or None when it cannot be read.
Stamp = tuple[int, int, int] | None

#: The most evidence files followed per priors file (the loader caps the entries themselves).
MAX_EVIDENCE_FILES = 64

#: The most bytes read of a file here (a priors file is a few kilobytes; the loader refuses
#: more than 1 MB and says so).
LIMIT = 1_000_001


def read(path: Path, limit: int = LIMIT) -> bytes:
    """At most ``limit`` bytes of ``path``, which must be a regular file; OSError otherwise.

    Never blocks: the file is opened with O_NONBLOCK and checked with ``fstat`` on the opened
    descriptor, so a named pipe with no writer (which a plain ``open`` waits on for ever), a
    device or a folder is refused, also when one is put in the file's place meanwhile.
    """
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        if not _stat.S_ISREG(os.fstat(fd).st_mode):
            raise IsADirectoryError(f"{path}: not a regular file")
        chunks, left = [], limit
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _meta_of(path: Path) -> dict:
    """The ``[meta]`` table of ``path`` ({} when it cannot be read or the loader refuses it at once)."""
    try:
        data = read(path)
        if len(data) >= LIMIT:
            return {}  # the loader refuses such a file
        text = data.decode("utf-8-sig")
        if long_key(text) is not None or nesting(text)[0] > MAX_NESTING:
            return {}  # the loader refuses it at once; tomllib took 28 s on a 64 KB dotted key
        meta = tomllib.loads(text).get("meta", {})
    except (OSError, ValueError, AttributeError, RecursionError):
        return {}
    return meta if isinstance(meta, dict) else {}


def _base_of(path: Path, meta: dict) -> Path | None:
    """The file ``path``'s ``[meta] base`` names (as the loader resolves it), or None."""
    base = meta.get("base")
    if not isinstance(base, str):
        return None
    if base.endswith(".toml"):
        return path.parent / base
    if PRESET_NAME.fullmatch(base):
        sibling = path.parent / f"{base}.toml"
        if sibling.is_file() and not _same(sibling, path):
            return sibling
        return preset_path(base, exclude=path)
    return None


def _evidence_of(path: Path, meta: dict) -> list[Path]:
    """The evidence files ``path``'s ``[meta] evidence`` lists, beside it (as
    :mod:`model.priors.gather` resolves them; names it would refuse are left out)."""
    listed = meta.get("evidence")
    if not isinstance(listed, list):
        return []
    return [
        path.parent / name
        for name in listed[:MAX_EVIDENCE_FILES]
        if isinstance(name, str) and name.endswith(".toml") and len(name) <= MAX_BASE_CHARS and not controls(name)
    ]


def _same(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def chain(path: Path) -> list[Path]:
    """``path`` and the files it inherits from, nearest first (as far as they can be read),
    then the evidence files any of them lists in ``[meta] evidence``, each once."""
    files, metas = [Path(path)], [_meta_of(Path(path))]
    while len(files) <= MAX_BASE_DEPTH and (base := _base_of(files[-1], metas[-1])) is not None:
        if any(_same(base, f) for f in files):
            break
        files.append(base)
        metas.append(_meta_of(base))
    for f, meta in list(zip(files, metas, strict=True)):
        for evidence in _evidence_of(f, meta):
            if not any(evidence == g or _same(evidence, g) for g in files):
                files.append(evidence)
    return files


def stamp(path: Path) -> Stamp:
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return st.st_ino, st.st_size, st.st_mtime_ns


def digest(files: list[Path]) -> str:
    """A hash of the files' names and contents: equal digests, equal priors."""
    h = hashlib.sha256()
    for f in files:
        h.update(os.fsencode(str(f)) + b"\0")
        try:
            h.update(read(f))
        except OSError as exc:
            h.update(f"unreadable {exc.errno}".encode())
        h.update(b"\0")
    return h.hexdigest()


class Watcher:
    """Tells whether ``path``, a file it inherits from or an evidence file changed since the last :meth:`changed`."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.files: list[Path] = []
        self.stamps: list[Stamp] = []

    def forget(self) -> None:
        """The next :meth:`changed` says True, as the first time."""
        self.files, self.stamps = [], []

    def changed(self) -> bool:
        """True the first time, and after any of the files is saved, renamed over, deleted or made."""
        stamps = [stamp(f) for f in self.files]
        if self.files and stamps == self.stamps:
            return False
        self.files = chain(self.path)  # a base may have been added, changed or removed
        self.stamps = [stamp(f) for f in self.files]
        return True
