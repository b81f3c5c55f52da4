"""The uniform family (docs/model.md, Priors and sampling)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
from pydantic import model_validator

from model.core.weights import weighted_quantile
from model.families.base import ScipyFamily, fmt
from model.families.fields import FamilySpec, Finite, ordered


class UniformSpec(FamilySpec):
    dist: Literal["uniform"]
    low: Finite
    high: Finite

    @model_validator(mode="after")
    def _check(self):
        ordered(self.low, self.high, what="low, high")
        return self

    def _base(self, parts=()):
        return Uniform(self.low, self.high)


@dataclass(frozen=True)
class Uniform(ScipyFamily):
    low: float
    high: float
    family = "uniform"
    Spec = UniformSpec
    _tabulate = False

    @cached_property
    def frozen(self):
        from scipy import stats  # imported when first used (≈ 0.5 s)

        return stats.uniform(self.low, self.high - self.low)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.low + (self.high - self.low) * np.asarray(u)

    def ppf_tensor(self, u):
        return self.low + (self.high - self.low) * u

    def refit(self, x: np.ndarray, w: np.ndarray) -> dict:
        """low and high become the posterior's 0.5th and 99.5th percentiles."""
        lo, hi = weighted_quantile(x, w, [0.005, 0.995])
        return {"dist": self.family, "low": fmt(lo), "high": fmt(hi)}
