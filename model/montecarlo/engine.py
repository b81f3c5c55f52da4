"""Vectorised Monte Carlo over worlds, in fixed seeded blocks, in constant memory.

Block ``b`` draws its worlds from ``SeedSequence(seed, spawn_key=(b,))``, so the
result is the same for any number of workers and any grouping of blocks into
tasks. Each block is reduced to moments, extremes and fixed histograms that
merge exactly; per-world arrays are kept only when asked for.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field, fields, is_dataclass
from typing import TYPE_CHECKING, Callable, Iterator, Mapping

import numpy as np
from scipy import special

from model.core import copula as gc
from model.core.quantities import ALL, HEADLINE, OUTCOMES, SIGNED, Q
from model.core.structure import (
    S_FLOOR,
    market_log_likelihood,
    market_log_likelihood_max,
    outcomes,
)
from model.core.variables import NAMES
from model.montecarlo import workers as procs
from model.priors.beliefs import Priors

if TYPE_CHECKING:
    from model.montecarlo.binned import SensitivitySums

#: Worlds per block. Fixed: changing it changes every random stream.
BLOCK = 65_536

#: Quantities summarised (names as in summary.json); all per-world probabilities.
QUANTITIES = ALL
_SIGNED = SIGNED  # lives in [-1, 1]; binned as (x + 1)/2

#: Histogram on a logit grid: fine in relative terms near 0 and 1 as well as mid-range.
LOGIT_SPAN = 23.0  # expit(-23) ≈ 1e-10
HIST_BINS = 2**15

#: The crux map: per-cell sums of these over a grid of (capability_needed, relative_difficulty).
MAP_QUANTITIES = (*OUTCOMES, Q.success_within_horizon)
MAP_CELLS = 48

#: The ambition curve: outcomes given the AAR's speed-up s = 1/(1 − p), on a log grid
#: from 1× to 10⁶× (the essay's 2×, 100× and 52,000× all inside), last bin open-ended.
AMBITION_QUANTITIES = HEADLINE
AMBITION_EDGES = np.logspace(0.0, 6.0, 49)


def block_rng(seed: int, block: int) -> np.random.Generator:
    """The generator of block ``block``: independent of how blocks are distributed."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))


@dataclass(frozen=True)
class Sampler:
    """What a worker needs to draw worlds: marginals, copula, horizon, target."""

    marginals: tuple  # (name, Marginal) for every variable, in NAMES order
    random: tuple[str, ...]  # the variables that are not point masses, in NAMES order
    copula: gc.GaussianCopula  # over the random variables
    horizon: float
    target: float
    map_edges: tuple[np.ndarray, np.ndarray]  # cell edges in C and in R
    utilities: tuple[float, float, float] | None = None  # set: accumulate sensitivity bins
    #: a calibrated priors file's weighting: ("update", trust, target) or ("tilt", λ)
    weighting: tuple | None = None

    @classmethod
    def from_priors(cls, priors: Priors, horizon: float | None = None,
                    target: float | None = None) -> "Sampler":
        random = priors.random_names()
        return cls(tuple((n, priors.variables[n].marginal) for n in NAMES), random, priors.copula(random),
                   priors.calibration.horizon_years if horizon is None else horizon,
                   priors.calibration.target if target is None else target,
                   tuple(_map_edges(n, priors.variables[n].marginal)
                         for n in ("capability_needed", "relative_difficulty")))

    def prepare(self) -> None:
        """Build each marginal's quantile table now (≈ 0.1 s), so that forked workers share it
        instead of each building its own."""
        marginals = dict(self.marginals)
        for name in self.random:
            marginals[name].from_z(np.zeros(1))

    def draw(self, rng: np.random.Generator, n: int, copula_u: bool = False):
        """n worlds: correlated standard normals through each marginal's quantile function.

        With ``copula_u`` also returns u = Φ(z) of every random variable (rows in NAMES order).
        """
        z = self.copula.correlate(rng.standard_normal((len(self.random), n)))
        worlds: dict[str, np.ndarray | float] = {name: m.value for name, m in self.marginals
                                                 if m.family == "point"}
        marginals = dict(self.marginals)
        for name, row in zip(self.random, z):
            worlds[name] = marginals[name].from_z(row)
        if copula_u:
            return worlds, gc.uniforms(z)
        return worlds


#: The crux map's default axes (the essay's chart): C from GPT-4 (0) to twice AGI, R from
#: trivial to half again as hard as aligning AGI. Fixed, so two views' maps compare.
MAP_AXES = {"capability_needed": (0.0, 2.0), "relative_difficulty": (0.0, 1.5)}


def _map_edges(name: str, marginal) -> np.ndarray:
    """Crux-map cell edges: the default axis, widened to the prior's 0.5th and 99.5th percentiles."""
    lo, hi = MAP_AXES[name]
    p_lo, p_hi = (float(v) for v in marginal.ppf(np.array([0.005, 0.995])))
    return np.linspace(min(lo, p_lo), max(hi, p_hi), MAP_CELLS + 1)


def crux_cells(c: np.ndarray, r: np.ndarray, edges: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """Flat crux-map cell ``i·cells_r + j`` of each world, C in cell i and R in cell j.

    A cell holds [edge, next edge); the last one also holds the top edge, so both ends of
    each axis are inside. A world outside either axis (or NaN) gets ``cells_c·cells_r``, one
    past the last cell. The run's map and compare's maps on common axes both bin with this.
    """
    cells_c, cells_r = len(edges[0]) - 1, len(edges[1]) - 1
    i = np.searchsorted(edges[0], c, side="right") - 1
    j = np.searchsorted(edges[1], r, side="right") - 1
    i = np.where(c == edges[0][-1], cells_c - 1, i)  # the top edge belongs to the last cell
    j = np.where(r == edges[1][-1], cells_r - 1, j)
    inside = (i >= 0) & (i < cells_c) & (j >= 0) & (j < cells_r)
    return np.where(inside, i * cells_r + j, cells_c * cells_r)


def _map_sums(worlds, values, edges, n, w=None):
    """Per-cell world counts and (weighted) sums of MAP_QUANTITIES, and with weights w also
    the per-cell Σw (the last cell collects the outside)."""
    c = np.broadcast_to(worlds["capability_needed"], (n,))
    r = np.broadcast_to(worlds["relative_difficulty"], (n,))
    cell = crux_cells(c, r, edges)
    return _cell_sums(cell, MAP_CELLS * MAP_CELLS + 1, values, MAP_QUANTITIES, w)


def _cell_sums(cell, size, values, quantities, w):
    counts = np.bincount(cell, minlength=size)
    rows = [values[QUANTITIES.index(q)] for q in quantities]
    sums = np.stack([np.bincount(cell, weights=x if w is None else x * w, minlength=size) for x in rows])
    if w is None:
        return counts, sums
    return counts, sums, np.bincount(cell, weights=w, minlength=size)


@dataclass
class _Stats:
    """Mergeable summary of per-world values: moments (Chan et al. 1979), extremes, histogram."""

    n: int
    mean: np.ndarray
    m2: np.ndarray
    low: np.ndarray
    high: np.ndarray
    below_target: int
    map_counts: np.ndarray
    map_sums: np.ndarray
    ambition_counts: np.ndarray
    ambition_sums: np.ndarray
    sens: "SensitivitySums | None" = None  # the sensitivity section's bins (model.montecarlo.binned)
    weighted: "_Weighted | None" = None  # a calibrated file's weighted sums

    @classmethod
    def of(cls, values: np.ndarray, below_target: int, map_counts, map_sums, ambition,
           sens=None, weighted=None) -> "_Stats":
        mean = values.mean(axis=1)
        return cls(values.shape[1], mean, ((values - mean[:, None]) ** 2).sum(axis=1),
                   values.min(axis=1), values.max(axis=1), below_target, map_counts, map_sums,
                   *ambition, sens, weighted)

    def merge(self, other: "_Stats") -> "_Stats":
        n = self.n + other.n
        delta = other.mean - self.mean
        return _Stats(n, self.mean + delta * other.n / n,
                      self.m2 + other.m2 + delta**2 * self.n * other.n / n,
                      np.minimum(self.low, other.low), np.maximum(self.high, other.high),
                      self.below_target + other.below_target, self.map_counts + other.map_counts,
                      self.map_sums + other.map_sums, self.ambition_counts + other.ambition_counts,
                      self.ambition_sums + other.ambition_sums,
                      None if self.sens is None else self.sens.merge(other.sens),
                      None if self.weighted is None else self.weighted.merge(other.weighted))


@dataclass
class _Weighted:
    """Sums over worlds with importance weights w ≤ 1 (a calibrated priors file), all additive.

    From them: weighted means Σw·x/Σw, their Monte Carlo error
    sqrt(Σw²(x − μ)²)/Σw (self-normalised importance sampling), Kish's effective sample
    size (Σw)²/Σw², and the denominators Σw of the crux map and the ambition curve (their
    numerators are the weighted sums ``_Stats`` already holds in a weighted run).
    """

    w: float
    w2: float
    wx: np.ndarray  # per quantity
    w2x: np.ndarray
    w2x2: np.ndarray
    below: float
    map_w: np.ndarray
    ambition_w: np.ndarray

    def merge(self, other: "_Weighted") -> "_Weighted":
        return _Weighted(*(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__))

    def mean(self) -> np.ndarray:
        return self.wx / self.w

    def mcse(self) -> np.ndarray:
        mu = self.mean()
        return np.sqrt(np.maximum(self.w2x2 - 2 * mu * self.w2x + mu**2 * self.w2, 0.0)) / self.w

    def ess(self) -> float:
        return float(self.w**2 / self.w2) if self.w2 > 0 else 0.0


def log_weights(weighting: tuple, success_h: np.ndarray) -> np.ndarray:
    """Each world's log importance weight under a calibration, at most 0.

    "update": the market likelihood trust·(y·ln s + (1 − y)·ln(1 − s)) less its maximum
    (at s = y); "tilt": λ·s less max(λ, 0). Neither needs a second pass over the worlds.
    """
    if weighting[0] == "update":
        trust, y = weighting[1], weighting[2]
        return market_log_likelihood(success_h, trust, y) - market_log_likelihood_max(trust, y)
    lam = weighting[1]
    return lam * np.clip(success_h, S_FLOOR, 1 - S_FLOOR) - max(lam, 0.0)


def _bin(values: np.ndarray) -> np.ndarray:
    """Histogram bin of each value in [0, 1] on the logit grid (0: below, HIST_BINS+1: above)."""
    with np.errstate(divide="ignore"):
        pos = (special.logit(values) + LOGIT_SPAN) * (HIST_BINS / (2 * LOGIT_SPAN))
    return np.clip(np.floor(pos), -1, HIST_BINS).astype(np.intp) + 1


def _histograms(values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    out = np.empty((len(QUANTITIES), HIST_BINS + 2), dtype=np.int64 if weights is None else float)
    for q, row in enumerate(values):
        out[q] = np.bincount(_bin(row), weights=weights, minlength=HIST_BINS + 2)
    return out


def _unit(values: np.ndarray) -> np.ndarray:
    """Map each quantity onto [0, 1] for binning."""
    out = values.copy()
    for q in (QUANTITIES.index(s) for s in _SIGNED):
        out[q] = (out[q] + 1) / 2
    return np.clip(out, 0.0, 1.0)


def run_block(sampler: Sampler, seed: int, block: int, n: int, keep: bool = False):
    """Draw and evaluate block ``block`` of ``n`` worlds."""
    sens = sampler.utilities is not None
    worlds, u = sampler.draw(block_rng(seed, block), n, copula_u=True) if (sens or keep) else (
        sampler.draw(block_rng(seed, block), n), None)
    out = outcomes(worlds, sampler.horizon)
    values = np.stack([np.broadcast_to(np.asarray(getattr(out, q), dtype=float), (n,))
                       for q in QUANTITIES])
    below = int(np.count_nonzero(values[QUANTITIES.index(Q.success_within_horizon)] <= sampler.target))
    kept = None
    if keep:
        kept = {k: np.broadcast_to(np.asarray(v, dtype=float), (n,)).copy() for k, v in worlds.items()}
        kept.update({q: values[i].copy() for i, q in enumerate(QUANTITIES)})
        kept.update({f"u:{name}": row for name, row in zip(sampler.random, u)})  # copula coordinates Φ(z)
    extra = _sensitivity_sums(sampler, u, values, n) if sens else None
    if sampler.weighting is None:
        counts, sums = _map_sums(worlds, values, sampler.map_edges, n)
        ambition = _ambition_sums(worlds["automation_fraction"], values, n)
        return _Stats.of(values, below, counts, sums, ambition, extra), _histograms(_unit(values)), kept
    # a calibrated file: the map, ambition and histogram sums are weighted (one pass each)
    s_h = values[QUANTITIES.index(Q.success_within_horizon)]
    w = np.exp(log_weights(sampler.weighting, s_h))
    counts, sums, map_w = _map_sums(worlds, values, sampler.map_edges, n, w)
    a_counts, a_sums, a_w = _ambition_sums(worlds["automation_fraction"], values, n, w)
    w2 = w * w
    # sums by einsum, not `@`: a BLAS matrix-vector product would start OpenBLAS threads in every
    # worker and oversubscribe the cores (it halved the speed of a 2-worker run)
    weighted = _Weighted(float(w.sum()), float(w2.sum()), np.einsum("qn,n->q", values, w),
                         np.einsum("qn,n->q", values, w2), np.einsum("qn,qn,n->q", values, values, w2),
                         float(w[s_h <= sampler.target].sum()), map_w, a_w)
    hist = _histograms(_unit(values), w)
    return _Stats.of(values, below, counts, sums, (a_counts, a_sums), extra, weighted), hist, kept


def _ambition_sums(p, values: np.ndarray, n: int, w=None):
    """Per speed-up bin: world counts and (weighted) sums of AMBITION_QUANTITIES (the ambition
    curve), and with weights w also the per-bin Σw."""
    s = 1.0 / np.maximum(1.0 - np.broadcast_to(p, (n,)), 1e-300)
    cell = np.clip(np.searchsorted(AMBITION_EDGES, s, side="right") - 1, 0, len(AMBITION_EDGES) - 2)
    return _cell_sums(cell, len(AMBITION_EDGES) - 1, values, AMBITION_QUANTITIES, w)


def _sensitivity_sums(sampler: Sampler, u: np.ndarray, values: np.ndarray, n: int):
    from model.montecarlo import binned

    named = {q: np.broadcast_to(values[i], (n,)) for i, q in enumerate(QUANTITIES)}
    nb = binned.net_benefit(named, sampler.utilities)
    outputs = np.stack([named[q] if q != "net_benefit" else nb for q in binned.OUTPUTS])
    random = sampler.random
    joint = None
    if "capability_needed" in random and "relative_difficulty" in random:
        joint = (random.index("capability_needed"), random.index("relative_difficulty"))
    return binned.sensitivity_sums(u, outputs, joint)


def _run_task(sampler: Sampler, seed: int, blocks: list[tuple[int, int]], keep: bool):
    stats, hist, kept = [], None, []
    for block, n in blocks:
        s, h, k = run_block(sampler, seed, block, n, keep)
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


def _worker_task(seed: int, blocks: list[tuple[int, int]], keep: bool):
    return _run_task(_WORKER_SAMPLER, seed, blocks, keep)


usable_cores = procs.usable_cores


def _tasks(samples: int, per: int) -> Iterator[list[tuple[int, int]]]:
    """Consecutive groups of ``per`` blocks, generated lazily (10¹¹ worlds is 1.5·10⁶ blocks)."""
    blocks = math.ceil(samples / BLOCK)
    for first in range(0, blocks, per):
        yield [(b, min(BLOCK, samples - b * BLOCK)) for b in range(first, min(first + per, blocks))]


def _in_order(workers: int, tasks: Iterator, sampler: Sampler, seed: int,
              keep: bool) -> Iterator:
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


@dataclass(frozen=True)
class Estimate:
    """Mean of a per-world probability with its Monte Carlo error, and its spread."""

    mean: float
    mcse: float | None  # None where it cannot be estimated (a single world)
    p5: float
    p50: float
    p95: float

    def as_dict(self) -> dict[str, float | None]:
        return {"mean": self.mean, "mcse": self.mcse, "p5": self.p5, "p50": self.p50, "p95": self.p95}


@dataclass(frozen=True)
class Result:
    samples: int
    seed: int
    horizon: float
    target: float
    estimates: Mapping[str, Estimate]
    target_percentile: float  # share of worlds whose success within the horizon is <= target
    histograms: np.ndarray = field(repr=False, compare=False)  # QUANTITIES × logit-grid bins
    crux_map: "CruxMap" = field(repr=False, compare=False)
    ambition: "Ambition" = field(repr=False, compare=False)
    sensitivity: "SensitivitySums | None" = field(default=None, repr=False, compare=False)  # merged bins
    worlds: Mapping[str, np.ndarray] | None = field(default=None, repr=False, compare=False)
    weighting: tuple | None = None  # a calibrated file's weighting, as applied
    ess: float | None = None  # Kish's effective sample size (the sample size when unweighted)

    def __eq__(self, other: object) -> bool:
        """Bit-identical: every estimate, histogram, crux-map and ambition cell, sensitivity
        bin and kept world (NaN equal to NaN), so "same seed, same result" means all of it."""
        if not isinstance(other, Result):
            return NotImplemented
        return all(_same(getattr(self, f.name), getattr(other, f.name)) for f in fields(Result))

    __hash__ = None  # mutable arrays inside


def _same(a: object, b: object) -> bool:
    """Exact equality through arrays, mappings, tuples and dataclasses (NaN equal to NaN)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        nan = a.dtype.kind in "fc" and b.dtype.kind in "fc"
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=nan))
    if is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(_same(getattr(a, f.name), getattr(b, f.name)) for f in fields(a))
    if isinstance(a, Mapping):
        return isinstance(b, Mapping) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return isinstance(b, (tuple, list)) and len(a) == len(b) and all(map(_same, a, b))
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return a == b


@dataclass(frozen=True)
class Ambition:
    """Mean outcomes given the AAR's speed-up (the "ambition curve"): does aiming for
    more speed-up help or hurt under these beliefs? It respects the priors' couplings."""

    edges: np.ndarray  # speed-up bin edges (×)
    counts: np.ndarray  # worlds per bin
    means: Mapping[str, np.ndarray]  # quantity -> per-bin mean, NaN where no world fell


@dataclass(frozen=True)
class CruxMap:
    """Worlds and mean outcomes on a grid of the two cruxes (the essay's chart)."""

    c_edges: np.ndarray
    r_edges: np.ndarray
    counts: np.ndarray  # (cells_c, cells_r)
    means: Mapping[str, np.ndarray]  # quantity -> (cells_c, cells_r), NaN where no world fell


def _percentile(counts: np.ndarray, q: float, low: float, high: float, signed: bool) -> float:
    """q-quantile from logit-grid bin counts, interpolated in logit within its bin."""
    total = counts.sum()
    cum = np.cumsum(counts)
    i = int(np.searchsorted(cum, q * total, side="left"))
    frac = (q * total - (cum[i - 1] if i else 0)) / counts[i]
    lo_logit = -LOGIT_SPAN + (i - 1) * (2 * LOGIT_SPAN / HIST_BINS)
    if i == 0 or i == HIST_BINS + 1:  # outside the grid: interpolate towards the extremes
        edge = float(special.expit(-LOGIT_SPAN if i == 0 else LOGIT_SPAN))
        lo_u, hi_u = (0.0, edge) if i == 0 else (edge, 1.0)
        u = lo_u + frac * (hi_u - lo_u)
    else:
        u = float(special.expit(lo_logit + frac * (2 * LOGIT_SPAN / HIST_BINS)))
    x = 2 * u - 1 if signed else u
    return float(min(max(x, low), high))


def simulate(priors: Priors, samples: int | None = None, seed: int | None = None,
             workers: int | None = None, keep_worlds: bool = False,
             blocks_per_task: int | None = None, horizon: float | None = None,
             target: float | None = None, utilities: tuple[float, float, float] | None = None,
             progress: Callable[[int], None] | None = None, weighting: tuple | None = None) -> Result:
    """Monte Carlo estimates of every quantity in QUANTITIES under ``priors``.

    ``progress`` (if given) is called with the number of worlds finished so far.
    ``weighting`` (default: the file's ``[calibration] apply``, see :func:`log_weights`)
    weights every world as it streams, so a calibrated priors file reproduces its
    calibration in one pass. Results depend only on ``priors``, ``samples`` and ``seed``.
    """
    samples = priors.simulation.samples if samples is None else int(samples)
    seed = priors.simulation.seed if seed is None else int(seed)
    if samples < 1:
        raise ValueError("samples must be at least 1")
    sampler = _sampler(priors, horizon, target, utilities,
                       weighting if weighting is not None else priors_weighting(priors))
    blocks = math.ceil(samples / BLOCK)
    workers = max(1, min(workers or usable_cores(), usable_cores(), blocks))
    # about 4 blocks (a quarter second) per task: progress at least every second
    per = blocks_per_task or max(1, min(4, math.ceil(blocks / (4 * workers))))
    total, hist, kept = _accumulate(_in_order(workers, _tasks(samples, per), sampler, seed, keep_worlds),
                                    sampler.weighting is not None, progress)
    worlds = {k: np.concatenate([d[k] for d in kept]) for k in kept[0]} if keep_worlds else None
    estimates, below, ess = _estimates(total, hist)
    return Result(samples, seed, sampler.horizon, sampler.target, estimates, below, hist,
                  _crux_map(total, sampler.map_edges), _ambition(total), total.sens, worlds,
                  sampler.weighting, ess)


def _sampler(priors: Priors, horizon, target, utilities, weighting) -> Sampler:
    """The sampler of a run: with the sensitivity bins when ``utilities`` are given, and
    with a calibrated file's ``weighting``."""
    from dataclasses import replace

    sampler = Sampler.from_priors(priors, horizon, target)
    if utilities is not None:  # accumulate the bins of model.montecarlo.binned as well
        sampler = replace(sampler, utilities=tuple(float(x) for x in utilities))
    if weighting is not None:
        sampler = replace(sampler, weighting=tuple(weighting))
    return sampler


def _accumulate(results: Iterator, weighted: bool,
                progress: Callable[[int], None] | None) -> tuple["_Stats", np.ndarray, list[dict]]:
    """Merge the tasks' results, in block order (bit-identical for any scheduling): the
    statistics, the histograms (weighted in a weighted run) and the kept worlds."""
    total: _Stats | None = None
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
    return total, hist, kept


def _estimates(total: "_Stats", hist: np.ndarray) -> tuple[dict[str, Estimate], float, float]:
    """Each quantity's estimate; the share of worlds at or below the target; the effective
    sample size (Kish's, in a weighted run: there ``hist`` holds weighted histograms)."""
    wt = total.weighted
    if wt is None:
        sd = np.sqrt(total.m2 / max(total.n - 1, 1))
        means = total.mean
        errors = [float(sd[i] / math.sqrt(total.n)) if total.n > 1 else None for i in range(len(QUANTITIES))]
        below, ess = total.below_target / total.n, float(total.n)
    else:
        means = wt.mean()
        # fewer than two effective worlds: the error cannot be estimated (not zero)
        errors = [float(e) if total.n > 1 and wt.ess() >= 2 else None for e in wt.mcse()]
        below, ess = wt.below / wt.w, wt.ess()
    estimates = {}
    for i, q in enumerate(QUANTITIES):
        p5, p50, p95 = (_percentile(hist[i], f, float(total.low[i]), float(total.high[i]), q in _SIGNED)
                        for f in (0.05, 0.5, 0.95))
        estimates[q] = Estimate(float(means[i]), errors[i], p5, p50, p95)  # one world: no error
    return estimates, below, ess


def _crux_map(total: "_Stats", edges: tuple[np.ndarray, np.ndarray]) -> "CruxMap":
    shape = (MAP_CELLS, MAP_CELLS)
    counts = total.map_counts[:-1].reshape(shape)
    wt = total.weighted
    map_w = counts if wt is None else wt.map_w[:-1].reshape(shape)  # sums are weighted in a weighted run
    with np.errstate(invalid="ignore", divide="ignore"):
        means = {q: np.where(map_w > 0, total.map_sums[k, :-1].reshape(shape) / map_w, np.nan)
                 for k, q in enumerate(MAP_QUANTITIES)}
    return CruxMap(*edges, counts, means)


def _ambition(total: "_Stats") -> "Ambition":
    amb_w = total.ambition_counts if total.weighted is None else total.weighted.ambition_w
    with np.errstate(invalid="ignore", divide="ignore"):
        return Ambition(AMBITION_EDGES, total.ambition_counts, {
            q: np.where(amb_w > 0, total.ambition_sums[k] / amb_w, np.nan)
            for k, q in enumerate(AMBITION_QUANTITIES)})


def priors_weighting(priors: Priors) -> tuple | None:
    """The weighting a calibrated priors file asks for (``[calibration] apply``), or None."""
    c = priors.calibration
    apply = getattr(c, "apply", None)
    if apply == "update":
        return ("update", float(c.trust), float(c.target))
    if apply == "tilt":
        return ("tilt", float(c.tilt_lambda))
    return None


def estimate_seconds(priors: Priors, samples: int, workers: int | None = None) -> float:
    """Rough wall time of ``simulate``, from timing trial blocks here.

    A first block of 16 worlds pays for caches and imports (a mixture's, for instance); then
    64, 256, ... worlds until a block takes TRIAL_SECONDS or has 16,384 worlds (about 20 ms for
    the presets). A block costs a + b·n for n worlds: the last two blocks give a and b, and a
    run of ``samples`` worlds costs a per BLOCK plus b per world. A file whose first timed block
    already takes TRIAL_SECONDS stops there (b = 0: a lower bound), so the estimate costs the
    first two small blocks, well under a second for any file the loader accepts.
    """
    import time

    def timed(n: int) -> float:
        start = time.perf_counter()
        run_block(sampler, 0, 0, n)
        return time.perf_counter() - start

    sampler = Sampler.from_priors(priors)
    timed(16)
    points = [(64, timed(64))]
    while points[-1][1] < TRIAL_SECONDS and points[-1][0] < 16_384:
        points.append((4 * points[-1][0], timed(4 * points[-1][0])))
    if len(points) < 2:
        a, b = points[-1][1], 0.0
    else:
        (n1, t1), (n2, t2) = points[-2:]
        b = max(t2 - t1, 0.0) / (n2 - n1)
        a = max(t1 - b * n1, 0.0)
    workers = max(1, min(workers or usable_cores(), usable_cores()))
    return (-(-samples // BLOCK) * a + samples * b) / workers


#: A trial block of estimate_seconds that takes this long is enough to time.
TRIAL_SECONDS = 0.05
