"""``[[evidence]]`` entries (MODEL.md §5.v3, docs/model.md "Evidence since 2023"): validated
per kind, read inline and from the files ``[meta] evidence`` lists, into frozen
:class:`model.core.evidence.Entry` objects. Every problem names its file, key and line."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from model.core.evidence import EVENTS, KINDS, MARKET_QUANTITIES, ORIGIN, Entry
from model.core.limits import MAX_EVIDENCE, MAX_STRENGTH
from model.core.text import escaped
from model.core.variables import NAMES
from model.families.fields import Finite, Positive, Strict, Text
from model.priors.problems import Problems, shown, suggest
from model.priors.schema import Name, Setting
from model.priors.tomltext import Locator


def _day(value: Any) -> Any:
    """A TOML date (2026-12-01) or a string "2026-12-01"; not a date and time."""
    if isinstance(value, dt.datetime):
        raise ValueError(f"expected a date such as 2026-12-01, without a time (got {value.isoformat()})")
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(f'expected a date such as 2026-12-01 (got "{escaped(value, 40)}")') from None
    return value


def _since_origin(day: dt.date) -> dt.date:
    if day < ORIGIN:
        raise ValueError(
            f"dates count from {ORIGIN.isoformat()} (the Superalignment announcement, the model's time origin); "
            f"got {day.isoformat()}: what was known before it belongs in the priors"
        )
    return day


def _variable(name: str) -> str:
    if name not in NAMES:
        raise ValueError(
            f'unknown variable "{escaped(name, 60)}"{suggest(name, NAMES)}; expected one of ' + ", ".join(NAMES)
        )
    return name


Day = Annotated[dt.date, BeforeValidator(_day), AfterValidator(_since_origin)]
Strength = Annotated[float, Field(ge=0, le=MAX_STRENGTH, allow_inf_nan=False)]
Probability = Annotated[float, Field(gt=0, lt=1, allow_inf_nan=False)]


class _Common(Strict):
    kind: str
    date: Day
    source: Text
    strength: Strength = 1.0
    label: Name | None = None


class MarketEntry(_Common):
    """A market's probability y of ``quantity`` by ``horizon_years``, worth ``trust`` resolved questions."""

    kind: Literal["market"]
    quantity: Literal["success_within_horizon", "aar_success_within_horizon"] = "success_within_horizon"
    horizon_years: Setting = 4.0
    value: Probability
    trust: Annotated[float, Field(ge=0, le=1e6, allow_inf_nan=False)] = 20.0


class TimingEntry(_Common):
    """The event had (``by``) or had not (``not_by``) happened by ``date``."""

    kind: Literal["not_by", "by"]
    event: Literal["aar", "agi", "field"]


class MeasurementEntry(_Common):
    """A measurement ``value`` ± ``sd`` of a world variable, or of the capability on a date."""

    kind: Literal["measurement"]
    variable: Annotated[str, AfterValidator(_variable)] | None = None
    capability_at: Day | None = None
    value: Finite
    sd: Positive

    @model_validator(mode="after")
    def _what(self):
        if (self.variable is None) == (self.capability_at is None):
            raise ValueError("give exactly one of variable (a world variable) or capability_at (a date)")
        return self


#: Each kind's model; the names in the Literals above are those of model.core.evidence.
MODELS: dict[str, type[_Common]] = {
    "market": MarketEntry,
    "not_by": TimingEntry,
    "by": TimingEntry,
    "measurement": MeasurementEntry,
}
if set(MODELS) != set(KINDS) or set(EVENTS) != {"aar", "agi", "field"} or len(MARKET_QUANTITIES) != 2:
    raise ImportError("model.priors.evidence: the entry models do not match model.core.evidence")


def entries(
    table: Any, path: Path, shown_as: str, at: Locator, problems: Problems, key: str = "evidence"
) -> list[Entry]:
    """The ``[[evidence]]`` array of one file, each entry validated by its kind's model."""
    if not isinstance(table, list) or not all(isinstance(e, dict) for e in table):
        problems.add(path, key, "expected [[evidence]] tables, one per entry (an array of tables)", at)
        return []
    if len(table) > MAX_EVIDENCE:
        problems.add(path, key, f"{len(table)} entries; at most {MAX_EVIDENCE} in all", at)
        return []
    out = []
    for i, raw in enumerate(table):
        where = f"{key}[{i}]"
        kind = raw.get("kind")
        if kind not in MODELS:
            got = "no kind" if kind is None else f"kind = {shown(kind)}"
            hint = suggest(kind, KINDS) if isinstance(kind, str) else ""
            problems.add(path, f"{where}.kind", f"{got}{hint}; expected one of " + ", ".join(KINDS), at)
            continue
        valid = problems.validated(MODELS[kind], raw, path, where, at)
        if valid is not None:
            out.append(_entry(valid, shown_as))
    return out


def _entry(v: _Common, origin: str) -> Entry:
    extra: dict[str, Any]
    common = {"kind": v.kind, "date": v.date, "source": v.source, "strength": v.strength, "label": v.label or ""}
    if isinstance(v, MarketEntry):
        extra = {"quantity": v.quantity, "horizon": v.horizon_years, "value": v.value, "trust": v.trust}
    elif isinstance(v, TimingEntry):
        extra = {"event": v.event}
    else:
        assert isinstance(v, MeasurementEntry)
        extra = {"variable": v.variable, "capability_at": v.capability_at, "value": v.value, "sd": v.sd}
    return Entry(**common, **extra, origin=origin)  # type: ignore[arg-type]


def as_written(e: Entry) -> dict:
    """An entry as a priors file would write it (summary.json, the calibrated file)."""
    keys = {
        "market": ("quantity", "horizon", "value", "trust"),
        "not_by": ("event",),
        "by": ("event",),
        "measurement": ("variable", "capability_at", "value", "sd"),
    }[e.kind]
    out: dict[str, Any] = {"kind": e.kind, "date": e.date.isoformat()}
    for k in keys:
        v = getattr(e, k)
        if v is not None:
            out["horizon_years" if k == "horizon" else k] = v.isoformat() if isinstance(v, dt.date) else v
    out.update({"strength": e.strength, "source": e.source})
    if e.label:
        out["label"] = e.label
    if e.origin:
        out["file"] = e.origin
    return out
