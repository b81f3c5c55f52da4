"""The world variables of the crux model (docs/model.md, "Worlds"), one table for code, files and reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: Allowed support of a variable: any real, >= 0, > 0, or a probability in [0, 1].
Support = Literal["real", "nonnegative", "positive", "probability"]


@dataclass(frozen=True)
class Variable:
    name: str
    symbol: str
    meaning: str
    scale: str
    support: Support
    crux: bool = False
    #: An optional variable may be left unset (years_to_build: T_b is then derived).
    optional: bool = False


VARIABLES: tuple[Variable, ...] = (
    Variable(
        "capability_needed",
        "C",
        "capability the AAR needs to do useful alignment research",
        "0 = GPT-4 (2023), 1 = top human alignment researcher (AGI-complete), 2 = clearly superhuman",
        "nonnegative",
        crux=True,
    ),
    Variable(
        "relative_difficulty",
        "R",
        "difficulty of aligning that AAR / difficulty of aligning superintelligence",
        "1 = no easier (kicking the can); < 1 easier",
        "positive",
        crux=True,
    ),
    Variable(
        "alignment_difficulty",
        "H",
        "difficulty of aligning superintelligence",
        "alignment difficulty scale, 1-10",
        "real",
    ),
    Variable(
        "technique_strength",
        "S",
        "hardest level the initial solution (RLHF, RRM, AI-assisted oversight) can align",
        "alignment difficulty scale, 1-10",
        "real",
    ),
    Variable(
        "loop_hazard",
        "λ0",
        "rate at which the bootstrapping loop breaks, per unit of capability at C = 0",
        "per capability unit",
        "nonnegative",
    ),
    Variable(
        "hazard_growth",
        "β",
        "growth of the loop hazard with capability",
        "per capability unit (0: constant hazard)",
        "real",
    ),
    Variable(
        "danger_threshold",
        "c_d",
        "capability at which a misaligned AAR can self-improve, exfiltrate, resist shutdown",
        "capability scale (as C)",
        "real",
    ),
    Variable(
        "containment",
        "k",
        "probability that a dangerous misaligned AAR is caught and contained anyway",
        "probability",
        "probability",
    ),
    Variable(
        "automation_fraction",
        "p",
        "fraction of alignment-research work the aligned AAR automates (Amdahl)",
        "fraction; speed-up 1/(1 - p)",
        "probability",
    ),
    Variable(
        "field_years",
        "T_a",
        "years today's field would need to solve scalable alignment without an AAR",
        "years from mid-2023",
        "positive",
    ),
    Variable(
        "build_lag",
        "L",
        "years from capability reaching C to a working, deployed AAR (v3: T_b = C·T_g + L)",
        "years",
        "nonnegative",
    ),
    Variable(
        "years_to_build",
        "T_b",
        "years from mid-2023 until a useful AAR exists; optional: set, it overrides C·T_g + L",
        "years from mid-2023",
        "positive",
        optional=True,
    ),
    Variable("years_to_agi", "T_g", "years from mid-2023 to AGI without any AAR", "years from mid-2023", "positive"),
    Variable(
        "skill_overlap",
        "o",
        "share of the AAR's research skill that also advances capabilities",
        "fraction",
        "probability",
    ),
    Variable("leakage", "ℓ", "share of that dual-use uplift that reaches capabilities work", "fraction", "probability"),
    Variable("timing_noise", "σ_t", "log-scale noise of the alignment-vs-AGI race", "log years", "positive"),
    Variable("sharpness", "τ", "softness of the 'technique strong enough?' step", "difficulty-scale units", "positive"),
)

BY_NAME: dict[str, Variable] = {v.name: v for v in VARIABLES}
NAMES: tuple[str, ...] = tuple(v.name for v in VARIABLES)
CRUXES: tuple[str, ...] = tuple(v.name for v in VARIABLES if v.crux)
PARAMETERS: tuple[str, ...] = tuple(v.name for v in VARIABLES if not v.crux)

#: Positive variables the model divides by or takes the logarithm of: they must stay well above 0.
DIVISORS: tuple[str, ...] = ("field_years", "years_to_build", "years_to_agi", "timing_noise", "sharpness")
#: v3: T_b is C·T_g + build_lag unless years_to_build is set (an explicit override). The one
#: of the two a file does not use is held as a point prior at UNUSED_VALUE, marked unused.
TIME_OVERRIDE = "years_to_build"
DERIVED_WITH = "build_lag"
