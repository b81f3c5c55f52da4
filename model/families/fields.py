"""The pydantic pieces of a family's table in a priors file (docs/model.md, Priors and sampling).

Each family file declares its table as a subclass of :class:`FamilySpec`: its
``dist``, its parametrisations and checks, and ``_base`` that builds the numeric
distribution. ``lower``/``upper`` (truncation) and ``source`` are common to all.
"""

from __future__ import annotations

import math
from typing import Annotated, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from model.core.limits import MIN_KEPT_MASS
from model.core.text import controls
from model.families.base import Marginal
from model.families.truncated import Truncated

Finite = Annotated[float, Field(allow_inf_nan=False)]
Positive = Annotated[float, Field(gt=0, allow_inf_nan=False)]
Interval = Annotated[list[Finite], Field(min_length=2, max_length=2)]  # [5th, 95th percentile]

#: Largest miss of a tail mass allowed when a family is fitted to a 90% interval.
FIT_TOLERANCE = 1e-4


def _plain_text(text: str) -> str:
    """Descriptions and sources: several lines are fine, terminal control characters are not."""
    if bad := controls(text, "\n\t"):
        raise ValueError(
            "contains control characters ("
            + ", ".join(repr(c) for c in bad[:5])
            + "); only line breaks and tabs are allowed in text"
        )
    return text


Text = Annotated[str, AfterValidator(_plain_text)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class FamilySpec(Strict):
    """A family's table. ``parts`` lists nested tables the loader parses first (a mixture's
    components), so their problems name their own keys; ``to_marginal`` gets them back."""

    lower: Finite | None = None
    upper: Finite | None = None
    source: Text | None = None
    #: whether the family may be a component of another (a mixture cannot)
    nestable: ClassVar[bool] = True

    @model_validator(mode="after")
    def _bounds(self):
        if self.lower is not None and self.upper is not None and self.lower >= self.upper:
            raise ValueError(f"lower ({self.lower}) must be below upper ({self.upper})")
        return self

    def parts(self) -> tuple[tuple[str, object], ...]:
        """(key suffix, raw table) of each nested distribution, in order."""
        return ()

    def _base(self, parts: tuple[Marginal, ...]) -> Marginal:  # pragma: no cover - every family overrides
        raise NotImplementedError

    def to_marginal(self, parts: tuple[Marginal, ...] = ()) -> Marginal:
        """The numeric distribution, truncated to [lower, upper] if either is given."""
        base = self._base(tuple(parts))
        if self.lower is None and self.upper is None:
            return base
        t = Truncated(
            base, -math.inf if self.lower is None else self.lower, math.inf if self.upper is None else self.upper
        )
        if not t.kept_mass > MIN_KEPT_MASS:
            raise ValueError(
                f"truncation to [{t.lower:g}, {t.upper:g}] keeps no probability "
                f"mass of this {base.family} (kept {t.kept_mass:.3g})"
            )
        return t


def one_form(model: FamilySpec, forms: dict[str, tuple[str, ...]]) -> None:
    """Exactly one parametrisation must be complete, and no keys of another."""
    given = {k for k in model.model_fields_set if k not in ("dist", "lower", "upper", "source")}
    full = [name for name, keys in forms.items() if set(keys) <= given]
    hint = " or ".join(" + ".join(keys) for keys in forms.values())
    if len(full) != 1 or any(k not in forms[full[0]] for k in given):
        raise ValueError(f"give exactly one of: {hint} (got {', '.join(sorted(given)) or 'none'})")


def ordered(a: float, b: float, *, what: str = "ci90") -> None:
    if not a < b:
        raise ValueError(f"{what} = [{a}, {b}] needs its first value below its second")


def unit_interval(ci: list[float]) -> None:
    ordered(*ci)
    if not (ci[0] > 0 and ci[1] < 1):
        raise ValueError(f"ci90 must lie inside (0, 1) (got {list(ci)})")


class ThreePointSpec(FamilySpec):
    min: Finite
    mode: Finite
    max: Finite

    @model_validator(mode="after")
    def _check(self):
        if not (self.min <= self.mode <= self.max and self.min < self.max):
            raise ValueError(f"needs min <= mode <= max with min < max (got {self.min}, {self.mode}, {self.max})")
        return self
