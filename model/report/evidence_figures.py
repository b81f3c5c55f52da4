"""The timeline of a run with evidence (MODEL.md §5.v3): the chance that a useful AAR, AGI and
the field's solution have come by each date, under the priors as written and given the
evidence, with the entries marked."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import numpy as np

from model.core.evidence import DAYS_PER_YEAR, ORIGIN
from model.report.plotting import new_figure

if TYPE_CHECKING:
    from model.montecarlo.engine import Result

#: Each event's colour and words.
EVENTS = {
    "aar": ("#264653", "a useful AAR (T_b)"),
    "agi": ("#e76f51", "AGI (T_g)"),
    "field": ("#2a9d8f", "the field alone solves alignment (T_a)"),
}


def _date(years: float):
    return ORIGIN + timedelta(days=years * DAYS_PER_YEAR)


def timeline(result: Result):
    """P(event by date) before (dashed) and after (solid) the evidence; each entry a line at its
    date, numbered as in the report's table of entries."""
    import matplotlib.dates as mdates

    g = result.given
    assert g is not None, "the timeline is drawn for a run with evidence"
    months = np.arange(1, len(g.timeline["prior"]["aar"]) + 1)
    dates = [_date(m / 12) for m in months]
    fig = new_figure(figsize=(7.6, 4.0))
    ax = fig.subplots()
    for event, (color, words) in EVENTS.items():
        ax.plot(dates, 100 * g.timeline["prior"][event], color=color, ls="--", lw=1.2, alpha=0.8)
        ax.plot(dates, 100 * g.timeline["given"][event], color=color, lw=2, label=words)
    goal = _date(result.horizon)
    ax.axvline(goal, color="#777777", lw=1, ls=":")
    ax.annotate(
        f"the {result.horizon:g}-year goal",
        (goal, 99),
        xytext=(3, 0),
        textcoords="offset points",
        fontsize=7,
        color="#555555",
        va="top",
    )
    by_day: dict = {}
    for number, e in enumerate(g.entries, 1):  # numbered as in the report's table of entries
        by_day.setdefault(e.date, []).append(str(number))
    for k, (day, numbers) in enumerate(sorted(by_day.items())):
        ax.axvline(day, color="black", lw=0.6, alpha=0.5)
        ax.annotate(
            ", ".join(numbers),
            (day, 97 - 5 * (k % 2)),
            xytext=(-2, 0),
            textcoords="offset points",
            fontsize=7,
            ha="right",
            va="top",
        )
    ax.plot([], [], color="black", ls="--", lw=1.2, label="your priors (as written)")
    ax.plot([], [], color="black", lw=2, label=f"given the evidence (as of {g.as_of.isoformat()})")
    ax.set_ylim(0, 100)
    ax.set_xlim(dates[0], dates[-1])
    ax.xaxis.set_major_locator(mdates.YearLocator(2))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.set_ylabel("chance it has come by then (%)")
    ax.legend(frameon=False, fontsize=7.5, loc="center left", bbox_to_anchor=(0.0, 0.62))
    ax.set_title("Since 2023: when the AAR, AGI and a solution come")
    fig.subplots_adjust(left=0.085, right=0.98, bottom=0.09, top=0.92)
    return fig
