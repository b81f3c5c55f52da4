"""The beta family, and its fit to a 90% interval (docs/model.md, Priors and sampling)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
from pydantic import model_validator
from scipy import special

from model.families.base import Z95, LocScale, ScipyFamily, ci90_refit
from model.families.fields import FIT_TOLERANCE, FamilySpec, Interval, Positive, one_form, unit_interval

#: ln α and ln β of an interval-fitted beta stay within ±12 (α, β from 6e-6 to 1.6e5).
BETA_LOG_BOUND = 12.0


class BetaSpec(FamilySpec):
    dist: Literal["beta"]
    alpha: Positive | None = None
    beta: Positive | None = None
    ci90: Interval | None = None

    @model_validator(mode="after")
    def _check(self):
        one_form(self, {"alpha/beta": ("alpha", "beta"), "ci90": ("ci90",)})
        if self.ci90:
            unit_interval(self.ci90)
        return self

    def _base(self, parts=()):
        if not self.ci90:
            assert self.alpha is not None and self.beta is not None  # one_form: the other parametrisation
            return Beta(self.alpha, self.beta)
        dist, miss = beta_from_ci90(*self.ci90)
        if miss > FIT_TOLERANCE:
            raise ValueError(_beta_misfit(self.ci90, dist, miss))
        return dist


@dataclass(frozen=True)
class Beta(ScipyFamily):
    alpha: float
    beta: float
    family = "beta"
    Spec = BetaSpec

    @cached_property
    def frozen(self) -> LocScale:
        """scipy.stats.beta(alpha, beta)'s numbers, without importing scipy.stats."""
        return beta_standard(self.alpha, self.beta)

    def ppf_tensor(self, u):
        import pytensor.tensor as pt

        return pt.betaincinv(self.alpha, self.beta, u)

    def refit(self, x: np.ndarray, w: np.ndarray) -> float | dict:
        """The posterior's 5th and 95th percentiles become ``ci90`` (inside (0, 1))."""
        return ci90_refit(self.family, x, w, floor=1e-9, ceiling=1 - 1e-9)


def beta_standard(a: float, b: float, loc: float = 0.0, scale: float = 1.0) -> LocScale:
    """The beta on [loc, loc + scale] computed as scipy.stats.beta computes it."""
    log_norm = special.betaln(a, b)

    def pdf(x):  # x^(a-1) (1-x)^(b-1) / B(a, b) from public scipy.special functions
        x = np.asarray(x, dtype=float)
        inside = (x >= 0.0) & (x <= 1.0)
        xi = np.where(inside, x, 0.5)
        with np.errstate(over="ignore", divide="ignore"):
            dens = np.exp(special.xlogy(a - 1.0, xi) + special.xlog1py(b - 1.0, -xi) - log_norm)
        return np.where(inside, dens, np.where(np.isnan(x), np.nan, 0.0))

    def ppf(q):  # Boost's ibeta_inv, as scipy.stats.beta's quantile (bit for bit)
        return special.betaincinv(a, b, q)

    return LocScale(ppf, lambda x: special.betainc(a, b, x), pdf, 0.0, 1.0, loc, scale)


def beta_from_ci90(a: float, b: float) -> tuple[Beta, float]:
    """The beta whose 5th and 95th percentiles are ``a`` and ``b``.

    Returns the distribution and the largest miss of the achieved tail masses
    (0.05 and 0.95) so the caller can refuse a poor fit (STYLE habit 3). The fit
    keeps ln α, ln β within ±BETA_LOG_BOUND; an interval that needs more misses.
    """
    from scipy.optimize import least_squares

    m, s = (a + b) / 2, (b - a) / (2 * Z95)
    nu = max(m * (1 - m) / s**2 - 1, 0.5)
    bound = BETA_LOG_BOUND
    x0 = np.clip(np.log([max(m * nu, 0.05), max((1 - m) * nu, 0.05)]), -bound + 1e-6, bound - 1e-6)

    def resid(t):
        al, be = np.exp(t)
        return [special.betainc(al, be, a) - 0.05, special.betainc(al, be, b) - 0.95]

    sol = least_squares(resid, x0, xtol=1e-15, ftol=1e-15, gtol=1e-15, bounds=(-bound, bound))
    al, be = np.exp(sol.x)
    dist = Beta(float(al), float(be))
    return dist, float(np.max(np.abs(resid(sol.x))))


def _beta_misfit(ci90: list[float], dist: Beta, miss: float) -> str:
    """Why no beta fits ``ci90``, in the file's terms."""
    a, b = ci90
    top = math.exp(BETA_LOG_BOUND)
    if max(dist.alpha, dist.beta) > 0.999 * top:
        return (
            f"ci90 = [{a:g}, {b:g}] is too narrow for a beta: the fit would need alpha or beta "
            f"above {top:.3g}; use a point value, a wider interval or a logitnormal"
        )
    return (
        f"no beta distribution has the 90% interval [{a:g}, {b:g}] (best fit misses a tail "
        f"mass by {miss:.2g}); use a logitnormal, or give alpha and beta"
    )
