"""Child processes that the parent can always stop, and waits that always end.

Shared by the engine's worker pool and the figure-drawing processes. The rules (issue
"never hang"):

- A child is started with SIGINT and SIGTERM *blocked* (:func:`start`); it sets its own
  handling first (ignore Ctrl-C, take SIGTERM's default action, die with its parent by
  Linux ``PR_SET_PDEATHSIG``) and only then unblocks them. A signal sent in between
  stays pending instead of running the parent's Python handler in the child, or being
  lost when that handler is replaced before it ran.
- Every wait on a child (:func:`receive`, :meth:`Pool.results`, :func:`stop`) is in
  steps of at most :data:`STEP` seconds and watches the child's sentinel, so it returns
  (with :class:`ChildDied`) within a step of the child's death; a child's own waits
  watch its parent the same way.
- A shutdown terminates, joins for at most :data:`GRACE` seconds, then kills and reaps.

Workers are forked where the platform can (start-up ~0.1 s instead of ~0.5 s for a
fresh interpreter that imports numpy and scipy again), spawned elsewhere.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from multiprocessing.connection import wait as _wait_any
from typing import Any

#: The longest single wait, in seconds: a wait re-checks that the other side lives this often.
STEP = 0.25
#: How long a terminated child may take to exit before it is killed.
GRACE = 1.0
_STOPPING = (signal.SIGINT, signal.SIGTERM)


class ChildDied(RuntimeError):
    """A child process (or, seen from a child, its parent) went away mid-conversation."""


def protect(parent: int) -> None:
    """Make this (child) process ignore Ctrl-C, take SIGTERM's default and die with ``parent``;
    then unblock the signals :func:`start` blocked (a pending SIGTERM acts now)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPPING)


def parent_alive(parent: int) -> bool:
    """Whether ``parent`` is still this process's parent (a reparented orphan's is not)."""
    return os.getppid() == parent


@contextmanager
def _blocked() -> Iterator[None]:
    """SIGINT and SIGTERM held back in this thread (delivered when the block ends)."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPPING)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _child(target: Callable, parent: int, args: tuple) -> None:
    protect(parent)
    target(*args)


def start(target: Callable, args: tuple = (), name: str | None = None, daemon: bool = True) -> mp.Process:
    """Start ``target(*args)`` in a child that sets its signal handling before anything else
    can reach it. ``daemon=False`` only for a child that starts children of its own."""
    process = context().Process(target=_child, args=(target, os.getpid(), args), name=name, daemon=daemon)
    with _blocked():
        process.start()
    return process


def stop(*processes: mp.Process | None) -> None:
    """Terminate, wait at most :data:`GRACE` s in all, kill what is left and reap it."""
    alive = [p for p in processes if p is not None and p.exitcode is None]
    for p in alive:
        p.terminate()
    deadline = GRACE
    for p in alive:
        p.join(deadline)
        if p.exitcode is None:
            deadline = 0.0
            p.kill()
            p.join(GRACE)  # SIGKILL cannot be refused: the reap is immediate
    for q in processes:
        if q is not None and q.exitcode is not None:
            q.close()


def receive(conn, watch: Iterable[mp.Process] = (), alive: Callable[[], bool] | None = None) -> Any:
    """The next message on ``conn``, waited for in steps of :data:`STEP` s; raises
    :class:`ChildDied` as soon as the other end closes, a process in ``watch`` dies, or
    ``alive()`` (a child watching its parent) says no."""
    watch = list(watch)
    while True:
        ready = _wait_any([conn, *(p.sentinel for p in watch)], timeout=STEP)
        if conn in ready:
            try:
                return conn.recv()
            except (EOFError, OSError):  # closed, or reset by a killed writer
                raise ChildDied("the other process closed its end") from None
        dead = [p for p in watch if p.exitcode is not None]
        if dead:
            raise ChildDied(f"{dead[0].name} stopped unexpectedly (exit code {dead[0].exitcode})")
        if alive is not None and not alive():
            raise ChildDied("the parent process is gone")


#: What a script that calls the calibration at its top level is told (PyMC starts its chains
#: with the forkserver method, and each chain imports the script again to start).
GUARD = (
    "{what} was called while a child process of PyMC imported your script again to start a "
    'chain: put the call under  if __name__ == "__main__":  (the chains start with the '
    "forkserver method, which re-imports the main script)"
)


def refuse_reimported_main(what: str) -> None:
    """In a child process that is importing the main script again (forkserver or spawn), say once
    why, and leave without a traceback: the parent raises :class:`ReimportedMain`."""
    if getattr(mp.current_process(), "_inheriting", False):
        import sys

        sys.stderr.write("error: " + GUARD.format(what=what) + "\n")
        sys.stderr.flush()
        os._exit(1)


class ReimportedMain(RuntimeError):
    """The main script calls the calibration at its top level, without the ``__main__`` guard."""


def script_without_guard_hint() -> str | None:
    """The guard's hint if the main module is a script file (where a missing guard can be the cause)."""
    import sys

    main = sys.modules.get("__main__")
    if main is not None and getattr(main, "__file__", None) and getattr(main, "__spec__", None) is None:
        return GUARD.format(what="model.calibrate")
    return None


def context():
    """Fork where the platform has it, spawn elsewhere."""
    return mp.get_context("fork" if "fork" in mp.get_all_start_methods() else "spawn")


def usable_cores() -> int:
    """Cores this process may run on (the affinity mask where the OS has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:
        return max(1, os.cpu_count() or 1)


def _nothing() -> None:
    pass


def _serve(conn, parent: int, init: Callable, initargs: tuple, task: Callable) -> None:
    """A pool worker: ``init(*initargs)``, then ``(index, task(*args))`` for each ``(index,
    args)`` received, until ``None`` or the parent goes away. An exception is sent back."""
    init(*initargs)
    while True:
        try:
            message = receive(conn, alive=lambda: parent_alive(parent))
        except ChildDied:
            return
        if message is None:
            return
        index, args = message
        try:
            reply = (index, True, task(*args))
        except Exception as exc:  # noqa: BLE001 - raised again in the parent
            reply = (index, False, exc)
        conn.send(reply)


class Pool:
    """Worker processes that run ``task(*args)`` on a stream of argument tuples and give
    the results back in order (:meth:`results`), with at most ``window`` tasks in flight.

    Unlike :class:`multiprocessing.Pool`, a worker's death is an error (not a lost task and
    a wait for ever), every wait is bounded (:func:`receive`), and leaving the context
    (Ctrl-C included) stops every worker within :data:`GRACE` s (:func:`stop`).
    """

    def __init__(self, workers: int, task: Callable, init: Callable = _nothing, initargs: tuple = ()):
        ctx = context()
        self._conns, self._processes = [], []
        try:
            for i in range(workers):
                mine, theirs = ctx.Pipe()
                self._processes.append(
                    start(_serve, (theirs, os.getpid(), init, initargs, task), name=f"aar-worker-{i}")
                )
                theirs.close()
                self._conns.append(mine)
        except BaseException:
            self.close()
            raise

    def results(self, tasks: Iterable[tuple], window: int) -> Iterator[Any]:
        """``task(*args)`` for each ``args`` in ``tasks``, in order."""
        todo = iter(enumerate(tasks))
        queued: list[deque] = [deque() for _ in self._conns]  # indices sent to each worker
        done: dict[int, Any] = {}
        first, sent = 0, 0  # the next index to yield; indices sent so far
        exhausted = False
        while True:
            while not exhausted and sent - first < window:  # keep the window full, least busy worker first
                nxt = next(todo, None)
                if nxt is None:
                    exhausted = True
                    break
                w = min(range(len(queued)), key=lambda k: len(queued[k]))
                try:
                    self._conns[w].send(nxt)
                except OSError:  # a broken pipe: the worker is gone
                    raise ChildDied(f"simulation worker {w} stopped unexpectedly") from None
                queued[w].append(nxt[0])
                sent += 1
            while first in done:
                yield done.pop(first)
                first += 1
            if exhausted and first == sent:
                return
            self._collect(queued, done)

    def _collect(self, queued: list[deque], done: dict) -> None:
        """Take every reply that is ready (waiting at most one step), or raise."""
        busy = [k for k, q in enumerate(queued) if q]
        ready = _wait_any([self._conns[k] for k in busy] + [self._processes[k].sentinel for k in busy], timeout=STEP)
        for k in busy:
            if self._conns[k] in ready:
                try:
                    index, ok, value = self._conns[k].recv()
                except (EOFError, OSError):  # closed, or reset by a killed writer
                    raise ChildDied(f"simulation worker {k} stopped unexpectedly") from None
                queued[k].remove(index)
                if not ok:
                    raise value
                done[index] = value
            elif self._processes[k].exitcode is not None:
                raise ChildDied(f"simulation worker {k} stopped unexpectedly (exit code {self._processes[k].exitcode})")

    def close(self) -> None:
        """Ask the workers to finish, then stop them (bounded, see :func:`stop`)."""
        for conn in self._conns:
            with suppress(OSError):
                conn.send(None)
        stop(*self._processes)
        for conn in self._conns:
            conn.close()
        self._conns, self._processes = [], []

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
