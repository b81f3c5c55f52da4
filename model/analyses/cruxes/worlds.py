"""One task of the many-people analysis: one person's worlds of one block, under every
coalition asked for (MODEL.md §7.2), and the person's own statistics (§7.1, §7.3).

The task is a pure function of (panel, person, coalitions, block, pieces): its worlds come
from the block's seed alone (common random numbers: every person and every coalition sees
the same standard normals), so a local process pool and a Dask cluster give the same bits.

A coalition is a bitmask over the panel's players. In coalition S, person i's world takes,
for each variable in S, the pool's mixture of everyone's marginals instead of their own,
inverted at the same copula uniforms; with ``correlations`` in S those uniforms come from
the mean Spearman matrix instead of the person's own.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from model.analyses.compare.coalitions import Chunk
from model.analyses.compare.tracing import Graph, trace_outcomes
from model.analyses.cruxes.panel import COMPARED, CORRELATIONS, Crux, Panel
from model.core.copula import correlated
from model.core.structure import outcomes
from model.core.variables import NAMES
from model.montecarlo.sampler import BLOCK, block_rng

_OPS = {">=": np.greater_equal, ">": np.greater, "<=": np.less_equal, "<": np.less}


@dataclass(frozen=True)
class Piece:
    """The sums over one piece of a block (a part of one batch) for one person.

    ``coalitions``: (coalitions, COMPARED) sums of each outcome per coalition;
    ``sums``/``squares``: (COMPARED,) sums and sums of squares of the person's own outcomes;
    ``crux``: (cruxes, 2) per crux the worlds where it holds and the sum of U over them."""

    batch: int
    worlds: int
    coalitions: np.ndarray
    sums: np.ndarray
    squares: np.ndarray
    crux: np.ndarray


def leaf_masks(panel: Panel) -> dict[str, int]:
    """Which players each variable's value depends on (its own bit; the correlations' bit
    for a variable in anyone's copula)."""
    bit = {p: i for i, p in enumerate(panel.players)}
    in_copula: set[str] = set(correlated(NAMES, dict(panel.mean_correlations)))
    for p in panel.people:
        in_copula |= set(correlated(NAMES, dict(p.correlations)))
    corr = 1 << bit[CORRELATIONS] if CORRELATIONS in bit else 0
    return {n: (1 << bit[n] if n in bit else 0) | (corr if n in in_copula else 0) for n in NAMES}


@lru_cache(maxsize=8)
def _graph(masks: tuple[tuple[str, int], ...]) -> Graph | None:
    """The traced outcome equations for these leaf masks (traced once per process)."""
    return trace_outcomes(dict(masks), 0)


def _holds(crux: Crux, worlds: dict, size: int) -> np.ndarray:
    return np.broadcast_to(_OPS[crux.op](worlds[crux.variable], crux.threshold), (size,))


class _Leaves:
    """Person i's variable values on a range of worlds, by coalition (cached per variable,
    marginal and copula)."""

    def __init__(self, panel: Panel, person: int, z: dict[str, np.ndarray]):
        self.own = dict(panel.people[person].marginals)
        self.pooled = dict(panel.pooled)
        self.bit = {p: i for i, p in enumerate(panel.players)}
        self.corr = 1 << self.bit[CORRELATIONS] if CORRELATIONS in self.bit else 0
        self.z, self.horizon = z, panel.horizon
        self.cache: dict[tuple[str, bool, bool], np.ndarray] = {}

    def value(self, name: str, s: int) -> np.ndarray:
        pooled = name in self.pooled and bool(s >> self.bit[name] & 1)
        mean = bool(s & self.corr)
        key = (name, pooled, mean)
        if key not in self.cache:
            marginal = self.pooled[name] if pooled else self.own[name]
            self.cache[key] = marginal.from_z(self.z["mean" if mean else "own"][NAMES.index(name)])
        return self.cache[key]

    def horizon_value(self, s: int) -> float:
        return self.horizon


def _own_stats(panel: Panel, leaves: _Leaves, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The person's own worlds (the empty coalition): sums and squares of every compared
    outcome, and per crux its worlds and the sum of U over them."""
    w = {n: leaves.value(n, 0) for n in NAMES}
    o = outcomes(w, panel.horizon)
    values = np.stack([np.broadcast_to(np.asarray(getattr(o, q), dtype=float), (size,)) for q in COMPARED])
    u = values[COMPARED.index(panel.outcome)]
    crux = np.zeros((len(panel.cruxes), 2))
    for k, c in enumerate(panel.cruxes):
        holds = _holds(c, w, size)
        crux[k] = (np.count_nonzero(holds), float(np.sum(u[holds])))
    return values.sum(axis=1), (values * values).sum(axis=1), crux


def evaluate(
    panel: Panel, person: int, coalitions: tuple[int, ...], block: int, pieces: tuple[tuple[int, int, int], ...]
) -> list[Piece]:
    """Person ``person``'s sums on each (batch, start, stop) piece of block ``block``, for every
    coalition in ``coalitions`` (visited in that order: Gray code or the orderings' paths, so
    each step recomputes only what one swapped player reaches)."""
    z = block_rng(panel.seed, block).standard_normal((len(NAMES), BLOCK))  # the whole block, always
    normals = {"own": panel.people[person].copula().correlate(z.copy())}
    if CORRELATIONS in panel.players:
        normals["mean"] = panel.mean_copula().correlate(z.copy())
    graph = _graph(tuple(leaf_masks(panel).items()))
    out = []
    for batch, start, stop in pieces:
        size = stop - start
        leaves = _Leaves(panel, person, {k: v[:, start:stop] for k, v in normals.items()})

        def direct(s: int, leaves=leaves, size=size) -> np.ndarray:
            o = outcomes({n: leaves.value(n, s) for n in NAMES}, panel.horizon)
            return np.array([float(np.sum(np.broadcast_to(getattr(o, q), (size,)))) for q in COMPARED])

        chunk = Chunk(graph, leaves.value, leaves.horizon_value, size, direct)
        sums = np.stack([chunk.visit(s) for s in coalitions]) if coalitions else np.zeros((0, len(COMPARED)))
        own, squares, crux = _own_stats(panel, leaves, size)
        out.append(Piece(batch, size, sums, own, squares, crux))
    return out
