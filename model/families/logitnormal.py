"""The logit-normal family: ``logit X ~ Normal(mu, sigma)`` (docs/model.md, Priors and sampling)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from pydantic import model_validator
from scipy import special

from model.families.base import Z95, Family, ci90_refit, fmt, norm_pdf
from model.families.fields import FamilySpec, Interval, unit_interval


class LogitNormalSpec(FamilySpec):
    dist: Literal["logitnormal"]
    ci90: Interval

    @model_validator(mode="after")
    def _check(self):
        unit_interval(self.ci90)
        return self

    def _base(self, parts=()):
        return LogitNormal.from_ci90(*self.ci90)


@dataclass(frozen=True)
class LogitNormal(Family):
    """``logit X ~ Normal(mu, sigma)``; support (0, 1)."""

    mu: float
    sigma: float
    family = "logitnormal"
    Spec = LogitNormalSpec

    def from_z(self, z: np.ndarray) -> np.ndarray:
        return special.expit(self.mu + self.sigma * z)

    exact_from_z = from_z

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.from_z(special.ndtri(u))

    def sf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore"):
            return special.ndtr((self.mu - special.logit(np.clip(x, 0, 1))) / self.sigma)

    def isf(self, s: np.ndarray) -> np.ndarray:
        return self.from_z(-special.ndtri(s))

    def cdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore"):
            return special.ndtr((special.logit(np.clip(x, 0, 1)) - self.mu) / self.sigma)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        inside = (x > 0) & (x < 1)
        xs = np.where(inside, x, 0.5)
        # scipy.stats.norm.pdf(logit(xs), mu, sigma), computed as scipy does
        d = norm_pdf((special.logit(xs) - self.mu) / self.sigma) / self.sigma / (xs * (1 - xs))
        return np.where(inside, d, 0.0)

    @property
    def support(self) -> tuple[float, float]:
        return 0.0, 1.0

    @classmethod
    def from_ci90(cls, a: float, b: float) -> LogitNormal:
        la, lb = special.logit(a), special.logit(b)
        return cls(float((la + lb) / 2), float((lb - la) / (2 * Z95)))

    def ppf_tensor(self, u):
        from model.families.tensor import ndtri

        return self.from_z_tensor(ndtri(u))

    def from_z_tensor(self, z):
        import pytensor.tensor as pt

        return pt.sigmoid(self.mu + self.sigma * z)

    def refit(self, x: np.ndarray, w: np.ndarray) -> float | dict:
        """The posterior's 5th and 95th percentiles become ``ci90`` (inside (0, 1))."""
        return ci90_refit(self.family, x, w, floor=1e-9, ceiling=1 - 1e-9)

    def as_table(self) -> dict:
        """By its interval: the file format knows a logit-normal only so."""
        lo, hi = self.ppf(np.array([0.05, 0.95]))
        return {"dist": self.family, "ci90": [fmt(lo), fmt(hi)]}
