"""The one table of reported quantities: name, label, one-line definition, colour, order.

Code, templates, figures and the terminal read labels and definitions from here,
so the Markdown, HTML, figures and terminal say the same thing. Definitions
follow docs/model.md ("The equations", v2).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Quantity:
    name: str  # as in summary.json
    label: str  # as shown to a reader
    short: str  # for figure axes and legends
    definition: str  # one line, shown where the number is
    color: str | None = None


QUANTITIES = (
    Quantity("success", "Success", "success",
             "alignment is solved before AGI arrives, by the field or with the AAR's help", "#2a9d8f"),
    Quantity("kicking_the_can", "Kicking the can", "kicking the can",
             "neither success nor catastrophe: the AAR is misaligned but contained, or alignment is solved too slowly", "#e9c46a"),
    Quantity("misaligned_contained", "… misaligned but contained or harmless", "misaligned, contained",
             "the AAR is not aligned, but it is contained or below the danger threshold"),
    Quantity("aligned_too_slow", "… aligned but too slow", "aligned, too slow",
             "alignment is solved, but AGI would have come first even without the AAR's capability boost"),
    Quantity("capability_externalities", "Capability externalities", "capability externalities",
             "alignment is solved, but after AGI, which the AAR itself brought forward", "#f4a261"),
    Quantity("x_risk", "Existential risk caused by the AAR", "x-risk caused by the AAR",
             "a misaligned AAR past the danger threshold is not contained (the no-AAR baseline has "
             "no such risk; these worlds already count as failures in \"what the plan adds\")", "#e76f51"),
    Quantity("success_within_horizon", "Success within the horizon", "success within the horizon",
             "success, and by the market's horizon (4 years unless the priors file says otherwise)"),
    Quantity("baseline_success", "No AAR: today's field solves alignment before AGI", "no-AAR baseline",
             "the field alone, at its own pace, finishes alignment before AGI"),
    Quantity("plan_solved", "With the plan: alignment solved before AGI", "with the plan",
             "success, plus the worlds where the AAR fails harmlessly and the field carries on alone"),
    Quantity("plan_minus_baseline", "What the plan adds (with the plan − no AAR)", "plan − baseline",
             "the difference of the two rows above: positive if building the AAR helps alignment win the race"),
)

BY_NAME = {q.name: q for q in QUANTITIES}
#: The four outcomes, exclusive and exhaustive, in reading order.
OUTCOMES = ("success", "kicking_the_can", "capability_externalities", "x_risk")
LABELS = {q.name: q.label for q in QUANTITIES}
SHORT = {q.name: q.short for q in QUANTITIES}
DEFINITIONS = {q.name: q.definition for q in QUANTITIES}
COLORS = {q.name: q.color for q in QUANTITIES if q.color}
