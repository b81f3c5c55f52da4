"""What every report figure shares: the style, a canvas outside pyplot, PNG bytes, user text
made safe for matplotlib, margins and logit axes. The table of the run report's figures is
:mod:`model.report.figures`."""

from __future__ import annotations

import functools
import io
import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import numpy as np

if TYPE_CHECKING:  # imported lazily: a drawing process forked before them starts light
    from matplotlib.typing import RcKeyType


ESSAY_WEEK = 52_000  # "a thousand years of work in a week": 52 × 1000


_STYLE_LOCK = threading.RLock()

STYLE: dict[RcKeyType, Any] = {
    "figure.dpi": 110,
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "text.usetex": False,
}


_P = ParamSpec("_P")
_R = TypeVar("_R")


def styled(draw: Callable[_P, _R]) -> Callable[_P, _R]:
    """Draw inside ``matplotlib.rc_context(STYLE)``: the report's style applies to its figures
    only, and a notebook's backend and rcParams are left as they were (no global change)."""

    @functools.wraps(draw)
    def within(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        import matplotlib

        # rc_context saves and restores the process-wide rcParams: two threads inside it at once
        # would each restore the other's style, so one figure is drawn at a time (re-entrant:
        # a styled function may call another)
        with _STYLE_LOCK, matplotlib.rc_context(STYLE):
            return draw(*args, **kwargs)

    return within


def pyplot():
    """pyplot (other report modules draw with it, inside :func:`styled`; figures are closed
    by :func:`png`, so none is left in pyplot's list or shown by a notebook)."""
    import matplotlib.pyplot as plt

    return plt


def new_figure(**kw):
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


#: tight_layout's padding: 1.08 × the font size, in inches. Figures set fixed margins
#: (``fig.subplots_adjust``) where tight_layout found them for every preset (it costs a third of
#: a figure's drawing: it lays out every tick label, many on logit axes), with the room for tick
#: labels that vary measured on their own axis (:func:`left_of`, :func:`right_of`).
_PAD = 1.08 * STYLE["font.size"] / 72


def left_of(fig, ax) -> float:
    """The left margin that fits ``ax``'s y-axis (tick labels and label) plus tight_layout's pad."""
    box = ax.yaxis.get_tightbbox(fig.canvas.get_renderer())
    return (ax.bbox.x0 - box.x0) / fig.bbox.width + _PAD / fig.get_figwidth()


def right_of(fig, ax) -> float:
    """The right margin (as subplots_adjust takes it) that fits a right-hand y-axis."""
    box = ax.yaxis.get_tightbbox(fig.canvas.get_renderer())
    return 1 - (box.x1 - ax.bbox.x1) / fig.bbox.width - _PAD / fig.get_figwidth()


def percent(p: float, pos: object = None) -> str:
    """A probability on a logit axis as a plain percentage (0.0001%, 14%, 99.999%): no mathtext."""
    if not 0 < p < 1:
        return ""
    return f"{100 * p:.10f}".rstrip("0").rstrip(".") + "%"  # 0.00001%, never 1e-05%


def logit_percent(axis) -> None:
    """Major ticks of a logit axis labelled as percentages, minor ticks unlabelled."""
    from matplotlib.ticker import FuncFormatter, NullFormatter

    axis.set_major_formatter(FuncFormatter(percent))
    axis.set_minor_formatter(NullFormatter())


#: The crux maps' colour scale, shared by the run report, compare and the live page: viridis on
#: a square-root scale from 0 to 1 (small chances stay visible), the same for every view.
CRUX_CMAP = "viridis"
CRUX_GAMMA = 0.5
#: A crux-map cell is shown only where the (lightly smoothed) number of worlds reaches this.
CRUX_MIN_WORLDS = 5
#: The colour of cells with fewer worlds than that.
CRUX_SPARSE = "#eeeeee"


def crux_norm():
    """The crux maps' colour normalisation: square root of the probability, 0 to 1."""
    from matplotlib.colors import PowerNorm

    return PowerNorm(CRUX_GAMMA, vmin=0, vmax=1)


def crux_smooth(counts: np.ndarray, means: Mapping) -> dict:
    """Each quantity's mean per crux-map cell, smoothed over about one cell (sums and counts
    alike); NaN where fewer than :data:`CRUX_MIN_WORLDS` worlds fall (after smoothing)."""
    from scipy.ndimage import gaussian_filter

    counts = np.asarray(counts, dtype=float)
    n = gaussian_filter(counts, 1.0)
    return {
        k: np.where(
            n >= CRUX_MIN_WORLDS, gaussian_filter(np.nan_to_num(v) * counts, 1.0) / np.maximum(n, 1e-300), np.nan
        )
        for k, v in means.items()
    }


def crux_density(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The prior's density on the crux map (counts smoothed over 1.2 cells) and the levels that
    hold its 50/80/95% quantiles of occupied cells; None when too few cells hold worlds."""
    from scipy.ndimage import gaussian_filter

    counts = np.asarray(counts, dtype=float)
    if counts.sum() <= 0 or np.count_nonzero(counts) <= 4:
        return None
    density = gaussian_filter(counts, 1.2)
    return density, np.unique(np.quantile(density[density > 0], [0.5, 0.8, 0.95]))


#: What the grey cells of a crux map mean (the run report's legend and the live page's).
SPARSE_LABEL = f"fewer than {CRUX_MIN_WORLDS} of your worlds here"
