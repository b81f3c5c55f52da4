"""What every family shares (docs/model.md, Priors and sampling): z-space, tables, refit helpers.

A family is a frozen dataclass of its canonical parameters. ``ppf`` maps
uniforms to values and ``from_z`` maps standard normals to values (the Gaussian
copula's z-space). Families without a cheap quantile evaluate ``from_z`` through
a verified cubic Hermite table in z (:class:`ZTable`). Each family also gives its
PyTensor quantile (``ppf_tensor``; pytensor is imported only when it is called)
and its refit rule (``refit``), so a family lives in one file.
"""

from __future__ import annotations

import warnings
from dataclasses import fields
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

import numpy as np
from scipy import special

from model.core.weights import weighted_quantile

if TYPE_CHECKING:
    from model.families.fields import FamilySpec

Z95 = float(special.ndtri(0.95))  # 1.6448536...: half-width of a 90% interval in sd units


class Marginal(Protocol):
    """What the engine, the loader and the calibration use of a family (see :class:`Family`)."""

    @property
    def family(self) -> str: ...

    def ppf(self, u: np.ndarray) -> np.ndarray: ...
    def cdf(self, x: np.ndarray) -> np.ndarray: ...
    def cdf_left(self, x: np.ndarray) -> np.ndarray: ...
    def sf(self, x: np.ndarray) -> np.ndarray: ...
    def isf(self, s: np.ndarray) -> np.ndarray: ...
    def pdf(self, x: np.ndarray) -> np.ndarray: ...
    def from_z(self, z: np.ndarray) -> np.ndarray: ...
    def exact_from_z(self, z: np.ndarray) -> np.ndarray: ...
    @property
    def support(self) -> tuple[float, float]: ...
    @property
    def atoms(self) -> tuple[tuple[float, float], ...]: ...
    def params(self) -> dict[str, float]: ...
    def ppf_tensor(self, u): ...
    def from_z_tensor(self, z): ...
    def nuts_problem(self) -> str | None: ...
    def refit(self, x: np.ndarray, w: np.ndarray) -> float | dict: ...
    def as_table(self) -> float | dict: ...
    def likelihood(self, x: np.ndarray) -> np.ndarray: ...
    def __hash__(self) -> int: ...  # frozen dataclasses: the probes cache by marginal


#: z-range of the tabulated quantile; beyond it the exact quantile is used. The upper end is
#: lower because Φ(z) rounds towards 1 there, so u itself carries fewer digits.
Z_TABLE = (-8.5, 5.0)
#: Largest error allowed between the tabulated and the exact quantile, relative to the scale.
TABLE_TOLERANCE = 1e-10


class ZTable:
    """A cubic Hermite spline on an evenly spaced z grid, evaluated without a search.

    The interval of each z comes from its offset on the grid (then nudged so that
    ``knots[i] <= z < knots[i + 1]`` exactly), and the polynomial is summed in the
    order of :class:`scipy.interpolate.PPoly`, so values equal the spline's bit for bit.
    """

    def __init__(self, spline):
        self.knots = np.ascontiguousarray(spline.x)
        self.coef = np.ascontiguousarray(spline.c)  # (4, intervals): highest power first
        self.scale = (len(self.knots) - 1) / (self.knots[-1] - self.knots[0])

    def __call__(self, z: np.ndarray) -> np.ndarray:
        knots, last = self.knots, len(self.knots) - 2
        i = (z - knots[0]) * self.scale
        np.clip(i, 0, last, out=i)
        i = i.astype(np.intp)
        i -= (z < knots[i]) & (i > 0)
        i += (z >= knots[i + 1]) & (i < last)
        s = z - knots[i]
        c3, c2, c1, c0 = self.coef
        out = c0[i] + c1[i] * s
        power = s * s
        out += c2[i] * power
        power *= s
        out += c3[i] * power
        return out


class Family:
    """Shared behaviour: z-space via a verified quantile table, left limits, no atoms.

    ``Spec`` is the family's pydantic table (:mod:`model.families.fields`); ``family``
    its name in priors files.
    """

    family = "?"
    Spec: ClassVar[type[FamilySpec] | None] = None
    _tabulate = True  # families whose quantile is costly (beta, gamma, mixtures) tabulate it

    if TYPE_CHECKING:  # what every family defines: each is a dataclass with its own numpy functions
        __dataclass_fields__: ClassVar[dict[str, Any]]

        def ppf(self, u: np.ndarray) -> np.ndarray: ...
        def cdf(self, x: np.ndarray) -> np.ndarray: ...
        def pdf(self, x: np.ndarray) -> np.ndarray: ...

    # -- numpy ---------------------------------------------------------------------------
    def _exact_from_z(self, z):
        # keep u inside (0, 1): a z beyond 8.3 would round Φ(z) to exactly 1; far tails may
        # overflow inside scipy (the loader checks that the values it probes are finite)
        with np.errstate(over="ignore", under="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # Boost's "root finding ... giving up" at 1 - 1e-16
            return self.ppf(np.clip(special.ndtr(z), 1e-300, 1 - 2**-53))

    def exact_from_z(self, z: np.ndarray) -> np.ndarray:
        """``from_z`` without building the quantile table: cheap at a few points."""
        return self._exact_from_z(np.asarray(z, dtype=float))

    @cached_property
    def _z_table(self) -> ZTable | None:
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
                slope = norm_pdf(z) / self.pdf(x)
            if not (np.all(np.isfinite(x)) and np.all(np.isfinite(slope)) and np.all(np.diff(x) >= 0)):
                return None
            table = ZTable(CubicHermiteSpline(z, x, slope))
            mid = (z[1:] + z[:-1]) / 2
            scale = max(float(x[-1] - x[0]), 1e-300)
            if np.max(np.abs(table(mid) - self._exact_from_z(mid))) <= TABLE_TOLERANCE * scale:
                return table
        return None

    def from_z(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z, dtype=float)
        table = self._z_table
        if table is None:
            return self._exact_from_z(z)
        out = table(z)
        outside = (z < Z_TABLE[0]) | (z > Z_TABLE[1])
        if outside.any():
            out[outside] = self._exact_from_z(z[outside])
        return out

    def cdf_left(self, x: np.ndarray) -> np.ndarray:
        """P(X < x); equals ``cdf`` for continuous families."""
        return self.cdf(x)

    def sf(self, x: np.ndarray) -> np.ndarray:
        """P(X > x), the survival function: 1 − F(x) here; an unbounded family overrides it
        with its own, exact in the upper tail where 1 − F rounds to 0 (truncation needs it)."""
        return 1.0 - np.asarray(self.cdf(x))

    def isf(self, s: np.ndarray) -> np.ndarray:
        """The value with P(X > x) = s: F⁻¹(1 − s) here; overridden with ``sf``."""
        return self.ppf(1.0 - np.asarray(s, dtype=float))

    def likelihood(self, x: np.ndarray) -> np.ndarray:
        """The density at ``x`` (a point mass: 1 at its value), for the refit's responsibilities."""
        return self.pdf(x)

    @property
    def atoms(self) -> tuple[tuple[float, float], ...]:
        return ()

    def params(self) -> dict[str, float]:
        return {
            f.name: float(v)
            for f in fields(self)
            if isinstance(v := getattr(self, f.name), (int, float)) and not isinstance(v, bool)
        }

    # -- PyTensor (docs/model.md, Calibration against the market) -----------------------
    def ppf_tensor(self, u):
        """F⁻¹(u) as a PyTensor expression of ``u``."""
        from model.families.tensor import CalibrationError

        raise CalibrationError(f"no PyTensor quantile for family {self.family!r}")

    def from_z_tensor(self, z):
        """The value at copula coordinate ``z`` as a PyTensor expression."""
        from model.families.tensor import normal_cdf

        return self.ppf_tensor(normal_cdf(z))

    def nuts_problem(self) -> str | None:
        """Why NUTS cannot differentiate this prior, or None."""
        return None

    # -- refit (docs/model.md, Calibration against the market) --------------------------
    def refit(self, x: np.ndarray, w: np.ndarray) -> float | dict:
        """This family refitted to samples ``x`` with weights ``w``, as a priors file writes it."""
        raise TypeError(f"no refit rule for {self.family}")

    def as_table(self) -> float | dict:
        """This distribution as a priors file writes it (a mixture's component)."""
        return {"dist": self.family, **self.params()}


def norm_pdf(x: np.ndarray) -> np.ndarray:
    """The standard normal density, as scipy.stats.norm computes it (bit for bit)."""
    return np.exp(-(x**2) / 2.0) / _NORM_PDF_C


_NORM_PDF_C = np.sqrt(2 * np.pi)


class LocScale:
    """scipy.stats' handling of a standard distribution's quantile, CDF and density on
    support [lo, hi], shifted by ``loc`` and scaled by ``scale``, without importing
    scipy.stats (≈ 0.5 s): the same special functions on the same values in the same
    order, so results equal ``scipy.stats.<family>(…, loc, scale)``'s bit for bit
    (checked in tests/test_families.py against scipy)."""

    def __init__(self, ppf, cdf, pdf, lo: float, hi: float, loc: float = 0.0, scale: float = 1.0):
        self._ppf, self._cdf, self._pdf = ppf, cdf, pdf
        self.lo, self.hi, self.loc, self.scale = lo, hi, loc, scale

    @staticmethod
    def _out(out: np.ndarray):
        return out[()] if out.ndim == 0 else out

    def ppf(self, q):
        q = np.asarray(q)
        out = np.full(q.shape, np.nan)
        out[q == 0] = self.lo * self.scale + self.loc
        out[q == 1] = self.hi * self.scale + self.loc
        inside = (q > 0) & (q < 1)
        if inside.any():
            out[inside] = self._ppf(q[inside]) * self.scale + self.loc
        return self._out(out)

    def _standard(self, x) -> np.ndarray:
        x = np.asarray(x)
        return np.asarray((x - self.loc) / self.scale, dtype=np.promote_types(x.dtype, np.float64))

    def cdf(self, x):
        x = self._standard(x)
        out = np.zeros(x.shape, x.dtype)
        out[np.isnan(x)] = np.nan
        with np.errstate(invalid="ignore"):
            out[x >= self.hi] = 1.0
            inside = (self.lo < x) & (x < self.hi)
        if inside.any():
            out[inside] = self._cdf(x[inside])
        return self._out(out)

    def pdf(self, x):
        x = self._standard(x)
        out = np.zeros(x.shape, x.dtype)
        out[np.isnan(x)] = np.nan
        with np.errstate(invalid="ignore"):
            inside = (self.lo <= x) & (x <= self.hi)
        if inside.any():
            out[inside] = self._pdf(x[inside]) / self.scale
        return self._out(out)

    def support(self) -> tuple[float, float]:
        return self.lo * self.scale + self.loc, self.hi * self.scale + self.loc


class ScipyFamily(Family):
    """A continuous family backed by a frozen scipy.stats distribution, or by a
    :class:`LocScale` that computes the same numbers without importing scipy.stats."""

    @cached_property
    def frozen(self):  # pragma: no cover - overridden
        raise NotImplementedError

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("frozen", None)  # rebuilt when used (a LocScale holds closures, which do not pickle)
        return state

    def ppf(self, u: np.ndarray) -> np.ndarray:
        return self.frozen.ppf(u)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return self.frozen.cdf(x)

    def pdf(self, x: np.ndarray) -> np.ndarray:
        return self.frozen.pdf(x)

    @property
    def support(self) -> tuple[float, float]:
        lo, hi = self.frozen.support()
        return float(lo), float(hi)


def fmt(x: float) -> float:
    """A refitted number, rounded to 6 significant digits so that the file reads well."""
    return float(f"{x:.6g}")


def ci90_refit(
    family: str, x: np.ndarray, w: np.ndarray, floor: float = -np.inf, ceiling: float = np.inf
) -> float | dict:
    """The refit of an interval family: the weighted 5th and 95th percentiles as ``ci90``
    (kept within [floor, ceiling]); the median as a point when they coincide."""
    q05, q50, q95 = weighted_quantile(x, w, [0.05, 0.5, 0.95])
    q05, q95 = max(q05, floor), min(q95, ceiling)
    if not q95 > q05:
        return fmt(q50)
    return {"dist": family, "ci90": [fmt(q05), fmt(q95)]}


class ThreePoint(ScipyFamily):
    """Families given by min, mode and max (triangular, PERT): the mode moves in a refit."""

    if TYPE_CHECKING:  # each is a dataclass of these three fields
        min: float
        mode: float
        max: float

        def __init__(self, min: float, mode: float, max: float) -> None: ...

    def refit(self, x: np.ndarray, w: np.ndarray) -> dict:
        """min and max kept, the mode moved so that the median matches the samples'."""
        q50 = weighted_quantile(x, w, [0.5])[0]

        def gap(mode):
            return float(type(self)(self.min, mode, self.max).ppf(np.array([0.5]))[0]) - q50

        lo, hi = self.min, self.max
        if gap(lo) >= 0:
            mode = lo
        elif gap(hi) <= 0:
            mode = hi
        else:
            from scipy.optimize import brentq

            mode = brentq(gap, lo, hi, xtol=1e-10)
        return {"dist": self.family, "min": fmt(self.min), "mode": fmt(mode), "max": fmt(self.max)}
