"""``aar-risk cruxes``: which binary cruxes would most reduce a disagreement. ``--survey TABLE``
reads a forecasting group's survey table (:func:`model.api.survey_cruxes`); the form on
PRIORS files (each person's own worlds) is not built yet."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from model.cli.console import err, plain
from model.cli.stopping import EXIT_BAD_INPUT, commit, guarded


@click.command()
@click.argument("priors", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--survey",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    metavar="TABLE",
    help="A survey table (CSV): person, camp, crux, p_u, p_c, p_u_given_c (or FRI's person, Camp, ID, PU, Pc, PUc).",
)
@click.option(
    "--out", "-o", type=click.Path(path_type=Path, file_okay=False), help="Report folder [reports/survey-<stem>/]."
)
@click.option("--quiet", "-q", is_flag=True, help="Print only where the report went.")
@click.option("--json", "as_json", is_flag=True, help="Print survey.json to stdout.")
def cruxes(priors, survey, out, quiet, as_json):
    """Which binary cruxes would most reduce a disagreement: value of information per camp
    and value of discrimination over cross-camp pairs, as the Forecasting Research Institute
    measures them, from a survey table (--survey TABLE)."""
    if survey is None:
        err(
            "error: aar-risk cruxes PRIORS… (each person's priors file) is not built yet; "
            "give a survey table with --survey TABLE.csv"
        )
        sys.exit(EXIT_BAD_INPUT)
    if priors:
        raise click.UsageError("give either --survey TABLE or PRIORS files, not both")
    result = _read(survey)
    out = out or Path("reports") / f"survey-{survey.stem}"
    from model.report.output import ReportFolder

    with guarded(ReportFolder(out, "survey")) as (folder,):
        commit(folder, result.files())
    summary = result.summary()
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    elif not quiet:
        from model.cli import terminal

        terminal.survey(summary)
    err(f"survey report written to {plain(str(out))}/ (report.html, report.md, survey.json, figures/)")


def _read(path: Path):
    """The survey's metrics, or every problem with the table on stderr and exit status 2."""
    from model.api import survey_cruxes
    from model.core.errors import SurveyError

    try:
        return survey_cruxes(path)
    except SurveyError as exc:
        n = len(exc.problems)
        err(f"error: {plain(str(path))} has {n} problem{'s' if n > 1 else ''}:")
        for p in exc.problems:
            err(f"  {plain(str(p))}")
        sys.exit(EXIT_BAD_INPUT)
