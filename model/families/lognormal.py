"""The lognormal family (docs/model.md, Priors and sampling)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
from pydantic import model_validator
from scipy import special

from model.families.base import Z95, LocScale, ScipyFamily, ci90_refit
from model.families.fields import FamilySpec, Finite, Interval, Positive, one_form, ordered


class LogNormalSpec(FamilySpec):
    dist: Literal["lognormal"]
    ci90: Interval | None = None
    mu: Finite | None = None
    sigma: Positive | None = None

    @model_validator(mode="after")
    def _check(self):
        one_form(self, {"ci90": ("ci90",), "mu/sigma": ("mu", "sigma")})
        if self.ci90:
            ordered(*self.ci90)
            if self.ci90[0] <= 0:
                raise ValueError(f"a lognormal's ci90 must be positive (got {list(self.ci90)})")
        return self

    def _base(self, parts=()):
        if self.ci90:
            return LogNormal.from_ci90(*self.ci90)
        assert self.mu is not None and self.sigma is not None  # one_form: the other parametrisation
        return LogNormal(self.mu, self.sigma)


@dataclass(frozen=True)
class LogNormal(ScipyFamily):
    """Lognormal with ``mu``, ``sigma`` the mean and sd of ``ln X``."""

    mu: float
    sigma: float
    family = "lognormal"
    Spec = LogNormalSpec

    @cached_property
    def frozen(self) -> LocScale:
        """scipy.stats.lognorm(s=sigma, scale=exp(mu))'s numbers, without importing scipy.stats."""
        s = self.sigma

        def pdf(x):
            out = np.full(x.shape, -np.inf)  # scipy's _lognorm_logpdf, then exp
            nz = x != 0
            xs = x[nz]
            out[nz] = -(np.log(xs) ** 2) / (2 * s**2) - np.log(s * xs * np.sqrt(2 * np.pi))
            return np.exp(out)

        return LocScale(
            lambda q: np.exp(s * special.ndtri(q)),
            lambda x: special.ndtr(np.log(x) / s),
            pdf,
            0.0,
            np.inf,
            0.0,
            np.exp(self.mu),
        )

    def from_z(self, z: np.ndarray) -> np.ndarray:
        return np.exp(self.mu + self.sigma * z)

    exact_from_z = from_z

    def sf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(x > 0, special.ndtr((self.mu - np.log(np.maximum(x, 0))) / self.sigma), 1.0)

    def isf(self, s: np.ndarray) -> np.ndarray:
        return np.exp(self.mu - self.sigma * special.ndtri(s))

    @classmethod
    def from_ci90(cls, a: float, b: float) -> LogNormal:
        la, lb = np.log(a), np.log(b)
        return cls(float((la + lb) / 2), float((lb - la) / (2 * Z95)))

    def ppf_tensor(self, u):
        from model.families.tensor import ndtri

        return self.from_z_tensor(ndtri(u))

    def from_z_tensor(self, z):
        import pytensor.tensor as pt

        return pt.exp(self.mu + self.sigma * z)

    def refit(self, x: np.ndarray, w: np.ndarray) -> float | dict:
        """The posterior's 5th and 95th percentiles become ``ci90`` (kept positive)."""
        return ci90_refit(self.family, x, w, floor=1e-12)
