"""A point value: the whole mass at one number (docs/model.md, Priors and sampling)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import model_validator

from model.families.base import Family, fmt
from model.families.fields import FamilySpec, Finite


class PointSpec(FamilySpec):
    dist: Literal["point"]
    value: Finite

    @model_validator(mode="after")
    def _untruncated(self):
        if self.lower is not None or self.upper is not None:
            raise ValueError(
                "a point value cannot be truncated: lower/upper bound a distribution, "
                "and a point mass has nothing to cut (remove lower and upper)"
            )
        return self

    def _base(self, parts=()):
        return Point(self.value)


@dataclass(frozen=True)
class Point(Family):
    value: float
    family = "point"
    Spec = PointSpec

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return np.full(np.shape(u), self.value, dtype=float)

    def from_z(self, z: np.ndarray) -> np.ndarray:
        return self.ppf(z)

    exact_from_z = from_z

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x) >= self.value).astype(float)

    def cdf_left(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x) > self.value).astype(float)

    def likelihood(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x) == self.value).astype(float)

    @property
    def support(self) -> tuple[float, float]:
        return self.value, self.value

    @property
    def atoms(self) -> tuple[tuple[float, float], ...]:
        return ((self.value, 1.0),)

    def ppf_tensor(self, u):
        import pytensor.tensor as pt

        return pt.zeros_like(u) + self.value

    def refit(self, x: np.ndarray, w: np.ndarray) -> float:
        """Unchanged."""
        return fmt(self.value)

    def as_table(self) -> float:
        return fmt(self.value)
