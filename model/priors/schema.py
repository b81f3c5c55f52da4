"""The priors file's schema (docs/model.md, Priors and sampling) as strict, frozen pydantic models.

A family table is validated by its own model, declared in the family's file
under :mod:`model.families` (``Spec``, with its parametrisations); ``to_marginal``
turns a validated table into the numeric distribution.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from model import families as fam
from model.core.limits import MAX_EVIDENCE_FILES, MAX_NAME, MAX_SAMPLES, MAX_SEED, MAX_SETTING
from model.core.text import controls
from model.families.fields import FamilySpec, Interval, Strict, Text, ordered

__all__ = ["FAMILIES", "TO_PATTERN", "Calibration", "Decision", "EvidenceMeta", "Meta", "Simulation", "ToSpec"]


def _name(text: str) -> str:
    """A name is one short line: it titles reports and names folders."""
    if len(text) > MAX_NAME:
        raise ValueError(f"is {len(text)} characters long; a name may have at most {MAX_NAME}")
    if bad := controls(text, ""):
        raise ValueError(
            "must be one line without control characters (found "
            + ", ".join(repr(c) for c in bad[:5])
            + "); put longer text in description"
        )
    return text


Name = Annotated[str, AfterValidator(_name)]


def _setting(x: float) -> float:
    if x > MAX_SETTING:
        raise ValueError(f"must be at most {MAX_SETTING:g} (got {x:g})")
    return x


Setting = Annotated[float, Field(gt=0, allow_inf_nan=False), AfterValidator(_setting)]
Cost = Annotated[float, Field(ge=0, allow_inf_nan=False), AfterValidator(_setting)]


class ToSpec(FamilySpec):
    """``"a to b"``: lognormal with 5th/95th percentiles a, b; normal when a <= 0."""

    dist: Literal["to"] = "to"
    ci90: Interval

    @model_validator(mode="after")
    def _check(self):
        ordered(*self.ci90, what='"a to b"')
        return self

    def _base(self, parts=()):
        a, b = self.ci90
        return fam.LogNormal.from_ci90(a, b) if a > 0 else fam.Normal.from_ci90(a, b)


def _spec(cls: type[fam.Family]) -> type[FamilySpec]:
    if cls.Spec is None:
        raise TypeError(f"family {cls.family!r} declares no Spec")
    return cls.Spec


#: ``dist`` name → the pydantic model of that family's table (each family file declares its own).
FAMILIES: dict[str, type[FamilySpec]] = {name: _spec(cls) for name, cls in fam.REGISTRY.items()}

# unambiguous (no two repeats can trade characters), so a long string cannot make it backtrack
# ASCII digits only: Python's float() also reads Arabic-Indic (U+0661) or fullwidth (U+FF11) one as 1
_NUMBER = r"[-+]?(?:[0-9][0-9_]*(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
TO_PATTERN = re.compile(rf"^\s*({_NUMBER})\s+to\s+({_NUMBER})\s*$", re.ASCII)


class Meta(Strict):
    name: Name | None = None
    description: Text = ""
    base: str | None = None  # checked by the loader, which resolves it
    #: files of [[evidence]] entries, relative to this file (checked and read by the loader)
    evidence: Annotated[list[str], Field(max_length=MAX_EVIDENCE_FILES, default_factory=list)]


class EvidenceMeta(Strict):
    """The [meta] table of an evidence file: a name and a description, nothing that applies."""

    name: Name | None = None
    description: Text = ""


class Calibration(Strict):
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
    #: The digest of what the file was calibrated from (model/priors/fitted.py), written by aar-risk calibrate.
    fitted_to: Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")] | None = None

    @model_validator(mode="after")
    def _apply(self):
        if self.apply is None and self.fitted_to is not None:
            raise ValueError("fitted_to is used only with apply (written by aar-risk calibrate)")
        if self.apply == "tilt" and self.tilt_lambda is None:
            raise ValueError('apply = "tilt" needs tilt_lambda (written by aar-risk calibrate)')
        if self.apply != "tilt" and self.tilt_lambda is not None:
            raise ValueError('tilt_lambda is used only with apply = "tilt"')
        return self


class Decision(Strict):
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
    if n > MAX_SEED:
        raise ValueError(f"a seed is a whole number from 0 to 2**63 - 1 (got {_big(n)})")
    return n


def _big(n: int) -> str:
    """``n`` with thousands separators, or its size when it has too many digits to print."""
    return f"{n:,}" if n.bit_length() <= 200 else f"a number of about {int(n.bit_length() * 0.30103)} digits"


class Simulation(Strict):
    samples: Annotated[int, Field(ge=1), AfterValidator(_samples)] = 1_000_000
    seed: Annotated[int, Field(ge=0), AfterValidator(_seed)] = 2023
