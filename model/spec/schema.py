"""The priors file's schema (MODEL.md §4) as strict, frozen pydantic models.

A family table is validated by its own model (one per family, each with its
parametrisations); ``to_marginal`` turns a validated table into the numeric
distribution of :mod:`model.families`.
"""

from __future__ import annotations

import math
import re
import unicodedata
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from model import families as fam

Finite = Annotated[float, Field(allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Interval = Annotated[list[Finite], Field(min_length=2, max_length=2)]  # [5th, 95th percentile]

#: Longest ``[meta] name``: names become folder names and titles.
MAX_NAME = 200
#: Most worlds a priors file may ask for.
MAX_SAMPLES = 10**11
#: Largest magnitude of a utility, horizon or trust (beyond it sums overflow).
MAX_SETTING = 1e100


def _controls(text: str, allowed: str) -> list[str]:
    """Control characters (and line/paragraph separators) in ``text`` other than ``allowed``."""
    return sorted({c for c in text if c not in allowed and (
        unicodedata.category(c) in ("Cc", "Zl", "Zp"))})


def _plain_text(text: str) -> str:
    """Descriptions and sources: several lines are fine, terminal control characters are not."""
    if bad := _controls(text, "\n\t"):
        raise ValueError("contains control characters (" + ", ".join(repr(c) for c in bad[:5])
                         + "); only line breaks and tabs are allowed in text")
    return text


def _name(text: str) -> str:
    """A name is one short line: it titles reports and names folders."""
    if len(text) > MAX_NAME:
        raise ValueError(f"is {len(text)} characters long; a name may have at most {MAX_NAME}")
    if bad := _controls(text, ""):
        raise ValueError("must be one line without control characters (found "
                         + ", ".join(repr(c) for c in bad[:5]) + "); put longer text in description")
    return text


Text = Annotated[str, AfterValidator(_plain_text)]
Name = Annotated[str, AfterValidator(_name)]
def _setting(x: float) -> float:
    if x > MAX_SETTING:
        raise ValueError(f"must be at most {MAX_SETTING:g} (got {x:g})")
    return x


Setting = Annotated[float, Field(gt=0, allow_inf_nan=False), AfterValidator(_setting)]
Cost = Annotated[float, Field(ge=0, allow_inf_nan=False), AfterValidator(_setting)]

#: Largest miss of a tail mass allowed when a family is fitted to a 90% interval.
FIT_TOLERANCE = 1e-4
#: Smallest probability mass a truncation may keep.
MIN_KEPT_MASS = 1e-9


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _Family(_Strict):
    lower: Finite | None = None
    upper: Finite | None = None
    source: Text | None = None

    @model_validator(mode="after")
    def _bounds(self):
        if self.lower is not None and self.upper is not None and self.lower >= self.upper:
            raise ValueError(f"lower ({self.lower}) must be below upper ({self.upper})")
        return self

    def _base(self) -> fam.Marginal:  # pragma: no cover - every family overrides
        raise NotImplementedError

    def to_marginal(self) -> fam.Marginal:
        base = self._base()
        if self.lower is None and self.upper is None:
            return base
        t = fam.Truncated(base, -math.inf if self.lower is None else self.lower,
                          math.inf if self.upper is None else self.upper)
        if not t.kept_mass > MIN_KEPT_MASS:
            raise ValueError(f"truncation to [{t.lower:g}, {t.upper:g}] keeps no probability "
                             f"mass of this {base.family} (kept {t.kept_mass:.3g})")
        return t


def _one_form(model, forms: dict[str, tuple[str, ...]]):
    """Exactly one parametrisation must be complete, and no keys of another."""
    given = {k for k in model.model_fields_set if k not in ("dist", "lower", "upper", "source")}
    full = [name for name, keys in forms.items() if set(keys) <= given]
    hint = " or ".join(" + ".join(keys) for keys in forms.values())
    if len(full) != 1 or any(k not in forms[full[0]] for k in given):
        raise ValueError(f"give exactly one of: {hint} (got {', '.join(sorted(given)) or 'none'})")


def _ordered(a: float, b: float, what: str = "ci90"):
    if not a < b:
        raise ValueError(f"{what} = [{a}, {b}] needs its first value below its second")


class PointSpec(_Family):
    dist: Literal["point"]
    value: Finite

    @model_validator(mode="after")
    def _untruncated(self):
        if self.lower is not None or self.upper is not None:
            raise ValueError("a point value cannot be truncated: lower/upper bound a distribution, "
                             "and a point mass has nothing to cut (remove lower and upper)")
        return self

    def _base(self):
        return fam.Point(self.value)


class NormalSpec(_Family):
    dist: Literal["normal"]
    mean: Finite | None = None
    sd: Positive | None = None
    ci90: Interval | None = None

    @model_validator(mode="after")
    def _check(self):
        _one_form(self, {"mean/sd": ("mean", "sd"), "ci90": ("ci90",)})
        if self.ci90:
            _ordered(*self.ci90)
        return self

    def _base(self):
        return fam.Normal.from_ci90(*self.ci90) if self.ci90 else fam.Normal(self.mean, self.sd)


class LogNormalSpec(_Family):
    dist: Literal["lognormal"]
    ci90: Interval | None = None
    mu: Finite | None = None
    sigma: Positive | None = None

    @model_validator(mode="after")
    def _check(self):
        _one_form(self, {"ci90": ("ci90",), "mu/sigma": ("mu", "sigma")})
        if self.ci90:
            _ordered(*self.ci90)
            if self.ci90[0] <= 0:
                raise ValueError(f"a lognormal's ci90 must be positive (got {list(self.ci90)})")
        return self

    def _base(self):
        return fam.LogNormal.from_ci90(*self.ci90) if self.ci90 else fam.LogNormal(self.mu, self.sigma)


def _unit_interval(ci):
    _ordered(*ci)
    if not (0 < ci[0] and ci[1] < 1):
        raise ValueError(f"ci90 must lie inside (0, 1) (got {list(ci)})")


class BetaSpec(_Family):
    dist: Literal["beta"]
    alpha: Positive | None = None
    beta: Positive | None = None
    ci90: Interval | None = None

    @model_validator(mode="after")
    def _check(self):
        _one_form(self, {"alpha/beta": ("alpha", "beta"), "ci90": ("ci90",)})
        if self.ci90:
            _unit_interval(self.ci90)
        return self

    def _base(self):
        if not self.ci90:
            return fam.Beta(self.alpha, self.beta)
        dist, miss = fam.beta_from_ci90(*self.ci90)
        if miss > FIT_TOLERANCE:
            raise ValueError(_beta_misfit(self.ci90, dist, miss))
        return dist


def _beta_misfit(ci90, dist: fam.Beta, miss: float) -> str:
    """Why no beta fits ``ci90``, in the file's terms."""
    a, b = ci90
    top = math.exp(fam.BETA_LOG_BOUND)
    if max(dist.alpha, dist.beta) > 0.999 * top:
        return (f"ci90 = [{a:g}, {b:g}] is too narrow for a beta: the fit would need alpha or beta "
                f"above {top:.3g}; use a point value, a wider interval or a logitnormal")
    return (f"no beta distribution has the 90% interval [{a:g}, {b:g}] (best fit misses a tail "
            f"mass by {miss:.2g}); use a logitnormal, or give alpha and beta")


class LogitNormalSpec(_Family):
    dist: Literal["logitnormal"]
    ci90: Interval

    @model_validator(mode="after")
    def _check(self):
        _unit_interval(self.ci90)
        return self

    def _base(self):
        return fam.LogitNormal.from_ci90(*self.ci90)


class UniformSpec(_Family):
    dist: Literal["uniform"]
    low: Finite
    high: Finite

    @model_validator(mode="after")
    def _check(self):
        _ordered(self.low, self.high, "low, high")
        return self

    def _base(self):
        return fam.Uniform(self.low, self.high)


class _ThreePoint(_Family):
    min: Finite
    mode: Finite
    max: Finite

    @model_validator(mode="after")
    def _check(self):
        if not (self.min <= self.mode <= self.max and self.min < self.max):
            raise ValueError(f"needs min <= mode <= max with min < max "
                             f"(got {self.min}, {self.mode}, {self.max})")
        return self


class TriangularSpec(_ThreePoint):
    dist: Literal["triangular"]

    def _base(self):
        return fam.Triangular(self.min, self.mode, self.max)


class PertSpec(_ThreePoint):
    dist: Literal["pert"]

    def _base(self):
        return fam.Pert(self.min, self.mode, self.max)


class GammaSpec(_Family):
    dist: Literal["gamma"]
    shape: Positive
    scale: Positive

    def _base(self):
        return fam.Gamma(self.shape, self.scale)


class ToSpec(_Family):
    """``"a to b"``: lognormal with 5th/95th percentiles a, b; normal when a <= 0."""

    dist: Literal["to"] = "to"
    ci90: Interval

    @model_validator(mode="after")
    def _check(self):
        _ordered(*self.ci90, what='"a to b"')
        return self

    def _base(self):
        a, b = self.ci90
        return fam.LogNormal.from_ci90(a, b) if a > 0 else fam.Normal.from_ci90(a, b)


class MixtureSpec(_Family):
    dist: Literal["mixture"]
    components: list[object] = Field(min_length=1)
    weights: list[Annotated[float, Field(ge=0, allow_inf_nan=False)]]

    @model_validator(mode="after")
    def _check(self):
        if len(self.weights) != len(self.components):
            raise ValueError(f"{len(self.components)} components but {len(self.weights)} weights")
        if abs(sum(self.weights) - 1) > 1e-9:
            raise ValueError(f"weights must sum to 1 (they sum to {sum(self.weights):.10g})")
        return self

    def _base(self):  # components are parsed by the loader, which reports their keys
        raise NotImplementedError


FAMILIES: dict[str, type[_Family]] = {
    "point": PointSpec, "normal": NormalSpec, "lognormal": LogNormalSpec, "beta": BetaSpec,
    "logitnormal": LogitNormalSpec, "uniform": UniformSpec, "triangular": TriangularSpec,
    "pert": PertSpec, "gamma": GammaSpec, "mixture": MixtureSpec,
}

# unambiguous (no two repeats can trade characters), so a long string cannot make it backtrack
_NUMBER = r"[-+]?(?:\d[\d_]*(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
TO_PATTERN = re.compile(rf"^\s*({_NUMBER})\s+to\s+({_NUMBER})\s*$")


class Meta(_Strict):
    name: Name | None = None
    description: Text = ""
    base: str | None = None  # checked by the loader, which resolves it


class Calibration(_Strict):
    """The market to calibrate against, and (in a calibrated file) how to apply it.

    ``apply = "update"`` weights every world by the market likelihood (trust, target);
    ``apply = "tilt"`` by exp(tilt_lambda · s_h), the entropic tilt that makes the mean of
    s_h equal the target (docs/model.md, Calibration).
    """

    target: Annotated[float, Field(gt=0, lt=1)] = 0.14
    horizon_years: Setting = 4.0
    trust: Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)] = 20.0
    source: Text = "Manifold market, as cited in the essay (Aug 2023)"
    apply: Literal["update", "tilt"] | None = None
    tilt_lambda: Annotated[float, Field(ge=-1e4, le=1e4, allow_inf_nan=False)] | None = None

    @model_validator(mode="after")
    def _apply(self):
        if self.apply == "tilt" and self.tilt_lambda is None:
            raise ValueError('apply = "tilt" needs tilt_lambda (written by aar-risk calibrate)')
        if self.apply != "tilt" and self.tilt_lambda is not None:
            raise ValueError('tilt_lambda is used only with apply = "tilt"')
        return self


class Decision(_Strict):
    """Utilities for the decision "build the AAR or not" (docs/model.md, Sensitivity).

    net_benefit = v·(plan_solved − baseline) − c_x·x_risk (spec §6, v2). Capability
    externalities are already in plan_solved (the race they lose);
    cost_of_capability_externalities is an optional *extra* cost for them beyond the
    lost race (for instance a faster, more dangerous AGI), default 0.
    """

    value_of_success: Setting = 1.0
    cost_of_catastrophe: Cost = 1.0
    cost_of_capability_externalities: Cost = 0.0
    source: Text | None = None

    @property
    def utilities(self) -> tuple[float, float, float]:
        return (self.value_of_success, self.cost_of_catastrophe, self.cost_of_capability_externalities)


def _samples(n: int) -> int:
    if n > MAX_SAMPLES:
        raise ValueError(f"at most {MAX_SAMPLES:,} worlds (got {_big(n)})")
    return n


def _seed(n: int) -> int:
    if n >= 2**63:
        raise ValueError(f"a seed is a whole number from 0 to 2**63 - 1 (got {_big(n)})")
    return n


def _big(n: int) -> str:
    """``n`` with thousands separators, or its size when it has too many digits to print."""
    return f"{n:,}" if n.bit_length() <= 200 else f"a number of about {int(n.bit_length() * 0.30103)} digits"


class Simulation(_Strict):
    samples: Annotated[int, Field(ge=1), AfterValidator(_samples)] = 1_000_000
    seed: Annotated[int, Field(ge=0), AfterValidator(_seed)] = 2023
