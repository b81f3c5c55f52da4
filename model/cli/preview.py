"""``aar-risk serve``: the live page of a priors file (model.serve), until Ctrl-C."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import click

from model.cli.console import err, plain
from model.cli.options import default_priors
from model.cli.stopping import EXIT_OUTPUT, STATE, exit_now, say_interrupted


@click.command()
@click.argument("priors", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--port", "-p", type=click.IntRange(1, 65535), help="Port on 127.0.0.1 [5006, or a free one].")
@click.option("--no-browser", is_flag=True, help="Do not open a browser; just print the address.")
def serve(priors, port, no_browser):
    """A live page of PRIORS (default priors/author.toml) that follows the file as you save it:
    outcomes, crux map, densities, what-if sliders. Ctrl-C stops it."""
    from model.serve.app import serve as serve_page

    path = priors or default_priors()
    STATE["message"] = "stopped serving"

    def stop(signum, frame):  # nothing to clean up: the page writes only on "write to file", atomically
        STATE["signum"] = signum
        say_interrupted()
        exit_now(128 + signum)

    def ready(url):
        for signum in (signal.SIGINT, signal.SIGTERM):  # replaces the web server's own handlers
            signal.signal(signum, stop)
        err(f"serving {plain(str(path))} at {url} (following the file; Ctrl-C stops)")

    try:
        serve_page(path, port, not no_browser, ready=ready)
    except OSError as exc:
        err(f"error: cannot serve on port {port or 'any'}: {exc.strerror or exc}")
        sys.exit(EXIT_OUTPUT)
