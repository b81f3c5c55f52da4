"""A family restricted to [lower, upper] (docs/model.md, Priors and sampling)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import special

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
    def family(self) -> str:  # type: ignore[override]  # its base's name; no family's name is ever assigned
        return self.base.family

    @cached_property
    def _mass(self) -> tuple[float, float]:
        """P(X < lower) and P(X <= upper) of the base."""
        lo = float(self.base.cdf_left(np.asarray(self.lower))) if np.isfinite(self.lower) else 0.0
        hi = float(self.base.cdf(np.asarray(self.upper))) if np.isfinite(self.upper) else 1.0
        return lo, hi

    @cached_property
    def _tail(self) -> tuple[float, float]:
        """P(X >= lower) and P(X > upper) of the base, from its survival function: exact
        where ``_mass`` would round to 1 (a bound far in the upper tail)."""
        if self.base.atoms:  # the survival functions of the families with atoms are 1 − F
            lo, hi = self._mass
            return 1.0 - lo, 1.0 - hi
        s_lo = float(self.base.sf(np.asarray(self.lower))) if np.isfinite(self.lower) else 1.0
        s_hi = float(self.base.sf(np.asarray(self.upper))) if np.isfinite(self.upper) else 0.0
        return s_lo, s_hi

    @cached_property
    def _upper_half(self) -> bool:
        """Whether all the kept mass lies above the base's median (then held as survival)."""
        return self._mass[0] >= 0.5

    @property
    def kept_mass(self) -> float:
        if self._upper_half:
            s_lo, s_hi = self._tail
            return s_lo - s_hi
        lo, hi = self._mass
        return hi - lo

    def _quantile(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """The value with a share u of the kept mass below it and v = 1 − u above, each
        given accurately where it is small (so no digits are lost in either tail).

        Where that value lies in the base's lower half, F⁻¹(F(lower) + u·m); in its upper
        half, S⁻¹(S(upper) + v·m) with the survival function S = 1 − F and m the kept mass:
        equal in exact arithmetic, but only the second stays below 1 (and finite) when the
        bounds are far in the upper tail (docs/model.md, Priors and sampling).
        """
        u, v = np.asarray(u, dtype=float), np.asarray(v, dtype=float)
        m, (lo, _), (_, s_hi) = self.kept_mass, self._mass, self._tail
        tiny = np.nextafter(0.0, 1.0)  # not 0, whose quantile is the (maybe infinite) end of the support
        p = np.maximum(lo + u * m, tiny)
        s = np.maximum(s_hi + v * m, tiny)
        upper = p > 0.5
        with np.errstate(all="ignore"):
            x = np.where(upper, self.base.isf(np.where(upper, s, 0.5)), self.base.ppf(np.where(upper, 0.5, p)))
        return np.clip(x, self.lower, self.upper)  # round-off only: the mass is already kept

    def ppf(self, u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        return self._quantile(u, 1.0 - u)  # 1 − u is exact for u >= 1/2

    def isf(self, s: np.ndarray) -> np.ndarray:
        s = np.asarray(s, dtype=float)
        return self._quantile(1.0 - s, s)

    def _exact_from_z(self, z):
        z = np.asarray(z, dtype=float)
        return self._quantile(np.maximum(special.ndtr(z), 1e-300), np.maximum(special.ndtr(-z), 1e-300))

    def cdf(self, x: np.ndarray) -> np.ndarray:
        inside = np.clip(x, self.lower, self.upper)
        if self._upper_half:
            below = (self._tail[0] - self.base.sf(inside)) / self.kept_mass
        else:
            below = (self.base.cdf(inside) - self._mass[0]) / self.kept_mass
        return np.clip(below, 0, 1) * (np.asarray(x) >= self.lower)

    def sf(self, x: np.ndarray) -> np.ndarray:
        inside = np.clip(x, self.lower, self.upper)
        if self._upper_half:
            above = (self.base.sf(inside) - self._tail[1]) / self.kept_mass
        else:
            above = (self._mass[1] - self.base.cdf(inside)) / self.kept_mass
        return np.where(np.asarray(x) >= self.lower, np.clip(above, 0, 1), 1.0)

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
        return tuple((v, w / self.kept_mass) for v, w in self.base.atoms if self.lower <= v <= self.upper)

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
