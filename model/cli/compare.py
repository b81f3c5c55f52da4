"""``aar-risk compare``: check the files, take the folder, then compare them with
:func:`model.api.compare` and write its report."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from model.cli.console import announce, err, plain, progress_bars
from model.cli.options import compare_name, load, simulation_options
from model.cli.stopping import EXIT_BAD_INPUT, commit, guarded


@click.command()
@click.argument("priors", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@simulation_options("Print compare.json to stdout.", "Report folder [reports/compare-<stem>-<stem>…/].")
def compare(priors, samples, seed, out, workers, quiet, as_json):
    """Compare two or more PRIORS files: outcomes side by side, and why they differ
    (each pair's differences attributed to variables with Shapley values)."""
    if len(priors) < 2:
        raise click.UsageError("compare needs at least two PRIORS files")
    specs = [load(p) for p in priors]
    out = out or Path("reports") / compare_name(priors)
    from model.analyses.compare import check_comparable

    try:
        check_comparable(specs)
    except ValueError as exc:
        err(f"error: {plain(str(exc))}")
        sys.exit(EXIT_BAD_INPUT)
    from model.api import compare as compared
    from model.report.output import ReportFolder

    with guarded(ReportFolder(out, "compare")) as (folder,):
        for spec in specs:  # one sample count for every view: the first file's unless given
            announce(spec, samples or specs[0].simulation.samples, workers, quiet or as_json)
        with progress_bars(quiet or as_json) as progress:
            comparison = compared(*specs, samples=samples, seed=seed, workers=workers, progress=progress)
        summary = comparison.summary()
        commit(folder, comparison.files())
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    elif not quiet:
        from model.cli import terminal

        terminal.compare(summary)
    err(f"comparison written to {out}/ (compare.html, compare.md, compare.json, figures/)")
