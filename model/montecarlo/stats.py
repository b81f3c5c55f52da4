"""Mergeable summaries of a block's per-world values: moments (Chan et al. 1979), extremes,
the crux-map and ambition cells, and a calibrated file's weighted sums; blocks merge exactly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from model.core.quantities import ALL

if TYPE_CHECKING:
    from model.montecarlo.binned import SensitivitySums
    from model.montecarlo.given import EvidenceSums


#: Quantities summarised (names as in summary.json); all per-world probabilities.
QUANTITIES = ALL


@dataclass
class Stats:
    """Mergeable summary of per-world values: moments (Chan et al. 1979), extremes, histogram."""

    n: int
    mean: np.ndarray
    m2: np.ndarray
    low: np.ndarray
    high: np.ndarray
    below_target: int
    map_counts: np.ndarray
    map_sums: np.ndarray
    ambition_counts: np.ndarray
    ambition_sums: np.ndarray
    sens: SensitivitySums | None = None  # the sensitivity section's bins (model.montecarlo.binned)
    weighted: Weighted | None = None  # a calibrated file's weighted sums
    evidence: EvidenceSums | None = None  # the views given the evidence (model.montecarlo.given)

    @classmethod
    def of(
        cls,
        values: np.ndarray,
        below_target: int,
        map_counts,
        map_sums,
        ambition,
        sens=None,
        weighted=None,
        evidence=None,
    ) -> Stats:
        mean = values.mean(axis=1)
        ambition_counts, ambition_sums = ambition
        return cls(
            values.shape[1],
            mean,
            ((values - mean[:, None]) ** 2).sum(axis=1),
            values.min(axis=1),
            values.max(axis=1),
            below_target,
            map_counts,
            map_sums,
            ambition_counts,
            ambition_sums,
            sens,
            weighted,
            evidence,
        )

    def merge(self, other: Stats) -> Stats:
        n = self.n + other.n
        delta = other.mean - self.mean
        sens = weighted = None
        if self.sens is not None:
            assert other.sens is not None  # the blocks of a run all have the bins, or none has
            sens = self.sens.merge(other.sens)
        if self.weighted is not None:
            assert other.weighted is not None  # the blocks of a run all are weighted, or none is
            weighted = self.weighted.merge(other.weighted)
        evidence = None
        if self.evidence is not None:
            assert other.evidence is not None  # every block of a run has the evidence, or none has
            evidence = self.evidence.merge(other.evidence)
        return Stats(
            n,
            self.mean + delta * other.n / n,
            self.m2 + other.m2 + delta**2 * self.n * other.n / n,
            np.minimum(self.low, other.low),
            np.maximum(self.high, other.high),
            self.below_target + other.below_target,
            self.map_counts + other.map_counts,
            self.map_sums + other.map_sums,
            self.ambition_counts + other.ambition_counts,
            self.ambition_sums + other.ambition_sums,
            sens,
            weighted,
            evidence,
        )


@dataclass
class Weighted:
    """Sums over worlds with importance weights w ≤ 1 (a calibrated priors file), all additive.

    From them: weighted means Σw·x/Σw, their Monte Carlo error
    sqrt(Σw²(x − μ)²)/Σw (self-normalised importance sampling), Kish's effective sample
    size (Σw)²/Σw², and the denominators Σw of the crux map and the ambition curve (their
    numerators are the weighted sums ``Stats`` already holds in a weighted run).
    """

    w: float
    w2: float
    wx: np.ndarray  # per quantity
    w2x: np.ndarray
    w2x2: np.ndarray
    below: float
    map_w: np.ndarray
    ambition_w: np.ndarray

    def merge(self, other: Weighted) -> Weighted:
        return Weighted(*(getattr(self, f) + getattr(other, f) for f in self.__dataclass_fields__))

    def mean(self) -> np.ndarray:
        return self.wx / self.w

    def mcse(self) -> np.ndarray:
        mu = self.mean()
        return np.sqrt(np.maximum(self.w2x2 - 2 * mu * self.w2x + mu**2 * self.w2, 0.0)) / self.w

    def ess(self) -> float:
        return float(self.w**2 / self.w2) if self.w2 > 0 else 0.0
