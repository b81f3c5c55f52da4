"""Every view's crux map on common cells, for side-by-side figures."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from model.core.structure import outcomes
from model.montecarlo.engine import BLOCK, block_rng
from model.priors.beliefs import Priors

#: The crux map's default axes are the run's (engine.MAP_AXES), widened to every view's central 99%.
MAP_PERCENTILES = (0.005, 0.995)
#: Most worlds per view re-binned when a run's own map has other edges.
MAP_WORLDS = 2**20


@dataclass(frozen=True)
class CruxMaps:
    """Every view's crux map on the same cells."""

    c_edges: np.ndarray
    r_edges: np.ndarray
    counts: list  # per view: (cells, cells) worlds
    means: list  # per view: {quantity: (cells, cells)}, NaN where no world fell
    worlds: list[int]  # per view: worlds binned
    reused: list[bool]  # per view: the run's own map (same edges) or re-binned here


def common_edges(views: list[Priors], cells: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cell edges shared by every view: the default axes, widened to each view's 0.5th and
    99.5th percentiles of the crux where they reach beyond."""
    from model.montecarlo.engine import MAP_AXES, MAP_CELLS

    cells = MAP_CELLS if cells is None else cells
    edges = []
    for name, (lo, hi) in MAP_AXES.items():
        for p in views:
            a, b = (float(v) for v in p.variables[name].marginal.ppf(np.array(MAP_PERCENTILES)))
            lo, hi = min(lo, a), max(hi, b)
        edges.append(np.linspace(lo, hi, cells + 1))
    return edges[0], edges[1]


def bin_map(priors: Priors, result, edges, worlds: int):
    """Counts and mean outcomes per cell of ``worlds`` of the run's worlds (same seed, same draws)."""
    from model.montecarlo.engine import MAP_QUANTITIES, Sampler, crux_cells

    cells = len(edges[0]) - 1
    sampler = Sampler.from_priors(priors, result.horizon, result.target)
    counts = np.zeros(cells * cells + 1)
    sums = np.zeros((len(MAP_QUANTITIES), cells * cells + 1))
    for block in range(math.ceil(worlds / BLOCK)):
        n = min(BLOCK, worlds - block * BLOCK)
        w = sampler.draw(block_rng(result.seed, block), n)
        o = outcomes(w, sampler.horizon)
        c = np.broadcast_to(w["capability_needed"], (n,))
        r = np.broadcast_to(w["relative_difficulty"], (n,))
        cell = crux_cells(c, r, edges)
        counts += np.bincount(cell, minlength=cells * cells + 1)
        for k, q in enumerate(MAP_QUANTITIES):
            sums[k] += np.bincount(cell, weights=np.broadcast_to(getattr(o, q), (n,)), minlength=cells * cells + 1)
    shape = (cells, cells)
    inner = counts[:-1].reshape(shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = {
            q: np.where(inner > 0, sums[k, :-1].reshape(shape) / inner, np.nan) for k, q in enumerate(MAP_QUANTITIES)
        }
    return inner.astype(np.int64), means


def crux_maps(runs: list, max_worlds: int = MAP_WORLDS) -> CruxMaps:
    """The views' crux maps on common edges: a run's own map where its edges are the common
    ones, otherwise its first ``max_worlds`` worlds binned again on the common edges."""
    edges = common_edges([p for p, _ in runs])
    counts, means, worlds, reused = [], [], [], []
    for p, r in runs:
        m = getattr(r, "crux_map", None)
        if m is not None and np.array_equal(m.c_edges, edges[0]) and np.array_equal(m.r_edges, edges[1]):
            counts.append(np.asarray(m.counts))
            means.append(dict(m.means))
            worlds.append(int(np.asarray(m.counts).sum()))
            reused.append(True)
        else:
            n = min(r.samples, max_worlds)
            c, mm = bin_map(p, r, edges, n)
            counts.append(c)
            means.append(mm)
            worlds.append(int(c.sum()))
            reused.append(False)
    return CruxMaps(edges[0], edges[1], counts, means, worlds, reused)
