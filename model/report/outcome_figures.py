"""The run report's figures drawn from a run's result: the four outcomes, the crux map, the
view against the market, the plan against no AAR and the ambition curve
(:func:`model.report.figures.draw` draws them)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from model.core.quantities import COLORS, OUTCOMES, ROWS, SHORT, Q
from model.report.plotting import (
    CRUX_CMAP,
    CRUX_SPARSE,
    ESSAY_WEEK,
    SPARSE_LABEL,
    crux_density,
    crux_norm,
    crux_smooth,
    left_of,
    logit_percent,
    new_figure,
    twice_mcse,
)

if TYPE_CHECKING:
    from matplotlib.artist import Artist

    from model.montecarlo.engine import Result
    from model.priors.priors import Priors


def outcomes(result: Result):
    """Mean (with ±2 MC errors) and 5–95% spread of per-world probabilities, per outcome."""
    keys = ROWS
    fig = new_figure(figsize=(7, 3.2))
    ax = fig.subplots()
    for y, k in enumerate(reversed(keys)):
        e = result.estimates[k]
        color = COLORS.get(k, "#b8a14a")
        ax.plot([100 * e.p5, 100 * e.p95], [y, y], color=color, lw=6, alpha=0.35, solid_capstyle="butt")
        ax.plot([100 * e.p50], [y], "|", color=color, ms=14, mew=2)
        ax.errorbar([100 * e.mean], [y], xerr=[100 * twice_mcse(e)], fmt="o", color="black", ms=5, capsize=3)
        ax.annotate(
            f"{100 * e.mean:.1f}%",
            (100 * e.mean, y),
            xytext=(0, 7),
            textcoords="offset points",
            ha="left" if e.mean < 0.03 else "right" if e.mean > 0.97 else "center",  # inside the axes
            fontsize=8,
        )
    ax.set_yticks(range(len(keys)), [SHORT[k] for k in reversed(keys)])
    ax.set_xlim(0, 100)
    ax.set_xlabel(
        "probability (%)   ● mean ± 2 MC errors   | median world   bar: 5th–95th percentile of worlds", fontsize=8
    )
    ax.set_title("The four outcomes of the AAR plan")
    fig.subplots_adjust(left=0.262, right=0.964, bottom=0.166, top=0.895)
    return fig


def crux_map(result: Result, priors: Priors):
    """The essay's chart: capability needed × relative difficulty, shaded by P(success)."""
    from matplotlib.lines import Line2D

    m = result.crux_map
    # light smoothing (one cell) of the per-cell sums and counts; cells with few worlds are blank
    smooth = crux_smooth(m.counts, m.means)

    fig = new_figure(figsize=(7.4, 5.6))
    ax = fig.subplots()
    ax.set_facecolor(CRUX_SPARSE)  # cells none of the worlds fall in
    # one colour scale for every view (so maps compare); the square-root scale keeps small
    # chances of success visible
    mesh = ax.pcolormesh(m.c_edges, m.r_edges, smooth[Q.success].T, cmap=CRUX_CMAP, norm=crux_norm(), shading="flat")
    fig.colorbar(mesh, ax=ax, label="P(success) given the two cruxes (square-root scale)")
    cc = (m.c_edges[1:] + m.c_edges[:-1]) / 2
    rc = (m.r_edges[1:] + m.r_edges[:-1]) / 2
    names = OUTCOMES
    stack = np.stack([np.nan_to_num(smooth[k], nan=-1) for k in names])
    best = np.where(np.isfinite(smooth[Q.success]), stack.argmax(axis=0), -1)
    handles = _regions(ax, m, best, cc, rc)
    ax.axvline(1.0, color="#555555", lw=0.8, ls=":")
    ax.axhline(1.0, color="#555555", lw=0.8, ls=":")
    handles.append(
        Line2D(
            [], [], color="#555555", ls=":", lw=0.8, label="C = 1: AGI-complete;  R = 1: no easier than aligning AGI"
        )
    )
    ax.set_xlim(m.c_edges[0], m.c_edges[-1])
    ax.set_ylim(m.r_edges[0], m.r_edges[-1])
    ax.set_xlabel("capability needed, C (0 = GPT-4, 1 = top human alignment researcher)")
    ax.set_ylabel("relative difficulty, R (aligning the AAR ÷ aligning AGI)")
    ax.set_title("The two cruxes: chance of success, and the most likely outcome")
    legend = ax.legend(
        handles=handles, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), ncol=2, frameon=False
    )
    for h in legend.legend_handles[1:2]:
        h.set_color("#444444")  # the white dashed line, visible on the white page
    fig.subplots_adjust(left=0.1, right=0.982, bottom=0.193, top=0.94)
    return fig


def _regions(ax, m, best: np.ndarray, cc: np.ndarray, rc: np.ndarray) -> list[Artist]:
    """The crux map's most-likely-outcome regions (labelled at their centres, bounded by dashed
    lines) and the prior's density contours; the legend's handles for them."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    names = OUTCOMES
    for k, name in enumerate(names):  # label each most-likely-outcome region at its centre
        mask = best == k
        if mask.sum() >= 4:
            i, j = np.argwhere(mask).mean(axis=0)
            ax.text(
                np.interp(i, np.arange(len(cc)), cc),
                np.interp(j, np.arange(len(rc)), rc),
                f"most likely:\n{SHORT[name].strip()}",
                ha="center",
                va="center",
                fontsize=8,
                color="white",
                bbox={"facecolor": COLORS[name], "alpha": 0.75, "lw": 0},
            )
    handles: list[Artist] = [Patch(facecolor=CRUX_SPARSE, edgecolor="#bbbbbb", label=SPARSE_LABEL)]
    if (best >= 0).any() and len(np.unique(best[best >= 0])) > 1:
        ax.contour(
            cc,
            rc,
            np.ma.masked_less(best.T, 0).astype(float),
            levels=np.arange(len(names)) + 0.5,
            colors="white",
            linewidths=1.2,
            linestyles="--",
        )
        handles.append(Line2D([], [], color="white", ls="--", lw=1.2, label="where the most likely outcome changes"))
    prior = crux_density(m.counts)
    if prior is not None:
        density, levels = prior
        ax.contour(cc, rc, density.T, levels=levels, colors="black", linewidths=0.8, alpha=0.7)
        handles.append(Line2D([], [], color="black", lw=0.8, label="your prior's density (50/80/95% levels)"))
    return handles


def _coarse(result: Result, quantity: str, groups: int = 256):
    from scipy import special

    from model.montecarlo.engine import HIST_BINS, LOGIT_SPAN, QUANTITIES

    counts = result.histograms[QUANTITIES.index(quantity)]
    inner = counts[1:-1].reshape(-1, groups).sum(axis=1)
    edges = special.expit(np.linspace(-LOGIT_SPAN, LOGIT_SPAN, HIST_BINS // groups + 1))
    return edges, inner, counts.sum()


def _occupied(edges: np.ndarray, counts: np.ndarray, total: float, *marks: float) -> tuple[float, float]:
    """The x range (on a logit axis) that holds all but 0.1% of the worlds (bars too low to see)
    and every mark, padded by a tenth in logit: empty decades would only crowd the axis."""
    share = np.cumsum(counts) / max(total, 1)
    first = int(np.searchsorted(share, 0.0005))
    last = int(np.searchsorted(share, share[-1] - 0.0005))
    lo = min(edges[first], *marks)
    hi = max(edges[min(last + 1, len(edges) - 1)], *marks)
    logit = lambda x: np.log(x / (1 - x))  # noqa: E731
    expit = lambda y: 1 / (1 + np.exp(-y))  # noqa: E731
    pad = 0.1 * max(logit(hi) - logit(lo), 1.0)
    return float(expit(logit(lo) - pad)), float(expit(logit(hi) + pad))


def horizon(result: Result):
    """Per-world success within the horizon against the market's target."""
    edges, counts, total = _coarse(result, Q.success_within_horizon)
    keep = (edges[1:] > 1e-6) & (edges[:-1] < 1 - 1e-6)
    fig = new_figure(figsize=(7, 3.6))
    ax = fig.subplots()
    ax.stairs(
        counts[keep] / total,
        edges[np.append(keep, False) | np.insert(keep, 0, False)],
        fill=True,
        color="#2a9d8f",
        alpha=0.5,
        label="your worlds",
    )
    e = result.estimates["success_within_horizon"]
    ax.axvline(
        result.target,
        color="#e76f51",
        lw=2,
        label=f"market {100 * result.target:.0f}% (at your {100 * result.target_percentile:.0f}th percentile)",
    )
    ax.axvline(e.mean, color="black", lw=1.5, ls="--", label=f"your mean {100 * e.mean:.1f}%")
    ax.set_xscale("logit")
    inner = edges[np.append(keep, False) | np.insert(keep, 0, False)]
    ax.set_xlim(*_occupied(inner, counts[keep], total, result.target, e.mean))
    logit_percent(ax.xaxis)
    ax.set_xlabel(f"success within {result.horizon:g} years, per world")
    ax.set_ylabel("share of worlds")
    # headroom above the tallest bar, and the legend on the side away from it
    heights = counts[keep] / max(total, 1)
    ax.set_ylim(0, 1.45 * max(float(heights.max(initial=0)), 1e-12))
    tallest = float(inner[int(np.argmax(heights))]) if heights.size else 0.5
    lo, hi = ax.get_xlim()
    right_half = np.log(tallest / (1 - tallest)) > (np.log(lo / (1 - lo)) + np.log(hi / (1 - hi))) / 2
    ax.legend(frameon=False, fontsize=8, loc="upper left" if right_half else "upper right")
    ax.set_title("Your view against the market")
    fig.subplots_adjust(left=left_of(fig, ax), right=0.981, bottom=0.159, top=0.907)
    return fig


def plan_vs_baseline(result: Result):
    """What building the AAR adds to the chance of solving alignment in time, and to risk."""
    est = result.estimates
    rows = [
        ("no AAR: field alone\nsolves alignment in time", est["baseline_success"], "#8d99ae"),
        ("with the plan:\nsolved in time", est["plan_solved"], "#2a9d8f"),
        ("what the plan adds", est["plan_minus_baseline"], "#264653"),
        ("existential risk\ncaused by the AAR", est[Q.x_risk], COLORS[Q.x_risk]),
    ]
    fig = new_figure(figsize=(7, 3.4))
    ax = fig.subplots()
    for y, (label, e, color) in enumerate(reversed(rows)):
        ax.barh(y, 100 * e.mean, color=color, alpha=0.8, xerr=100 * twice_mcse(e), capsize=3)
        ax.plot([100 * e.p5, 100 * e.p95], [y, y], color="black", lw=1, alpha=0.6)
        ax.annotate(
            f"{100 * e.mean:+.1f} pp" if "adds" in label else f"{100 * e.mean:.1f}%",
            (max(100 * e.mean, 0), y),
            xytext=(4, 6),
            textcoords="offset points",
            fontsize=8,
        )
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(range(len(rows)), [r[0] for r in reversed(rows)])
    ax.set_xlabel("percent (bar: mean ± 2 MC errors; line: 5th–95th percentile of worlds)")
    ax.set_title("The plan against no AAR")
    fig.subplots_adjust(left=0.258, right=0.981, bottom=0.16, top=0.901)
    return fig


def ambition(result: Result):
    """The ambition curve: each outcome given the AAR's speed-up, from the user's own worlds.

    Essay: "the difficulty of aligning the automated alignment researcher depends on how
    much you want to accelerate alignment research". Bins with fewer than 200 worlds are
    not drawn; the grey bars show where the worlds lie.
    """
    a = result.ambition
    centres = np.sqrt(a.edges[1:] * a.edges[:-1])
    enough = a.counts >= 200
    fig = new_figure(figsize=(7, 4.6))
    ax, bars = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    if enough.any():
        for q in (Q.success, Q.capability_externalities, Q.x_risk, Q.kicking_the_can):  # drawing order
            ax.plot(
                centres[enough], 100 * a.means[q][enough], marker="o", ms=2.5, lw=1.4, color=COLORS[q], label=SHORT[q]
            )
    for x, note in (
        (2, "2×: sub-AGI\n'double productivity'"),
        (100, "100×: the\npaper scenario"),
        (ESSAY_WEEK, "52,000×: 1000 years\nin a week"),
    ):
        ax.axvline(x, color="grey", lw=0.7, ls=":")
        ax.text(x, 1.0, note, transform=ax.get_xaxis_transform(), fontsize=7, ha="center", va="bottom", color="dimgrey")
    ax.set_ylim(0, 100)
    ax.set_ylabel("probability given the speed-up (%)")
    if enough.any():
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    else:
        ax.text(
            0.5,
            0.5,
            "too few worlds per speed-up to draw the curve",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=8,
            color="dimgrey",
        )
    bars.bar(
        a.edges[:-1],
        100 * a.counts / max(a.counts.sum(), 1),
        width=np.diff(a.edges),
        align="edge",
        color="#8d99ae",
        alpha=0.8,
    )
    bars.set_ylabel("% of worlds", fontsize=8)
    bars.set_xscale("log")
    bars.set_xlabel("the AAR's speed-up of alignment research, s = 1/(1 − p) (log scale)")
    fig.suptitle("The ambition curve: does aiming for more speed-up help or hurt?", fontsize=10, y=0.995)
    fig.subplots_adjust(left=0.095, right=0.738, bottom=0.123, top=0.857, hspace=0.135)
    return fig
