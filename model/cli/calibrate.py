"""``aar-risk calibrate``: check the file and methods, take the report's calibration/ folder,
then calibrate with :func:`model.api.calibrate` and write its report."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from model.cli.console import err, plain, progress_bars
from model.cli.options import COUNT, default_priors, load, targets
from model.cli.stopping import EXIT_BAD_INPUT, EXIT_NOT_CONVERGED, commit, guarded
from model.core.limits import MAX_SEED


@click.command()
@click.argument("priors", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--target",
    type=click.FloatRange(0, 1, min_open=True, max_open=True),
    help="The market's probability [priors file; 0.14].",
)
@click.option("--horizon", type=click.FloatRange(0, min_open=True), help="Years [priors file; 4].")
@click.option(
    "--trust", type=click.FloatRange(0, 1e6), help="How many observations the market is worth [priors file; 20]."
)
@click.option("--method", type=click.Choice(["nuts", "reweight", "tilt", "all"]), default="all", show_default=True)
@click.option(
    "--out",
    "-o",
    type=click.Path(path_type=Path, file_okay=False),
    help="Report folder; calibration goes in its calibration/ [reports/<stem>/].",
)
@click.option("--samples", "-n", type=COUNT, help="Monte Carlo worlds: 1e6, 1_000_000 [priors file].")
@click.option("--seed", "-s", type=click.IntRange(min=0, max=MAX_SEED), help="Random seed [priors file].")
@click.option("--draws", type=click.IntRange(min=100), default=1000, show_default=True, help="NUTS draws per chain.")
@click.option("--chains", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--quiet", "-q", is_flag=True, help="Print only where the report went.")
@click.option("--json", "as_json", is_flag=True, help="Print calibration.json to stdout.")
def calibrate(priors, target, horizon, trust, method, out, samples, seed, draws, chains, quiet, as_json):
    """Calibrate PRIORS against the market: how would your beliefs have to move to agree
    with it, given how much you trust it, and what would that do to the four outcomes?

    Exits 3 (and says so at the top of the report) if NUTS fails a convergence check."""
    priors = priors or default_priors()
    spec = load(priors)
    if spec.calibration.apply is not None:
        err(
            f"error: {plain(str(priors))} is already calibrated ([calibration] apply = "
            f'"{spec.calibration.apply}"); calibrate the file it inherits from instead'
        )
        sys.exit(EXIT_BAD_INPUT)
    methods = ("nuts", "reweight", "tilt") if method == "all" else (method,)
    folder = targets([priors], out)[0] / "calibration"
    if "nuts" in methods:
        _nuts_applies(spec, priors)
    from model.api import calibrate as calibrated
    from model.report.output import ReportFolder

    # calibration/ is a sub-report: it takes its parent report's lock, so a run of the
    # parent and a calibration never write at the same time
    with guarded(ReportFolder(folder, "calibration", lock_at=folder.parent)) as (prepared,):
        with progress_bars(quiet or as_json, keep_done=True) as progress:
            result = calibrated(
                spec,
                target=target,
                horizon=horizon,
                trust=trust,
                methods=methods,
                samples=samples,
                seed=seed,
                draws=draws,
                chains=chains,
                progress=progress,
            )
            content = result.files(prepared.path)
            summary = json.loads(content["calibration.json"])
        commit(prepared, content)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    elif not quiet:
        from model.cli import terminal

        terminal.calibration(summary)
    err(
        f"calibration written to {folder}/ (report.html, report.md, calibration.json"
        + (", calibration.nc" if "nuts" in methods else "")
        + (f", {summary['calibrated_priors']['path']}" if summary["calibrated_priors"] else "")
        + ")"
    )
    for note in summary["methods"].get("nuts", {}).get("warnings", []):
        err(f"note: {note}")
    if not result.converged:
        err("error: NUTS did not converge: " + "; ".join(summary["methods"]["nuts"]["failed"]))
        sys.exit(EXIT_NOT_CONVERGED)


def _nuts_applies(spec, path: Path) -> None:
    """Refuse, before the folder is taken, priors NUTS cannot sample (exit status 2)."""
    from model.analyses.calibration.methods import check_nuts
    from model.families.tensor import CalibrationError

    try:
        check_nuts(spec)
    except CalibrationError as exc:
        err(f"error: {plain(str(path))}: {exc}")
        sys.exit(EXIT_BAD_INPUT)
