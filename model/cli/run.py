"""``aar-risk run`` and ``aar-risk sensitivity``: check every file and folder, then make each
report with :func:`model.api.report_run` and write it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click

from model.cli.console import announce, err, plain, progress_bars
from model.cli.options import default_priors, load, simulation_options, targets
from model.cli.stopping import commit, guarded


@click.command()
@click.argument("priors", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@simulation_options(
    "Print summary.json to stdout (a list of them for several PRIORS).",
    "Report folder [reports/<priors file stem>/]; one PRIORS file only.",
)
@click.option("--sensitivity", is_flag=True, help="Add the sensitivity section and sensitivity.json (about 2 s more).")
def run(priors, samples, seed, out, workers, sensitivity, quiet, as_json):
    """Simulate PRIORS (default priors/author.toml) and write its report:
    report.html, report.md with figures/, and summary.json.

    Several PRIORS files write one report each, under reports/<stem>/."""
    # one BLAS thread per process (set before numpy loads): the run's processes already fill
    # the cores, and OpenBLAS's idle threads spin (≈ 0.25 CPU-s of a 10⁶-world run)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    files = list(priors) or [default_priors()]
    if out is not None and len(files) > 1:
        raise click.UsageError("--out takes one PRIORS file; without it each goes to reports/<stem>/")
    folders = targets(files, out)
    specs = [load(f) for f in files]  # every file is checked before any work
    if sensitivity:
        _enough_for_sensitivity(specs, samples)
    if sensitivity and any(s.calibration.apply for s in specs):
        raise click.UsageError(
            "--sensitivity does not apply to a calibrated priors file (its worlds are "
            "weighted); run it on the file's base"
        )
    summaries = _run_all(specs, folders, samples, seed, workers, sensitivity, quiet, as_json)
    if as_json:
        click.echo(json.dumps(summaries[0] if len(summaries) == 1 else summaries, indent=2))


def _run_all(specs, folders, samples, seed, workers, sensitivity, quiet, as_json) -> list[dict]:
    """Take every folder, then make and write each report, saying where it went."""
    from model.cli import terminal
    from model.report.output import ReportFolder

    summaries = []
    with guarded(*(ReportFolder(t, "run") for t in folders)) as prepared:
        for spec in specs:
            announce(spec, samples, workers, quiet or as_json)
        for spec, folder in zip(specs, prepared, strict=True):
            summary = _report(spec, folder, samples, seed, workers, sensitivity, quiet or as_json).summary()
            summaries.append(summary)
            if not (quiet or as_json):
                terminal.outcomes(summary)
            if summary.get("calibration_applied"):
                a = summary["calibration_applied"]
                err(
                    f"calibrated file ({a['apply']}): effective sample size {a['effective_sample_size']:,.0f} "
                    f"of {summary['samples']:,} worlds"
                    + (" — too few, the numbers are unreliable: run more worlds (-n)" if a["warning"] else "")
                )
            err(f"report written to {plain(str(folder.shown))}/ (report.html, report.md, summary.json, figures/)")
    return summaries


def _report(spec, folder, samples, seed, workers, sensitivity: bool, quiet: bool):
    """One run's report (:func:`model.api.report_run`), written to its prepared folder."""
    from model.api import report_run

    with progress_bars(quiet) as progress:
        report = report_run(
            spec,
            samples=samples,
            seed=seed,
            workers=workers,
            sensitivity=sensitivity,
            folder=folder.path,
            progress=progress,
        )
    commit(folder, report.files)
    return report


@click.command()
@click.argument("priors", required=False, type=click.Path(path_type=Path, dir_okay=False))
@simulation_options("Print sensitivity.json to stdout.")
def sensitivity(priors, samples, seed, out, workers, quiet, as_json):
    """Which belief drives each outcome, and which crux is most worth resolving:
    Sobol indices (SALib), given-data indices, tornado, partial EVPI. Writes the
    run report of PRIORS with its sensitivity section, and sensitivity.json beside it."""
    from model.report.output import ReportFolder

    path = priors or default_priors()
    target = targets([path], out)[0]
    spec = load(path)
    _enough_for_sensitivity([spec], samples)
    if spec.calibration.apply is not None:
        raise click.UsageError(
            "sensitivity does not apply to a calibrated priors file (its worlds are "
            "weighted); run it on the file's base"
        )
    with guarded(ReportFolder(target, "run")) as (folder,):
        announce(spec, samples, workers, quiet or as_json)
        sens = _report(spec, folder, samples, seed, workers, True, quiet or as_json).sensitivity.summary()
    if as_json:
        click.echo(json.dumps(sens, indent=2))
    elif not quiet:
        from model.cli import terminal

        terminal.sensitivity(sens)
    err(f"report written to {plain(str(target))}/ (report.html, report.md, summary.json, sensitivity.json, figures/)")


def _enough_for_sensitivity(specs: list, samples: int | None) -> None:
    """Refuse, before any work, a sensitivity analysis on too few worlds to mean anything."""
    from model.analyses.sensitivity import check_samples

    for spec in specs:
        try:
            check_samples(samples or spec.simulation.samples)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
