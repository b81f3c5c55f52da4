"""The crux map keeps every world inside its axes, edges included, in the run's own map and in
compare's maps on common axes (one binning function for both)."""

from __future__ import annotations

import numpy as np
import pytest

import model

from .conftest import MIDDLE_WORLD, write_priors

N = 20_000


@pytest.mark.parametrize(
    "c, r",
    [
        (2.0, 0.7),  # the top of C's default axis
        (0.0, 0.7),  # the bottom of C's default axis
        (0.9, 1.5),  # the top of R's default axis
        (3.0, 0.7),  # beyond the default axis: the widened C axis ends exactly at the point
        (0.9, 2.5),  # likewise for R
    ],
)
def test_a_point_prior_on_an_edge_puts_every_world_in_the_run_map(tmp_path, c, r):
    path = write_priors(tmp_path, "edge", {**MIDDLE_WORLD, "capability_needed": c, "relative_difficulty": r})
    run = model.simulate(path, samples=N, seed=3, workers=1)
    m = run.result.crux_map
    assert m.counts.sum() == N
    i, j = np.argwhere(m.counts)[0]  # the one cell holding them
    assert m.counts[i, j] == N
    assert m.c_edges[i] <= c <= m.c_edges[i + 1] and m.r_edges[j] <= r <= m.r_edges[j + 1]
    assert run.summary()["outcomes"]  # the report builds from that map


def test_compare_keeps_edge_worlds_whether_it_rebins_or_reuses_a_map(tmp_path):
    # b sets the common axes, C in [0, 3] and R in [0, 2], so compare reuses b's own map, whose
    # worlds all sit on both top edges; a's own map has other R edges, so compare bins a's
    # worlds again, with C = 3.0 exactly on the common top edge
    a = write_priors(tmp_path, "a", {**MIDDLE_WORLD, "capability_needed": 3.0, "relative_difficulty": 0.7})
    b = write_priors(tmp_path, "b", {**MIDDLE_WORLD, "capability_needed": 3.0, "relative_difficulty": 2.0})
    maps = model.compare(a, b, samples=N, seed=3, workers=1).summary()["crux_maps"]
    assert maps["capability_needed"] == [0.0, 3.0] and maps["relative_difficulty"] == [0.0, 2.0]
    views = {f.rsplit("/", 1)[-1]: v for f, v in maps["views"].items()}
    assert views["a.toml"] == {"worlds": N, "from": "the run's worlds, binned again"}
    assert views["b.toml"] == {"worlds": N, "from": "the run's own map"}


def test_crux_cells_closed_at_both_ends_and_drops_only_the_outside():
    from model.montecarlo.engine import crux_cells

    edges = (np.linspace(0.0, 2.0, 5), np.linspace(0.0, 1.5, 4))  # 4 cells in C, 3 in R
    c = np.array([0.0, 2.0, 0.5, 1.999, -1e-12, 2.0 + 1e-12, np.nan, 1.0, np.inf])
    r = np.array([0.0, 1.5, 0.5, 1.499, 0.7, 0.7, 0.7, -np.inf, 0.7])
    cell = crux_cells(c, r, edges)
    outside = 4 * 3
    # value on an inner edge goes to the cell above it; the top edge to the last cell
    np.testing.assert_array_equal(
        cell, [0, 3 * 3 + 2, 1 * 3 + 1, 3 * 3 + 2, outside, outside, outside, outside, outside]
    )
