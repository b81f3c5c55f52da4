"""Runs for the page: a quick estimate first, then a refined one in the background.

Each change (a save, a what-if) starts a new *generation*; work of an older one stops at
its next progress call. A lane has at most one worker thread: changes that come faster
than it works only move the generation on, and the worker takes the newest when it is
done with (or has dropped) the current one, so hundreds of saves in a row never pile up
threads. Results are cached by the files' contents, the what-ifs, the evidence entries switched
off, the number of worlds and the seed, so several tabs of the same file share the work.

Nothing here waits: no join, no wait on an event or a queue; the locks guard a few
assignments each.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from model.api import Run, load_priors, simulate
from model.core.errors import PriorsError, Problem
from model.priors.priors import Priors
from model.serve import watch, whatif

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
    file_digest: str | None = None  # sha256 of the file's bytes these results came from
    off: frozenset[str] = frozenset()  # the evidence entries (``Entry.ident``) switched off on the page


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


def without(priors: Priors, off: frozenset[str]) -> Priors:
    """``priors`` without the evidence entries ``off`` (by ``Entry.ident``): the page's switches.
    The file is untouched; its other entries, and its what-ifs, apply as before."""
    if not off or not priors.evidence:
        return priors
    return replace(priors, evidence=tuple(e for e in priors.evidence if e.ident not in off))


def refined_samples(priors: Priors) -> int:
    return min(priors.simulation.samples, REFINED)


def _key(values: Mapping[str, object]) -> tuple:
    return tuple(sorted((n, v.as_string() if hasattr(v, "as_string") else repr(v)) for n, v in values.items()))


class Lane:
    """One priors file followed for one page: what-ifs, watching, quick then refined runs.

    ``show(snapshot)`` is called from the lane's worker thread with each newer result.
    """

    def __init__(self, path: Path, show: Callable[[Snapshot], None]):
        self.path = Path(path)
        self.show = show
        self.watcher = watch.Watcher(self.path)
        self.changes: dict[str, whatif.Change] = {}
        self.off: frozenset[str] = frozenset()  # evidence entries switched off (Entry.ident)
        self.generation = 0
        self.stopped = self.paused = False
        self._lock = threading.Lock()
        self._wanted: tuple[int, dict, frozenset[str]] | None = None  # the newest generation not started yet
        self._worker: threading.Thread | None = None

    def poll(self) -> None:
        """Start over if the file or a base changed (cheap: a few ``stat`` calls)."""
        if not (self.stopped or self.paused) and self.watcher.changed():
            self.restart()

    def set_changes(self, changes: Mapping[str, whatif.Change]) -> None:
        self.changes = dict(changes)
        self.restart()

    def set_off(self, off: frozenset[str] | set[str]) -> None:
        """Weigh the evidence without the entries ``off`` (by ``Entry.ident``); the file is untouched."""
        self.off = frozenset(off)
        self.restart()

    def stop(self) -> None:
        """For good (the tab is gone): the current work stops at its next progress call."""
        with self._lock:
            self.stopped = True
            self.generation += 1
            self._wanted = None

    def pause(self) -> None:
        """Nobody is looking: the current work stops at its next progress call, none starts."""
        with self._lock:
            self.generation += 1
            self._wanted = None
            self.paused = True

    def resume(self) -> None:
        """Somebody is looking again: the next :meth:`poll` starts over."""
        with self._lock:
            self.paused = False
        self.watcher.forget()

    def restart(self) -> None:
        """A new generation; the worker (started if there is none) takes it next."""
        with self._lock:
            if self.stopped or self.paused:
                return
            self.generation += 1
            self._wanted = (self.generation, dict(self.changes), self.off)
            if self._worker is None:
                self._worker = threading.Thread(target=self._run, daemon=True, name=f"aar-serve {self.path.name}")
                self._worker.start()

    def _run(self) -> None:
        """The lane's one worker: the newest wanted generation, until none is left."""
        while True:
            with self._lock:
                if self._wanted is None:
                    self._worker = None  # under the lock: restart() starts a new one from here on
                    return
                generation, changes, off = self._wanted
                self._wanted = None
            self._work(generation, changes, off)

    def _work(self, generation: int, changes: dict, off: frozenset[str] = frozenset()) -> None:
        def alive() -> bool:
            return self.generation == generation

        try:
            self._stages(alive, changes, off)
        except Stale:
            pass
        except PriorsError as exc:
            if alive():
                self.show(Snapshot(self.path, problems=tuple(exc.problems)))
        except Exception as exc:  # noqa: BLE001 - the page says what went wrong; the server lives on
            if alive():
                self.show(Snapshot(self.path, problems=(Problem(self.path, "", f"internal error: {exc!r}"),)))

    def _stages(self, alive: Callable[[], bool], changes: dict, off: frozenset[str] = frozenset()) -> None:
        files = watch.chain(self.path)
        digest = watch.digest(files)
        try:
            file_digest = hashlib.sha256(watch.read(self.path)).hexdigest()
        except OSError:
            file_digest = None
        if not alive():
            raise Stale()
        file_priors, applied = load(self.path, changes)
        priors, values = without(applied.priors, off), applied.values
        off = frozenset(e.ident for e in file_priors.evidence if e.ident in off)  # those the file still has
        seed, full = priors.simulation.seed, refined_samples(priors)
        stages = [(False, QUICK)] if full > QUICK else []
        for refined, n in [*stages, (True, full)]:
            if not alive():
                raise Stale()
            run = _cached_run((digest, _key(values), tuple(sorted(off)), n, seed), priors, n, seed, alive)
            if not alive():
                raise Stale()
            self.show(
                Snapshot(
                    self.path,
                    priors,
                    file_priors,
                    run,
                    refined=refined,
                    whatif=values,
                    file_digest=file_digest,
                    off=off,
                )
            )
