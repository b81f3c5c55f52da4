"""Numeric marginal distributions: quantile, CDF and density of every family of MODEL.md §4.

Each family is a frozen dataclass holding its canonical parameters. ``ppf`` maps
uniforms to values and ``from_z`` maps standard normals to values (the Gaussian
copula's z-space); the normal-based families do that without leaving z-space.
Continuous families delegate to :mod:`scipy.stats`; the tests compare each one
with an independent construction.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Protocol

import numpy as np
from scipy import special, stats
from scipy.optimize import elementwise

Z95 = float(special.ndtri(0.95))  # 1.6448536...: half-width of a 90% interval in sd units


class Marginal(Protocol):
    family: str

    def ppf(self, u: np.ndarray) -> np.ndarray: ...
    def cdf(self, x: np.ndarray) -> np.ndarray: ...
    def from_z(self, z: np.ndarray) -> np.ndarray: ...
    @property
    def support(self) -> tuple[float, float]: ...
    @property
    def atoms(self) -> tuple[tuple[float, float], ...]: ...
    def params(self) -> dict[str, float]: ...


#: z-range of the tabulated quantile; beyond it the exact quantile is used. The upper end is
#: lower because Φ(z) rounds towards 1 there, so u itself carries fewer digits.
Z_TABLE = (-8.5, 5.0)
#: Largest error allowed between the tabulated and the exact quantile, relative to the scale.
TABLE_TOLERANCE = 1e-10


class _Base:
    """Shared behaviour: z-space via a verified quantile table, left limits, no atoms."""

    family = "?"
    _tabulate = True  # families whose quantile is costly (beta, gamma, mixtures) tabulate it

    def _exact_from_z(self, z):
        # keep u inside (0, 1): a z beyond 8.3 would round Φ(z) to exactly 1; far tails may
        # overflow inside scipy (the loader checks that the values it probes are finite)
        with np.errstate(over="ignore", under="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # Boost's "root finding ... giving up" at 1 - 1e-16
            return self.ppf(np.clip(special.ndtr(z), 1e-300, 1 - 2**-53))

    def exact_from_z(self, z):
        """``from_z`` without building the quantile table: cheap at a few points."""
        return self._exact_from_z(np.asarray(z, dtype=float))

    @cached_property
    def _z_table(self):
        """Cubic Hermite interpolant of z ↦ F⁻¹(Φ(z)) with exact slopes φ(z)/f(x).

        Checked at every midpoint against the exact quantile; None (exact
        evaluation everywhere) if no table reaches TABLE_TOLERANCE.
        """
        if not self._tabulate or self.atoms:
            return None
        from scipy.interpolate import CubicHermiteSpline

        for nodes in (2049, 8193, 32769):
            z = np.linspace(*Z_TABLE, nodes)
            x = self._exact_from_z(z)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                slope = stats.norm.pdf(z) / self.pdf(x)
            if not (np.all(np.isfinite(x)) and np.all(np.isfinite(slope)) and np.all(np.diff(x) >= 0)):
                return None
            table = CubicHermiteSpline(z, x, slope)
            mid = (z[1:] + z[:-1]) / 2
            scale = max(float(x[-1] - x[0]), 1e-300)
            if np.max(np.abs(table(mid) - self._exact_from_z(mid))) <= TABLE_TOLERANCE * scale:
                return table
        return None

    def from_z(self, z):
        z = np.asarray(z, dtype=float)
        table = self._z_table
        if table is None:
            return self._exact_from_z(z)
        out = table(z)
        outside = (z < Z_TABLE[0]) | (z > Z_TABLE[1])
        if outside.any():
            out[outside] = self._exact_from_z(z[outside])
        return out

    def cdf_left(self, x):
        """P(X < x); equals ``cdf`` for continuous families."""
        return self.cdf(x)

    @property
    def atoms(self):
        return ()

    def params(self):
        return {k: v for k, v in self.__dict__.items() if isinstance(v, float)}


class _Scipy(_Base):
    """A continuous family backed by a frozen scipy.stats distribution."""

    @cached_property
    def frozen(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def ppf(self, u):
        return self.frozen.ppf(u)

    def cdf(self, x):
        return self.frozen.cdf(x)

    def pdf(self, x):
        return self.frozen.pdf(x)

    @property
    def support(self):
        lo, hi = self.frozen.support()
        return float(lo), float(hi)


@dataclass(frozen=True)
class Point(_Base):
    value: float
    family = "point"

    def ppf(self, u):
        return np.full(np.shape(u), self.value, dtype=float)

    from_z = exact_from_z = ppf

    def cdf(self, x):
        return (np.asarray(x) >= self.value).astype(float)

    def cdf_left(self, x):
        return (np.asarray(x) > self.value).astype(float)

    @property
    def support(self):
        return self.value, self.value

    @property
    def atoms(self):
        return ((self.value, 1.0),)


@dataclass(frozen=True)
class Normal(_Scipy):
    mean: float
    sd: float
    family = "normal"

    @cached_property
    def frozen(self):
        return stats.norm(self.mean, self.sd)

    def from_z(self, z):
        return self.mean + self.sd * z

    exact_from_z = from_z

    @classmethod
    def from_ci90(cls, a: float, b: float) -> "Normal":
        return cls((a + b) / 2, (b - a) / (2 * Z95))


@dataclass(frozen=True)
class LogNormal(_Scipy):
    """Lognormal with ``mu``, ``sigma`` the mean and sd of ``ln X``."""

    mu: float
    sigma: float
    family = "lognormal"

    @cached_property
    def frozen(self):
        return stats.lognorm(s=self.sigma, scale=np.exp(self.mu))

    def from_z(self, z):
        return np.exp(self.mu + self.sigma * z)

    exact_from_z = from_z

    @classmethod
    def from_ci90(cls, a: float, b: float) -> "LogNormal":
        la, lb = np.log(a), np.log(b)
        return cls(float((la + lb) / 2), float((lb - la) / (2 * Z95)))


@dataclass(frozen=True)
class LogitNormal(_Base):
    """``logit X ~ Normal(mu, sigma)``; support (0, 1)."""

    mu: float
    sigma: float
    family = "logitnormal"

    def from_z(self, z):
        return special.expit(self.mu + self.sigma * z)

    exact_from_z = from_z

    def ppf(self, u):
        return self.from_z(special.ndtri(u))

    def cdf(self, x):
        x = np.asarray(x, dtype=float)
        with np.errstate(divide="ignore"):
            return special.ndtr((special.logit(np.clip(x, 0, 1)) - self.mu) / self.sigma)

    def pdf(self, x):
        x = np.asarray(x, dtype=float)
        inside = (x > 0) & (x < 1)
        xs = np.where(inside, x, 0.5)
        d = stats.norm.pdf(special.logit(xs), self.mu, self.sigma) / (xs * (1 - xs))
        return np.where(inside, d, 0.0)

    @property
    def support(self):
        return 0.0, 1.0

    @classmethod
    def from_ci90(cls, a: float, b: float) -> "LogitNormal":
        la, lb = special.logit(a), special.logit(b)
        return cls(float((la + lb) / 2), float((lb - la) / (2 * Z95)))


@dataclass(frozen=True)
class Beta(_Scipy):
    alpha: float
    beta: float
    family = "beta"

    @cached_property
    def frozen(self):
        return stats.beta(self.alpha, self.beta)


@dataclass(frozen=True)
class Uniform(_Scipy):
    low: float
    high: float
    family = "uniform"

    @cached_property
    def frozen(self):
        return stats.uniform(self.low, self.high - self.low)

    _tabulate = False

    def ppf(self, u):
        return self.low + (self.high - self.low) * np.asarray(u)


@dataclass(frozen=True)
class Triangular(_Scipy):
    min: float
    mode: float
    max: float
    family = "triangular"

    @cached_property
    def frozen(self):
        width = self.max - self.min
        return stats.triang((self.mode - self.min) / width, loc=self.min, scale=width)


@dataclass(frozen=True)
class Pert(_Scipy):
    """PERT: a beta on [min, max] with shape 1 + 4·(mode − min)/(max − min) (Vose 2008, §9)."""

    min: float
    mode: float
    max: float
    family = "pert"

    @cached_property
    def frozen(self):
        width = self.max - self.min
        a = 1 + 4 * (self.mode - self.min) / width
        b = 1 + 4 * (self.max - self.mode) / width
        return stats.beta(a, b, loc=self.min, scale=width)


@dataclass(frozen=True)
class Gamma(_Scipy):
    shape: float
    scale: float
    family = "gamma"

    @cached_property
    def frozen(self):
        return stats.gamma(self.shape, scale=self.scale)


@dataclass(frozen=True)
class Truncated(_Base):
    """``base`` restricted to [lower, upper]: its quantile function on the kept mass.

    Samples are never clipped onto a bound (MODEL.md §4); a bound holds an atom
    only if the base distribution has one there.
    """

    base: Marginal
    lower: float = -np.inf
    upper: float = np.inf

    @property
    def family(self):
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

    def ppf(self, u):
        lo, hi = self._mass
        x = self.base.ppf(lo + np.asarray(u) * (hi - lo))
        return np.clip(x, self.lower, self.upper)  # round-off only: the mass is already kept

    def cdf(self, x):
        lo, hi = self._mass
        return np.clip((self.base.cdf(np.clip(x, self.lower, self.upper)) - lo) / (hi - lo), 0, 1) * (
            np.asarray(x) >= self.lower)

    def pdf(self, x):
        x = np.asarray(x, dtype=float)
        keep = (x >= self.lower) & (x <= self.upper)
        return np.where(keep, self.base.pdf(x), 0.0) / self.kept_mass

    @property
    def support(self):
        lo, hi = self.base.support
        return max(lo, self.lower), min(hi, self.upper)

    @property
    def atoms(self):
        return tuple((v, w / self.kept_mass) for v, w in self.base.atoms
                     if self.lower <= v <= self.upper)

    def params(self):
        return {**self.base.params(), "lower": self.lower, "upper": self.upper}


@dataclass(frozen=True)
class Mixture(_Base):
    """Weighted mixture; point-mass components become atoms of the quantile function.

    The quantile of the continuous part is found with scipy's vectorised
    bracketing root finder (Chandrupatla 1997), bracketed by the components'
    own quantiles.
    """

    components: tuple[Marginal, ...]
    weights: tuple[float, ...]
    family = "mixture"
    _cont: tuple = field(init=False, repr=False, compare=False)
    _atoms: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        cont, atoms = [], {}
        for c, w in zip(self.components, self.weights):
            if w == 0:
                continue
            for v, m in c.atoms:
                atoms[v] = atoms.get(v, 0.0) + w * m
            atom_mass = sum(m for _, m in c.atoms)
            if atom_mass < 1:
                cont.append((c, w * (1 - atom_mass)))
        object.__setattr__(self, "_cont", tuple(cont))
        object.__setattr__(self, "_atoms", tuple(sorted(atoms.items())))

    @property
    def atoms(self):
        return self._atoms

    @property
    def support(self):
        sup = [c.support for c, w in zip(self.components, self.weights) if w > 0]
        return min(s[0] for s in sup), max(s[1] for s in sup)

    def _cont_cdf(self, x):
        total = sum(w for _, w in self._cont)
        return sum(w * c.cdf(x) for c, w in self._cont) / total

    def cdf(self, x):
        return sum(w * c.cdf(x) for c, w in zip(self.components, self.weights))

    def cdf_left(self, x):
        return sum(w * c.cdf_left(x) for c, w in zip(self.components, self.weights))

    def pdf(self, x):
        return sum(w * c.pdf(x) for c, w in self._cont)

    def _cont_ppf(self, v):
        if len(self._cont) == 1:
            return self._cont[0][0].ppf(v)
        qs = [c.ppf(v) for c, _ in self._cont]
        lo, hi = np.minimum.reduce(qs), np.maximum.reduce(qs)
        out = lo.copy()
        todo = (hi > lo) & (self._cont_cdf(lo) < v)
        if todo.any():
            res = elementwise.find_root(lambda x, t: self._cont_cdf(x) - t, (lo[todo], hi[todo]),
                                        args=(v[todo],))
            # no sign change within rounding (v within 1e-16 of 1): the root is the bracket's top
            out[todo] = np.where(np.isfinite(res.x), res.x, hi[todo])
        return out

    def ppf(self, u):
        u = np.asarray(u, dtype=float)
        w_cont = sum(w for _, w in self._cont)
        values = np.array([a for a, _ in self._atoms])
        masses = np.array([m for _, m in self._atoms])
        if not len(values):
            return self._cont_ppf(np.clip(u, 0, 1))
        below = np.concatenate([[0.0], np.cumsum(masses)[:-1]])  # atom mass strictly below each atom
        cont_at = w_cont * self._cont_cdf(values) if w_cont > 0 else np.zeros_like(values)
        g_minus = cont_at + below  # P(X < a_j)
        g_at = g_minus + masses  # P(X <= a_j)
        k = np.searchsorted(g_at, u, side="left")  # atoms wholly below u
        kk = np.minimum(k, len(values) - 1)
        in_atom = (k < len(values)) & (u > g_minus[kk])
        out = values[kk].astype(float)
        if w_cont > 0:
            rest = ~in_atom
            mass_below = np.concatenate([[0.0], np.cumsum(masses)])[k[rest]]
            v = np.clip((u[rest] - mass_below) / w_cont, 1e-300, 1 - 1e-16)
            out[rest] = self._cont_ppf(v)
        return out

    def params(self):
        return {f"w{i}": w for i, w in enumerate(self.weights)}


#: ln α and ln β of an interval-fitted beta stay within ±12 (α, β from 6e-6 to 1.6e5).
BETA_LOG_BOUND = 12.0


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
