"""The page's Bokeh charts: made once per page, then fed new data (no figure is rebuilt).

Every chart has tooltips; labels and colours come from model.core.quantities.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import cast

import numpy as np
from bokeh.models import ColumnDataSource, FactorRange, HoverTool, LinearColorMapper, NumeralTickFormatter, Range1d
from bokeh.models.annotations.geometry import Span
from bokeh.palettes import Viridis256
from bokeh.plotting import figure

from model.api import Run
from model.core.quantities import COLORS, LABELS, OUTCOMES, SHORT, Q
from model.priors.priors import Prior

#: The quantities of the small charts.
HORIZON = Q.success_within_horizon
PLAN = (Q.baseline_success, Q.plan_solved, Q.plan_minus_baseline)
_GREY = "#8d99ae"


def _fig(height: int, **kw) -> figure:
    f = figure(height=height, sizing_mode="stretch_width", toolbar_location=None, **kw)
    f.outline_line_color = None
    f.grid.grid_line_alpha = 0.3
    return f


def _rows(run: Run | None, names, who: str) -> dict:
    """Bar data of ``names`` from ``run`` (empty when there is none)."""
    if run is None:
        return {k: [] for k in ("y", "mean", "lo", "hi", "mcse", "label", "color", "who", "text")}
    est = [run.estimates[n] for n in names]
    return {
        "y": [(SHORT[n], who) for n in names],
        "mean": [e.mean for e in est],
        "lo": [e.p5 for e in est],
        "hi": [e.p95 for e in est],
        "mcse": [e.mcse or 0.0 for e in est],
        "label": [LABELS[n] for n in names],
        "color": [COLORS.get(n, _GREY) for n in names],
        "who": [who] * len(names),
        "text": [f"{100 * e.mean:.1f}%" for e in est],
    }


def _merge(*parts: dict) -> dict:
    return {k: [v for p in parts for v in p[k]] for k in parts[0]}


def bars(names, title: str) -> tuple[figure, ColumnDataSource]:
    """Horizontal bars (mean) with whiskers (5th–95th percentile across worlds)."""
    from bokeh.models.annotations.geometry import Whisker

    src = ColumnDataSource(_rows(None, names, ""))
    f = _fig(
        60 + 52 * len(names),
        y_range=FactorRange(),
        x_range=Range1d(start=0, end=1),
        title=title,
        x_axis_label="probability, % (bar: mean; whisker: 5th–95th percentile across worlds)",
    )
    f.xaxis.formatter = NumeralTickFormatter(format="0%")  # as the cards say them
    f.hbar(y="y", right="mean", height=0.7, color="color", source=src, line_color="white")
    f.add_layout(
        Whisker(base="y", lower="lo", upper="hi", dimension="width", source=src, line_color="#333", line_alpha=0.7)
    )
    f.add_tools(
        HoverTool(
            tooltips=[
                ("", "@label (@who)"),
                ("mean", "@mean{0.00%} ± @mcse{0.000%}"),
                ("5th–95th across worlds", "@lo{0.0%} – @hi{0.0%}"),
            ]
        )
    )
    return f, src


def feed_bars(
    f: figure,
    src: ColumnDataSource,
    names,
    main: Run | None,
    main_name: str,
    other: Run | None = None,
    other_name: str = "",
) -> None:
    parts = [_rows(main, names, main_name)] + ([_rows(other, names, other_name)] if other else [])
    data = _merge(*parts)
    n = len(names)
    data["y"] = [y if i < n else f"{y} (compared)" for i, (y, _) in enumerate(data["y"])]
    data["color"] = [c if i < n else _GREY for i, c in enumerate(data["color"])]
    order = [k for i in range(n) for k in (i, i + n) if k < len(data["y"])]  # each compared bar below its own
    data = {k: [v[i] for i in order] for k, v in data.items()}
    src.data = data
    cast(FactorRange, f.y_range).factors = list(reversed(data["y"]))  # the ranges made by bars()
    if data["lo"]:  # whiskers included; 0 always shown
        x_range = cast(Range1d, f.x_range)
        x_range.start = min(0.0, *data["lo"], *data["mean"]) - 0.01
        x_range.end = max(0.0, *data["hi"], *data["mean"]) + 0.01


def horizon() -> tuple[figure, ColumnDataSource, Span]:
    """Success within the market's horizon: your spread across worlds against the market."""
    f, src = bars([HORIZON], LABELS[HORIZON] + " against the market")
    market = Span(location=0.14, dimension="height", line_color="#e63946", line_width=2, line_dash="dashed")
    f.add_layout(market)
    return f, src, market


@dataclass(frozen=True)
class CruxSources:
    """What the crux map is fed: its cells (the shown ones) and your prior's density contours."""

    cells: ColumnDataSource
    contours: ColumnDataSource


#: Where the crux map's colour bar is labelled (probabilities; the colours are on a square-root scale).
CRUX_TICKS = (0.0, 0.02, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0)


def crux_map() -> tuple[figure, CruxSources]:
    """The essay's chart, as the run report draws it: capability needed against relative
    difficulty, shaded by P(success) on the report's square-root colour scale (with its colour
    bar), cells with fewer than 5 worlds left grey, your prior's density as contours."""
    from bokeh.models import ColorBar, FixedTicker  # type: ignore[attr-defined]  # not in bokeh's stubs
    from bokeh.models.annotations.labels import Title

    from model.report.plotting import CRUX_SPARSE, SPARSE_LABEL

    cells = ColumnDataSource({k: [] for k in ("x", "y", "w", "h", "n", "c", "r", "shade", *OUTCOMES)})
    contours = ColumnDataSource({"xs": [], "ys": []})
    f = _fig(
        460,
        title=f"Crux map: {LABELS[OUTCOMES[0]]} by capability needed and relative difficulty",
        x_axis_label="capability needed (1 = top human alignment researcher)",
        y_axis_label="relative difficulty (1 = as hard as aligning AGI)",
    )
    f.background_fill_color = CRUX_SPARSE
    mapper = LinearColorMapper(palette=Viridis256, low=0, high=1)  # of sqrt(P): the report's PowerNorm(0.5)
    f.rect("x", "y", "w", "h", source=cells, fill_color={"field": "shade", "transform": mapper}, line_color=None)
    f.multi_line("xs", "ys", source=contours, line_color="black", line_alpha=0.7, line_width=1)
    ticks = [math.sqrt(p) for p in CRUX_TICKS]
    bar = ColorBar(
        color_mapper=mapper,
        ticker=FixedTicker(ticks=ticks),
        major_label_overrides={t: f"{p:.0%}" for t, p in zip(ticks, CRUX_TICKS, strict=True)},
        title=f"{SHORT[OUTCOMES[0]]} (square-root scale)",
        width=14,
    )
    f.add_layout(bar, "right")
    note = f"grey: {SPARSE_LABEL}; black lines: your prior's density (50/80/95% levels)"
    f.add_layout(Title(text=note, text_font_size="11px", text_font_style="normal"), "below")
    f.add_tools(
        HoverTool(
            renderers=[f.renderers[0]],  # type: ignore[list-item]  # the image renderer is a data renderer
            tooltips=[
                ("capability needed", "@c"),
                ("relative difficulty", "@r"),
                ("worlds", "@n{0,0}"),
                *[(SHORT[q], f"@{q}{{0.0%}}") for q in OUTCOMES],
            ],
        )
    )
    return f, CruxSources(cells, contours)


def feed_crux_map(sources: CruxSources, run: Run) -> None:
    """The run's crux map, smoothed and masked as the run report's (cells with fewer than 5
    worlds are not drawn), and its prior's density contours."""
    from model.report.plotting import crux_density, crux_smooth

    cm = run.result.crux_map
    c, r = np.asarray(cm.c_edges), np.asarray(cm.r_edges)
    counts = np.asarray(cm.counts)
    smooth = crux_smooth(counts, {q: cm.means[q] for q in OUTCOMES})
    i, j = np.nonzero(np.isfinite(smooth[OUTCOMES[0]]))
    data = {
        "x": (c[i] + c[i + 1]) / 2,
        "y": (r[j] + r[j + 1]) / 2,
        "w": c[i + 1] - c[i],
        "h": r[j + 1] - r[j],
        "n": counts[i, j],
        "c": [f"{a:.3g}–{b:.3g}" for a, b in zip(c[i], c[i + 1], strict=True)],
        "r": [f"{a:.3g}–{b:.3g}" for a, b in zip(r[j], r[j + 1], strict=True)],
        "shade": np.sqrt(np.clip(smooth[OUTCOMES[0]][i, j], 0, 1)),
    }
    data.update({q: smooth[q][i, j] for q in OUTCOMES})
    sources.cells.data = data
    sources.contours.data = _contour_lines(c, r, crux_density(counts))


def _contour_lines(c: np.ndarray, r: np.ndarray, prior) -> dict:
    """The prior's density contours as Bokeh multi-line data (empty without enough worlds)."""
    if prior is None:
        return {"xs": [], "ys": []}
    import contourpy

    density, levels = prior
    gen = contourpy.contour_generator((c[1:] + c[:-1]) / 2, (r[1:] + r[:-1]) / 2, density.T)
    lines = [np.asarray(line) for level in levels for line in gen.lines(level)]  # each an (k, 2) array
    return {"xs": [line[:, 0] for line in lines], "ys": [line[:, 1] for line in lines]}


def _grid(prior: Prior) -> tuple[np.ndarray, np.ndarray]:
    """Where a prior's density is drawn, and the density there (a spike for a point)."""
    m = prior.marginal
    if m.family == "point":
        v = float(m.ppf(np.array([0.5]))[0])
        return np.array([v, v]), np.array([0.0, 1.0])
    lo, hi = (float(x) for x in m.ppf(np.array([0.002, 0.998])))
    if not (math.isfinite(lo) and math.isfinite(hi) and hi > lo):
        return np.array([lo, hi]), np.array([0.0, 0.0])
    x = np.linspace(lo, hi, 240)
    pdf = getattr(m, "pdf", None)
    with np.errstate(all="ignore"):
        y = pdf(x) if pdf is not None else np.gradient(m.cdf(x), x)
    return x, np.nan_to_num(np.asarray(y, dtype=float), nan=0.0, posinf=0.0)


def _path(x: np.ndarray, y: np.ndarray, lo: float, hi: float, top: float, w: int, h: int) -> str:
    px = (x - lo) / (hi - lo) * w
    py = h - 2 - y / top * (h - 6)
    return "M" + " L".join(f"{a:.1f},{b:.1f}" for a, b in zip(px, py, strict=True))


def density_svg(file: Prior, whatif: Prior | None = None, other: Prior | None = None, w: int = 380, h: int = 90) -> str:
    """One prior's density as a small inline SVG: the file's (filled), the what-if's (orange)
    and the compared file's (dashed); hovering shows the 5th, 50th and 95th percentiles."""
    curves = [
        (p, style)
        for p, style in (
            (file, 'fill="#457b9d33" stroke="#1d3557"'),
            (other, 'fill="none" stroke="#6c757d" stroke-dasharray="4 3"'),
            (whatif, 'fill="none" stroke="#e76f51"'),
        )
        if p is not None
    ]
    grids = [_grid(p) for p, _ in curves]
    xs = np.concatenate([g[0] for g in grids])
    lo, hi = float(np.min(xs)), float(np.max(xs))
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        lo, hi = (lo - 1, hi + 1) if math.isfinite(lo) else (-1.0, 1.0)
    top = max(float(np.max(g[1])) for g in grids) or 1.0
    paths = []
    for (p, style), (x, y) in zip(curves, grids, strict=True):
        q = p.marginal.ppf(np.array([0.05, 0.5, 0.95]))
        tip = f"{p.name}: 5th {q[0]:.4g}, median {q[1]:.4g}, 95th {q[2]:.4g}"
        d = _path(x, np.minimum(y, top), lo, hi, top, w, h)
        if p.marginal.family != "point":
            d += f" L{(x[-1] - lo) / (hi - lo) * w:.1f},{h - 2} L{(x[0] - lo) / (hi - lo) * w:.1f},{h - 2} Z"
        paths.append(f'<path d="{d}" {style} stroke-width="2"><title>{html.escape(tip)}</title></path>')
    axis = (
        f'<text x="2" y="{h + 12}" font-size="11" fill="#555">{lo:.4g}</text>'
        f'<text x="{w - 2}" y="{h + 12}" font-size="11" fill="#555" text-anchor="end">{hi:.4g}</text>'
    )
    return (
        f'<svg width="100%" viewBox="0 0 {w} {h + 14}" preserveAspectRatio="none" '
        f'style="max-width:{w}px">{"".join(paths)}{axis}</svg>'
    )
