"""PERT: a beta on [min, max] with shapes from the mode (Vose 2008, §9; docs/model.md, Priors and sampling)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

from model.families.base import LocScale, ThreePoint
from model.families.beta import beta_standard
from model.families.fields import ThreePointSpec


class PertSpec(ThreePointSpec):
    dist: Literal["pert"]

    def _base(self, parts=()):
        return Pert(self.min, self.mode, self.max)


@dataclass(frozen=True)
class Pert(ThreePoint):
    """PERT: a beta on [min, max] with shape 1 + 4·(mode − min)/(max − min) (Vose 2008, §9)."""

    min: float
    mode: float
    max: float
    family = "pert"
    Spec = PertSpec

    @property
    def shapes(self) -> tuple[float, float]:
        """α = 1 + 4·(mode − min)/(max − min), β = 1 + 4·(max − mode)/(max − min)."""
        width = self.max - self.min
        return 1 + 4 * (self.mode - self.min) / width, 1 + 4 * (self.max - self.mode) / width

    @cached_property
    def frozen(self) -> LocScale:
        """scipy.stats.beta(*shapes, loc=min, scale=max − min)'s numbers, without scipy.stats."""
        return beta_standard(*self.shapes, loc=self.min, scale=self.max - self.min)

    def ppf_tensor(self, u):
        import pytensor.tensor as pt

        return self.min + (self.max - self.min) * pt.betaincinv(*self.shapes, u)
