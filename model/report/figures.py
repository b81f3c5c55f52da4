"""The table of the run report's figures, and drawing them.

The figures themselves are in :mod:`model.report.outcome_figures` (from a run's result) and
:mod:`model.report.prior_figures` (from the priors alone), drawn with the helpers of
:mod:`model.report.plotting`; :mod:`model.report.drawing` draws them in worker processes while
a run simulates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from model.montecarlo.engine import Result
    from model.priors.priors import Priors

from model.report.plotting import png, styled

FIGURES = {
    "outcomes.png": "The four outcomes",
    "crux_map.png": "The crux map",
    "amdahl.png": "Amdahl's law",
    "horizon.png": "Against the market",
    "plan_vs_baseline.png": "The plan against no AAR",
    "ambition.png": "The ambition curve",
    "priors.png": "Your priors",
}


#: The figures drawn from the priors alone (the others need the run's result).
FROM_PRIORS = ("amdahl.png", "priors.png")
#: Drawn only for a run with evidence (MODEL.md §5.v3).
EVIDENCE_FIGURES = {"timeline.png": "Since 2023: the timeline"}


def wanted(result: Result | None) -> list[str]:
    """The figures of a run: FIGURES, and the evidence's when it has evidence."""
    extra = list(EVIDENCE_FIGURES) if result is not None and result.given is not None else []
    return [*FIGURES, *extra]


@styled
def draw(name: str, priors: Priors, result: Result | None = None) -> bytes:
    """One figure of FIGURES as PNG bytes."""
    from model.report import outcome_figures, prior_figures

    if name == "amdahl.png":
        return png(prior_figures.amdahl(priors))
    if name == "priors.png":
        return png(prior_figures.priors_grid(priors))
    assert result is not None, f"{name} is drawn from the run's result"
    if name == "crux_map.png":
        return png(outcome_figures.crux_map(result, priors))
    if name == "timeline.png":
        from model.report.evidence_figures import timeline

        return png(timeline(result))
    make = {
        "outcomes.png": outcome_figures.outcomes,
        "horizon.png": outcome_figures.horizon,
        "plan_vs_baseline.png": outcome_figures.plan_vs_baseline,
        "ambition.png": outcome_figures.ambition,
    }
    return png(make[name](result))


def render_all(priors: Priors, result: Result) -> dict[str, bytes]:
    """Every figure as PNG bytes, keyed by file name (in this process)."""
    return {name: draw(name, priors, result) for name in wanted(result)}
