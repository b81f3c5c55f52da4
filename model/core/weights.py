"""Importance weights: normalising log-weights, Kish's effective sample size, weighted quantiles."""

from __future__ import annotations

import numpy as np


def normalise_log(logw: np.ndarray) -> np.ndarray:
    """Weights ∝ exp(logw), summing to one (shifted by the maximum, so no overflow)."""
    w = np.exp(logw - logw.max())
    return w / w.sum()


def kish_ess(w: np.ndarray) -> float:
    """Kish's effective sample size (Σw)² / Σw² of importance weights."""
    return float(w.sum() ** 2 / (w ** 2).sum())


def weighted_quantile(x: np.ndarray, w: np.ndarray, q) -> np.ndarray:
    """Quantiles ``q`` of ``x`` under weights ``w`` (midpoint rule on the weighted CDF)."""
    order = np.argsort(x, kind="stable")
    cw = np.cumsum(w[order])
    cw /= cw[-1]
    return np.interp(q, cw - w[order] / (2 * cw[-1] if cw[-1] else 1), x[order])
