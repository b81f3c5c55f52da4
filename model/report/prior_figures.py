"""The run report's figures drawn from the priors alone: Amdahl's law with the speed-ups the
priors give, and every prior's density (:func:`model.report.figures.draw` draws them)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from model.core.variables import BY_NAME, NAMES
from model.report.plotting import ESSAY_WEEK, logit_percent, new_figure, right_of

if TYPE_CHECKING:
    from model.priors.priors import Priors


def chance(p: float) -> str:
    """A probability for a title: a percentage to two significant digits, never an exponent
    (0.000048%, 3.1%); 0 as "0%"."""
    if p <= 0:
        return "0%"
    digits = max(0, 1 - math.floor(math.log10(100 * p)))
    return f"{100 * p:.{digits}f}%"


def amdahl(priors: Priors):
    """Amdahl's law with the user's distribution of speed-ups and P(s ≥ 52,000)."""
    from scipy import special

    p_marg = priors.variables["automation_fraction"].marginal
    fig = new_figure(figsize=(7, 4))
    ax = fig.subplots()
    p = special.expit(np.linspace(-1, 12, 400))
    ax.plot(p, 1 / (1 - p), color="black", lw=1.5, label="speed-up s = 1/(1 − p)")
    for q, s in ((0.5, 2), (0.9, 10), (0.99, 100), (0.999, 1000), (1 - 1 / ESSAY_WEEK, ESSAY_WEEK)):
        ax.plot([q], [s], "o", color="black", ms=4)
        ax.annotate(f"{s:,}×", (q, s), xytext=(-6, 6), textcoords="offset points", ha="right", fontsize=8)
    ax.set_xscale("logit")
    ax.set_yscale("log")
    logit_percent(ax.xaxis)
    ax.set_xlabel("fraction of alignment-research work automated, p")
    ax.set_ylabel("speed-up")
    twin = ax.twinx()
    u = np.linspace(0.0005, 0.9995, 2000)
    draws = np.asarray(p_marg.ppf(u), dtype=float)
    draws = draws[(draws > p[0]) & (draws < p[-1])]
    if draws.size:
        twin.hist(
            draws,
            bins=special.expit(np.linspace(-1, 12, 80)),
            color="#2a9d8f",
            alpha=0.35,
            density=False,
            weights=np.full(draws.size, 1 / u.size),
        )
    twin.set_ylabel("your prior: share of worlds", color="#2a9d8f")
    twin.spines["right"].set_visible(True)
    reach = float(1 - p_marg.cdf(np.asarray(1 - 1 / ESSAY_WEEK)))
    ax.set_title(f"Amdahl's law: P(speed-up ≥ 52,000×, 'a thousand years in a week') = {chance(reach)}")
    ax.legend(loc="upper left", frameon=False)
    fig.subplots_adjust(left=0.093, bottom=0.144, top=0.916, right=right_of(fig, twin))
    return fig


def priors_grid(priors: Priors):
    """Every prior as written: density, 90% interval, point masses."""
    fig = new_figure(figsize=(10, 8.5))
    axes = fig.subplots(4, 4)
    used = [n for n in NAMES if priors.variables[n].unused is None]  # v3: build_lag or years_to_build is unused
    for ax, name in zip(axes.flat, used, strict=True):
        m = priors.variables[name].marginal
        lo, hi = (float(v) for v in m.ppf(np.array([0.05, 0.95])))
        var = BY_NAME[name]
        ax.set_title(
            f"{name} ({var.symbol})" + ("  · crux" if var.crux else ""),
            fontsize=8,
            color="#264653" if var.crux else "black",
            fontweight="bold" if var.crux else None,
        )
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
        ax.text(0.98, 0.95, f"90%: {lo:.3g} – {hi:.3g}", transform=ax.transAxes, ha="right", va="top", fontsize=7)
        ax.set_yticks([])
        ax.tick_params(labelsize=7)
    fig.suptitle("Your priors (shaded: 90% interval; sources are in the table below)", fontsize=10)
    fig.subplots_adjust(left=0.026, right=0.978, bottom=0.039, top=0.931, wspace=0.1, hspace=0.332)
    return fig
