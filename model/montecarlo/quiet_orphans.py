"""Preloaded into PyMC's forkserver (:func:`model.analyses.calibration.methods._chain_context`).

Once the process that calibrates is gone (a SIGKILL of ``aar-risk calibrate``), the forkserver
and the chain processes it forks find their pipes broken and would print tracebacks onto the
user's terminal, under the shell's prompt. With this module loaded, their standard error writes
nothing once that process is dead; until then it is untouched.
"""

from __future__ import annotations

import os
import sys

#: The forkserver's parent when this module is preloaded: the process that calibrates.
_ORIGIN = os.getppid()


def _origin_alive() -> bool:
    try:
        with open(f"/proc/{_ORIGIN}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[0] not in (b"Z", b"X")
    except OSError:
        pass
    try:
        os.kill(_ORIGIN, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


class _QuietOnceOrphaned:
    """A text stream that drops what is written once the calibrating process is gone."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        if not _origin_alive():
            return len(text)
        return self._stream.write(text)

    def __getattr__(self, name: str):
        return getattr(self._stream, name)


if not isinstance(sys.stderr, _QuietOnceOrphaned) and sys.stderr is not None:
    sys.stderr = _QuietOnceOrphaned(sys.stderr)
