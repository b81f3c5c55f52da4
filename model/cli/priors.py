"""``aar-risk validate`` and ``aar-risk init``: check a priors file, or start a new one."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from model.cli.console import err
from model.cli.options import default_priors, load
from model.cli.stopping import EXIT_BAD_INPUT, EXIT_OUTPUT


@click.command()
@click.argument("priors", type=click.Path(path_type=Path, dir_okay=False))
def validate(priors):
    """Check PRIORS and show every variable's prior: family, parameters, percentiles, source."""
    spec = load(priors)
    from model.cli import terminal

    terminal.validate(spec, priors)


@click.command()
@click.argument("name")
def init(name):
    """Write priors/NAME.toml: a commented template that inherits the default priors.
    NAME may end in .toml (init my-view.toml writes my-view.toml in the priors folder)."""
    name = name.removesuffix(".toml")
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_\-]*", name):
        err(
            f"error: NAME must be letters, digits, '_' or '-', as in: aar-risk init my-view "
            f"(which writes my-view.toml in the priors folder); got {name!r}"
        )
        sys.exit(EXIT_BAD_INPUT)
    from model.priors.template import template

    path = Path("priors") / f"{name}.toml"
    if path.exists():
        err(f"error: {path} already exists; choose another NAME or edit it")
        sys.exit(EXIT_OUTPUT)
    base = load(default_priors())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8") as fh:
            fh.write(template(name, base))
    except OSError as exc:
        err(f"error: cannot write {path}: {exc.strerror or exc}")
        sys.exit(EXIT_OUTPUT)
    err(f"wrote {path}: edit it, then run: aar-risk run {path}")
