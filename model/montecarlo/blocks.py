"""One block of worlds drawn and evaluated: the outcome equations on every world, reduced to
a block's mergeable summary (and its worlds, when asked to keep them)."""

from __future__ import annotations

import numpy as np

from model.core.quantities import Q
from model.core.structure import outcomes
from model.montecarlo.cells import ambition_sums, map_sums
from model.montecarlo.given import evidence_sums
from model.montecarlo.histograms import histograms_of, unit
from model.montecarlo.sampler import Sampler, block_rng
from model.montecarlo.stats import QUANTITIES, Stats, Weighted
from model.montecarlo.weighting import log_weights


def run_block(sampler: Sampler, seed: int, block: int, n: int, keep: int = 0):
    """Draw and evaluate block ``block`` of ``n`` worlds, keeping the first ``keep`` of them."""
    sens = sampler.utilities is not None
    worlds, u = (
        sampler.draw(block_rng(seed, block), n, copula_u=True)
        if (sens or keep)
        else (sampler.draw(block_rng(seed, block), n), None)
    )
    out = outcomes(worlds, sampler.horizon)
    values = np.stack([np.broadcast_to(np.asarray(getattr(out, q), dtype=float), (n,)) for q in QUANTITIES])
    below = int(np.count_nonzero(values[QUANTITIES.index(Q.success_within_horizon)] <= sampler.target))
    kept = None
    if keep:
        assert u is not None  # drawn with copula_u
        kept = {k: np.broadcast_to(np.asarray(v, dtype=float), (n,))[:keep].copy() for k, v in worlds.items()}
        kept.update({q: values[i, :keep].copy() for i, q in enumerate(QUANTITIES)})
        kept.update({f"u:{name}": row[:keep].copy() for name, row in zip(sampler.random, u, strict=True)})  # Φ(z)
    extra = None
    if sens:
        assert u is not None  # drawn with copula_u
        extra = sensitivity_sums(sampler, u, values, n)
    s_h = values[QUANTITIES.index(Q.success_within_horizon)]
    log_w = None if sampler.weighting is None else log_weights(sampler.weighting, s_h)
    given = None
    if sampler.evidence:
        given = evidence_sums(sampler.evidence, sampler.crux_edges, worlds, out, values, log_w, sampler.horizon)
    if log_w is None:
        counts, sums = map_sums(worlds, values, sampler.map_edges, n)
        ambition = ambition_sums(worlds["automation_fraction"], values, n)
        return Stats.of(values, below, counts, sums, ambition, extra, None, given), histograms_of(unit(values)), kept
    # a calibrated file: the map, ambition and histogram sums are weighted (one pass each)
    w = np.exp(log_w)
    counts, sums, map_w = map_sums(worlds, values, sampler.map_edges, n, w)
    a_counts, a_sums, a_w = ambition_sums(worlds["automation_fraction"], values, n, w)
    w2 = w * w
    # sums by einsum, not `@`: a BLAS matrix-vector product would start OpenBLAS threads in every
    # worker and oversubscribe the cores (it halved the speed of a 2-worker run)
    weighted = Weighted(
        float(w.sum()),
        float(w2.sum()),
        np.einsum("qn,n->q", values, w),
        np.einsum("qn,n->q", values, w2),
        np.einsum("qn,qn,n->q", values, values, w2),
        float(w[s_h <= sampler.target].sum()),
        map_w,
        a_w,
    )
    hist = histograms_of(unit(values), w)
    return Stats.of(values, below, counts, sums, (a_counts, a_sums), extra, weighted, given), hist, kept


def sensitivity_sums(sampler: Sampler, u: np.ndarray, values: np.ndarray, n: int):
    from model.montecarlo import binned

    named = {q: np.broadcast_to(values[i], (n,)) for i, q in enumerate(QUANTITIES)}
    assert sampler.utilities is not None  # a sampler with the bins has the decision's utilities
    nb = binned.net_benefit(named, sampler.utilities)
    outputs = np.stack([named[q] if q != "net_benefit" else nb for q in binned.OUTPUTS])
    random = sampler.random
    joint = None
    if "capability_needed" in random and "relative_difficulty" in random:
        joint = (random.index("capability_needed"), random.index("relative_difficulty"))
    return binned.sensitivity_sums(u, outputs, joint)
