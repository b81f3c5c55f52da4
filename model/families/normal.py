"""The normal family (docs/model.md, Priors and sampling)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
from pydantic import model_validator
from scipy import special

from model.families.base import Z95, LocScale, ScipyFamily, ci90_refit, norm_pdf
from model.families.fields import FamilySpec, Finite, Interval, Positive, one_form, ordered


class NormalSpec(FamilySpec):
    dist: Literal["normal"]
    mean: Finite | None = None
    sd: Positive | None = None
    ci90: Interval | None = None

    @model_validator(mode="after")
    def _check(self):
        one_form(self, {"mean/sd": ("mean", "sd"), "ci90": ("ci90",)})
        if self.ci90:
            ordered(*self.ci90)
        return self

    def _base(self, parts=()):
        if self.ci90:
            return Normal.from_ci90(*self.ci90)
        assert self.mean is not None and self.sd is not None  # one_form: the other parametrisation
        return Normal(self.mean, self.sd)


@dataclass(frozen=True)
class Normal(ScipyFamily):
    mean: float
    sd: float
    family = "normal"
    Spec = NormalSpec

    @cached_property
    def frozen(self) -> LocScale:
        """scipy.stats.norm(mean, sd)'s numbers, without importing scipy.stats."""
        return LocScale(special.ndtri, special.ndtr, norm_pdf, -np.inf, np.inf, self.mean, self.sd)

    def from_z(self, z: np.ndarray) -> np.ndarray:
        return self.mean + self.sd * z

    exact_from_z = from_z

    def sf(self, x: np.ndarray) -> np.ndarray:
        return special.ndtr((self.mean - np.asarray(x, dtype=float)) / self.sd)

    def isf(self, s: np.ndarray) -> np.ndarray:
        return self.mean - self.sd * special.ndtri(s)

    @classmethod
    def from_ci90(cls, a: float, b: float) -> Normal:
        return cls((a + b) / 2, (b - a) / (2 * Z95))

    def ppf_tensor(self, u):
        from model.families.tensor import ndtri

        return self.mean + self.sd * ndtri(u)

    def from_z_tensor(self, z):
        return self.mean + self.sd * z

    def refit(self, x: np.ndarray, w: np.ndarray) -> float | dict:
        """The posterior's 5th and 95th percentiles become ``ci90``."""
        return ci90_refit(self.family, x, w)
