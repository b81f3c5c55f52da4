"""Evidence applied as importance weights streamed with the worlds (MODEL.md §5.v3): each block
adds up, for several *views* of the same worlds, the sums that give weighted means with their
Monte Carlo error, Bayes factors, crux medians and a timeline. They merge exactly, like
:class:`model.montecarlo.stats.Stats`, so results do not depend on workers or chunks.

Views, in order: the priors as written (a calibrated file's own weights, else 1), given all
the evidence, and given each entry alone. Each entry's log-likelihood is taken less its
largest value, so weights are at most 1 and cannot overflow.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import date

import numpy as np

from model.core.evidence import Entry
from model.core.structure import Outcomes, outcomes
from model.montecarlo.stats import QUANTITIES

#: Equal-width bins of each crux over its prior's 0.1st to 99.9th percentile (the tails in the
#: end bins), for its median in every view.
CRUX_BINS = 2048
_CRUX_RANGE = (0.001, 0.999)
#: The timeline's grid: months from the time origin (2023-07-05), and how many.
MONTHS = 12 * 15
#: Its events: the world's time of each (MODEL.md §5.v3, not_by/by).
TIMELINE_EVENTS = ("aar", "agi", "field")
PRIOR, GIVEN = 0, 1  # the first two views


@dataclass
class EvidenceSums:
    """Additive sums over worlds, per view v (rows) and quantity q (columns)."""

    w: np.ndarray  # (V,) Σ w_v
    w2: np.ndarray  # (V,) Σ w_v²
    cross: np.ndarray  # (V,) Σ w_prior·w_v (a Bayes factor's error)
    wx: np.ndarray  # (V + 1, Q): the prior, given (every world); the prior, each entry (the first quarter)
    w2x: np.ndarray
    w2x2: np.ndarray
    sub_w: np.ndarray  # (V,) Σ w_v and Σ w_v² over the worlds of wx
    sub_w2: np.ndarray
    crux: np.ndarray  # (V, cruxes, CRUX_BINS) weight in each quantile bin of each crux's prior
    timeline: np.ndarray  # (2, events, MONTHS + 1) weight by the month each event comes (last: later)

    def merge(self, other: EvidenceSums) -> EvidenceSums:
        return EvidenceSums(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


def crux_edges(marginal) -> np.ndarray:
    """The edges of CRUX_BINS equal-width bins over the prior's 0.1st to 99.9th percentile."""
    lo, hi = (float(x) for x in marginal.ppf(np.array(_CRUX_RANGE)))
    return np.linspace(lo, hi, CRUX_BINS + 1) if hi > lo else np.linspace(lo - 0.5, lo + 0.5, CRUX_BINS + 1)


def _crux_bin(x: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Each value's bin of :func:`crux_edges` (below and above the range: the end bins)."""
    lo, width = edges[0], edges[1] - edges[0]
    return np.clip((x - lo) / width, 0, CRUX_BINS - 1).astype(np.intp)


def ratios(entries: tuple[Entry, ...], worlds: Mapping, out: Outcomes, horizon: float, n: int) -> np.ndarray:
    """Each entry's likelihood of each of the ``n`` worlds divided by its largest value (in [0, 1]),
    (entries, n); a world quantity that is a point broadcasts."""
    at: dict[float, Outcomes] = {horizon: out}

    def at_horizon(h: float) -> Outcomes:
        if h not in at:
            at[h] = outcomes(worlds, h)
        return at[h]

    return np.stack([np.broadcast_to(e.ratio(worlds, out, at=at_horizon), (n,)) for e in entries])


#: The worlds of a block whose means are taken for each entry alone: the first quarter (each
#: entry's effect alone is a reading aid; its Monte Carlo error says how precise it is).
ALONE_SHARE = 4


def evidence_sums(
    entries: tuple[Entry, ...],
    edges: tuple[tuple[str, np.ndarray], ...],
    worlds: Mapping,
    out: Outcomes,
    values: np.ndarray,
    log_w0: np.ndarray | None,
    horizon: float,
) -> EvidenceSums:
    """The block's sums for every view (module docstring). The prior's and the evidence's
    means use every world; the prior again and each entry alone, the first 1/ALONE_SHARE of them
    (an entry's effect alone is its difference from the prior on those)."""
    n = values.shape[1]
    w = _weights(entries, worlds, out, horizon, n, log_w0)  # (2 + K, n): prior, given, each entry
    w2 = w * w
    m = max(n // ALONE_SHARE, 1)
    # the rows of the means: prior, given (every world); prior, each entry (the first m worlds)
    parts = ((w[:2], w2[:2], slice(None)), (w[:1, :m], w2[:1, :m], slice(m)), (w[2:, :m], w2[2:, :m], slice(m)))
    v2 = values * values
    # einsum, not `@`: a BLAS product would start threads in every worker (see blocks.py)
    wx = np.concatenate([np.einsum("qn,vn->vq", values[:, cut], a) for a, _, cut in parts])
    w2x = np.concatenate([np.einsum("qn,vn->vq", values[:, cut], a2) for _, a2, cut in parts])
    w2x2 = np.concatenate([np.einsum("qn,vn->vq", v2[:, cut], a2) for _, a2, cut in parts])
    sub_w = np.concatenate([a.sum(axis=1) for a, _, _ in parts])
    sub_w2 = np.concatenate([a2.sum(axis=1) for _, a2, _ in parts])
    rows = [row for a, _, _ in parts for row in a]
    crux = np.empty((len(rows), len(edges), CRUX_BINS))
    for i, (name, e) in enumerate(edges):
        idx = _crux_bin(np.broadcast_to(worlds[name], (n,)), e)
        for v, row in enumerate(rows):
            crux[v, i] = np.bincount(idx[: row.size], weights=row, minlength=CRUX_BINS)
    timeline = np.empty((2, len(TIMELINE_EVENTS), MONTHS + 1))
    for i, t in enumerate(_event_times(worlds, out)):
        month = np.clip(np.broadcast_to(np.asarray(t, dtype=float), (n,)) * 12, 0, MONTHS).astype(np.intp)
        for v in (PRIOR, GIVEN):
            timeline[v, i] = np.bincount(month, weights=w[v], minlength=MONTHS + 1)
    return EvidenceSums(
        w.sum(axis=1), w2.sum(axis=1), np.einsum("vn,n->v", w, w[PRIOR]), wx, w2x, w2x2, sub_w, sub_w2, crux, timeline
    )


def _weights(entries, worlds: Mapping, out: Outcomes, horizon: float, n: int, log_w0) -> np.ndarray:
    """Rows: the prior's weight w0 (1, or a calibrated file's), w0·Π_k r_k given all the evidence,
    and w0·r_k for each entry alone (r_k: its likelihood over its largest value)."""
    w = np.empty((2 + len(entries), n))
    w[2:] = ratios(entries, worlds, out, horizon, n)
    np.prod(w[2:], axis=0, out=w[GIVEN])
    if log_w0 is None:
        w[PRIOR] = 1.0
    else:
        w[PRIOR] = np.exp(log_w0)
        w[1:] *= w[PRIOR]
    return w


def _event_times(worlds: Mapping, out: Outcomes):
    return out.t_build, worlds["years_to_agi"], worlds["field_years"]


# -- what a run reports ----------------------------------------------------------------------


@dataclass(frozen=True)
class Moved:
    """One view's weighted means of every quantity with their Monte Carlo errors, and its crux medians."""

    means: Mapping[str, float | None]
    mcse: Mapping[str, float | None]
    crux_medians: Mapping[str, float]
    ess: float


@dataclass(frozen=True)
class GivenEvidence:
    """The run given the evidence (MODEL.md §5.v3): every quantity again, each entry's Bayes
    factor and what it alone moves, and the timeline before and after."""

    as_of: date
    entries: tuple[Entry, ...]
    prior: Moved
    given: Moved
    alone: tuple[Moved, ...]
    bayes_factors: tuple[tuple[float, float | None], ...]
    #: P(event by the end of month m), m = 1..MONTHS, for the prior and given views
    timeline: Mapping[str, Mapping[str, np.ndarray]]


def given_of(sums: EvidenceSums, entries: tuple[Entry, ...], crux_marginals: Mapping) -> GivenEvidence:
    """The views of a run from its merged sums; ``crux_marginals`` maps each crux to its bin edges.

    Rows of the means: 0 the prior, 1 given the evidence (every world), 2 the prior and 3… each
    entry alone on the first quarter of the worlds; an entry's effect alone is the prior's mean
    plus its difference from row 2, so an entry that changes nothing leaves the prior's numbers."""
    prior, given = _moved(sums, PRIOR, crux_marginals), _moved(sums, GIVEN, crux_marginals)
    base = _moved(sums, 2, crux_marginals)
    alone = tuple(_shifted(prior, base, _moved(sums, 3 + k, crux_marginals)) for k in range(len(entries)))
    w0 = sums.w[PRIOR]
    factors = []
    for k in range(len(entries)):
        v = 2 + k
        mean = sums.w[v] / w0
        var = sums.w2[v] - 2 * mean * sums.cross[v] + mean * mean * sums.w2[PRIOR]
        factors.append((float(mean), float(math.sqrt(max(var, 0.0)) / w0) if _ess(sums, PRIOR) >= 2 else None))
    timeline = {}
    for v, name in ((PRIOR, "prior"), (GIVEN, "given")):
        total = sums.w[v]
        cum = np.cumsum(sums.timeline[v], axis=1)[:, :MONTHS]
        timeline[name] = {
            e: (cum[i] / total if total > 0 else np.full(MONTHS, np.nan)) for i, e in enumerate(TIMELINE_EVENTS)
        }
    return GivenEvidence(max(e.date for e in entries), entries, prior, given, alone, tuple(factors), timeline)


def _shifted(prior: Moved, base: Moved, view: Moved) -> Moved:
    """``view`` (on the quarter) as a change from ``base`` (the prior on the same quarter), added to
    the prior on every world: common worlds, so the difference carries less noise than either."""

    def plus(a, b, c):
        return None if a is None or b is None or c is None else a + (c - b)

    return Moved(
        {q: plus(prior.means[q], base.means[q], view.means[q]) for q in prior.means},
        view.mcse,
        {n: prior.crux_medians[n] + (view.crux_medians[n] - base.crux_medians[n]) for n in prior.crux_medians},
        view.ess,
    )


def _ess(sums: EvidenceSums, v: int) -> float:
    return float(sums.w[v] ** 2 / sums.w2[v]) if sums.w2[v] > 0 else 0.0


def _moved(sums: EvidenceSums, v: int, crux_marginals: Mapping) -> Moved:
    total = sums.sub_w[v]
    ess = float(total**2 / sums.sub_w2[v]) if sums.sub_w2[v] > 0 else 0.0
    if total <= 0:  # the evidence rules out every world drawn
        none = {q: None for q in QUANTITIES}
        return Moved(none, none, {name: math.nan for name in crux_marginals}, 0.0)
    mu = sums.wx[v] / total
    err = np.sqrt(np.maximum(sums.w2x2[v] - 2 * mu * sums.w2x[v] + mu**2 * sums.sub_w2[v], 0.0)) / total
    medians = {name: _median(sums.crux[v, i], e) for i, (name, e) in enumerate(crux_marginals.items())}
    return Moved(
        {q: float(mu[i]) for i, q in enumerate(QUANTITIES)},
        {q: (float(err[i]) if ess >= 2 else None) for i, q in enumerate(QUANTITIES)},
        medians,
        ess,
    )


def _median(bins: np.ndarray, edges: np.ndarray) -> float:
    """The weighted median from the weight in each bin of :func:`crux_edges`, linear within the
    bin that crosses half the weight (its resolution: one bin, 1/2048 of the prior's range)."""
    cum = np.cumsum(bins)
    k = int(np.searchsorted(cum, 0.5 * cum[-1]))
    below = cum[k - 1] if k else 0.0
    share = (0.5 * cum[-1] - below) / max(bins[k], 1e-300)
    return float(edges[k] + min(max(share, 0.0), 1.0) * (edges[k + 1] - edges[k]))
