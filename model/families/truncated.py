"""A family restricted to [lower, upper] (docs/model.md, Priors and sampling)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from model.families.base import Family, Marginal, fmt


@dataclass(frozen=True)
class Truncated(Family):
    """``base`` restricted to [lower, upper]: its quantile function on the kept mass.

    Samples are never clipped onto a bound (docs/model.md, Priors and sampling); a
    bound holds an atom only if the base distribution has one there.
    """

    base: Marginal
    lower: float = -np.inf
    upper: float = np.inf

    @property
    def family(self) -> str:
        return self.base.family

    @cached_property
    def _mass(self) -> tuple[float, float]:
        lo = float(self.base.cdf_left(self.lower)) if np.isfinite(self.lower) else 0.0
        hi = float(self.base.cdf(self.upper)) if np.isfinite(self.upper) else 1.0
        return lo, hi

    @property
    def kept_mass(self) -> float:
        lo, hi = self._mass
        return hi - lo

    def ppf(self, u: np.ndarray) -> np.ndarray:
        lo, hi = self._mass
        x = self.base.ppf(lo + np.asarray(u) * (hi - lo))
        return np.clip(x, self.lower, self.upper)  # round-off only: the mass is already kept

    def cdf(self, x: np.ndarray) -> np.ndarray:
        lo, hi = self._mass
        return np.clip((self.base.cdf(np.clip(x, self.lower, self.upper)) - lo) / (hi - lo), 0, 1) * (
            np.asarray(x) >= self.lower)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        keep = (x >= self.lower) & (x <= self.upper)
        return np.where(keep, self.base.pdf(x), 0.0) / self.kept_mass

    @property
    def support(self) -> tuple[float, float]:
        lo, hi = self.base.support
        return max(lo, self.lower), min(hi, self.upper)

    @property
    def atoms(self) -> tuple[tuple[float, float], ...]:
        return tuple((v, w / self.kept_mass) for v, w in self.base.atoms
                     if self.lower <= v <= self.upper)

    def params(self) -> dict[str, float]:
        return {**self.base.params(), "lower": self.lower, "upper": self.upper}

    def ppf_tensor(self, u):
        import pytensor.tensor as pt

        lo, hi = self._mass
        return pt.clip(self.base.ppf_tensor(lo + u * (hi - lo)), self.lower, self.upper)

    def nuts_problem(self) -> str | None:
        return self.base.nuts_problem()

    def refit(self, x: np.ndarray, w: np.ndarray) -> float | dict:
        """The base family's rule; the bounds are kept."""
        table = self.base.refit(x, w)
        if not isinstance(table, dict):
            return table
        bounds = {k: fmt(v) for k, v in (("lower", self.lower), ("upper", self.upper)) if math.isfinite(v)}
        return {**table, **bounds}

    def as_table(self) -> dict:
        raise TypeError("truncated mixture components cannot be written back")
