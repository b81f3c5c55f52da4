"""The triangular family, with its closed-form quantile (docs/model.md, Priors and sampling)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
from scipy import special

from model.families.base import ThreePoint
from model.families.fields import ThreePointSpec


class TriangularSpec(ThreePointSpec):
    dist: Literal["triangular"]

    def _base(self, parts=()):
        return Triangular(self.min, self.mode, self.max)


@dataclass(frozen=True)
class Triangular(ThreePoint):
    min: float
    mode: float
    max: float
    family = "triangular"
    Spec = TriangularSpec
    _tabulate = False  # the quantile is closed form

    @cached_property
    def frozen(self):
        width = self.max - self.min
        from scipy import stats  # imported when first used (≈ 0.5 s)

        return stats.triang((self.mode - self.min) / width, loc=self.min, scale=width)

    def _sides(self, below: np.ndarray, above: np.ndarray, u: np.ndarray) -> np.ndarray:
        """F⁻¹ from u = P(X ≤ x) (``below``) and 1 − u (``above``), each accurate on its side."""
        width = self.max - self.min
        left = self.min + np.sqrt(below * width * (self.mode - self.min))
        right = self.max - np.sqrt(above * width * (self.max - self.mode))
        return np.where(u < (self.mode - self.min) / width, left, right)

    def ppf(self, u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        return self._sides(u, 1.0 - u, u)

    def from_z(self, z: np.ndarray) -> np.ndarray:
        u = special.ndtr(np.asarray(z, dtype=float))
        return self._sides(u, special.ndtr(-np.asarray(z, dtype=float)), u)

    exact_from_z = from_z

    def ppf_tensor(self, u):
        import pytensor.tensor as pt

        width = self.max - self.min
        c = (self.mode - self.min) / width
        left = self.min + pt.sqrt(u * width * (self.mode - self.min))
        right = self.max - pt.sqrt((1.0 - u) * width * (self.max - self.mode))
        return pt.switch(u < c, left, right)
