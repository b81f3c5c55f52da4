"""The compare report: outcomes side by side, the Shapley attribution of each difference,
and the views' crux maps on common axes."""

from __future__ import annotations

import json
import textwrap
from typing import Any

import numpy as np

from model.analyses.compare import COMPARED, Attribution, CruxMaps, crux_maps
from model.core.quantities import SHORT, Q
from model.core.variables import NAMES
from model.montecarlo.engine import Result
from model.priors.priors import Prior, Priors
from model.report.plotting import styled
from model.report.render import _env
from model.report.summary import OUTCOMES, display_path, versions

#: Why a player that no compared outcome depends on gets exactly 0.
INERT_WHY = {
    "target": "the market's number: it only moves the calibration",
    "trust": "how much you trust the market: it only moves the calibration",
    "value_of_success": "a utility: it only moves the decision in the sensitivity section",
    "cost_of_catastrophe": "a utility: it only moves the decision in the sensitivity section",
    "cost_of_capability_externalities": "a utility: it only moves the decision in the sensitivity section",
}


class Summary(dict):
    """compare.json's content; ``maps`` carries the crux maps' arrays to the figures (not to JSON)."""

    maps: CruxMaps | None = None


def _kind(player: str) -> str:
    from model.analyses.compare import CORRELATIONS, SETTINGS

    if player == CORRELATIONS:
        return "correlations"
    if any(player == key for _, key in SETTINGS):
        return "setting"
    return "variable"


def _belief(prior: Prior) -> dict[str, Any]:
    """One file's prior of one variable as compare shows it: family, 5th/50th/95th, how it was
    written, its source."""
    p5, p50, p95 = (float(x) for x in prior.marginal.ppf(np.array([0.05, 0.5, 0.95])))
    return {
        "family": prior.marginal.family,
        "p5": p5,
        "p50": p50,
        "p95": p95,
        "written": prior.written,
        "source": prior.source,
        **({"unused": prior.unused} if prior.unused else {}),
    }


def differing_priors(views: list[Priors]) -> dict[str, dict[str, dict[str, Any]]]:
    """Every variable whose prior is not the same in all the files: per file (as displayed),
    its family, 5th/50th/95th percentiles and source (a variable no file uses is left out)."""
    out = {}
    for name in NAMES:
        priors = [v.variables[name] for v in views]
        if all(p.unused for p in priors) or all(p.marginal == priors[0].marginal for p in priors[1:]):
            continue
        out[name] = {display_path(v.path): _belief(p) for v, p in zip(views, priors, strict=True)}
    return out


def build(
    runs: list[tuple[Priors, Result]], attributions: list[Attribution], maps: CruxMaps | None = None
) -> dict[str, Any]:
    files = [display_path(p.path) for p, _ in runs]
    if maps is None:
        maps = crux_maps(runs)
    shown = (*OUTCOMES, "success_within_horizon", "plan_minus_baseline")
    summary = Summary(
        {
            "files": files,
            "names": {display_path(p.path): p.name for p, _ in runs},
            "samples": runs[0][1].samples,
            "seed": runs[0][1].seed,
            "outcomes": {display_path(p.path): {q: r.estimates[q].mean for q in shown} for p, r in runs},
            "mcse": {display_path(p.path): {q: r.estimates[q].mcse for q in shown} for p, r in runs},
            "priors": differing_priors([p for p, _ in runs]),
            "attribution": [
                {
                    "from": display_path(at.source.path),
                    "to": display_path(at.target.path),
                    "method": at.method,
                    "samples": at.samples,
                    "players": list(at.players),
                    "kinds": {p: _kind(p) for p in at.players},
                    "inert": {p: INERT_WHY.get(p, "no compared outcome depends on it") for p in at.inert},
                    "orderings": at.orderings,
                    "outcomes": {
                        q: {
                            "total": at.total[q],
                            "total_se": at.total_se[q],
                            "by_variable": at.by_variable[q],
                            "se": at.se[q],
                            **({"ordering_se": at.ordering_se[q]} if at.ordering_se else {}),
                        }
                        for q in COMPARED
                    },
                }
                for at in attributions
            ],
            "crux_maps": {
                "capability_needed": [float(maps.c_edges[0]), float(maps.c_edges[-1])],
                "relative_difficulty": [float(maps.r_edges[0]), float(maps.r_edges[-1])],
                "cells": len(maps.c_edges) - 1,
                "axes": "the default axes, C from 0 to 2 and R from 0 to 1.5, widened where a view's central 99% "
                "reaches beyond",
                "views": {
                    f: {"worlds": w, "from": "the run's own map" if reused else "the run's worlds, binned again"}
                    for f, w, reused in zip(files, maps.worlds, maps.reused, strict=True)
                },
            },
            "versions": versions(),
        }
    )
    summary.maps = maps
    return summary


@styled
def figure(summary: dict[str, Any]) -> bytes:
    from model.core.quantities import COLORS
    from model.report.plotting import label, png, pyplot, text

    plt = pyplot()
    files = summary["files"]
    pairs = summary["attribution"]
    fig, axes = plt.subplots(1 + len(pairs), 1, figsize=(7, 2.6 + 2.4 * len(pairs)), squeeze=False)
    ax = axes[0, 0]
    width = 0.8 / len(files)
    for i, f in enumerate(files):
        vals = [100 * summary["outcomes"][f][q] for q in OUTCOMES]
        ax.bar([k + i * width for k in range(len(OUTCOMES))], vals, width, label=label(summary["names"][f]), alpha=0.85)
    ticks = [k + width * (len(files) - 1) / 2 for k in range(len(OUTCOMES))]  # under each group's middle
    ax.set_xticks(ticks, [textwrap.fill(SHORT[q], 16) for q in OUTCOMES], fontsize=8)
    ax.set_ylabel("probability (%)")
    ax.legend(frameon=False, fontsize=8)
    ax.set_title("Outcomes side by side")
    for row, pair in enumerate(pairs, start=1):
        ax = axes[row, 0]
        by = pair["outcomes"][Q.success]["by_variable"]
        se = pair["outcomes"][Q.success]["se"]
        names = sorted((k for k in by if k not in pair.get("inert", {})), key=lambda k: abs(by[k]))
        ax.barh(
            [text(k) for k in names],
            [100 * by[k] for k in names],
            xerr=[200 * (se.get(k) or 0) for k in names],
            capsize=2,
            error_kw={"lw": 0.8},
            color=[COLORS[Q.success] if by[k] >= 0 else COLORS[Q.x_risk] for k in names],
        )
        ax.axvline(0, color="black", lw=0.8)
        ax.set_xlabel("percentage points of success (± 2 standard errors)")
        ends = {k: text(summary["names"][pair[k]]) for k in ("from", "to")}
        ax.set_title(
            f"Why success differs: {ends['from']} → {ends['to']} "
            f"(total {100 * pair['outcomes'][Q.success]['total']:+.1f} pp)",
            fontsize=9,
        )
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    return png(fig)


def _crux_panel(ax, maps: CruxMaps, col: int, q: str):
    """One view's map of quantity ``q``: the run report's colour scale, grey where fewer than
    5 of its worlds fall, its prior's density as black contours; returns the mesh."""
    from model.report.plotting import CRUX_CMAP, CRUX_SPARSE, crux_density, crux_norm, crux_smooth

    counts = maps.counts[col]
    smooth = crux_smooth(counts, {q: maps.means[col][q]})[q]
    ax.set_facecolor(CRUX_SPARSE)
    mesh = ax.pcolormesh(maps.c_edges, maps.r_edges, smooth.T, cmap=CRUX_CMAP, norm=crux_norm(), shading="flat")
    prior = crux_density(counts)
    if prior is not None:
        cc = (maps.c_edges[1:] + maps.c_edges[:-1]) / 2
        rc = (maps.r_edges[1:] + maps.r_edges[:-1]) / 2
        ax.contour(cc, rc, prior[0].T, levels=prior[1], colors="black", linewidths=0.7, alpha=0.7)
    ax.axvline(1.0, color="#555555", lw=0.6, ls=":")
    ax.axhline(1.0, color="#555555", lw=0.6, ls=":")
    ax.set_xlim(maps.c_edges[0], maps.c_edges[-1])
    ax.set_ylim(maps.r_edges[0], maps.r_edges[-1])
    ax.tick_params(labelsize=7)
    return mesh


@styled
def crux_figure(summary: dict[str, Any], maps: CruxMaps) -> bytes:
    """The views' crux maps side by side on the same axes: P(success) and P(existential risk)
    given the two cruxes, on the run report's colour scale, with each view's prior density as
    contours."""
    from model.report.plotting import SPARSE_LABEL, png, pyplot, text

    plt = pyplot()
    files = summary["files"]
    k = len(files)
    rows = ((Q.success, "P(success)"), (Q.x_risk, "P(existential risk)"))
    fig, axes = plt.subplots(
        len(rows), k, figsize=(3.3 * k + 1.4, 6.6), squeeze=False, sharex=True, sharey=True, layout="constrained"
    )
    for row, (q, title) in enumerate(rows):
        for col, f in enumerate(files):
            ax = axes[row, col]
            mesh = _crux_panel(ax, maps, col, q)
            if row == 0:
                ax.set_title(text(summary["names"][f]), fontsize=9)
            if row == len(rows) - 1:
                ax.set_xlabel("capability needed, C", fontsize=8)
            if col == 0:
                ax.set_ylabel(f"relative difficulty, R\n{title}", fontsize=8)
        fig.colorbar(mesh, ax=list(axes[row, :]), label=f"{title} (square-root scale)", fraction=0.04, pad=0.02)
    fig.suptitle(
        "The two cruxes on common axes, on the run report's colour scale (black contours: each view's prior "
        f"density, 50/80/95%;\ndotted: C = 1, R = 1; grey: {SPARSE_LABEL})",
        fontsize=9,
    )
    return png(fig)


def files(summary: dict[str, Any]) -> dict[str, str | bytes]:
    import base64

    png = figure(summary)
    maps = getattr(summary, "maps", None)
    crux = crux_figure(summary, maps) if maps is not None else None
    env = _env()
    ctx = {"s": summary, "compared": COMPARED, "crux": crux is not None and "crux_maps" in summary}
    out: dict[str, str | bytes] = {
        "compare.json": json.dumps(summary, indent=2) + "\n",
        "compare.md": env.get_template("compare.md.j2").render(**ctx),
        "compare.html": env.get_template("compare.html.j2").render(
            **ctx,
            figure=base64.b64encode(png).decode("ascii"),
            crux_figure=base64.b64encode(crux).decode("ascii") if crux else "",
        ),
        "figures/compare.png": png,
    }
    if crux is not None:
        out["figures/crux_maps.png"] = crux
    return out
