"""The ``aar-risk`` command line: parse arguments, call the library, print.

Heavy modules (numpy, scipy, the engine) are imported inside commands so that
``aar-risk --help`` answers at once.
"""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path

import click

from . import __version__

EXIT_BAD_INPUT = 2
EXIT_OUTPUT = 1


def _default_priors() -> Path:
    local = Path("priors/author.toml")
    if local.is_file():
        return local
    from .priors import preset_path

    return preset_path("author")


def _terminate(signum, frame):  # SIGTERM behaves like Ctrl-C: clean up, keep old reports
    raise KeyboardInterrupt


def _err(message: str) -> None:
    click.echo(message, err=True)


def _load(path: Path):
    from .errors import PriorsError
    from .priors import load

    try:
        return load(path)
    except PriorsError as exc:
        n = len(exc.problems)
        _err(f"error: {path} has {n} problem{'s' if n > 1 else ''}:")
        for p in exc.problems:
            _err(f"  {p}")
        sys.exit(EXIT_BAD_INPUT)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="aar-risk")
def main():
    """Turn your beliefs about the automated alignment researcher (AAR) plan into
    probabilities of its four outcomes: success, kicking the can, capability
    externalities and existential risk."""


@main.command()
@click.argument("priors", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--samples", "-n", type=click.IntRange(min=1), help="Worlds to simulate [priors file; 1,000,000].")
@click.option("--seed", "-s", type=click.IntRange(min=0), help="Random seed [priors file; 2023].")
@click.option("--out", "-o", type=click.Path(path_type=Path, file_okay=False),
              help="Report folder [reports/<priors file stem>/].")
@click.option("--workers", "-w", type=click.IntRange(min=1), help="Worker processes [all cores].")
@click.option("--quiet", "-q", is_flag=True, help="Print only where the report went.")
@click.option("--json", "as_json", is_flag=True, help="Print summary.json to stdout.")
def run(priors, samples, seed, out, workers, quiet, as_json):
    """Simulate PRIORS (default priors/author.toml) and write summary.json and report.md."""
    signal.signal(signal.SIGTERM, _terminate)
    priors = priors or _default_priors()
    spec = _load(priors)
    out = out or Path("reports") / priors.stem

    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from .engine import simulate
    from .errors import OutputError
    from .output import check_writable, write_folder
    from .report import markdown
    from .summary import build

    n = samples or spec.simulation.samples
    console = Console(stderr=True)
    try:
        check_writable(out)
        with Progress(TextColumn("simulating"), BarColumn(), TextColumn("{task.completed:,}/{task.total:,} worlds"),
                      TimeRemainingColumn(), console=console, transient=True,
                      disable=quiet or as_json or not console.is_terminal) as bar:
            task = bar.add_task("run", total=n)
            result = simulate(spec, samples=n, seed=seed, workers=workers,
                              progress=lambda done: bar.update(task, completed=done))
        summary = build(spec, result)
        text = json.dumps(summary, indent=2)
        write_folder(out, {"summary.json": text + "\n", "report.md": markdown(summary)})
    except OutputError as exc:
        _err(f"error: {exc}")
        sys.exit(EXIT_OUTPUT)
    except KeyboardInterrupt:
        _err(f"interrupted: nothing was written; {out} is as it was")
        sys.exit(130)
    if as_json:
        click.echo(text)
    elif not quiet:
        _print_table(Console(), summary)
    _err(f"report written to {out}/ (report.md, summary.json)")


def _print_table(console, summary) -> None:
    from rich.table import Table

    from .report import LABELS, pct_pm, spread

    table = Table(title=f"{summary['name']} — {summary['samples']:,} worlds, seed {summary['seed']}")
    table.add_column("outcome")
    table.add_column("mean ± MC error", justify="right")
    table.add_column("5th / 50th / 95th across worlds", justify="right")
    rows = [*summary["outcomes"].items(),
            *[(k, summary[k]) for k in ("success_within_horizon", "baseline_success", "plan_minus_baseline")]]
    for key, est in rows:
        table.add_row(LABELS[key], pct_pm(est), spread(est))
    console.print(table)
