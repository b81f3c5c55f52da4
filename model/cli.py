"""The ``aar-risk`` command line: parse arguments, call the library, print.

Heavy modules (numpy, scipy, matplotlib, the engine) are imported inside
commands so that ``aar-risk --help`` answers at once.
"""

from __future__ import annotations

import json
import re
import signal
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from . import __version__

EXIT_BAD_INPUT = 2
EXIT_OUTPUT = 1
EXIT_INTERRUPTED = 130
EXIT_NOT_CONVERGED = 3


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


@contextmanager
def _guarded(out: Path):
    """Turn output errors and interruptions into one line and an exit status."""
    from .errors import OutputError

    signal.signal(signal.SIGTERM, _terminate)
    try:
        yield
    except OutputError as exc:
        _err(f"error: {exc}")
        sys.exit(EXIT_OUTPUT)
    except KeyboardInterrupt:
        _err(f"interrupted: nothing was written; {out} is as it was")
        sys.exit(EXIT_INTERRUPTED)


def _progress(quiet: bool):
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    return Progress(TextColumn("{task.description:<28}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                    TimeElapsedColumn(), console=console, transient=True,
                    disable=quiet or not console.is_terminal)


def _simulation_options(json_help: str, out_help: str = "Report folder [reports/<priors file stem>/]."):
    """The options every simulating command shares."""
    def wrap(f):
        for option in reversed([
            click.option("--samples", "-n", type=click.IntRange(min=1),
                         help="Worlds to simulate [priors file; 1,000,000]."),
            click.option("--seed", "-s", type=click.IntRange(min=0), help="Random seed [priors file; 2023]."),
            click.option("--out", "-o", type=click.Path(path_type=Path, file_okay=False), help=out_help),
            click.option("--workers", "-w", type=click.IntRange(min=1), help="Worker processes [all cores]."),
            click.option("--quiet", "-q", is_flag=True, help="Print only where the report went."),
            click.option("--json", "as_json", is_flag=True, help=json_help),
        ]):
            f = option(f)
        return f
    return wrap


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="aar-risk")
def main():
    """Turn your beliefs about the automated alignment researcher (AAR) plan into
    probabilities of its four outcomes: success, kicking the can, capability
    externalities and existential risk."""


def _simulate(spec, bar, label, **kw):
    from .engine import simulate

    n = kw.get("samples") or spec.simulation.samples
    task = bar.add_task(label, total=n)
    result = simulate(spec, progress=lambda done: bar.update(task, completed=done), **kw)
    bar.remove_task(task)
    return result


@main.command()
@click.argument("priors", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@_simulation_options("Print summary.json to stdout.",
                     "Report folder [reports/<priors file stem>/]; one PRIORS file only.")
@click.option("--sensitivity", is_flag=True,
              help="Add the sensitivity section and sensitivity.json (about 2 s more).")
def run(priors, samples, seed, out, workers, sensitivity, quiet, as_json):
    """Simulate PRIORS (default priors/author.toml) and write its report:
    report.html, report.md with figures/, and summary.json.

    Several PRIORS files write one report each, under reports/<stem>/."""
    files = list(priors) or [_default_priors()]
    if out is not None and len(files) > 1:
        raise click.UsageError("--out takes one PRIORS file; without it each goes to reports/<stem>/")
    specs = [(f, _load(f)) for f in files]  # every file is checked before any work
    for path, spec in specs:
        target = out or Path("reports") / path.stem
        with _guarded(target):
            summary = _run_one(spec, target, samples, seed, workers, quiet or as_json, sensitivity)
        if as_json:
            click.echo(json.dumps(summary, indent=2))
        elif not quiet:
            _print_table(summary)
        _err(f"report written to {target}/ (report.html, report.md, summary.json, figures/)")


def _run_one(spec, out: Path, samples, seed, workers, quiet, sensitivity=False) -> dict:
    from .figures import render_all
    from .output import check_writable, write_folder
    from .report import files
    from .summary import build

    check_writable(out)
    with _progress(quiet) as bar:
        result = _simulate(spec, bar, f"simulating {spec.path.stem}", samples=samples, seed=seed,
                           workers=workers, utilities=spec.decision.utilities if sensitivity else None)
        summary = build(spec, result)
        figures = render_all(spec, result)
        sens = None
        if sensitivity:
            task = bar.add_task("sensitivity (SALib, EVPI)", total=None)
            from .sensitivity import analyse
            from .sensitivity_figures import render

            sens = analyse(spec, result, seed=result.seed)
            figures.update(render(sens, {q: e.mean for q, e in result.estimates.items()}))
            bar.remove_task(task)
        task = bar.add_task("drawing figures", total=None)
        content = files(summary, figures, sens)
        bar.remove_task(task)
    write_folder(out, content, keep=("calibration",))
    return summary


def _print_table(summary) -> None:
    from rich.console import Console
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
    Console().print(table)


@main.command()
@click.argument("priors", required=False, type=click.Path(path_type=Path, dir_okay=False))
@_simulation_options("Print sensitivity.json to stdout.")
def sensitivity(priors, samples, seed, out, workers, quiet, as_json):
    """Which belief drives each outcome, and which crux is most worth resolving:
    Sobol indices (SALib), given-data indices, tornado, partial EVPI. Writes the
    run report of PRIORS with its sensitivity section, and sensitivity.json beside it."""
    path = priors or _default_priors()
    spec = _load(path)
    target = out or Path("reports") / path.stem
    with _guarded(target):
        _run_one(spec, target, samples, seed, workers, quiet or as_json, sensitivity=True)
    if as_json:
        click.echo((target / "sensitivity.json").read_text(), nl=False)
    elif not quiet:
        _print_sensitivity(json.loads((target / "sensitivity.json").read_text()))
    _err(f"report written to {target}/ (report.html, report.md, summary.json, sensitivity.json, figures/)")


def _print_sensitivity(sens) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="Which belief matters (total Sobol index; given-data first order)")
    table.add_column("variable")
    outs = ["success", "kicking_the_can", "capability_externalities", "x_risk"]
    for q in outs:
        table.add_column(q.replace("_", " "), justify="right")
    total = sens["outcomes"]["success"]["total"]
    for v in sorted(total, key=lambda k: -total[k]["value"])[:8]:
        table.add_row(v, *(f"{sens['outcomes'][q]['total'][v]['value']:.2f}; "
                           f"{sens['outcomes'][q]['given_data_first_order'][v]:.2f}" for q in outs))
    console = Console()
    console.print(table)
    d = sens["decision"]
    top = sorted(d["evppi"], key=lambda k: -d["evppi"][k])[:3]
    console.print(f"best action: {d['best_action']}; EVPI {d['evpi']:.3g}; most worth learning: "
                  + ", ".join(f"{k} ({d['evppi'][k]:.3g})" for k in top))


@main.command()
@click.argument("priors", type=click.Path(path_type=Path, dir_okay=False))
def validate(priors):
    """Check PRIORS and show every variable's prior: family, parameters, percentiles, source."""
    spec = _load(priors)
    import numpy as np
    from rich.console import Console
    from rich.table import Table

    from .variables import BY_NAME

    table = Table(title=f"{spec.name} ({priors})")
    for col in ("variable", "family", "parameters", "5th", "50th", "95th", "source", "from"):
        table.add_column(col, overflow="fold", no_wrap=col in ("family", "5th", "50th", "95th"))
    for name, prior in spec.variables.items():
        m = prior.marginal
        q = m.ppf(np.array([0.05, 0.5, 0.95]))
        params = ", ".join(f"{k}={v:.4g}" for k, v in m.params().items())
        table.add_row(name + (" ★" if BY_NAME[name].crux else ""), m.family, params,
                      *(f"{v:.4g}" for v in q), _short(prior.source or "—", 48),
                      f"inherited ({prior.origin.name})" if spec.inherited(name) else "this file")
    console = Console()
    console.print(table)
    for (a, b), rho in spec.correlations.items():
        console.print(f"rank correlation {a}, {b} = {rho}")
    console.print(f"[green]{priors}: valid[/green] (★ = crux)")


@main.command()
@click.argument("priors", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--target", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              help="The market's probability [priors file; 0.14].")
@click.option("--horizon", type=click.FloatRange(0, min_open=True), help="Years [priors file; 4].")
@click.option("--trust", type=click.FloatRange(0, min_open=True),
              help="How many observations the market is worth [priors file; 20].")
@click.option("--method", type=click.Choice(["nuts", "reweight", "tilt", "all"]), default="all",
              show_default=True)
@click.option("--out", "-o", type=click.Path(path_type=Path, file_okay=False),
              help="Report folder; calibration goes in its calibration/ [reports/<stem>/].")
@click.option("--samples", "-n", type=click.IntRange(min=1), help="Monte Carlo worlds [priors file].")
@click.option("--seed", "-s", type=click.IntRange(min=0), help="Random seed [priors file].")
@click.option("--draws", type=click.IntRange(min=100), default=1000, show_default=True, help="NUTS draws per chain.")
@click.option("--chains", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--quiet", "-q", is_flag=True, help="Print only where the report went.")
@click.option("--json", "as_json", is_flag=True, help="Print calibration.json to stdout.")
def calibrate(priors, target, horizon, trust, method, out, samples, seed, draws, chains, quiet, as_json):
    """Calibrate PRIORS against the market: how would your beliefs have to move to agree
    with it, given how much you trust it, and what would that do to the four outcomes?

    Exits 3 (and says so at the top of the report) if NUTS fails a convergence check."""
    priors = priors or _default_priors()
    spec = _load(priors)
    from .calibrate import Market
    from .tensor import CalibrationError

    market = Market.from_priors(spec, target, horizon, trust)
    methods = ("nuts", "reweight", "tilt") if method == "all" else (method,)
    folder = (out or Path("reports") / priors.stem) / "calibration"
    if "nuts" in methods:
        from .calibrate import check_nuts

        try:
            check_nuts(spec)
        except CalibrationError as exc:
            _err(f"error: {priors}: {exc}")
            sys.exit(EXIT_BAD_INPUT)
    from .calibration_report import make
    from .output import check_writable, write_folder

    with _guarded(folder):
        check_writable(folder)
        with _progress(quiet or as_json) as bar:
            task = bar.add_task("calibrating", total=None)
            summary, content, converged = make(
                spec, market, methods, samples or spec.simulation.samples,
                spec.simulation.seed if seed is None else seed, draws=draws, chains=chains,
                step=lambda label: bar.update(task, description=label))
        write_folder(folder, content)
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    elif not quiet:
        _print_calibration(summary)
    _err(f"calibration written to {folder}/ (report.html, report.md, calibration.json"
         + (", calibration.nc" if "nuts" in methods else "")
         + (f", {summary['calibrated_priors']['path']}" if summary["calibrated_priors"] else "") + ")")
    if not converged:
        _err("error: NUTS did not converge: " + "; ".join(summary["methods"]["nuts"]["failed"]))
        sys.exit(EXIT_NOT_CONVERGED)


def _print_calibration(summary) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{summary['name']}: calibrated to {100 * summary['target']:.0f}% in "
                        f"{summary['horizon_years']:g} years (trust {summary['trust']:g})")
    cols = ["success_within_horizon", "success", "kicking_the_can", "capability_externalities", "x_risk"]
    table.add_column("")
    for c in cols:
        table.add_column(c.replace("_", " "), justify="right")
    table.add_row("prior", *(f"{100 * summary['prior']['outcomes'][c]:.1f}%" for c in cols))
    for name, m in summary["methods"].items():
        table.add_row(name, *(f"{100 * m['outcomes'][c]:.1f}%" for c in cols))
    Console().print(table)


def _short(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


@main.command()
@click.argument("name")
def init(name):
    """Write priors/NAME.toml: a commented template that inherits the default priors."""
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_\-]*", name):
        _err(f"error: NAME must be letters, digits, '_' or '-' (got {name!r})")
        sys.exit(EXIT_BAD_INPUT)
    from .template import template

    path = Path("priors") / f"{name}.toml"
    if path.exists():
        _err(f"error: {path} already exists; choose another NAME or edit it")
        sys.exit(EXIT_OUTPUT)
    base = _load(_default_priors())
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "x", encoding="utf-8") as fh:
            fh.write(template(name, base))
    except OSError as exc:
        _err(f"error: cannot write {path}: {exc.strerror or exc}")
        sys.exit(EXIT_OUTPUT)
    _err(f"wrote {path}: edit it, then run: aar-risk run {path}")


@main.command()
@click.argument("priors", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@_simulation_options("Print compare.json to stdout.", "Report folder [reports/compare-<stem>-<stem>…/].")
def compare(priors, samples, seed, out, workers, quiet, as_json):
    """Compare two or more PRIORS files: outcomes side by side, and why they differ
    (each pair's differences attributed to variables with Shapley values)."""
    if len(priors) < 2:
        raise click.UsageError("compare needs at least two PRIORS files")
    specs = [_load(p) for p in priors]
    out = out or Path("reports") / ("compare-" + "-".join(p.stem for p in priors))
    from .compare import attribute
    from .compare_report import build, files
    from .output import check_writable, write_folder

    seed = seed if seed is not None else specs[0].simulation.seed
    with _guarded(out):
        check_writable(out)
        with _progress(quiet or as_json) as bar:
            runs = [(s, _simulate(s, bar, f"simulating {s.path.stem}", samples=samples, seed=seed,
                                  workers=workers)) for s in specs]
            pairs = list(zip(specs, specs[1:]))
            task = bar.add_task("attributing differences", total=len(pairs))
            attributions = []
            for a, b in pairs:
                attributions.append(attribute(a, b, seed=seed))
                bar.advance(task)
        summary = build(runs, attributions)
        write_folder(out, files(summary))
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    elif not quiet:
        _print_compare(summary)
    _err(f"comparison written to {out}/ (compare.html, compare.md, compare.json, figures/)")


def _print_compare(summary) -> None:
    from rich.console import Console
    from rich.table import Table

    from .report import LABELS

    console = Console()
    table = Table(title="Outcomes side by side (mean)")
    table.add_column("outcome")
    for f in summary["files"]:
        table.add_column(summary["names"][f], justify="right")
    for q in next(iter(summary["outcomes"].values())):
        table.add_row(LABELS[q], *(f"{100 * summary['outcomes'][f][q]:.1f}%" for f in summary["files"]))
    console.print(table)
    for pair in summary["attribution"]:
        by = pair["outcomes"]["success"]["by_variable"]
        top = sorted(by, key=lambda k: -abs(by[k]))[:3]
        console.print(f"{pair['from']} → {pair['to']}: success {100 * pair['outcomes']['success']['total']:+.1f} pp, "
                      "mostly " + ", ".join(f"{k} {100 * by[k]:+.1f}" for k in top))
