"""The Gaussian copula: correlated standard normals with given rank correlations.

Spearman's ρ_s becomes the Gaussian copula's Pearson ρ = 2·sin(π·ρ_s/6), which makes the
samples' rank correlation exactly ρ_s for continuous marginals (Kruskal 1958, JASA 53:814).
Independent normals z become correlated ones L·z, L the lower Cholesky factor of the Pearson
matrix; a world's copula coordinate (its position in each prior) is u = Φ(z).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import special

Correlations = Mapping[tuple[str, str], float]


def pearson(spearman: float) -> float:
    """The Gaussian copula's Pearson correlation that gives rank correlation ``spearman``."""
    return 2 * math.sin(math.pi * spearman / 6)


def correlated(order: Sequence[str], correlations: Correlations) -> tuple[str, ...]:
    """The names of ``order`` that appear in a correlated pair, in that order."""
    return tuple(n for n in order if any(n in pair for pair in correlations))


def pearson_matrix(names: Sequence[str], correlations: Correlations) -> np.ndarray:
    """The Pearson matrix of ``names`` (pairs naming anything else are left out)."""
    index = {n: i for i, n in enumerate(names)}
    m = np.eye(len(names))
    for (a, b), rho in correlations.items():
        if a in index and b in index:
            m[index[a], index[b]] = m[index[b], index[a]] = pearson(rho)
    return m


def smallest_eigenvalue(order: Sequence[str], correlations: Correlations) -> float:
    """The Pearson matrix's smallest eigenvalue (≤ 0: no joint distribution has these
    correlations); 1 without any."""
    names = correlated(order, correlations)
    return float(np.linalg.eigvalsh(pearson_matrix(names, correlations)).min()) if names else 1.0


def uniforms(z: np.ndarray) -> np.ndarray:
    """Copula coordinates u = Φ(z)."""
    return special.ndtr(z)


def normals(u: np.ndarray) -> np.ndarray:
    """Standard normals z = Φ⁻¹(u) (the inverse of :func:`uniforms`)."""
    return special.ndtri(u)


@dataclass(frozen=True)
class GaussianCopula:
    """Which rows of a (rows × worlds) array of standard normals are correlated, and how."""

    rows: int
    index: tuple[int, ...]  # the correlated rows, in order
    factor: np.ndarray  # lower Cholesky factor of their Pearson matrix

    @classmethod
    def of(cls, rows: Sequence[str], order: Sequence[str], correlations: Correlations) -> GaussianCopula:
        """The copula of the variables ``rows`` (the others' correlations dropped); ``order``
        is the order of every variable (the matrix's)."""
        names = tuple(n for n in correlated(order, correlations) if n in rows)
        factor = np.linalg.cholesky(pearson_matrix(names, correlations)) if names else np.eye(0)
        return cls(len(rows), tuple(list(rows).index(n) for n in names), factor)

    def correlate(self, z: np.ndarray) -> np.ndarray:
        """Independent standard normals ``z`` (rows × worlds) made correlated, in place."""
        if self.index:
            idx = list(self.index)
            z[idx] = self.factor @ z[idx]
        return z

    def dense_factor(self) -> np.ndarray:
        """The (rows × rows) factor: L on the correlated rows, the identity elsewhere."""
        chol = np.eye(self.rows)
        if self.index:
            idx = list(self.index)
            chol[np.ix_(idx, idx)] = self.factor
        return chol
