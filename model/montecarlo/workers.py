"""Worker processes that the parent can always stop: shared by the engine and the figures.

A worker ignores Ctrl-C (its parent stops it, terminating the pool), takes SIGTERM's
default action, and dies with its parent (Linux ``PR_SET_PDEATHSIG``). Workers are
forked where the platform can (start-up ~0.1 s instead of ~0.5 s for a fresh
interpreter that imports numpy and scipy again), spawned elsewhere.
"""

from __future__ import annotations

import multiprocessing as mp
import os


def protect(parent: int) -> None:
    """Make this (worker) process ignore Ctrl-C and die with ``parent``."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


def context():
    """Fork where the platform has it, spawn elsewhere."""
    return mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")


def usable_cores() -> int:
    """Cores this process may run on (the affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def wait(pending):
    """The result of an ``apply_async``, waited for in short steps so Ctrl-C stays responsive."""
    while not pending.ready():
        pending.wait(0.1)
    return pending.get()
