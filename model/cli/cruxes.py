"""``aar-risk cruxes``: which cruxes would most reduce a disagreement.

``aar-risk cruxes PRIORS… | FOLDER`` takes each person's priors file (:func:`model.api.cruxes`);
``--survey TABLE`` reads a forecasting group's survey table (:func:`model.api.survey_cruxes`)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from model.cli.console import err, plain, progress_bars
from model.cli.options import COUNT, load
from model.cli.stopping import EXIT_BAD_INPUT, commit, guarded
from model.core.limits import MAX_SEED
from model.core.quantities import Q


@click.command()
@click.argument("priors", nargs=-1, type=click.Path(path_type=Path, exists=True))
@click.option(
    "--survey",
    type=click.Path(path_type=Path, exists=True, dir_okay=False),
    metavar="TABLE",
    help="A survey table (CSV): person, camp, crux, p_u, p_c, p_u_given_c (or FRI's person, Camp, ID, PU, Pc, PUc).",
)
@click.option("--camp", "camps", multiple=True, metavar="NAME=FILE,FILE…", help="A camp and its files (repeat).")
@click.option("--crux", "extra", multiple=True, metavar="VARIABLE>=X", help="Another binary crux (repeat).")
@click.option("--outcome", default=Q.success, show_default=True, help="U, the outcome the binary cruxes are scored on.")
@click.option("--samples", "-n", type=COUNT, help="Worlds per person [65536].")
@click.option("--seed", "-s", type=click.IntRange(min=0, max=MAX_SEED), help="Random seed [the first file's].")
@click.option(
    "--orderings",
    type=click.IntRange(min=2),
    help="Sampled orderings for the attribution [exact up to 12 players, else 128].",
)
@click.option("--workers", "-w", type=click.IntRange(min=1), help="Worker processes [all cores].")
@click.option("--scheduler", metavar="ADDRESS", help="Run on a Dask cluster (tcp://host:8786); needs aar-cruxes[dask].")
@click.option(
    "--out", "-o", type=click.Path(path_type=Path, file_okay=False), help="Report folder [reports/cruxes-<stems>/]."
)
@click.option("--quiet", "-q", is_flag=True, help="Print only where the report went.")
@click.option("--json", "as_json", is_flag=True, help="Print the report's JSON to stdout.")
def cruxes(priors, survey, camps, extra, outcome, samples, seed, orderings, workers, scheduler, out, quiet, as_json):
    """Which cruxes would most reduce a disagreement. On PRIORS files (or a FOLDER of them):
    each person's outcomes, the pools, the between-person variance attributed to what they
    disagree on, and the binary cruxes (capability_needed>=1, relative_difficulty>=1, each
    --crux) scored from each person's own worlds. With --survey TABLE: the same binary-crux
    metrics on a forecasting group's survey table."""
    if survey is not None:
        if priors:
            raise click.UsageError("give either --survey TABLE or PRIORS files, not both")
        _survey(survey, out, quiet, as_json)
        return
    files = _files(priors)
    views = [load(p) for p in files]
    camp_map = _camp_map(camps)
    out = out or Path("reports") / _name(priors)
    from model.api.people import cruxes as people_cruxes
    from model.report.output import ReportFolder

    _check(views, camp_map, extra, outcome)
    if scheduler is not None:
        import importlib.util

        if importlib.util.find_spec("distributed") is None:
            err("error: --scheduler needs dask.distributed: pip install 'aar-cruxes[dask]'")
            sys.exit(EXIT_BAD_INPUT)
    with guarded(ReportFolder(out, "cruxes")) as (folder,):
        with progress_bars(quiet or as_json) as progress:
            result = people_cruxes(
                views, camp_map, samples, seed, extra, outcome, orderings, workers, scheduler, progress
            )
        summary = result.summary()
        commit(folder, result.files())
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    elif not quiet:
        from model.cli import terminal

        terminal.people(summary)
    err(f"cruxes report written to {plain(str(out))}/ (report.html, report.md, cruxes.json, figures/)")


def _check(views, camp_map, extra, outcome) -> None:
    """Refuse, before any work, files that cannot be compared, camps that do not fit and bad cruxes."""
    from model.analyses.cruxes.panel import EVENTS, check_alike, parse_crux
    from model.api.people import _camps

    try:
        check_alike(views)
        _camps(views, camp_map)
        for c in extra:
            parse_crux(c)
        if outcome not in EVENTS:
            raise ValueError(f"--outcome {outcome!r}: one of {', '.join(EVENTS)}")
    except ValueError as exc:
        err(f"error: {plain(str(exc))}")
        sys.exit(EXIT_BAD_INPUT)


def _files(priors) -> list[Path]:
    """The priors files: the arguments, or the *.toml files of one folder."""
    if len(priors) == 1 and priors[0].is_dir():
        found = sorted(priors[0].glob("*.toml"))
        if len(found) < 2:
            err(f"error: {plain(str(priors[0]))} holds {len(found)} priors file(s) (*.toml); cruxes needs two or more")
            sys.exit(EXIT_BAD_INPUT)
        return found
    if any(p.is_dir() for p in priors):
        raise click.UsageError("give priors files, or one folder of them")
    if len(priors) < 2:
        err("error: cruxes needs two or more PRIORS files (or a FOLDER of them), or --survey TABLE.csv")
        sys.exit(EXIT_BAD_INPUT)
    return list(priors)


def _camp_map(camps) -> dict[str, list[Path]]:
    out: dict[str, list[Path]] = {}
    for text in camps:
        name, sep, members = text.partition("=")
        if not sep or not name.strip() or not members.strip():
            raise click.UsageError(f"--camp {text!r}: write NAME=FILE,FILE…")
        out.setdefault(name.strip(), []).extend(Path(m.strip()) for m in members.split(",") if m.strip())
    return out


def _name(priors) -> str:
    from model.cli.options import compare_name

    return "cruxes-" + compare_name(priors).removeprefix("compare-")


def _survey(survey: Path, out, quiet: bool, as_json: bool) -> None:
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
