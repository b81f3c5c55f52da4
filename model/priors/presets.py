"""Where priors files are: the presets by name, and what kind of file a path is."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

PRESETS_DIR = Path(__file__).resolve().parents[2] / "priors"
_PACKAGED_PRESETS = Path(__file__).resolve().parents[1] / "presets"

#: A preset named by ``base`` (no .toml suffix): letters, digits, '_' and '-' only.
PRESET_NAME = re.compile(r"[A-Za-z0-9_-]{1,100}")


def preset_path(name: str, exclude: Path | None = None) -> Path:
    """Where a preset named ``name`` lives (the repository's priors/ or the installed copy).

    ``exclude`` (a file asking for its base) is skipped, so a file never inherits from itself.
    """
    for folder in (PRESETS_DIR, _PACKAGED_PRESETS):
        candidate = folder / f"{name}.toml"
        if file_kind(candidate) is None and not (exclude and same_file(candidate, exclude)):
            return candidate
    return PRESETS_DIR / f"{name}.toml"


def is_bundled(path: Path) -> bool:
    """Whether ``path`` is one of the presets shipped with aar-risk."""
    for folder in (PRESETS_DIR, _PACKAGED_PRESETS):
        candidate = folder / path.name
        if file_kind(candidate) is None and same_file(candidate, path):
            return True
    return False


def file_kind(path: Path) -> str | None:
    """None for a regular file; otherwise what ``path`` is ("missing", "a folder", ...)."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return "missing"
    except (OSError, ValueError) as exc:
        return f"unreadable ({getattr(exc, 'strerror', None) or exc})"
    if stat.S_ISREG(st.st_mode):
        return None
    if stat.S_ISDIR(st.st_mode):
        return "a folder"
    if stat.S_ISFIFO(st.st_mode):
        return "a named pipe"
    return "a socket" if stat.S_ISSOCK(st.st_mode) else "a device"


def resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a name too long
        return path.absolute()


def same_file(a: Path, b: Path) -> bool:
    return resolved(a) == resolved(b)
