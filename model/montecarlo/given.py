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

#: Quantile bins of each crux's prior, for its median in every view.
CRUX_BINS = 1024
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
    wx: np.ndarray  # (V, Q)
    w2x: np.ndarray
    w2x2: np.ndarray
    crux: np.ndarray  # (V, cruxes, CRUX_BINS) weight in each quantile bin of each crux's prior
    timeline: np.ndarray  # (2, events, MONTHS + 1) weight by the month each event comes (last: later)

    def merge(self, other: EvidenceSums) -> EvidenceSums:
        return EvidenceSums(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


def crux_edges(marginal) -> np.ndarray:
    """Inner edges of CRUX_BINS equal-probability bins of a crux's prior."""
    return np.asarray(marginal.ppf(np.arange(1, CRUX_BINS) / CRUX_BINS), dtype=float)


def log_likelihoods(entries: tuple[Entry, ...], worlds: Mapping, out: Outcomes, horizon: float) -> np.ndarray:
    """Each entry's log-likelihood of each world less its largest value (≤ 0), (entries, n)."""
    at: dict[float, Outcomes] = {horizon: out}

    def at_horizon(h: float) -> Outcomes:
        if h not in at:
            at[h] = outcomes(worlds, h)
        return at[h]

    rows = [e.log_likelihood(worlds, out, at=at_horizon) - e.max_log_likelihood() for e in entries]
    return np.minimum(np.stack([np.asarray(r, dtype=float) for r in rows]), 0.0)


def evidence_sums(
    entries: tuple[Entry, ...],
    edges: tuple[tuple[str, np.ndarray], ...],
    worlds: Mapping,
    out: Outcomes,
    values: np.ndarray,
    log_w0: np.ndarray | None,
    horizon: float,
) -> EvidenceSums:
    """The block's sums for every view (module docstring)."""
    n = values.shape[1]
    ll = np.broadcast_to(log_likelihoods(entries, worlds, out, horizon), (len(entries), n))
    base = np.zeros(n) if log_w0 is None else log_w0
    logs = np.vstack([base, base + ll.sum(axis=0), base + ll])  # (V, n)
    w = np.exp(logs)
    w2 = w * w
    # einsum, not `@`: a BLAS product would start threads in every worker (see blocks.py)
    crux = (
        np.stack(
            [
                np.stack([np.bincount(idx, weights=row, minlength=CRUX_BINS) for row in w])
                for idx in (np.searchsorted(e, np.broadcast_to(worlds[name], (n,))) for name, e in edges)
            ],
            axis=1,
        )
        if edges
        else np.zeros((len(w), 0, CRUX_BINS))
    )
    times = [np.broadcast_to(np.asarray(t, dtype=float), (n,)) for t in _event_times(worlds, out)]
    months = [np.clip(np.floor(t * 12), 0, MONTHS).astype(np.intp) for t in times]
    timeline = np.stack(
        [np.stack([np.bincount(m, weights=w[v], minlength=MONTHS + 1) for m in months]) for v in (PRIOR, GIVEN)]
    )
    return EvidenceSums(
        w.sum(axis=1),
        w2.sum(axis=1),
        np.einsum("vn,n->v", w, w[PRIOR]),
        np.einsum("qn,vn->vq", values, w),
        np.einsum("qn,vn->vq", values, w2),
        np.einsum("qn,qn,vn->vq", values, values, w2),
        crux,
        timeline,
    )


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
    views = [_moved(sums, v, crux_marginals) for v in range(len(sums.w))]
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
    return GivenEvidence(
        max(e.date for e in entries),
        entries,
        views[PRIOR],
        views[GIVEN],
        tuple(views[2:]),
        tuple(factors),
        timeline,
    )


def _ess(sums: EvidenceSums, v: int) -> float:
    return float(sums.w[v] ** 2 / sums.w2[v]) if sums.w2[v] > 0 else 0.0


def _moved(sums: EvidenceSums, v: int, crux_marginals: Mapping) -> Moved:
    total, ess = sums.w[v], _ess(sums, v)
    if total <= 0:  # the evidence rules out every world drawn
        none = {q: None for q in QUANTITIES}
        return Moved(none, none, {name: math.nan for name in crux_marginals}, 0.0)
    mu = sums.wx[v] / total
    err = np.sqrt(np.maximum(sums.w2x2[v] - 2 * mu * sums.w2x[v] + mu**2 * sums.w2[v], 0.0)) / total
    medians = {name: _median(sums.crux[v, i], m) for i, (name, m) in enumerate(crux_marginals.items())}
    return Moved(
        {q: float(mu[i]) for i, q in enumerate(QUANTITIES)},
        {q: (float(err[i]) if ess >= 2 else None) for i, q in enumerate(QUANTITIES)},
        medians,
        ess,
    )


def _median(bins: np.ndarray, marginal) -> float:
    """The weighted median from weights in equal-probability bins of the prior: linear in the
    prior's quantile u within the bin that crosses half the weight, then the prior's quantile."""
    cum = np.cumsum(bins)
    k = int(np.searchsorted(cum, 0.5 * cum[-1]))
    below = cum[k - 1] if k else 0.0
    u = (k + (0.5 * cum[-1] - below) / max(bins[k], 1e-300)) / CRUX_BINS
    return float(marginal.ppf(np.array([min(max(u, 0.0), 1.0)]))[0])
