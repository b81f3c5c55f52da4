"""Outcomes on grids: the crux map (cells of capability_needed × relative_difficulty) and the
ambition curve (bins of the AAR's speed-up), as per-cell sums while streaming, means at the end."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from model.core.quantities import HEADLINE, OUTCOMES, Q
from model.montecarlo.stats import QUANTITIES, Stats

#: The crux map: per-cell sums of these over a grid of (capability_needed, relative_difficulty).
MAP_QUANTITIES = (*OUTCOMES, Q.success_within_horizon)
MAP_CELLS = 48

#: The ambition curve: outcomes given the AAR's speed-up s = 1/(1 − p), on a log grid
#: from 1× to 10⁶× (the essay's 2×, 100× and 52,000× all inside), last bin open-ended.
AMBITION_QUANTITIES = HEADLINE
AMBITION_EDGES = np.logspace(0.0, 6.0, 49)

#: The crux map's default axes (the essay's chart): C from GPT-4 (0) to twice AGI, R from
#: trivial to half again as hard as aligning AGI. Fixed, so two views' maps compare.
MAP_AXES = {"capability_needed": (0.0, 2.0), "relative_difficulty": (0.0, 1.5)}


def map_edges(name: str, marginal) -> np.ndarray:
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


def map_sums(worlds, values, edges, n, w=None):
    """Per-cell world counts and (weighted) sums of MAP_QUANTITIES, and with weights w also
    the per-cell Σw (the last cell collects the outside)."""
    c = np.broadcast_to(worlds["capability_needed"], (n,))
    r = np.broadcast_to(worlds["relative_difficulty"], (n,))
    cell = crux_cells(c, r, edges)
    return cell_sums(cell, MAP_CELLS * MAP_CELLS + 1, values, MAP_QUANTITIES, w)


def cell_sums(cell, size, values, quantities, w):
    counts = np.bincount(cell, minlength=size)
    rows = [values[QUANTITIES.index(q)] for q in quantities]
    sums = np.stack([np.bincount(cell, weights=x if w is None else x * w, minlength=size) for x in rows])
    if w is None:
        return counts, sums
    return counts, sums, np.bincount(cell, weights=w, minlength=size)


def ambition_sums(p, values: np.ndarray, n: int, w=None):
    """Per speed-up bin: world counts and (weighted) sums of AMBITION_QUANTITIES (the ambition
    curve), and with weights w also the per-bin Σw."""
    s = 1.0 / np.maximum(1.0 - np.broadcast_to(p, (n,)), 1e-300)
    cell = np.clip(np.searchsorted(AMBITION_EDGES, s, side="right") - 1, 0, len(AMBITION_EDGES) - 2)
    return cell_sums(cell, len(AMBITION_EDGES) - 1, values, AMBITION_QUANTITIES, w)


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


def crux_map_of(total: Stats, edges: tuple[np.ndarray, np.ndarray]) -> CruxMap:
    shape = (MAP_CELLS, MAP_CELLS)
    counts = total.map_counts[:-1].reshape(shape)
    wt = total.weighted
    map_w = counts if wt is None else wt.map_w[:-1].reshape(shape)  # sums are weighted in a weighted run
    with np.errstate(invalid="ignore", divide="ignore"):
        means = {
            q: np.where(map_w > 0, total.map_sums[k, :-1].reshape(shape) / map_w, np.nan)
            for k, q in enumerate(MAP_QUANTITIES)
        }
    return CruxMap(*edges, counts, means)


def ambition_of(total: Stats) -> Ambition:
    amb_w = total.ambition_counts if total.weighted is None else total.weighted.ambition_w
    with np.errstate(invalid="ignore", divide="ignore"):
        return Ambition(
            AMBITION_EDGES,
            total.ambition_counts,
            {q: np.where(amb_w > 0, total.ambition_sums[k] / amb_w, np.nan) for k, q in enumerate(AMBITION_QUANTITIES)},
        )
