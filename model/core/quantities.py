"""The one table of reported quantities: name, label, one-line definition, colour, order.

Code, templates, figures and the terminal read labels and definitions from here,
so the Markdown, HTML, figures and terminal say the same thing. Definitions
follow docs/model.md ("The equations", v2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, NamedTuple


@dataclass(frozen=True)
class Quantity:
    name: str  # as in summary.json
    label: str  # as shown to a reader
    short: str  # for figure axes and legends
    definition: str  # one line, shown where the number is
    color: str | None = None
    #: "outcome": one of the four exclusive outcomes; "part": a part of kicking the can;
    #: "extra": another reported per-world quantity
    kind: Literal["outcome", "part", "extra"] = "extra"
    signed: bool = False  # lives in [-1, 1] (a difference of probabilities), not [0, 1]


QUANTITIES = (
    Quantity(
        "success",
        "Success",
        "success",
        "alignment is solved before AGI arrives, by the field or with the AAR's help",
        "#2a9d8f",
        "outcome",
    ),
    Quantity(
        "kicking_the_can",
        "Kicking the can",
        "kicking the can",
        "neither success nor catastrophe: the AAR is misaligned but contained, or alignment is solved too slowly",
        "#e9c46a",
        "outcome",
    ),
    Quantity(
        "misaligned_contained",
        "… misaligned but contained or harmless",
        "misaligned, contained",
        "the AAR is not aligned, but it is contained or below the danger threshold",
        kind="part",
    ),
    Quantity(
        "aligned_too_slow",
        "… aligned but too slow",
        "aligned, too slow",
        "alignment is solved, but AGI would have come first even without the AAR's capability boost",
        kind="part",
    ),
    Quantity(
        "capability_externalities",
        "Capability externalities",
        "capability externalities",
        "alignment is solved, but after AGI, which the AAR itself brought forward",
        "#f4a261",
        "outcome",
    ),
    Quantity(
        "x_risk",
        "Existential risk caused by the AAR",
        "x-risk caused by the AAR",
        "a misaligned AAR past the danger threshold is not contained (the no-AAR baseline has "
        'no such risk; these worlds already count as failures in "what the plan adds")',
        "#e76f51",
        "outcome",
    ),
    Quantity(
        "success_within_horizon",
        "Success within the horizon",
        "success within the horizon",
        "success, and by the market's horizon (4 years unless the priors file says otherwise)",
    ),
    Quantity(
        "baseline_success",
        "No AAR: today's field solves alignment before AGI",
        "no-AAR baseline",
        "the field alone, at its own pace, finishes alignment before AGI",
    ),
    Quantity(
        "plan_solved",
        "With the plan: alignment solved before AGI",
        "with the plan",
        "success, plus the worlds where the AAR fails harmlessly and the field carries on alone to finish in time",
    ),
    Quantity(
        "harmless_failure_field_in_time",
        "… of which the AAR failed harmlessly and the field finished in time",
        "harmless failure, field in time",
        "the AAR is misaligned but contained or harmless, and the field alone still solves alignment before AGI: "
        "alignment is solved with the plan, but the plan did not succeed (these worlds are in kicking the can)",
    ),
    Quantity(
        "plan_minus_baseline",
        "What the plan adds (with the plan − no AAR)",
        "plan − baseline",
        "with the plan minus no AAR, in percentage points: positive if building the AAR helps alignment win the race",
        signed=True,
    ),
)

BY_NAME = {q.name: q for q in QUANTITIES}
#: Every reported quantity, in reading order.
ALL = tuple(q.name for q in QUANTITIES)


class Names(NamedTuple):
    """The fields of :data:`Q`: QUANTITIES' names in order (checked below), spelled out so
    that a type checker knows them."""

    success: str
    kicking_the_can: str
    misaligned_contained: str
    aligned_too_slow: str
    capability_externalities: str
    x_risk: str
    success_within_horizon: str
    baseline_success: str
    plan_solved: str
    harmless_failure_field_in_time: str
    plan_minus_baseline: str


#: ``Q.x_risk == "x_risk"``: code names a quantity through this, so a misspelt name fails.
Q = Names(*ALL)
if Q._fields != ALL:
    raise ImportError(f"model.core.quantities: Names lists {Q._fields}, QUANTITIES {ALL}")
#: The four outcomes, exclusive and exhaustive, in reading order.
OUTCOMES = tuple(q.name for q in QUANTITIES if q.kind == "outcome")
#: The two parts of kicking the can.
PARTS = tuple(q.name for q in QUANTITIES if q.kind == "part")
#: The report's outcome rows: the four outcomes with kicking the can's parts under it.
ROWS = tuple(q.name for q in QUANTITIES if q.kind != "extra")
EXTRA = tuple(q.name for q in QUANTITIES if q.kind == "extra")
SIGNED = tuple(q.name for q in QUANTITIES if q.signed)
#: The four outcomes, success within the market's horizon, and what the plan adds: the
#: headline set that comparisons, sensitivity and the ambition curve report.
HEADLINE = (*OUTCOMES, Q.success_within_horizon, Q.plan_minus_baseline)
LABELS = {q.name: q.label for q in QUANTITIES}
SHORT = {q.name: q.short for q in QUANTITIES}
DEFINITIONS = {q.name: q.definition for q in QUANTITIES}
COLORS = {q.name: q.color for q in QUANTITIES if q.color}
