"""Vectorised Monte Carlo over worlds, in fixed seeded blocks, in constant memory.

Block ``b`` draws its worlds from ``SeedSequence(seed, spawn_key=(b,))``, so the
result is the same for any number of workers and any grouping of blocks into
tasks. Each block is reduced to moments, extremes and fixed histograms that
merge exactly; per-world arrays are kept only when asked for.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Iterator

import numpy as np

from model.montecarlo import workers as procs
from model.montecarlo.blocks import run_block
from model.montecarlo.cells import MAP_AXES, MAP_CELLS, MAP_QUANTITIES, ambition_of, crux_cells, crux_map_of
from model.montecarlo.estimates import Estimate, Result, estimates_of
from model.montecarlo.histograms import HIST_BINS, LOGIT_SPAN
from model.montecarlo.sampler import BLOCK, Sampler, block_rng
from model.montecarlo.stats import QUANTITIES, Stats
from model.montecarlo.timing import estimate_seconds
from model.montecarlo.weighting import log_weights, priors_weighting
from model.priors.beliefs import Priors

#: Re-exported: what the CLI, API, report and tests import from here.
__all__ = [
    "BLOCK",
    "HIST_BINS",
    "LOGIT_SPAN",
    "MAP_AXES",
    "MAP_CELLS",
    "MAP_QUANTITIES",
    "QUANTITIES",
    "Estimate",
    "Result",
    "Sampler",
    "block_rng",
    "crux_cells",
    "estimate_seconds",
    "log_weights",
    "priors_weighting",
    "simulate",
    "usable_cores",
]


def _run_task(sampler: Sampler, seed: int, blocks: list[tuple[int, int]], keep: int):
    """The blocks' summaries, and of the run's first ``keep`` worlds those in these blocks."""
    stats, hist, kept = [], None, []
    for block, n in blocks:
        s, h, k = run_block(sampler, seed, block, n, max(0, min(n, keep - block * BLOCK)))
        stats.append((block, s))
        hist = h if hist is None else hist + h
        kept.append((block, k))
    return stats, hist, kept


#: The sampler of a worker process, set once by ``_worker_init`` (fork or spawn).
_WORKER_SAMPLER: Sampler | None = None


def _worker_init(sampler: Sampler) -> None:
    """A worker keeps the sampler (inherited by fork, or sent once to a spawned worker)."""
    global _WORKER_SAMPLER
    _WORKER_SAMPLER = sampler


def _worker_task(seed: int, blocks: list[tuple[int, int]], keep: int):
    assert _WORKER_SAMPLER is not None, "the worker was started without _worker_init"
    return _run_task(_WORKER_SAMPLER, seed, blocks, keep)


usable_cores = procs.usable_cores


def _tasks(samples: int, per: int) -> Iterator[list[tuple[int, int]]]:
    """Consecutive groups of ``per`` blocks, generated lazily (10¹¹ worlds is 1.5·10⁶ blocks)."""
    blocks = math.ceil(samples / BLOCK)
    for first in range(0, blocks, per):
        yield [(b, min(BLOCK, samples - b * BLOCK)) for b in range(first, min(first + per, blocks))]


def _in_order(workers: int, tasks: Iterator, sampler: Sampler, seed: int, keep: int) -> Iterator:
    """Yield each task's result in task order: in this process, or from a pool of workers.

    At most ``2 * workers`` tasks are in flight, so memory does not grow with the
    number of worlds. A worker's death is an error; any exception (Ctrl-C included)
    stops the workers within a second (:class:`model.montecarlo.workers.Pool`).
    """
    if workers == 1:
        for task in tasks:
            yield task, _run_task(sampler, seed, task, keep)
        return
    sampler.prepare()
    tasks, sent = _tee(tasks)
    with procs.Pool(workers, _worker_task, _worker_init, (sampler,)) as pool:
        for result in pool.results(((seed, task, keep) for task in tasks), window=2 * workers):
            yield sent.popleft(), result


def _tee(tasks: Iterator) -> tuple[Iterator, deque]:
    """``tasks`` again, remembering each one taken until the caller pops it (in order)."""
    sent: deque = deque()

    def gen():
        for task in tasks:
            sent.append(task)
            yield task

    return gen(), sent


def simulate(
    priors: Priors,
    samples: int | None = None,
    seed: int | None = None,
    workers: int | None = None,
    keep_worlds: bool | int = False,
    blocks_per_task: int | None = None,
    horizon: float | None = None,
    target: float | None = None,
    utilities: tuple[float, float, float] | None = None,
    progress: Callable[[int], None] | None = None,
    weighting: tuple | None = None,
) -> Result:
    """Monte Carlo estimates of every quantity in QUANTITIES under ``priors``.

    ``progress`` (if given) is called with the number of worlds finished so far.
    ``weighting`` (default: the file's ``[calibration] apply``, see :func:`log_weights`)
    weights every world as it streams, so a calibrated priors file reproduces its
    calibration in one pass. Results depend only on ``priors``, ``samples`` and ``seed``.
    ``keep_worlds`` keeps every world (True) or the first n (an int) in ``Result.worlds``.
    """
    samples = priors.simulation.samples if samples is None else int(samples)
    seed = priors.simulation.seed if seed is None else int(seed)
    if samples < 1:
        raise ValueError("samples must be at least 1")
    sampler = _sampler(
        priors, horizon, target, utilities, weighting if weighting is not None else priors_weighting(priors)
    )
    blocks = math.ceil(samples / BLOCK)
    workers = max(1, min(workers or usable_cores(), usable_cores(), blocks))
    # about 4 blocks (a quarter second) per task: progress at least every second
    per = blocks_per_task or max(1, min(4, math.ceil(blocks / (4 * workers))))
    keep = samples if keep_worlds is True else min(int(keep_worlds), samples)
    total, hist, kept = _accumulate(
        _in_order(workers, _tasks(samples, per), sampler, seed, keep), sampler.weighting is not None, progress
    )
    worlds = {k: np.concatenate([d[k] for d in kept]) for k in kept[0]} if keep else None
    estimates, below, ess = estimates_of(total, hist)
    return Result(
        samples,
        seed,
        sampler.horizon,
        sampler.target,
        estimates,
        below,
        hist,
        crux_map_of(total, sampler.map_edges),
        ambition_of(total),
        total.sens,
        worlds,
        sampler.weighting,
        ess,
        _given(total, sampler),
    )


def _given(total: Stats, sampler: Sampler):
    """The run given its evidence (model/montecarlo/given.py), or None without evidence."""
    if total.evidence is None:
        return None
    from model.montecarlo.given import given_of

    return given_of(total.evidence, sampler.evidence, dict(sampler.crux_edges))


def _sampler(priors: Priors, horizon, target, utilities, weighting) -> Sampler:
    """The sampler of a run: with the sensitivity bins when ``utilities`` are given, and
    with a calibrated file's ``weighting``."""
    from dataclasses import replace

    sampler = Sampler.from_priors(priors, horizon, target)
    if utilities is not None:  # accumulate the bins of model.montecarlo.binned as well
        v, c_x, c_e = utilities
        sampler = replace(sampler, utilities=(float(v), float(c_x), float(c_e)))
    if weighting is not None:
        sampler = replace(sampler, weighting=tuple(weighting))
    return sampler


def _accumulate(
    results: Iterator, weighted: bool, progress: Callable[[int], None] | None
) -> tuple[Stats, np.ndarray, list[dict]]:
    """Merge the tasks' results, in block order (bit-identical for any scheduling): the
    statistics, the histograms (weighted in a weighted run) and the kept worlds."""
    total: Stats | None = None
    kept: list[dict] = []
    hist = np.zeros((len(QUANTITIES), HIST_BINS + 2), dtype=float if weighted else np.int64)
    done = 0
    for task, (stats, h, k) in results:
        for _, s in stats:
            total = s if total is None else total.merge(s)
        kept.extend(d for _, d in k if d is not None)
        hist += h
        done += sum(n for _, n in task)
        if progress:
            progress(done)
    assert total is not None, "a run has at least one block"
    return total, hist, kept
