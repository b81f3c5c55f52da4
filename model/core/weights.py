"""Importance weights: normalising log-weights, Kish's effective sample size, weighted quantiles."""

from __future__ import annotations

import numpy as np


def normalise_log(logw: np.ndarray) -> np.ndarray:
    """Weights ∝ exp(logw), summing to one (shifted by the maximum, so no overflow)."""
    w = np.exp(logw - logw.max())
    return w / w.sum()


def kish_ess(w: np.ndarray) -> float:
    """Kish's effective sample size (Σw)² / Σw² of importance weights."""
    return float(w.sum() ** 2 / (w**2).sum())


def weighted_quantile(x: np.ndarray, w: np.ndarray, q) -> np.ndarray:
    """Quantiles ``q`` of ``x`` under weights ``w`` (non-negative, any positive sum).

    The inverted CDF (Hyndman & Fan 1996, definition 1): the smallest x_(k) whose share of
    the weight at or below it, W_k / W, reaches q. With integer weights this is
    ``numpy.quantile(np.repeat(x, w), q, method="inverted_cdf")``; with equal weights,
    ``numpy.quantile(x, q, method="inverted_cdf")``. Zero-weight values are never returned.
    A level exactly on a step of the CDF is decided in floating point (W_k ≥ q·W).
    """
    x, w, q = np.asarray(x, dtype=float), np.asarray(w, dtype=float), np.asarray(q, dtype=float)
    if x.shape != w.shape or x.ndim != 1:
        raise ValueError(f"x and weights must be 1-d arrays of one length, not {x.shape} and {w.shape}")
    if not (np.all(w >= 0) and w.sum() > 0):
        raise ValueError("weights must be non-negative (not NaN) with a positive sum")
    if not np.all((q >= 0) & (q <= 1)):
        raise ValueError(f"quantile levels must lie in [0, 1], not {q}")
    x, w = x[w > 0], w[w > 0]
    order = np.argsort(x, kind="stable")
    cw = np.cumsum(w[order])
    k = np.searchsorted(cw, q * cw[-1], side="left")  # the first k with W_k >= q·W
    return x[order][np.minimum(k, x.size - 1)]
