"""How a command stops: exit codes, Ctrl-C and SIGTERM, and the guard around report folders
that turns an output error, a dead child or an interrupt into one line and an exit status
(docs/reports.md, "Child processes and waits")."""

from __future__ import annotations

import os
import signal
import sys
import threading
from contextlib import contextmanager, suppress
from typing import TypedDict

import click

from model.cli.console import err, plain

EXIT_BAD_INPUT = 2
EXIT_OUTPUT = 1
EXIT_NOT_CONVERGED = 3


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM. Not a KeyboardInterrupt, so no library (PyMC) can swallow it."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.code = 128 + signum  # 130 for Ctrl-C, 143 for SIGTERM


class _State(TypedDict):
    signalled: bool
    signum: int
    said: bool
    message: str


#: What the process knows of signals: whether one came (and which), whether the line about it
#: was said, and what that line says (it changes once a report is written).
STATE: _State = {"signalled": False, "signum": 0, "said": False, "message": "interrupted: nothing was written"}
_say_lock = threading.Lock()


def commit(folder, content) -> None:
    """Swap in the report, unless a signal came (Python may have swallowed its exception,
    e.g. inside a weakref callback): then stop as if it had been raised."""
    if STATE["signalled"]:
        raise Interrupted(STATE["signum"])
    folder.commit(content)
    STATE["message"] = f"interrupted: the report was already written to {plain(str(folder.shown))}"


def say_interrupted() -> None:
    with _say_lock:
        if not STATE["said"]:
            STATE["said"] = True
            with suppress(Exception):  # a closed stderr must not stop the exit
                click.echo(STATE["message"], err=True)


def _on_signal(signum, frame):
    """First signal: unwind (workers are killed, staging removed). Any later one, or
    a clean-up that overruns 1 s, ends the process at once; the kernel drops the lock,
    the workers die with their parent, and the next run removes the staging folder."""
    code = 128 + signum
    if STATE["signalled"]:
        say_interrupted()
        os._exit(code)
    STATE["signalled"] = True
    STATE["signum"] = signum

    def overrun():
        say_interrupted()
        os._exit(code)

    timer = threading.Timer(0.9, overrun)
    timer.daemon = True
    timer.start()
    raise Interrupted(signum)


def install_signals() -> None:
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)


def _release(prepared: list) -> None:
    for f in prepared:
        if hasattr(f, "release"):
            f.release()


@contextmanager
def guarded(*folders):
    """Prepare report folders before any work; turn output errors and interruptions
    into one line and an exit status (1, 130 or 143). Yields the prepared folders."""
    from model.core.errors import OutputError
    from model.montecarlo.workers import ChildDied
    from model.report.output import ReportFolder

    install_signals()
    shown = ", ".join(str(f.shown if isinstance(f, ReportFolder) else f) for f in folders)
    STATE["message"] = f"interrupted: nothing was written; {plain(shown)} is as it was"
    prepared = []
    try:
        for f in folders:
            prepared.append(f.prepare() if isinstance(f, ReportFolder) else f)
        yield prepared
    except OutputError as exc:
        err(f"error: {plain(str(exc))}")
        sys.exit(EXIT_OUTPUT)
    except ChildDied as exc:
        if STATE["signalled"]:  # the interrupt reached the children first
            say_interrupted()
            exit_now(128 + STATE["signum"])
        err(f"error: {plain(str(exc))} (killed, or out of memory?); nothing was written, {plain(shown)} is as it was")
        sys.exit(EXIT_OUTPUT)
    except (Interrupted, KeyboardInterrupt) as exc:  # KeyboardInterrupt: PyMC stopped early
        _release(prepared)
        say_interrupted()
        exit_now(getattr(exc, "code", 130))
    except Exception:
        if not STATE["signalled"]:  # a real error
            raise
        _release(prepared)  # an error caused by the interrupt (e.g. a half-drawn figure)
        say_interrupted()
        exit_now(128 + STATE["signum"])
    finally:
        _release(prepared)


def exit_now(code: int) -> None:
    """Exit without the interpreter's finalisation, which restores default signal
    handlers: a second signal during it would end the process with -15 instead of 143."""
    for stream in (sys.stdout, sys.stderr):
        with suppress(Exception):  # a closed stream must not stop the exit
            stream.flush()
    os._exit(code)
