"""The survey report (``aar-risk cruxes --survey``): the cruxes of a survey table by value of
discrimination, each camp's value of information, and the rows left out, with a bar chart."""

from __future__ import annotations

import json
from typing import Any

from model.report.plotting import styled
from model.report.render import _env

FIGURE = "figures/vod.png"


@styled
def figure(summary: dict[str, Any]) -> bytes:
    """Median VoD per crux as horizontal bars, largest on top; a crux without pairs has no bar."""
    from model.report.plotting import png, pyplot, text

    plt = pyplot()
    cruxes = summary["survey"]["cruxes"]
    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.45 * max(len(cruxes), 1)))
    names = [text(c["crux"]) for c in reversed(cruxes)]
    values = [c["vod_median"] or 0.0 for c in reversed(cruxes)]
    colors = ["#2a9d8f" if v >= 0 else "#e76f51" for v in values]
    ax.barh(range(len(names)), values, color=colors)
    ax.set_yticks(range(len(names)), names, fontsize=8)
    for i, c in enumerate(reversed(cruxes)):
        note = "no pairs" if c["vod_median"] is None else f"{c['pairs']} pairs"
        ax.annotate(note, (max(values[i], 0.0), i), xytext=(4, 0), textcoords="offset points", va="center", fontsize=7)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel("median value of discrimination over cross-camp pairs (SKL, base 10)")
    ax.set_title("Which cruxes would most reduce the disagreement")
    fig.tight_layout()
    return png(fig)


def files(summary: dict[str, Any], source: str) -> dict[str, str | bytes]:
    """Every file of the survey report folder, by relative path: survey.json (the summary),
    report.md, report.html (self-contained) and the figure."""
    import base64

    png = figure(summary)
    env = _env()
    ctx = {"s": summary["survey"], "source": source, "figure_path": FIGURE}
    return {
        "survey.json": json.dumps(summary, indent=2) + "\n",
        "report.md": env.get_template("survey.md.j2").render(**ctx),
        "report.html": env.get_template("survey.html.j2").render(**ctx, figure=base64.b64encode(png).decode("ascii")),
        FIGURE: png,
    }
