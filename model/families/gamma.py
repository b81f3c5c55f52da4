"""The gamma family (docs/model.md, Priors and sampling)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np

from model.families.base import ScipyFamily, fmt
from model.families.fields import FamilySpec, Positive


class GammaSpec(FamilySpec):
    dist: Literal["gamma"]
    shape: Positive
    scale: Positive

    def _base(self, parts=()):
        return Gamma(self.shape, self.scale)


@dataclass(frozen=True)
class Gamma(ScipyFamily):
    shape: float
    scale: float
    family = "gamma"
    Spec = GammaSpec

    @cached_property
    def frozen(self):
        from scipy import stats  # imported when first used (≈ 0.5 s)

        return stats.gamma(self.shape, scale=self.scale)

    def sf(self, x: np.ndarray) -> np.ndarray:
        return self.frozen.sf(x)

    def isf(self, s: np.ndarray) -> np.ndarray:
        return self.frozen.isf(s)

    def ppf_tensor(self, u):
        import pytensor.tensor as pt

        return self.scale * pt.gammaincinv(self.shape, u)

    def refit(self, x: np.ndarray, w: np.ndarray) -> dict:
        """By moments: shape = m²/v, scale = v/m."""
        mean = float(w @ x)
        var = float(w @ (x - mean) ** 2)
        return {"dist": self.family, "shape": fmt(mean**2 / var), "scale": fmt(var / mean)}
