from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

#: A world that sits in the middle of every range, for closed-form checks (T_b derived: C·T_g + L = 8.6).
MIDDLE_WORLD = {
    "capability_needed": 0.9,
    "relative_difficulty": 0.7,
    "alignment_difficulty": 6.0,
    "technique_strength": 4.5,
    "loop_hazard": 0.2,
    "hazard_growth": 1.2,
    "danger_threshold": 1.1,
    "containment": 0.4,
    "automation_fraction": 0.95,
    "field_years": 12.0,
    "build_lag": 0.5,
    "years_to_agi": 9.0,
    "skill_overlap": 0.5,
    "leakage": 0.3,
    "timing_noise": 0.6,
    "sharpness": 0.5,
}


@pytest.fixture
def rng():
    return np.random.default_rng(20230801)


def write_priors(folder: Path, name: str, values: dict, extra: str = "") -> Path:
    """A complete priors file (no base) with ``values`` as point priors or TOML strings."""
    from model.core.variables import CRUXES

    def line(k, v):
        return f"{k} = {v}" if isinstance(v, str) else f"{k} = {float(v)!r}"

    body = ["[meta]", f'name = "{name}"', "", "[cruxes]"]
    body += [line(k, v) for k, v in values.items() if k in CRUXES]
    body += ["", "[parameters]"]
    body += [line(k, v) for k, v in values.items() if k not in CRUXES]
    path = folder / f"{name}.toml"
    path.write_text("\n".join(body) + "\n" + extra)
    return path


# Property tests draw the same examples on every run, so CI is reproducible.
from hypothesis import settings as _settings  # noqa: E402

_settings.register_profile("repro", derandomize=True, deadline=None)
_settings.load_profile("repro")


def chromium() -> str:
    """Debian's chromium for Playwright: skipped where it is missing, unless AAR_REQUIRE_BROWSER
    is set (as .ci/run sets it), then a failure."""
    import os
    import shutil

    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("AAR_REQUIRE_BROWSER"):
            pytest.fail("chromium is required (AAR_REQUIRE_BROWSER is set) but not installed")
        pytest.skip("chromium not installed")
    pytest.importorskip("playwright")
    return exe


def _interrupt_state() -> dict:
    """The command line's record of a signal (whether one came, which, what to say)."""
    import importlib

    for module, name in (("model.cli.stopping", "STATE"), ("model.cli.commands", "_stop")):
        try:
            return getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            continue
    raise LookupError("the command line's interrupt state moved: update tests/conftest.py")


class Ran:
    """What a command did, in the shape of :class:`subprocess.CompletedProcess`."""

    def __init__(self, args, returncode: int, stdout: str, stderr: str):
        self.args, self.returncode, self.stdout, self.stderr = args, returncode, stdout, stderr

    def __repr__(self) -> str:
        return f"Ran({self.args!r}, returncode={self.returncode}, stderr={self.stderr[-2000:]!r})"


def aar_in_process(*args, cwd: Path, env: dict | None = None, timeout: float | None = None) -> Ran:
    """``aar-risk ARGS`` run in this process (click's CliRunner on the ``cli`` group) from ``cwd``:
    exit status, stdout and stderr as a subprocess would give them, without the ~2 s of
    starting Python and importing numpy, matplotlib and PyMC again. For tests of what the
    command says and writes; signals, process trees and the entry point's own exit need a
    real process. ``env``: variables to set for the call (None removes one); ``timeout`` is
    accepted for the subprocess helpers' signature and ignored.

    An exception the command does not turn into an exit status propagates (a subprocess
    would print a traceback), so a test expecting exit 1 cannot pass on a crash. The
    command's signal handlers, its interrupt state, the environment and the current folder
    are restored afterwards. Output written to file descriptors 1 and 2 (by a forked
    worker, or a library's own log handler) is captured too, where click can (``capture="fd"``)."""
    import os
    import signal

    from click.testing import CliRunner

    from model.cli import cli

    argv = [os.fspath(a) if isinstance(a, Path) else str(a) for a in args]
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    state = _interrupt_state()
    saved = dict(state)
    environ = dict(os.environ)
    here = os.getcwd()
    try:
        runner = CliRunner(catch_exceptions=False, capture="fd")
    except TypeError:  # click before 8.3: sys.stdout and sys.stderr only
        runner = CliRunner(catch_exceptions=False)
    os.chdir(cwd)
    try:
        result = runner.invoke(cli, argv, env={"MPLBACKEND": "Agg", **(env or {})})
    finally:
        os.chdir(here)
        for s, h in handlers.items():
            signal.signal(s, h)
        state.clear()
        state.update(saved)
        os.environ.clear()
        os.environ.update(environ)
    return Ran(argv, result.exit_code, result.stdout, result.stderr)


@pytest.hookimpl(tryfirst=True)  # before -m deselects
def pytest_collection_modifyitems(config, items):
    """A browser or load test is slow too, whichever marker its file remembered to add:
    ``-m "not slow"`` (the fast tier) never starts Chromium or the CPU burners."""
    for item in items:
        if (item.get_closest_marker("browser") or item.get_closest_marker("load")) and not item.get_closest_marker(
            "slow"
        ):
            item.add_marker(pytest.mark.slow)
