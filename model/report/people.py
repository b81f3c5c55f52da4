"""The many-people report (``aar-risk cruxes PRIORS…``): each person's outcomes and the pools,
the attribution of the between-person variance, and the binary cruxes, with three figures."""

from __future__ import annotations

import base64
import json
from typing import Any

from model.core.quantities import LABELS, SHORT
from model.report.plotting import styled
from model.report.render import _env

FIGURES = {
    "people": "figures/people.png",
    "attribution": "figures/attribution.png",
    "vod": "figures/vod.png",
}


@styled
def people_figure(summary: dict[str, Any]) -> bytes:
    """A dot plot: one row per outcome, one dot per person (± MCSE), the linear pool as a bar."""
    from model.report.plotting import png, pyplot, text

    plt = pyplot()
    outcomes = list(summary["pools"]["geometric_mean_of_odds"])
    fig, ax = plt.subplots(figsize=(7.5, 1.2 + 0.55 * len(outcomes)))
    for row, q in enumerate(reversed(outcomes)):
        for k, p in enumerate(summary["people"]):
            o = p["outcomes"][q]
            y = row + (k - (len(summary["people"]) - 1) / 2) * 0.08
            ax.errorbar(
                o["mean"],
                y,
                xerr=o["mcse"],
                fmt="o",
                ms=4,
                color=f"C{k % 10}",
                label=text(p["name"]) if row == 0 else None,
            )
        lin = summary["pools"]["linear"][q]["mean"]
        ax.plot([lin, lin], [row - 0.3, row + 0.3], color="black", lw=1.5, label="linear pool" if row == 0 else None)
    ax.set_yticks(range(len(outcomes)), [text(SHORT[q]) for q in reversed(outcomes)], fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("probability (each person's own worlds)")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=3, frameon=False)
    ax.set_title("Each person's outcomes")
    fig.tight_layout()
    return png(fig)


@styled
def attribution_figure(summary: dict[str, Any]) -> bytes:
    """Horizontal bars: each player's share of the between-person variance of U."""
    from model.report.plotting import png, pyplot, text

    plt = pyplot()
    u = summary["outcome"]
    block = summary["attribution"][u]
    players = sorted(block["players"].items(), key=lambda kv: kv[1]["value"] or 0.0)
    fig, ax = plt.subplots(figsize=(7, 1.2 + 0.35 * max(len(players), 1)))
    values = [v["value"] or 0.0 for _, v in players]
    errors = [v["error"] or 0.0 for _, v in players]
    ax.barh(range(len(players)), values, xerr=errors, color=["#2a9d8f" if x >= 0 else "#e76f51" for x in values])
    ax.set_yticks(range(len(players)), [text(p) for p, _ in players], fontsize=8)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_xlabel(f"Shapley share of Var_people(P({text(SHORT[u])})) = {block['total']:.4g}")
    ax.set_title("Which disagreement matters")
    fig.tight_layout()
    return png(fig)


@styled
def vod_figure(summary: dict[str, Any]) -> bytes:
    """One heat map per binary crux: the value of discrimination of every pair of people."""
    import numpy as np

    from model.report.plotting import png, pyplot, text

    plt = pyplot()
    cruxes = summary["binary_cruxes"]
    names = [p["name"] for p in summary["people"]]
    n = len(names)
    fig, axes = plt.subplots(
        1, max(len(cruxes), 1), figsize=(1.5 + 3.2 * max(len(cruxes), 1), 1.8 + 0.3 * n), squeeze=False
    )
    for ax, c in zip(axes[0], cruxes, strict=False):
        m = np.full((n, n), np.nan)
        for pair in c["vod_pairs"]:
            i, j = names.index(pair["a"]), names.index(pair["b"])
            m[i, j] = m[j, i] = np.nan if pair["vod"] is None else pair["vod"]
        top = float(np.nanmax(np.abs(m))) if np.isfinite(m).any() else 1.0
        image = ax.imshow(m, cmap="RdBu", vmin=-top, vmax=top)  # VoD < 0: learning c sets them further apart
        if n <= 8:
            for i, j in zip(*np.nonzero(np.isfinite(m)), strict=True):
                ax.text(j, i, f"{m[i, j]:.2g}", ha="center", va="center", fontsize=6)
        ax.set_xticks(range(n), [text(x)[:14] for x in names], rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(n), [text(x)[:14] for x in names], fontsize=7)
        ax.set_title(text(c["crux"]), fontsize=9)
        fig.colorbar(image, ax=ax, shrink=0.8)
    fig.suptitle("Value of discrimination by pair (SKL, base 10)")
    fig.tight_layout()
    return png(fig)


def files(summary: dict[str, Any]) -> dict[str, str | bytes]:
    """Every file of the report folder, by relative path: cruxes.json, report.md, report.html
    (self-contained) and the three figures."""
    figures = {
        FIGURES["people"]: people_figure(summary),
        FIGURES["attribution"]: attribution_figure(summary),
        FIGURES["vod"]: vod_figure(summary),
    }
    env = _env()
    ctx = {"s": summary, "labels": LABELS, "figures": FIGURES}
    inline = {k: base64.b64encode(figures[path]).decode("ascii") for k, path in FIGURES.items()}
    return {
        "cruxes.json": json.dumps(summary, indent=2) + "\n",
        "report.md": env.get_template("people.md.j2").render(**ctx),
        "report.html": env.get_template("people.html.j2").render(**ctx, inline=inline),
        **figures,
    }
