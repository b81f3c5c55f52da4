"""Per-quantity histograms on a logit grid (fine near 0 and 1 as well as mid-range), and the
percentiles read from them."""

from __future__ import annotations

import numpy as np
from scipy import special

from model.core.quantities import SIGNED
from model.montecarlo.stats import QUANTITIES

#: Histogram on a logit grid: fine in relative terms near 0 and 1 as well as mid-range.
LOGIT_SPAN = 23.0  # expit(-23) ≈ 1e-10
HIST_BINS = 2**15


def bin_of(values: np.ndarray) -> np.ndarray:
    """Histogram bin of each value in [0, 1] on the logit grid (0: below, HIST_BINS+1: above)."""
    with np.errstate(divide="ignore"):
        pos = (special.logit(values) + LOGIT_SPAN) * (HIST_BINS / (2 * LOGIT_SPAN))
    return np.clip(np.floor(pos), -1, HIST_BINS).astype(np.intp) + 1


def histograms_of(values: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    out = np.empty((len(QUANTITIES), HIST_BINS + 2), dtype=np.int64 if weights is None else float)
    for q, row in enumerate(values):
        out[q] = np.bincount(bin_of(row), weights=weights, minlength=HIST_BINS + 2)
    return out


def unit(values: np.ndarray) -> np.ndarray:
    """Map each quantity onto [0, 1] for binning."""
    out = values.copy()
    for q in (QUANTITIES.index(s) for s in SIGNED):
        out[q] = (out[q] + 1) / 2
    return np.clip(out, 0.0, 1.0)


def percentile(counts: np.ndarray, q: float, low: float, high: float, signed: bool) -> float:
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
