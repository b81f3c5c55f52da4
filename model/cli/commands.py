"""The ``aar-risk`` command line: parse arguments, call the library, print.

Heavy modules (numpy, scipy, matplotlib, the engine) are imported inside
commands so that ``aar-risk --help`` answers at once.
"""

from __future__ import annotations

import json
import os
import re
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

import click

from model.core.version import __version__

EXIT_BAD_INPUT = 2
EXIT_OUTPUT = 1
EXIT_NOT_CONVERGED = 3
#: The most worlds a run accepts (about 1.3 days on 2 cores).
MAX_SAMPLES = 10**11
#: Runs expected to take longer than this many seconds are announced first.
LONG_RUN = 60.0
#: Fewer worlds than this take well under LONG_RUN on any machine (about 1.7 core-seconds per 10⁶ here).
SURELY_SHORT = 5_000_000


class Interrupted(BaseException):
    """Ctrl-C or SIGTERM. Not a KeyboardInterrupt, so no library (PyMC) can swallow it."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.code = 128 + signum  # 130 for Ctrl-C, 143 for SIGTERM


_stop = {"signalled": False, "signum": 0, "said": False, "message": "interrupted: nothing was written"}


def _commit(folder, content) -> None:
    """Swap in the report, unless a signal came (Python may have swallowed its exception,
    e.g. inside a weakref callback): then stop as if it had been raised."""
    if _stop["signalled"]:
        raise Interrupted(_stop["signum"])
    folder.commit(content)
    _stop["message"] = f"interrupted: the report was already written to {_plain(str(folder.shown))}"
_say_lock = threading.Lock()


def _say_interrupted() -> None:
    with _say_lock:
        if not _stop["said"]:
            _stop["said"] = True
            try:
                click.echo(_stop["message"], err=True)
            except Exception:  # noqa: BLE001 - a closed stderr must not stop the exit
                pass


def _on_signal(signum, frame):
    """First signal: unwind (workers are killed, staging removed). Any later one, or
    a clean-up that overruns 1 s, ends the process at once; the kernel drops the lock,
    the workers die with their parent, and the next run removes the staging folder."""
    code = 128 + signum
    if _stop["signalled"]:
        _say_interrupted()
        os._exit(code)
    _stop["signalled"] = True
    _stop["signum"] = signum

    def overrun():
        _say_interrupted()
        os._exit(code)

    timer = threading.Timer(0.9, overrun)
    timer.daemon = True
    timer.start()
    raise Interrupted(signum)


def _install_signals() -> None:
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)


class _Count(click.ParamType):
    """A number of worlds: 1000000, 1_000_000, 1e6 or 1,000,000; at most MAX_SAMPLES."""

    name = "N"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            n = value
        else:
            text = str(value).strip().replace("_", "").replace(",", "")
            try:
                x = float(text)
            except ValueError:
                self.fail(f"{value!r} is not a number of worlds (write 1000000, 1_000_000 or 1e6)", param, ctx)
            if not x.is_integer():
                self.fail(f"{value!r} is not a whole number of worlds", param, ctx)
            n = int(x)
        if n < 1:
            self.fail(f"{value!r}: at least 1 world", param, ctx)
        if n > MAX_SAMPLES:
            self.fail(f"{value!r}: at most {MAX_SAMPLES:.0e} worlds (10^11 would take about a day "
                      "on 2 cores); the Monte Carlo error at 10^8 is already below 0.01 pp", param, ctx)
        return n


COUNT = _Count()


def _default_priors() -> Path:
    local = Path("priors/author.toml")
    if local.is_file():
        return local
    from model.priors.priors import preset_path

    return preset_path("author")


def _err(message: str) -> None:
    click.echo(message, err=True)


def _load(path: Path):
    from model.core.errors import PriorsError
    from model.priors.priors import load

    try:
        spec = load(path)
    except PriorsError as exc:
        n = len(exc.problems)
        _err(f"error: {_plain(str(path))} has {n} problem{'s' if n > 1 else ''}:")
        for p in exc.problems:
            _err(f"  {_plain(str(p))}")
        sys.exit(EXIT_BAD_INPUT)
    for warning in spec.warnings:  # a calibrated file that cannot be checked, or an update made for other priors
        _err(f"warning: {_plain(warning)}")
    return spec


def _plain(text: str) -> str:
    """User text made safe for a terminal: control characters shown as escapes."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@contextmanager
def _guarded(*folders):
    """Prepare report folders before any work; turn output errors and interruptions
    into one line and an exit status (1, 130 or 143). Yields the prepared folders."""
    from model.core.errors import OutputError
    from model.montecarlo.workers import ChildDied
    from model.report.output import ReportFolder

    _install_signals()
    shown = ", ".join(str(f.shown if isinstance(f, ReportFolder) else f) for f in folders)
    _stop["message"] = f"interrupted: nothing was written; {_plain(shown)} is as it was"
    prepared = []
    try:
        for f in folders:
            prepared.append(f.prepare() if isinstance(f, ReportFolder) else f)
        yield prepared
    except OutputError as exc:
        _err(f"error: {_plain(str(exc))}")
        sys.exit(EXIT_OUTPUT)
    except ChildDied as exc:
        if _stop["signalled"]:  # the interrupt reached the children first
            _say_interrupted()
            _exit_now(128 + _stop["signum"])
        _err(f"error: {_plain(str(exc))} (killed, or out of memory?); nothing was written, "
             f"{_plain(shown)} is as it was")
        sys.exit(EXIT_OUTPUT)
    except (Interrupted, KeyboardInterrupt) as exc:  # KeyboardInterrupt: PyMC stopped early
        for f in prepared:
            if hasattr(f, "release"):
                f.release()
        _say_interrupted()
        _exit_now(getattr(exc, "code", 130))
    except Exception:
        if not _stop["signalled"]:  # a real error
            raise
        for f in prepared:  # an error caused by the interrupt (e.g. a half-drawn figure)
            if hasattr(f, "release"):
                f.release()
        _say_interrupted()
        _exit_now(128 + _stop["signum"])
    finally:
        for f in prepared:
            if hasattr(f, "release"):
                f.release()


def _progress(quiet: bool):
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

    console = Console(stderr=True)
    return Progress(TextColumn("{task.description:<28}", markup=False), BarColumn(), TaskProgressColumn(),
                    TimeElapsedColumn(), console=console, transient=True, refresh_per_second=4,
                    disable=quiet or not console.is_terminal)


def _announce(spec, samples, workers, quiet: bool) -> None:
    """Say before a long run how long it will take, and how to stop it."""
    from model.montecarlo.engine import estimate_seconds, usable_cores

    n = samples or spec.simulation.samples
    if workers and workers > usable_cores():
        _err(f"note: --workers {workers} capped at the {usable_cores()} usable cores")
    if n < SURELY_SHORT:  # no need to time a trial block (0.1 s) to know it is quick
        return
    seconds = estimate_seconds(spec, n, workers)
    if seconds > LONG_RUN:
        _err(f"note: {n:,} worlds will take about {_duration(seconds)}; Ctrl-C stops at once "
             "and keeps the earlier report")


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} seconds"


def _simulation_options(json_help: str, out_help: str = "Report folder [reports/<priors file stem>/]."):
    """The options every simulating command shares."""
    def wrap(f):
        for option in reversed([
            click.option("--samples", "-n", type=COUNT,
                         help="Worlds to simulate: 1000000, 1_000_000 or 1e6 [priors file; 1e6]."),
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
def cli():
    """Turn your beliefs about the automated alignment researcher (AAR) plan into
    probabilities of its four outcomes: success, kicking the can, capability
    externalities and existential risk."""


def _simulate(spec, bar, label, **kw):
    from model.montecarlo.engine import simulate

    n = kw.get("samples") or spec.simulation.samples
    task = bar.add_task(label, total=n)
    result = simulate(spec, progress=lambda done: bar.update(task, completed=done), **kw)
    bar.remove_task(task)
    return result


def _targets(files: list[Path], out: Path | None) -> list[Path]:
    """Each file's report folder; two files may not share one."""
    targets = [out or Path("reports") / f.stem for f in files]
    seen: dict[str, Path] = {}
    for f, t in zip(files, targets):
        key = os.path.realpath(t)
        if key in seen:
            raise click.UsageError(f"{seen[key]} and {f} would both write {t}/; run them one at a "
                                   "time with --out, or rename one")
        seen[key] = f
    return targets


@cli.command()
@click.argument("priors", nargs=-1, type=click.Path(path_type=Path, dir_okay=False))
@_simulation_options("Print summary.json to stdout (a list of them for several PRIORS).",
                     "Report folder [reports/<priors file stem>/]; one PRIORS file only.")
@click.option("--sensitivity", is_flag=True,
              help="Add the sensitivity section and sensitivity.json (about 2 s more).")
def run(priors, samples, seed, out, workers, sensitivity, quiet, as_json):
    """Simulate PRIORS (default priors/author.toml) and write its report:
    report.html, report.md with figures/, and summary.json.

    Several PRIORS files write one report each, under reports/<stem>/."""
    # one BLAS thread per process (set before numpy loads): the run's processes already fill
    # the cores, and OpenBLAS's idle threads spin (≈ 0.25 CPU-s of a 10⁶-world run)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    files = list(priors) or [_default_priors()]
    if out is not None and len(files) > 1:
        raise click.UsageError("--out takes one PRIORS file; without it each goes to reports/<stem>/")
    targets = _targets(files, out)
    summaries = _run_all(files, targets, samples, seed, workers, sensitivity, quiet, as_json)
    if as_json:
        click.echo(json.dumps(summaries[0] if len(summaries) == 1 else summaries, indent=2))


def _run_all(files, targets, samples, seed, workers, sensitivity, quiet, as_json) -> list[dict]:
    """Check every file and folder, and only then start any process: simulate, draw, write."""
    from model.report.output import ReportFolder

    specs = [_load(f) for f in files]  # every file is checked before any work
    if sensitivity:
        _enough_for_sensitivity(specs, samples)
    if sensitivity and any(s.calibration.apply for s in specs):
        raise click.UsageError("--sensitivity does not apply to a calibrated priors file (its worlds are "
                               "weighted); run it on the file's base")
    summaries = []
    with _guarded(*(ReportFolder(t, "run") for t in targets)) as folders:
        for spec in specs:
            _announce(spec, samples, workers, quiet or as_json)
        for spec, folder in zip(specs, folders):
            summary, _ = _run_one(spec, folder, samples, seed, workers, quiet or as_json, sensitivity)
            summaries.append(summary)
            if not (quiet or as_json):
                _print_table(summary)
            if summary.get("calibration_applied"):
                a = summary["calibration_applied"]
                _err(f"calibrated file ({a['apply']}): effective sample size {a['effective_sample_size']:,.0f} "
                     f"of {summary['samples']:,} worlds"
                     + (" — too few, the numbers are unreliable: run more worlds (-n)" if a["warning"] else ""))
            _err(f"report written to {_plain(str(folder.shown))}/ (report.html, report.md, summary.json, figures/)")
    return summaries


#: Up to this many worlds (a few seconds), the priors' figures are drawn in worker processes
#: while the simulation runs; a longer run draws them after it, so that its processes never
#: outnumber the cores for long.
DRAW_WHILE_SIMULATING = 10**7


def _run_one(spec, folder, samples, seed, workers, quiet, sensitivity=False) -> tuple[dict, dict | None]:
    """Simulate, summarise, draw and write one run report into a prepared folder (the
    inputs are checked). The figures are drawn in worker processes: those of the priors
    while a short run simulates."""
    from model.report.drawing import Drawing
    from model.report.summary import build

    import model.montecarlo.engine  # noqa: F401 - before the fork, so the drawing process shares it

    n = samples or spec.simulation.samples
    now = n <= DRAW_WHILE_SIMULATING
    with Drawing(now=now) as drawing, (_Silent() if quiet else _progress(quiet)) as bar:
        drawing.start(spec, now=now)
        result = _simulate(spec, bar, f"simulating {_plain(spec.path.stem)[:20]}", samples=samples, seed=seed,
                           workers=workers, utilities=spec.decision.utilities if sensitivity else None)
        summary = build(spec, result)
        task = bar.add_task("drawing figures", total=None)
        figures = drawing.finish(result)
        bar.remove_task(task)
        sens = None
        if sensitivity:
            task = bar.add_task("sensitivity (SALib, EVPI)", total=None)
            from model.analyses.sensitivity import analyse
            from model.report.sensitivity import render

            sens = analyse(spec, result, seed=result.seed)
            figures.update(render(sens, {q: e.mean for q, e in result.estimates.items()}))
            bar.remove_task(task)
        from model.report.render import files

        content = files(summary, figures, sens, _calibration_link(folder.path, summary["priors_digest"]))
    _commit(folder, content)
    return summary, sens


class _Silent:
    """A progress display that shows nothing (a quiet run does not import rich)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def add_task(self, *args, **kw) -> int:
        return 0

    def update(self, *args, **kw) -> None:
        pass

    def remove_task(self, *args) -> None:
        pass


def _calibration_link(folder: Path, digest: str) -> dict:
    """Whether the report folder holds a calibration of these very priors (else it is stale)."""
    try:
        made = json.loads((folder / "calibration" / "calibration.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"exists": False, "current": False}
    return {"exists": True, "current": isinstance(made, dict) and made.get("priors_digest") == digest}


def _print_table(summary) -> None:
    from model.cli import terminal

    terminal.outcomes(summary)


@cli.command()
@click.argument("priors", required=False, type=click.Path(path_type=Path, dir_okay=False))
@_simulation_options("Print sensitivity.json to stdout.")
def sensitivity(priors, samples, seed, out, workers, quiet, as_json):
    """Which belief drives each outcome, and which crux is most worth resolving:
    Sobol indices (SALib), given-data indices, tornado, partial EVPI. Writes the
    run report of PRIORS with its sensitivity section, and sensitivity.json beside it."""
    from model.report.output import ReportFolder

    path = priors or _default_priors()
    target = _targets([path], out)[0]
    spec = _load(path)
    _enough_for_sensitivity([spec], samples)
    if spec.calibration.apply is not None:
        raise click.UsageError("sensitivity does not apply to a calibrated priors file (its worlds are "
                               "weighted); run it on the file's base")
    with _guarded(ReportFolder(target, "run")) as (folder,):
        _announce(spec, samples, workers, quiet or as_json)
        _, sens = _run_one(spec, folder, samples, seed, workers, quiet or as_json, sensitivity=True)
    if as_json:
        click.echo(json.dumps(sens, indent=2))
    elif not quiet:
        _print_sensitivity(sens)
    _err(f"report written to {_plain(str(target))}/ (report.html, report.md, summary.json, sensitivity.json, figures/)")


def _enough_for_sensitivity(specs: list, samples: int | None) -> None:
    """Refuse, before any work, a sensitivity analysis on too few worlds to mean anything."""
    from model.analyses.sensitivity import check_samples

    for spec in specs:
        try:
            check_samples(samples or spec.simulation.samples)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None


def _print_sensitivity(sens) -> None:
    from model.cli import terminal

    terminal.sensitivity(sens)


@cli.command()
@click.argument("priors", type=click.Path(path_type=Path, dir_okay=False))
def validate(priors):
    """Check PRIORS and show every variable's prior: family, parameters, percentiles, source."""
    spec = _load(priors)
    from model.cli import terminal

    terminal.validate(spec, priors)


@cli.command()
@click.argument("priors", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--target", type=click.FloatRange(0, 1, min_open=True, max_open=True),
              help="The market's probability [priors file; 0.14].")
@click.option("--horizon", type=click.FloatRange(0, min_open=True), help="Years [priors file; 4].")
@click.option("--trust", type=click.FloatRange(0, 1e6),
              help="How many observations the market is worth [priors file; 20].")
@click.option("--method", type=click.Choice(["nuts", "reweight", "tilt", "all"]), default="all",
              show_default=True)
@click.option("--out", "-o", type=click.Path(path_type=Path, file_okay=False),
              help="Report folder; calibration goes in its calibration/ [reports/<stem>/].")
@click.option("--samples", "-n", type=COUNT, help="Monte Carlo worlds: 1e6, 1_000_000 [priors file].")
@click.option("--seed", "-s", type=click.IntRange(min=0, max=2**63 - 1), help="Random seed [priors file].")
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
    from model.analyses.calibration.methods import check_nuts
    from model.families.tensor import CalibrationError

    if spec.calibration.apply is not None:
        _err(f"error: {_plain(str(priors))} is already calibrated ([calibration] apply = "
             f"\"{spec.calibration.apply}\"); calibrate the file it inherits from instead")
        sys.exit(EXIT_BAD_INPUT)
    methods = ("nuts", "reweight", "tilt") if method == "all" else (method,)
    folder = _targets([priors], out)[0] / "calibration"
    if "nuts" in methods:
        try:
            check_nuts(spec)
        except CalibrationError as exc:
            _err(f"error: {_plain(str(priors))}: {exc}")
            sys.exit(EXIT_BAD_INPUT)
    from model import api
    from model.report.calibration import make
    from model.report.output import ReportFolder

    # calibration/ is a sub-report: it takes its parent report's lock, so a run of the
    # parent and a calibration never write at the same time
    with _guarded(ReportFolder(folder, "calibration", lock_at=folder.parent)) as (prepared,):
        with _progress(quiet or as_json) as bar:
            bars: dict[str, object] = {}

            def progress(label: str, done: int, total: int | None) -> None:
                if label not in bars:
                    bars[label] = bar.add_task(label, total=total)
                bar.update(bars[label], completed=done)

            # checked above, before the folder was taken; the API function after its checks
            computed = api._calibrate(spec, api._market(spec, target, horizon, trust), methods, samples, seed,
                                      draws, 1000, chains, None, progress).computed
            summary, content = make(computed, prepared.path)
        _commit(prepared, content)
    converged = computed.converged
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
    from model.cli import terminal

    terminal.calibration(summary)


def _short(text: str, width: int) -> str:
    from model.core.text import short

    return short(text, width)


@cli.command()
@click.argument("name")
def init(name):
    """Write priors/NAME.toml: a commented template that inherits the default priors."""
    if not re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_\-]*", name):
        _err(f"error: NAME must be letters, digits, '_' or '-' (got {name!r})")
        sys.exit(EXIT_BAD_INPUT)
    from model.priors.template import template

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


@cli.command()
@click.argument("priors", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@_simulation_options("Print compare.json to stdout.", "Report folder [reports/compare-<stem>-<stem>…/].")
def compare(priors, samples, seed, out, workers, quiet, as_json):
    """Compare two or more PRIORS files: outcomes side by side, and why they differ
    (each pair's differences attributed to variables with Shapley values)."""
    if len(priors) < 2:
        raise click.UsageError("compare needs at least two PRIORS files")
    specs = [_load(p) for p in priors]
    out = out or Path("reports") / _compare_name(priors)
    from model.analyses.compare import attribute, check_comparable
    from model.report.compare import build, files
    from model.report.output import ReportFolder

    try:
        check_comparable(specs)
    except ValueError as exc:
        _err(f"error: {_plain(str(exc))}")
        sys.exit(EXIT_BAD_INPUT)
    seed = seed if seed is not None else specs[0].simulation.seed
    given, samples = samples, samples or specs[0].simulation.samples  # one sample count for every view
    with _guarded(ReportFolder(out, "compare")) as (folder,):
        for spec in specs:
            _announce(spec, samples, workers, quiet or as_json)
        with _progress(quiet or as_json) as bar:
            runs = [(s, _simulate(s, bar, f"simulating {_plain(s.path.stem)[:20]}", samples=samples, seed=seed,
                                  workers=workers)) for s in specs]
            pairs = list(zip(specs, specs[1:]))
            task = bar.add_task("attributing differences", total=len(pairs))
            attributions = []
            for a, b in pairs:
                attributions.append(attribute(a, b, samples=given, seed=seed))  # its own default size
                bar.advance(task)
        summary = build(runs, attributions)
        _commit(folder, files(summary))
    if as_json:
        click.echo(json.dumps(summary, indent=2))
    elif not quiet:
        _print_compare(summary)
    _err(f"comparison written to {out}/ (compare.html, compare.md, compare.json, figures/)")


def _compare_name(priors) -> str:
    """compare-<stem>-<stem>…, shortened with a hash where it would be too long for a folder."""
    import hashlib

    name = "compare-" + "-".join(p.stem for p in priors)
    if len(name.encode("utf-8", "surrogateescape")) > 120:
        digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:10]
        name = name.encode("utf-8", "surrogateescape")[:100].decode("utf-8", "ignore") + "-" + digest
    return name


def _print_compare(summary) -> None:
    from model.cli import terminal

    terminal.compare(summary)


@cli.command()
@click.argument("priors", required=False, type=click.Path(path_type=Path, dir_okay=False))
@click.option("--port", "-p", type=click.IntRange(1, 65535), help="Port on 127.0.0.1 [5006, or a free one].")
@click.option("--no-browser", is_flag=True, help="Do not open a browser; just print the address.")
def serve(priors, port, no_browser):
    """A live page of PRIORS (default priors/author.toml) that follows the file as you save it:
    outcomes, crux map, densities, what-if sliders. Ctrl-C stops it."""
    from model.serve.app import serve as serve_page

    path = priors or _default_priors()
    _stop["message"] = "stopped serving"

    def stop(signum, frame):  # nothing to clean up: the page writes only on "write to file", atomically
        _stop["signum"] = signum
        _say_interrupted()
        _exit_now(128 + signum)

    def ready(url):
        for signum in (signal.SIGINT, signal.SIGTERM):  # replaces the web server's own handlers
            signal.signal(signum, stop)
        _err(f"serving {_plain(str(path))} at {url} (following the file; Ctrl-C stops)")

    try:
        serve_page(path, port, not no_browser, ready=ready)
    except OSError as exc:
        _err(f"error: cannot serve on port {port or 'any'}: {exc.strerror or exc}")
        sys.exit(EXIT_OUTPUT)


def main() -> None:
    """The ``aar-risk`` entry point: one line and 130/143 for an interrupt at any moment."""
    os.environ.setdefault("MPLBACKEND", "Agg")  # the command draws to files, never to a window
    _install_signals()
    try:
        cli()
    except Interrupted as exc:
        _say_interrupted()
        _exit_now(exc.code)
    except SystemExit as exc:  # leave without the finalisation that restores default handlers
        if _stop["signalled"]:
            _say_interrupted()
            _exit_now(128 + _stop["signum"])
        code = exc.code
        if code is not None and not isinstance(code, int):
            click.echo(code, err=True)
            code = 1
        _exit_now(code or 0)
    _exit_now(0)


def _exit_now(code: int) -> None:
    """Exit without the interpreter's finalisation, which restores default signal
    handlers: a second signal during it would end the process with -15 instead of 143."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001
            pass
    os._exit(code)
