"""Pooling several people's probabilities of one binary event (docs/model.md, "Binary cruxes").

People are the first axis of ``p``; any further axes (outcomes, cruxes) broadcast. Weights,
when given, are normalised to sum to one.

References: Stone (1961) for the linear pool; Satopää et al. (2014), "Combining multiple
probability predictions using a simple logit model", for the geometric mean of odds;
Neyman and Roughgarden (2022), "Are You Smarter Than a Random Expert? The Robust
Aggregation of Substitutable Signals", for the extremizing factor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike


@dataclass(frozen=True)
class Pooled:
    """A pooled probability and its standard error (None where no errors were given)."""

    p: np.ndarray | float
    se: np.ndarray | float | None = None


def _weights(p: np.ndarray, weights: ArrayLike | None) -> np.ndarray:
    n = p.shape[0]
    w = np.full(n, 1.0 / n) if weights is None else np.asarray(weights, dtype=float)
    if w.shape != (n,) or not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
        raise ValueError(f"weights: {n} non-negative numbers, not all 0, one per person")
    return (w / w.sum()).reshape((n,) + (1,) * (p.ndim - 1))


def _people(p: ArrayLike) -> np.ndarray:
    p = np.asarray(p, dtype=float)
    if p.ndim == 0 or p.shape[0] == 0:
        raise ValueError("pooling needs at least one person's probability (people on the first axis)")
    return p


def linear_pool(p: ArrayLike, weights: ArrayLike | None = None):
    """Σ wᵢ pᵢ: the probability of the event in everyone's worlds put together (Stone 1961)."""
    p = _people(p)
    return (_weights(p, weights) * p).sum(axis=0)


def extremizing_factor(n: int) -> float:
    """Neyman–Roughgarden's d = n(√(3n² − 3n + 1) − 2) / (n² − n − 1); 1 for one person."""
    if n < 1:
        raise ValueError("the extremizing factor needs at least one person")
    return n * (np.sqrt(3 * n * n - 3 * n + 1) - 2) / (n * n - n - 1)


def _logit_pool(p: np.ndarray, weights: ArrayLike | None, se: ArrayLike | None, factor: float) -> Pooled:
    """expit(factor · Σ wᵢ logit pᵢ); its error by the delta method,
    se = g(1 − g) · factor · √(Σ wᵢ² (seᵢ / (pᵢ(1 − pᵢ)))²)."""
    w = _weights(p, weights)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):  # a p of 0 or 1 pools to 0 or 1
        mean = factor * (w * (np.log(p) - np.log1p(-p))).sum(axis=0)
        g = 1 / (1 + np.exp(-mean))
    if se is None:
        return Pooled(g)
    slope = np.asarray(se, dtype=float) / (p * (1 - p))
    return Pooled(g, g * (1 - g) * factor * np.sqrt((w * w * slope * slope).sum(axis=0)))


def geometric_mean_of_odds(p: ArrayLike, weights: ArrayLike | None = None, se: ArrayLike | None = None) -> Pooled:
    """The geometric mean of the odds, expit(Σ wᵢ logit pᵢ), for one binary event (not
    renormalised across outcomes); ``se``: each person's standard error, for the pool's."""
    return _logit_pool(_people(p), weights, se, 1.0)


def extremized(p: ArrayLike, weights: ArrayLike | None = None, se: ArrayLike | None = None) -> Pooled:
    """The geometric mean of odds extremized: expit(d · Σ wᵢ logit pᵢ), d from
    :func:`extremizing_factor` for the number of people."""
    p = _people(p)
    return _logit_pool(p, weights, se, extremizing_factor(p.shape[0]))
