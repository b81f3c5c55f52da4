"""The report's figures, drawn with matplotlib from engine results (no I/O here).

Each function takes results and returns a matplotlib Figure; ``render_all``
turns them into PNG bytes keyed by file name.
"""

from __future__ import annotations

import functools
import io
import os
import threading
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from model.core.quantities import COLORS, OUTCOMES, ROWS, SHORT, Q
from model.core.variables import BY_NAME, NAMES

if TYPE_CHECKING:  # imported lazily: a drawing process forked before them starts light
    from model.montecarlo.engine import Result
    from model.priors.priors import Priors

OUTCOME_COLORS = COLORS
LABELS = SHORT
ESSAY_WEEK = 52_000  # "a thousand years of work in a week": 52 × 1000


_STYLE_LOCK = threading.RLock()
STYLE = {"figure.dpi": 110, "font.size": 9, "axes.spines.top": False, "axes.spines.right": False,
         "text.usetex": False}


def styled(draw: Callable[..., bytes]) -> Callable[..., bytes]:
    """Draw inside ``matplotlib.rc_context(STYLE)``: the report's style applies to its figures
    only, and a notebook's backend and rcParams are left as they were (no global change)."""
    @functools.wraps(draw)
    def within(*args: Any, **kwargs: Any) -> bytes:
        import matplotlib

        # rc_context saves and restores the process-wide rcParams: two threads inside it at once
        # would each restore the other's style, so one figure is drawn at a time (re-entrant:
        # a styled function may call another)
        with _STYLE_LOCK, matplotlib.rc_context(STYLE):
            return draw(*args, **kwargs)

    return within


def _plt():
    """pyplot (other report modules draw with it, inside :func:`styled`; figures are closed
    by :func:`png`, so none is left in pyplot's list or shown by a notebook)."""
    import matplotlib.pyplot as plt

    return plt


def _figure(**kw):
    """A new Figure on an Agg canvas, outside pyplot (no global state: safe in any process
    or thread, and matplotlib.pyplot is never imported for a run's figures)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(**kw)
    FigureCanvasAgg(fig)
    return fig


def text(s: object) -> str:
    """User text (a name, a file name) as matplotlib shows it verbatim: on one line, control
    characters as escapes, and every ``$`` escaped so that nothing is read as mathtext."""
    from model.core.text import one_line

    return one_line(s).replace("$", r"\$")


def label(s: object) -> str:
    """:func:`text` for a legend entry (which matplotlib drops when it starts with ``_``)."""
    t = text(s) or " "
    return " " + t if t.startswith("_") else t


def twice_mcse(e) -> float:
    """2 × the Monte Carlo error for error bars; 0 where it could not be estimated."""
    return 0.0 if e.mcse is None or not np.isfinite(e.mcse) else 2 * e.mcse


def png(fig) -> bytes:
    """A figure as PNG bytes (no timestamp metadata, so reruns are byte-identical); closes it."""
    import sys

    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    if "matplotlib.pyplot" in sys.modules:  # drawn with pyplot (other report modules)
        sys.modules["matplotlib.pyplot"].close(fig)
    return buf.getvalue()


#: tight_layout's padding: 1.08 × the font size, in inches.
_PAD = 1.08 * STYLE["font.size"] / 72


def _margins(fig, **subplotpars) -> None:
    """Fixed margins where tight_layout found them for every preset (it costs a third of a
    figure's drawing: it lays out every tick label, many on logit axes), with the room for
    tick labels that vary measured on their own axis (:func:`_left_of`, :func:`_right_of`)."""
    fig.subplots_adjust(**subplotpars)


def _left_of(fig, ax) -> float:
    """The left margin that fits ``ax``'s y-axis (tick labels and label) plus tight_layout's pad."""
    box = ax.yaxis.get_tightbbox(fig.canvas.get_renderer())
    return (ax.bbox.x0 - box.x0) / fig.bbox.width + _PAD / fig.get_figwidth()


def _right_of(fig, ax) -> float:
    """The right margin (as subplots_adjust takes it) that fits a right-hand y-axis."""
    box = ax.yaxis.get_tightbbox(fig.canvas.get_renderer())
    return 1 - (box.x1 - ax.bbox.x1) / fig.bbox.width - _PAD / fig.get_figwidth()


def outcomes(result: Result):
    """Mean (with ±2 MC errors) and 5–95% spread of per-world probabilities, per outcome."""
    keys = ROWS
    fig = _figure(figsize=(7, 3.2))
    ax = fig.subplots()
    for y, k in enumerate(reversed(keys)):
        e = result.estimates[k]
        color = OUTCOME_COLORS.get(k, "#b8a14a")
        ax.plot([100 * e.p5, 100 * e.p95], [y, y], color=color, lw=6, alpha=0.35, solid_capstyle="butt")
        ax.plot([100 * e.p50], [y], "|", color=color, ms=14, mew=2)
        ax.errorbar([100 * e.mean], [y], xerr=[100 * twice_mcse(e)], fmt="o", color="black", ms=5, capsize=3)
        ax.annotate(f"{100 * e.mean:.1f}%", (100 * e.mean, y), xytext=(0, 7), textcoords="offset points",
                    ha="center", fontsize=8)
    ax.set_yticks(range(len(keys)), [LABELS[k] for k in reversed(keys)])
    ax.set_xlim(0, 100)
    ax.set_xlabel("probability (%)   ● mean ± 2 MC errors   | median world   bar: 5th–95th percentile of worlds",
                  fontsize=8)
    ax.set_title("The four outcomes of the AAR plan")
    _margins(fig, left=0.262, right=0.964, bottom=0.166, top=0.895)
    return fig


def crux_map(result: Result, priors: Priors):
    """The essay's chart: capability needed × relative difficulty, shaded by P(success)."""
    from scipy.ndimage import gaussian_filter

    m = result.crux_map
    # light smoothing (one cell) of the per-cell sums and counts; cells with few worlds are blank
    counts = gaussian_filter(m.counts.astype(float), 1.0)
    smooth = {k: np.where(counts >= 5, gaussian_filter(np.nan_to_num(v) * m.counts, 1.0) / np.maximum(counts, 1e-300),
                          np.nan) for k, v in m.means.items()}
    from matplotlib.colors import PowerNorm
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    fig = _figure(figsize=(7.4, 5.6))
    ax = fig.subplots()
    ax.set_facecolor("#eeeeee")  # cells none of the worlds fall in
    # one colour scale for every view (so maps compare); the square-root scale keeps small
    # chances of success visible
    mesh = ax.pcolormesh(m.c_edges, m.r_edges, smooth[Q.success].T, cmap="viridis",
                         norm=PowerNorm(0.5, vmin=0, vmax=1), shading="flat")
    fig.colorbar(mesh, ax=ax, label="P(success) given the two cruxes (square-root scale)")
    cc = (m.c_edges[1:] + m.c_edges[:-1]) / 2
    rc = (m.r_edges[1:] + m.r_edges[:-1]) / 2
    names = OUTCOMES
    stack = np.stack([np.nan_to_num(smooth[k], nan=-1) for k in names])
    best = np.where(np.isfinite(smooth[Q.success]), stack.argmax(axis=0), -1)
    for k, name in enumerate(names):  # label each most-likely-outcome region at its centre
        mask = best == k
        if mask.sum() >= 4:
            i, j = np.argwhere(mask).mean(axis=0)
            ax.text(np.interp(i, np.arange(len(cc)), cc), np.interp(j, np.arange(len(rc)), rc),
                    f"most likely:\n{LABELS[name].strip()}", ha="center", va="center", fontsize=8,
                    color="white", bbox={"facecolor": OUTCOME_COLORS[name], "alpha": 0.75, "lw": 0})
    handles = [Patch(facecolor="#eeeeee", edgecolor="#bbbbbb", label="fewer than 5 of your worlds here")]
    if (best >= 0).any() and len(np.unique(best[best >= 0])) > 1:
        ax.contour(cc, rc, np.ma.masked_less(best.T, 0).astype(float), levels=np.arange(len(names)) + 0.5,
                   colors="white", linewidths=1.2, linestyles="--")
        handles.append(Line2D([], [], color="white", ls="--", lw=1.2,
                              label="where the most likely outcome changes"))
    if m.counts.sum() > 0 and np.count_nonzero(m.counts) > 4:
        density = gaussian_filter(m.counts.astype(float), 1.2)
        levels = np.quantile(density[density > 0], [0.5, 0.8, 0.95])
        ax.contour(cc, rc, density.T, levels=np.unique(levels), colors="black", linewidths=0.8, alpha=0.7)
        handles.append(Line2D([], [], color="black", lw=0.8, label="your prior's density (50/80/95% levels)"))
    ax.axvline(1.0, color="#555555", lw=0.8, ls=":")
    ax.axhline(1.0, color="#555555", lw=0.8, ls=":")
    handles.append(Line2D([], [], color="#555555", ls=":", lw=0.8,
                          label="C = 1: AGI-complete;  R = 1: no easier than aligning AGI"))
    ax.set_xlim(m.c_edges[0], m.c_edges[-1])
    ax.set_ylim(m.r_edges[0], m.r_edges[-1])
    ax.set_xlabel("capability needed, C (0 = GPT-4, 1 = top human alignment researcher)")
    ax.set_ylabel("relative difficulty, R (aligning the AAR ÷ aligning AGI)")
    ax.set_title("The two cruxes: chance of success, and the most likely outcome")
    legend = ax.legend(handles=handles, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13),
                       ncol=2, frameon=False)
    for h in legend.legend_handles[1:2]:
        h.set_color("#444444")  # the white dashed line, visible on the white page
    _margins(fig, left=0.1, right=0.982, bottom=0.193, top=0.94)
    return fig


def amdahl(priors: Priors):
    """Amdahl's law with the user's distribution of speed-ups and P(s ≥ 52,000)."""
    from scipy import special

    p_marg = priors.variables["automation_fraction"].marginal
    fig = _figure(figsize=(7, 4))
    ax = fig.subplots()
    p = special.expit(np.linspace(-1, 12, 400))
    ax.plot(p, 1 / (1 - p), color="black", lw=1.5, label="speed-up s = 1/(1 − p)")
    for q, s in ((0.5, 2), (0.9, 10), (0.99, 100), (0.999, 1000), (1 - 1 / ESSAY_WEEK, ESSAY_WEEK)):
        ax.plot([q], [s], "o", color="black", ms=4)
        ax.annotate(f"{s:,}×", (q, s), xytext=(-6, 6), textcoords="offset points", ha="right", fontsize=8)
    ax.set_xscale("logit")
    ax.set_yscale("log")
    _logit_percent(ax.xaxis)
    ax.set_xlabel("fraction of alignment-research work automated, p")
    ax.set_ylabel("speed-up")
    twin = ax.twinx()
    u = np.linspace(0.0005, 0.9995, 2000)
    draws = np.asarray(p_marg.ppf(u), dtype=float)
    draws = draws[(draws > p[0]) & (draws < p[-1])]
    if draws.size:
        twin.hist(draws, bins=special.expit(np.linspace(-1, 12, 80)), color="#2a9d8f", alpha=0.35,
                  density=False, weights=np.full(draws.size, 1 / u.size))
    twin.set_ylabel("your prior: share of worlds", color="#2a9d8f")
    twin.spines["right"].set_visible(True)
    reach = float(1 - p_marg.cdf(1 - 1 / ESSAY_WEEK))
    ax.set_title(f"Amdahl's law: P(speed-up ≥ 52,000×, 'a thousand years in a week') = {reach:.2g}")
    ax.legend(loc="upper left", frameon=False)
    _margins(fig, left=0.093, bottom=0.144, top=0.916, right=_right_of(fig, twin))
    return fig


def _coarse(result: Result, quantity: str, groups: int = 256):
    from scipy import special

    from model.montecarlo.engine import HIST_BINS, LOGIT_SPAN, QUANTITIES

    counts = result.histograms[QUANTITIES.index(quantity)]
    inner = counts[1:-1].reshape(-1, groups).sum(axis=1)
    edges = special.expit(np.linspace(-LOGIT_SPAN, LOGIT_SPAN, HIST_BINS // groups + 1))
    return edges, inner, counts.sum()


def _percent(p: float, pos: object = None) -> str:
    """A probability on a logit axis as a plain percentage (0.0001%, 14%, 99.999%): no mathtext."""
    if not 0 < p < 1:
        return ""
    return f"{100 * p:.10f}".rstrip("0").rstrip(".") + "%"  # 0.00001%, never 1e-05%


def _logit_percent(axis) -> None:
    """Major ticks of a logit axis labelled as percentages, minor ticks unlabelled."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    axis.set_major_formatter(FuncFormatter(_percent))
    axis.set_minor_formatter(NullFormatter())


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
    fig = _figure(figsize=(7, 3.6))
    ax = fig.subplots()
    ax.stairs(counts[keep] / total, edges[np.append(keep, False) | np.insert(keep, 0, False)],
              fill=True, color="#2a9d8f", alpha=0.5, label="your worlds")
    e = result.estimates["success_within_horizon"]
    ax.axvline(result.target, color="#e76f51", lw=2,
               label=f"market {100 * result.target:.0f}% (at your {100 * result.target_percentile:.0f}th percentile)")
    ax.axvline(e.mean, color="black", lw=1.5, ls="--", label=f"your mean {100 * e.mean:.1f}%")
    ax.set_xscale("logit")
    inner = edges[np.append(keep, False) | np.insert(keep, 0, False)]
    ax.set_xlim(*_occupied(inner, counts[keep], total, result.target, e.mean))
    _logit_percent(ax.xaxis)
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
    _margins(fig, left=_left_of(fig, ax), right=0.981, bottom=0.159, top=0.907)
    return fig


def plan_vs_baseline(result: Result):
    """What building the AAR adds to the chance of solving alignment in time, and to risk."""
    est = result.estimates
    rows = [("no AAR: field alone\nsolves alignment in time", est["baseline_success"], "#8d99ae"),
            ("with the plan:\nsolved in time", est["plan_solved"], "#2a9d8f"),
            ("what the plan adds", est["plan_minus_baseline"], "#264653"),
            ("existential risk\ncaused by the AAR", est[Q.x_risk], COLORS[Q.x_risk])]
    fig = _figure(figsize=(7, 3.4))
    ax = fig.subplots()
    for y, (label, e, color) in enumerate(reversed(rows)):
        ax.barh(y, 100 * e.mean, color=color, alpha=0.8, xerr=100 * twice_mcse(e), capsize=3)
        ax.plot([100 * e.p5, 100 * e.p95], [y, y], color="black", lw=1, alpha=0.6)
        ax.annotate(f"{100 * e.mean:+.1f}" if "adds" in label else f"{100 * e.mean:.1f}%",
                    (max(100 * e.mean, 0), y), xytext=(4, 6), textcoords="offset points", fontsize=8)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(range(len(rows)), [r[0] for r in reversed(rows)])
    ax.set_xlabel("percent (bar: mean ± 2 MC errors; line: 5th–95th percentile of worlds)")
    ax.set_title("The plan against no AAR")
    _margins(fig, left=0.258, right=0.981, bottom=0.16, top=0.901)
    return fig


def priors_grid(priors: Priors):
    """Every prior as written: density, 90% interval, point masses."""
    fig = _figure(figsize=(10, 8.5))
    axes = fig.subplots(4, 4)
    for ax, name in zip(axes.flat, NAMES):
        m = priors.variables[name].marginal
        lo, hi = (float(v) for v in m.ppf(np.array([0.05, 0.95])))
        var = BY_NAME[name]
        ax.set_title(f"{name} ({var.symbol})" + ("  · crux" if var.crux else ""), fontsize=8,
                     color="#264653" if var.crux else "black", fontweight="bold" if var.crux else None)
        atoms = [(v, w) for v, w in m.atoms if w > 0]
        if atoms and sum(w for _, w in atoms) >= 1 - 1e-12:
            for v, w in atoms:
                ax.vlines(v, 0, w, color="#264653", lw=3)
            span = max(abs(hi), 1.0) * 0.5
            ax.set_xlim(min(v for v, _ in atoms) - span, max(v for v, _ in atoms) + span)
            ax.set_ylim(0, 1.1)
        else:
            a, b = (float(v) for v in m.ppf(np.array([0.002, 0.998])))
            x = np.linspace(a, b, 300)
            y = np.asarray(m.pdf(x), dtype=float)
            y = np.where(np.isfinite(y), y, np.nan)
            ax.plot(x, y, color="#264653")
            inside = (x >= lo) & (x <= hi)
            ax.fill_between(x[inside], 0, y[inside], color="#2a9d8f", alpha=0.35)
            for v, w in atoms:
                ax.vlines(v, 0, np.nanmax(y) * w, color="#e76f51", lw=3)
            ax.set_ylim(bottom=0)
        ax.text(0.98, 0.95, f"90%: {lo:.3g} – {hi:.3g}", transform=ax.transAxes, ha="right", va="top",
                fontsize=7)
        ax.set_yticks([])
        ax.tick_params(labelsize=7)
    fig.suptitle("Your priors (shaded: 90% interval; sources are in the table below)", fontsize=10)
    _margins(fig, left=0.026, right=0.978, bottom=0.039, top=0.931, wspace=0.1, hspace=0.332)
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
    fig = _figure(figsize=(7, 4.6))
    ax, bars = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1))
    if enough.any():
        for q in (Q.success, Q.capability_externalities, Q.x_risk, Q.kicking_the_can):  # drawing order
            ax.plot(centres[enough], 100 * a.means[q][enough], marker="o", ms=2.5, lw=1.4,
                    color=OUTCOME_COLORS[q], label=LABELS[q])
    for x, note in ((2, "2×: sub-AGI\n'double productivity'"), (100, "100×: the\npaper scenario"),
                    (ESSAY_WEEK, "52,000×: 1000 years\nin a week")):
        ax.axvline(x, color="grey", lw=0.7, ls=":")
        ax.text(x, 1.0, note, transform=ax.get_xaxis_transform(), fontsize=7, ha="center", va="bottom",
                color="dimgrey")
    ax.set_ylim(0, 100)
    ax.set_ylabel("probability given the speed-up (%)")
    if enough.any():
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
    else:
        ax.text(0.5, 0.5, "too few worlds per speed-up to draw the curve", transform=ax.transAxes,
                ha="center", va="center", fontsize=8, color="dimgrey")
    bars.bar(a.edges[:-1], 100 * a.counts / max(a.counts.sum(), 1), width=np.diff(a.edges), align="edge",
             color="#8d99ae", alpha=0.8)
    bars.set_ylabel("% of worlds", fontsize=8)
    bars.set_xscale("log")
    bars.set_xlabel("the AAR's speed-up of alignment research, s = 1/(1 − p) (log scale)")
    fig.suptitle("The ambition curve: does aiming for more speed-up help or hurt?", fontsize=10, y=0.995)
    _margins(fig, left=0.095, right=0.738, bottom=0.123, top=0.857, hspace=0.135)
    return fig


FIGURES = {
    "outcomes.png": "The four outcomes",
    "crux_map.png": "The crux map",
    "amdahl.png": "Amdahl's law",
    "horizon.png": "Against the market",
    "plan_vs_baseline.png": "The plan against no AAR",
    "ambition.png": "The ambition curve",
    "priors.png": "Your priors",
}


#: How each figure is drawn: from the priors alone, or from the run's result.
_FROM_PRIORS = {"amdahl.png": amdahl, "priors.png": priors_grid}
_FROM_RESULT = {"outcomes.png": outcomes, "crux_map.png": lambda r, p: crux_map(r, p),
                "horizon.png": horizon, "plan_vs_baseline.png": plan_vs_baseline, "ambition.png": ambition}


@styled
def draw(name: str, priors: Priors, result: Result | None = None) -> bytes:
    """One figure of FIGURES as PNG bytes."""
    if name in _FROM_PRIORS:
        return png(_FROM_PRIORS[name](priors))
    make = _FROM_RESULT[name]
    return png(make(result, priors) if name == "crux_map.png" else make(result))


def render_all(priors: Priors, result: Result) -> dict[str, bytes]:
    """Every figure as PNG bytes, keyed by file name (in this process)."""
    return {name: draw(name, priors, result) for name in FIGURES}


#: Rough CPU seconds of each figure, to share them between two drawing processes.
COST = {"priors.png": 0.36, "ambition.png": 0.26, "amdahl.png": 0.24, "horizon.png": 0.18,
        "crux_map.png": 0.14, "outcomes.png": 0.1, "plan_vs_baseline.png": 0.06}


def marginals(priors: Priors) -> SimpleNamespace:
    """What the figures use of the priors (each variable's marginal), in a form that pickles."""
    return SimpleNamespace(variables={name: SimpleNamespace(marginal=v.marginal)
                                      for name, v in priors.variables.items()})


def _draw_some(names, priors, result) -> dict:
    """Some figures as PNG bytes, or the exception that stopped them."""
    try:
        return {name: draw(name, priors, result) for name in names}
    except Exception as e:  # noqa: BLE001 - handed to the parent, which raises it
        return {"": e}


#: Which drawing process draws each figure of the priors while the simulation runs.
_PRIORS_ROLE = {"priors.png": 0, "amdahl.png": 1}


def _warm() -> None:
    """Import matplotlib and draw a small figure (fonts, log-axis mathtext), so that a helper
    forked afterwards shares what that loads."""
    fig = _figure(figsize=(1, 1))
    ax = fig.subplots()
    ax.set_title("warm")
    ax.set_xscale("logit")
    ax.set_yscale("log")
    ax.set_ylim(1, 1000)
    png(fig)


def _draw_loop(conn, role: int, processes: int, taken, parent: int) -> dict:
    """Draw this process's figures as the priors, then the result, come through ``conn``;
    return them as PNG bytes. The result's figures are taken one at a time, the costliest
    first, from a counter shared with the other drawing process (``taken``), so that
    whichever is free draws the next. Every wait watches ``parent`` (it raises
    :class:`~model.montecarlo.workers.ChildDied` once the parent is gone)."""
    from model.montecarlo import workers

    def alive() -> bool:
        return workers.parent_alive(parent)

    pngs: dict = {}
    priors = None
    while True:
        kind, payload = workers.receive(conn, alive=alive)
        if kind == "priors":
            priors = payload
            pngs.update(_draw_some([n for n in _FROM_PRIORS if _PRIORS_ROLE[n] % processes == role],
                                   priors, None))
            continue
        given, result = payload
        if given is not None:  # a long run: the priors' figures come with the result's
            priors = given
        todo = sorted((n for n in FIGURES if given is not None or n not in _FROM_PRIORS),
                      key=lambda n: -COST.get(n, 0.2))
        while True:
            k = _take(taken, alive)
            if k >= len(todo):
                return pngs
            pngs.update(_draw_some([todo[k]], priors, result))


def _take(taken, alive) -> int:
    """The next figure's number from the shared counter (its lock waited for in steps)."""
    from model.montecarlo import workers

    lock = taken.get_lock()
    while not lock.acquire(timeout=workers.STEP):
        if not alive():
            raise workers.ChildDied("the parent process is gone")
    try:
        k = taken.value
        taken.value += 1
    finally:
        lock.release()
    return k


def _helper(conn, parent: int, taken) -> None:
    """The drawing process's helper, forked once matplotlib is imported."""
    from model.montecarlo import workers

    try:
        conn.send(_draw_loop(conn, 1, 2, taken, parent))
    except workers.ChildDied:
        return
    conn.close()


def _drawer(conn, helper_conn, parent: int, taken) -> None:
    """The drawing process of :class:`Drawing`: imports matplotlib at once, forks its helper
    (which talks to the parent through ``helper_conn``), and draws its own share."""
    from model.montecarlo import workers

    _warm()  # import matplotlib while the parent simulates
    helper = None
    if helper_conn is not None:
        helper = workers.start(_helper, (helper_conn, os.getpid(), taken), name="aar-drawing-helper")
        helper_conn.close()
    try:
        conn.send(_draw_loop(conn, 0, 2 if helper else 1, taken, parent))
    except workers.ChildDied:
        return
    conn.close()
    while helper is not None and helper.exitcode is None and workers.parent_alive(parent):
        helper.join(workers.STEP)  # until it has sent its share (else leaving would kill it)


class Drawing:
    """The figures of one run, drawn in a worker process that imports matplotlib as soon as
    it starts, and a helper forked from it: those of the priors once given (:meth:`start`,
    with ``now``: while the simulation runs), those of the result once it is in
    (:meth:`finish`), each taken by whichever process is free.

    Start it once the inputs are checked, so that the import overlaps the simulation. Use
    as a context manager: leaving it (Ctrl-C included) stops the processes within a second
    (:func:`model.montecarlo.workers.stop`). Each draws whole figures with matplotlib's
    object-oriented API, so the PNGs are byte-identical to :func:`render_all`'s.
    """

    def __init__(self, priors: Priors | None = None, now: bool = True, processes: int | None = None):
        from model.montecarlo import workers

        self._processes = processes or min(2, workers.usable_cores())
        self._process = None
        self._conns: list = []
        self._priors_sent = False
        if now:
            self._launch()
        if priors is not None:
            self.start(priors, now)

    def _launch(self) -> None:
        from model.montecarlo import workers

        ctx = workers.context()
        pipes = [ctx.Pipe() for _ in range(2 if self._processes > 1 and ctx.get_start_method() == "fork" else 1)]
        self._conns = [mine for mine, _ in pipes]
        theirs = [t for _, t in pipes]
        self._process = workers.start(_drawer, (theirs[0], theirs[1] if len(theirs) > 1 else None, os.getpid(),
                                                ctx.Value("i", 0)), name="aar-drawing", daemon=False)
        for t in theirs:
            t.close()

    def _send(self, message) -> None:
        # the helper first: a send waits until the other side reads, and the drawing process
        # draws the costlier figure of the priors
        from model.montecarlo import workers

        for conn in reversed(self._conns):
            try:
                conn.send(message)
            except OSError:  # a broken pipe: every reader is gone
                raise workers.ChildDied(f"the figure-drawing process stopped unexpectedly (exit code "
                                        f"{self._process.exitcode})") from None

    def start(self, priors: Priors, now: bool = True) -> None:
        """Give the priors; with ``now`` their figures are drawn at once, else with the result's."""
        self._priors = priors
        if now:
            if self._process is None:
                self._launch()
            self._send(("priors", marginals(priors)))
            self._priors_sent = True

    def finish(self, result: Result) -> dict[str, bytes]:
        """Every figure as PNG bytes, keyed by file name, in FIGURES order."""
        if self._process is None:  # not started with the simulation: start now
            self._launch()
        self._send(("result", (None if self._priors_sent else marginals(self._priors), result)))
        from model.montecarlo import workers

        pngs: dict = {}
        for conn in self._conns:
            try:
                pngs.update(workers.receive(conn, watch=[self._process]))
            except workers.ChildDied as exc:
                raise workers.ChildDied(f"the figure-drawing process stopped unexpectedly ({exc})") from None
        if "" in pngs:
            raise pngs[""]
        return {name: pngs[name] for name in FIGURES}

    def __enter__(self) -> "Drawing":
        return self

    def __exit__(self, *exc) -> None:
        from model.montecarlo import workers

        if self._process is None:
            return
        workers.stop(self._process)
        for conn in self._conns:
            conn.close()
        self._process = None
