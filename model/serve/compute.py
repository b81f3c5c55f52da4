"""Runs for the page: a quick estimate first, then a refined one in the background.

Each change (a save, a what-if) starts a new *generation*; work of an older one stops at
its next progress call. Results are cached by the files' contents, the what-ifs, the
number of worlds and the seed, so several tabs of the same file share the work.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping

from model.api import Run, load_priors, simulate
from model.core.errors import PriorsError, Problem
from model.serve import watch, whatif
from model.spec.priors import Priors

#: Worlds of the quick estimate (about 0.15 s of model time on one core).
QUICK = 100_000
#: Most worlds of the refined estimate (the file's own count, up to this: about 1.5 s).
REFINED = 1_000_000


class Stale(Exception):
    """A newer change came in: this work is no longer wanted."""


@dataclass(frozen=True)
class Snapshot:
    """What the page shows of one file: its priors and run, or its problems."""

    path: Path
    priors: Priors | None = None  # with the what-ifs
    file_priors: Priors | None = None  # as the file says
    run: Run | None = None
    problems: tuple[Problem, ...] = ()
    refined: bool = False  # False: the quick estimate (refinement under way)
    whatif: Mapping[str, object] = field(default_factory=dict)  # variable -> TOML value


_cache: OrderedDict[tuple, Run] = OrderedDict()
_cache_lock = threading.Lock()


def _cached_run(key: tuple, priors: Priors, samples: int, seed: int, alive: Callable[[], bool]) -> Run:
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]

    def progress(label, done, total):
        if not alive():
            raise Stale()

    run = simulate(priors, samples=samples, seed=seed, workers=1, progress=progress)
    with _cache_lock:
        _cache[key] = run
        while len(_cache) > 24:
            _cache.popitem(last=False)
    return run


def load(path: Path, changes: Mapping[str, whatif.Change]) -> tuple[Priors, whatif.WhatIf]:
    """The file's priors, and with the page's what-ifs; PriorsError as the loader raises it."""
    priors = load_priors(path)
    changes = {n: c for n, c in changes.items() if n in priors.variables}
    return priors, whatif.apply(priors, changes)


def refined_samples(priors: Priors) -> int:
    return min(priors.simulation.samples, REFINED)


def _key(values: Mapping[str, object]) -> tuple:
    return tuple(sorted((n, v.as_string() if hasattr(v, "as_string") else repr(v)) for n, v in values.items()))


class Lane:
    """One priors file followed for one page: what-ifs, watching, quick then refined runs.

    ``show(snapshot)`` is called from a worker thread with each newer result.
    """

    def __init__(self, path: Path, show: Callable[[Snapshot], None]):
        self.path = Path(path)
        self.show = show
        self.watcher = watch.Watcher(self.path)
        self.changes: dict[str, whatif.Change] = {}
        self.generation = 0
        self._lock = threading.Lock()

    def poll(self) -> None:
        """Start over if the file or a base changed (cheap: a few ``stat`` calls)."""
        if self.watcher.changed():
            self.restart()

    def set_changes(self, changes: Mapping[str, whatif.Change]) -> None:
        self.changes = dict(changes)
        self.restart()

    def stop(self) -> None:
        with self._lock:
            self.generation += 1

    def restart(self) -> None:
        with self._lock:
            self.generation += 1
            generation = self.generation
        threading.Thread(target=self._work, args=(generation, dict(self.changes)), daemon=True,
                         name=f"aar-serve-{generation}").start()

    def _work(self, generation: int, changes: dict) -> None:
        def alive() -> bool:
            return self.generation == generation

        try:
            self._stages(alive, changes)
        except Stale:
            pass
        except PriorsError as exc:
            if alive():
                self.show(Snapshot(self.path, problems=tuple(exc.problems)))
        except Exception as exc:  # noqa: BLE001 - the page says what went wrong; the server lives on
            if alive():
                self.show(Snapshot(self.path, problems=(Problem(self.path, "", f"internal error: {exc!r}"),)))

    def _stages(self, alive: Callable[[], bool], changes: dict) -> None:
        digest = watch.digest(watch.chain(self.path))
        file_priors, applied = load(self.path, changes)
        priors, values = applied.priors, applied.values
        seed, full = priors.simulation.seed, refined_samples(priors)
        stages = [(False, QUICK)] if full > QUICK else []
        for refined, n in [*stages, (True, full)]:
            run = _cached_run((digest, _key(values), n, seed), priors, n, seed, alive)
            if not alive():
                raise Stale()
            self.show(Snapshot(self.path, priors, file_priors, run, refined=refined, whatif=values))
