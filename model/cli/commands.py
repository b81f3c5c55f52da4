"""The ``aar-risk`` command line: the group of commands and the entry point.

Each command parses its arguments, checks its inputs and takes its report folder, calls
one function of :mod:`model.api` with a progress callback, then prints and writes what it
returns. Heavy modules (numpy, scipy, matplotlib, the engine) are imported inside commands
so that ``aar-risk --help`` answers at once.
"""

from __future__ import annotations

import os

import click

from model.cli.calibrate import calibrate
from model.cli.compare import compare
from model.cli.cruxes import cruxes
from model.cli.preview import serve
from model.cli.priors import init, validate
from model.cli.run import run, sensitivity
from model.cli.stopping import STATE, Interrupted, exit_now, install_signals, say_interrupted

# tests/test_safety.py (not ours to edit) reaches the signal state and commit through this module
from model.cli.stopping import STATE as _stop  # noqa: F401
from model.cli.stopping import commit as _commit  # noqa: F401
from model.core.version import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="aar-risk")
def cli():
    """Turn your beliefs about the automated alignment researcher (AAR) plan into
    probabilities of its four outcomes: success, kicking the can, capability
    externalities and existential risk."""


for command in (run, sensitivity, validate, calibrate, init, compare, cruxes, serve):
    cli.add_command(command)


def main() -> None:
    """The ``aar-risk`` entry point: one line and 130/143 for an interrupt at any moment."""
    os.environ.setdefault("MPLBACKEND", "Agg")  # the command draws to files, never to a window
    install_signals()
    try:
        cli()
    except Interrupted as exc:
        say_interrupted()
        exit_now(exc.code)
    except SystemExit as exc:  # leave without the finalisation that restores default handlers
        if STATE["signalled"]:
            say_interrupted()
            exit_now(128 + STATE["signum"])
        code = exc.code
        if code is not None and not isinstance(code, int):
            click.echo(code, err=True)
            code = 1
        exit_now(code or 0)
    exit_now(0)
