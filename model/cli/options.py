"""What commands take: the number-of-worlds type, the options every simulating command
shares, the default priors file, the report folders the files name, and loading a file
(every problem on stderr, exit status 2)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from model.cli.console import err, plain
from model.cli.stopping import EXIT_BAD_INPUT
from model.core.limits import MAX_SAMPLES, MAX_SEED


class Count(click.ParamType):
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
            self.fail(
                f"{value!r}: at most {MAX_SAMPLES:.0e} worlds (10^11 would take about a day "
                "on 2 cores); the Monte Carlo error at 10^8 is already below 0.01 pp",
                param,
                ctx,
            )
        return n


COUNT = Count()


def simulation_options(json_help: str, out_help: str = "Report folder [reports/<priors file stem>/]."):
    """The options every simulating command shares."""

    def wrap(f):
        for option in reversed(
            [
                click.option(
                    "--samples",
                    "-n",
                    type=COUNT,
                    help="Worlds to simulate: 1000000, 1_000_000 or 1e6 [priors file; 1e6].",
                ),
                click.option(
                    "--seed", "-s", type=click.IntRange(min=0, max=MAX_SEED), help="Random seed [priors file; 2023]."
                ),
                click.option("--out", "-o", type=click.Path(path_type=Path, file_okay=False), help=out_help),
                click.option("--workers", "-w", type=click.IntRange(min=1), help="Worker processes [all cores]."),
                click.option("--quiet", "-q", is_flag=True, help="Print only where the report went."),
                click.option("--json", "as_json", is_flag=True, help=json_help),
            ]
        ):
            f = option(f)
        return f

    return wrap


def default_priors() -> Path:
    local = Path("priors/author.toml")
    if local.is_file():
        return local
    from model.priors.priors import preset_path

    return preset_path("author")


def targets(files: list[Path], out: Path | None) -> list[Path]:
    """Each file's report folder; two files may not share one."""
    folders = [out or Path("reports") / f.stem for f in files]
    seen: dict[str, Path] = {}
    for f, t in zip(files, folders, strict=True):
        key = os.path.realpath(t)
        if key in seen:
            raise click.UsageError(
                f"{seen[key]} and {f} would both write {t}/; run them one at a time with --out, or rename one"
            )
        seen[key] = f
    return folders


def compare_name(priors) -> str:
    """compare-<stem>-<stem>…, shortened with a hash where it would be too long for a folder."""
    import hashlib

    name = "compare-" + "-".join(p.stem for p in priors)
    if len(name.encode("utf-8", "surrogateescape")) > 120:
        digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:10]
        name = name.encode("utf-8", "surrogateescape")[:100].decode("utf-8", "ignore") + "-" + digest
    return name


def load(path: Path):
    """The priors file, or every problem with it on stderr and exit status 2."""
    from model.core.errors import PriorsError
    from model.priors.priors import load as load_priors

    try:
        spec = load_priors(path)
    except PriorsError as exc:
        n = len(exc.problems)
        err(f"error: {plain(str(path))} has {n} problem{'s' if n > 1 else ''}:")
        for p in exc.problems:
            err(f"  {plain(str(p))}")
        sys.exit(EXIT_BAD_INPUT)
    for warning in spec.warnings:  # a calibrated file that cannot be checked, or an update made for other priors
        err(f"warning: {plain(warning)}")
    for notice in spec.notices:  # how T_b is obtained, when the file may not expect it (model v3)
        err(f"note: {plain(notice)}")
    return spec
