"""Figures of the sensitivity section: tornado, crux curves, Sobol indices, value of information."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from model.core.quantities import COLORS, OUTCOMES, SHORT, Q
from model.core.variables import CRUXES
from model.report.plotting import png, pyplot, styled, text
from model.report.render import belief

FOUR = OUTCOMES


def tornado(sens: Mapping[str, Any], means: Mapping[str, float], top: int = 8):
    """Each outcome's mean when one belief sits at its 5th and its 95th percentile."""
    plt = pyplot()
    fig, axes = plt.subplots(2, 2, figsize=(10, 6.4))
    for ax, q in zip(axes.flat, FOUR, strict=True):
        t = sens["outcomes"][q]["tornado"]
        swing = sorted(t, key=lambda v: abs(t[v]["p95"] - t[v]["p5"]))[-top:]
        base = 100 * means[q]
        for y, v in enumerate(swing):
            lo, hi = 100 * t[v]["p5"], 100 * t[v]["p95"]
            ax.barh(y, hi - base, left=base, color=COLORS[q], alpha=0.85)
            ax.barh(y, lo - base, left=base, color="#8d99ae", alpha=0.85)
        ax.axvline(base, color="black", lw=0.8)
        ax.set_yticks(range(len(swing)), [text(v) + (" ★" if v in CRUXES else "") for v in swing], fontsize=7)
        ax.set_title(f"{SHORT[q]} (mean {base:.1f}%)", fontsize=9)
        ax.set_xlabel("percent; grey: belief at its 5th percentile, colour: at its 95th", fontsize=7)
    fig.suptitle("Tornado: which belief moves each outcome (correlations respected; ★ crux)", fontsize=10)
    fig.tight_layout()
    return fig


def crux_curves(sens: Mapping[str, Any]):
    """E[outcome | crux] along each crux's prior, the four outcomes on one figure."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.6), sharey=True)
    for ax, v in zip(axes, CRUXES, strict=True):
        for q in FOUR:
            curve = sens["outcomes"][q]["curves"].get(v)
            if curve:
                ax.plot(curve["x"], 100 * np.asarray(curve["y"]), color=COLORS[q], label=SHORT[q])
        ax.set_xlabel(text(v))
        ax.set_title(f"given {text(v)}", fontsize=9)
    axes[0].set_ylabel("percent")
    axes[0].legend(frameon=False, fontsize=7)
    fig.suptitle("The two cruxes: each outcome as the crux moves across its prior", fontsize=10)
    fig.tight_layout()
    return fig


def sobol_bars(sens: Mapping[str, Any], output: str = Q.success, top: int = 10):
    """The given-data index (respects correlations) first, the Sobol indices beside it;
    Sobol indices not resolved at this sample size are drawn hatched, without a bar value."""
    from matplotlib.patches import Patch

    plt = pyplot()
    block = sens["outcomes"][output]
    order = block.get("ranking") or sorted(
        block["given_data_first_order"], key=lambda v: -block["given_data_first_order"][v]
    )
    names = list(reversed(order[:top]))
    fig, ax = plt.subplots(figsize=(7, 4.2))
    y = np.arange(len(names))
    ax.barh(
        y + 0.27,
        [block["given_data_first_order"][v] for v in names],
        0.26,
        color="#e76f51",
        label="first order, given data (respects your correlations)",
    )
    unresolved = []
    for off, key, color in ((0.0, "first_order", "#2a9d8f"), (-0.27, "total", "#264653")):
        for i, v in enumerate(names):
            e = block[key][v]
            if e.get("resolved", True):
                ax.barh(
                    y[i] + off,
                    e["value"],
                    0.26,
                    color=color,
                    xerr=[[max(e["value"] - e["ci"][0], 0)], [max(e["ci"][1] - e["value"], 0)]],
                    capsize=2,
                    error_kw={"lw": 0.8},
                )
            else:
                unresolved.append(v)
                ax.barh(y[i] + off, 1.0, 0.26, color="none", edgecolor=color, hatch="///", lw=0.6)
    handles = [
        Patch(color="#e76f51", label="first order, given data (respects your correlations)"),
        Patch(color="#2a9d8f", label="Sobol first order (assumes independence)"),
        Patch(color="#264653", label="Sobol total (assumes independence)"),
    ]
    if unresolved:
        handles.append(
            Patch(
                facecolor="none", edgecolor="#264653", hatch="///", label="Sobol index not resolved at this sample size"
            )
        )
    ax.set_yticks(y, [text(v) + (" ★" if v in CRUXES else "") for v in names], fontsize=7)
    ax.set_xlim(0, 1.02)
    ax.set_xlabel(f"share of the variance of {SHORT.get(output, output)} across worlds")
    ax.legend(handles=handles, frameon=False, fontsize=7, loc="lower right")
    ax.set_title(
        f"Which belief matters for {SHORT.get(output, output)}\n(ranked by the given-data index; "
        "Sobol indices with 95% bootstrap intervals)",
        fontsize=9,
    )
    fig.tight_layout()
    return fig


def value_of_information(sens: Mapping[str, Any], top: int = 10):
    plt = pyplot()
    d = sens["decision"]
    names = sorted(d["evppi"], key=lambda v: d["evppi"][v])[-top:]
    worth = set(d.get("worth_learning", names))
    fig, ax = plt.subplots(figsize=(7, 3.8))
    ax.barh(
        range(len(names)),
        [d["evppi"][v] for v in names],
        color=["#b0b7c3" if v not in worth else "#e76f51" if v == "cruxes_jointly" else "#264653" for v in names],
    )
    ax.axvline(d["evpi"], color="black", ls="--", lw=1, label=f"EVPI (everything) {d['evpi']:.3g}")
    ax.set_yticks(
        range(len(names)),
        [f"{text(belief(v))} (flip {100 * d['flip_probability'][v]:.1f}%)" for v in names],
        fontsize=7,
    )
    ax.set_xlabel("expected value of perfect information (utility units; grey: about zero)")
    ax.legend(frameon=False, fontsize=7)
    title = f"What is worth learning before deciding? (best now: {text(d['best_action'])})"
    if not d.get("worth_learning", True):
        which = "No belief" if d.get("evpi_negligible") else "No single belief"
        title = f"{which} is worth resolving for this decision (best now: {text(d['best_action'])})"
        ax.text(
            0.5,
            0.5,
            "every partial EVPI is about zero",
            transform=ax.transAxes,
            ha="center",
            va="center",
            fontsize=9,
            color="#555555",
            bbox={"facecolor": "white", "lw": 0},
        )
    ax.set_xlim(0, max(1.08 * d["evpi"], max(d["evppi"].values(), default=0) * 1.08, 1e-6))
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    return fig


@styled
def render(sens: Mapping[str, Any], means: Mapping[str, float]) -> dict[str, bytes]:
    """Every sensitivity figure as PNG bytes, keyed by file name."""
    return {
        "tornado.png": png(tornado(sens, means)),
        "crux_curves.png": png(crux_curves(sens)),
        "sobol.png": png(sobol_bars(sens)),
        "value_of_information.png": png(value_of_information(sens)),
    }
