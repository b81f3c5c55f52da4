"""The players of a comparison: every difference between two priors files."""

from __future__ import annotations

from model.core.quantities import HEADLINE
from model.core.variables import DERIVED_WITH, NAMES, TIME_OVERRIDE
from model.priors.beliefs import Priors

COMPARED = HEADLINE
CORRELATIONS = "correlations"
#: Settings of a priors file that are players when they differ: (table, key).
SETTINGS = (
    ("calibration", "horizon_years"),
    ("calibration", "target"),
    ("calibration", "trust"),
    ("decision", "value_of_success"),
    ("decision", "cost_of_catastrophe"),
    ("decision", "cost_of_capability_externalities"),
)
#: The only setting the compared outcomes depend on (success within the horizon).
HORIZON = "horizon_years"


def _setting(p: Priors, table: str, key: str):
    return getattr(getattr(p, table), key)


def player_of(a: Priors, b: Priors) -> dict[str, str]:
    """The player each variable belongs to: itself, but build_lag to years_to_build when one file
    derives T_b and the other overrides it (docs/model.md, Model v3 C)."""
    of = {n: n for n in NAMES}
    if a.build_override != b.build_override:
        of[DERIVED_WITH] = TIME_OVERRIDE
    return of


def players(a: Priors, b: Priors) -> tuple[str, ...]:
    """Every difference between the two files: variables, correlations, then settings.

    v3: where one file derives T_b (build_lag) and the other overrides it (years_to_build), the
    switch is one player, ``years_to_build``, that takes both variables from the file it swaps
    to (:func:`player_of`): a placeholder is never swapped in as a belief of its own."""
    of = player_of(a, b)
    differ = tuple(dict.fromkeys(of[n] for n in NAMES if a.variables[n].marginal != b.variables[n].marginal))
    corr = (CORRELATIONS,) if dict(a.correlations) != dict(b.correlations) else ()
    settings = tuple(key for table, key in SETTINGS if _setting(a, table, key) != _setting(b, table, key))
    return differ + corr + settings


def check_comparable(views: list[Priors]) -> None:
    """Refuse calibrated files: their worlds are weighted by the market, which no variable's
    Shapley value can hold (the attribution would say nothing differs while the outcomes do)."""
    for v in views:
        if v.calibration.apply is not None:
            raise ValueError(
                f"{v.path} is calibrated (its worlds are weighted by the market): compare the "
                "file it inherits from; its calibration report shows what the market changes"
            )
