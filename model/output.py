"""Write a report folder whole or not at all.

The new report is written into a hidden sibling folder and swapped in by two
renames; a failure or interruption removes it and leaves the earlier report
byte-identical. Leftovers of a killed run are cleaned up by the next one.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Mapping

from .errors import OutputError


def _recover(out: Path) -> None:
    """Undo what a killed run left: restore a moved-away report, drop temporary folders."""
    for old in out.parent.glob(f".{out.name}.old-*"):
        if not out.exists():
            os.rename(old, out)
        else:
            shutil.rmtree(old, ignore_errors=True)
    for tmp in out.parent.glob(f".{out.name}.tmp-*"):
        shutil.rmtree(tmp, ignore_errors=True)


def _reason(exc: OSError, out: Path) -> str:
    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        for parent in out.parents:
            if parent.exists() and not parent.is_dir():
                return f"{parent} is a file, not a folder"
    return (exc.strerror or exc.__class__.__name__) + (f" ({exc.filename})" if exc.filename else "")


def check_writable(out: Path) -> None:
    """Fail before any work if the report folder cannot be written."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"cannot write the report to {out}: it exists and is not a folder")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        os.rmdir(tempfile.mkdtemp(prefix=f".{out.name}.check-", dir=out.parent))
    except OSError as exc:
        raise OutputError(f"cannot write the report to {out}: {_reason(exc, out)}") from None


def write_folder(out: Path, files: Mapping[str, str | bytes], keep: tuple[str, ...] = ()) -> Path:
    """Replace folder ``out`` by one holding ``files`` (relative path → content).

    Subfolders named in ``keep`` (e.g. an earlier ``calibration/``) are carried over
    into the new folder as hard links, so they survive the swap unchanged.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"cannot write the report to {out}: it exists and is not a folder")
    tmp = old = None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        _recover(out)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
        for rel, content in files.items():
            target = tmp / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            data = content.encode("utf-8") if isinstance(content, str) else content
            with open(target, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        for name in keep:
            if (out / name).is_dir() and name not in {Path(r).parts[0] for r in files}:
                shutil.copytree(out / name, tmp / name, copy_function=os.link)
        os.chmod(tmp, 0o755)
        if out.exists():
            old = out.parent / f".{out.name}.old-{os.getpid()}"
            os.rename(out, old)
        os.rename(tmp, out)
        tmp = None
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
            old = None
    except OSError as exc:
        raise OutputError(f"cannot write the report to {out}: {_reason(exc, out)}; "
                          "the earlier report, if any, is unchanged") from None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not out.exists():
            os.rename(old, out)
    return out
