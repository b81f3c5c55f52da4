"""What a command says on stderr: one-line messages with user text made safe, progress bars
drawn from the API's ``progress(label, done, total)``, and the warning before a long run."""

from __future__ import annotations

from contextlib import contextmanager

import click

#: Runs expected to take longer than this many seconds are announced first.
LONG_RUN = 60.0
#: Fewer worlds than this take well under LONG_RUN on any machine (about 1.7 core-seconds per 10⁶ here).
SURELY_SHORT = 5_000_000
#: A bar's label: "simulating " and the first 20 characters of the file's stem.
LABEL_WIDTH = 31


def err(message: str) -> None:
    click.echo(message, err=True)


def plain(text: str) -> str:
    """User text made safe for a terminal: control characters shown as escapes."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


@contextmanager
def progress_bars(quiet: bool, keep_done: bool = False):
    """A ``progress(label, done, total)`` callback that draws a rich bar per label on stderr
    (at a terminal only), removed when done unless ``keep_done``; None when ``quiet`` (rich
    is not even imported)."""
    if quiet:
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        TaskID,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
    )

    console = Console(stderr=True)
    bars: dict[str, TaskID] = {}
    with Progress(
        TextColumn("{task.description:<28}", markup=False),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        refresh_per_second=4,
        disable=not console.is_terminal,
    ) as shown:

        def progress(label: str, done: int, total: int | None) -> None:
            if label not in bars:
                bars[label] = shown.add_task(plain(label)[:LABEL_WIDTH], total=total)
            shown.update(bars[label], completed=done)
            if not keep_done and total is not None and done >= total:
                shown.remove_task(bars.pop(label))

        yield progress


def announce(spec, samples, workers, quiet: bool) -> None:
    """Say before a long run how long it will take, and how to stop it."""
    from model.montecarlo.engine import estimate_seconds, usable_cores

    n = samples or spec.simulation.samples
    if workers and workers > usable_cores():
        err(f"note: --workers {workers} capped at the {usable_cores()} usable cores")
    if n < SURELY_SHORT:  # no need to time a trial block (0.1 s) to know it is quick
        return
    seconds = estimate_seconds(spec, n, workers)
    if seconds > LONG_RUN:
        err(
            f"note: {n:,} worlds will take about {_duration(seconds)}; Ctrl-C stops at once "
            "and keeps the earlier report"
        )


def _duration(seconds: float) -> str:
    for unit, size in (("days", 86400), ("hours", 3600), ("minutes", 60)):
        if seconds >= 2 * size:
            return f"{seconds / size:.0f} {unit}"
    return f"{seconds:.0f} seconds"
