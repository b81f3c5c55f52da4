"""The compare report: outcomes side by side, and the Shapley attribution of each difference."""

from __future__ import annotations

import json
from typing import Any

from .compare import COMPARED, Attribution
from .engine import Result
from .priors import Priors
from .report import LABELS, _env
from .summary import OUTCOMES, display_path, versions


def build(runs: list[tuple[Priors, Result]], attributions: list[Attribution]) -> dict[str, Any]:
    files = [display_path(p.path) for p, _ in runs]
    return {
        "files": files,
        "names": {display_path(p.path): p.name for p, _ in runs},
        "samples": runs[0][1].samples, "seed": runs[0][1].seed,
        "outcomes": {display_path(p.path): {q: r.estimates[q].mean for q in (*OUTCOMES, "success_within_horizon",
                                                                            "plan_minus_baseline")}
                     for p, r in runs},
        "mcse": {display_path(p.path): {q: r.estimates[q].mcse for q in (*OUTCOMES, "success_within_horizon",
                                                                        "plan_minus_baseline")}
                 for p, r in runs},
        "attribution": [{
            "from": display_path(at.source.path), "to": display_path(at.target.path), "method": at.method,
            "samples": at.samples, "players": list(at.players),
            "outcomes": {q: {"total": at.total[q], "total_se": at.total_se[q],
                             "by_variable": at.by_variable[q], "se": at.se[q]}
                         for q in COMPARED},
        } for at in attributions],
        "versions": versions(),
    }


def figure(summary: dict[str, Any]) -> bytes:
    from .figures import OUTCOME_COLORS, _plt, label, png, text

    plt = _plt()
    files = summary["files"]
    pairs = summary["attribution"]
    fig, axes = plt.subplots(1 + len(pairs), 1, figsize=(7, 2.6 + 2.4 * len(pairs)), squeeze=False)
    ax = axes[0, 0]
    width = 0.8 / len(files)
    for i, f in enumerate(files):
        vals = [100 * summary["outcomes"][f][q] for q in OUTCOMES]
        ax.bar([k + i * width for k in range(len(OUTCOMES))], vals, width, label=label(summary["names"][f]),
               alpha=0.85)
    ax.set_xticks([k + 0.4 - width / 2 for k in range(len(OUTCOMES))], [LABELS[q] for q in OUTCOMES], fontsize=8)
    ax.set_ylabel("percent")
    ax.legend(frameon=False, fontsize=8)
    ax.set_title("Outcomes side by side")
    for row, pair in enumerate(pairs, start=1):
        ax = axes[row, 0]
        by = pair["outcomes"]["success"]["by_variable"]
        names = sorted(by, key=lambda k: abs(by[k]))
        ax.barh([text(k) for k in names], [100 * by[k] for k in names],
                color=[OUTCOME_COLORS["success"] if by[k] >= 0 else OUTCOME_COLORS["x_risk"] for k in names])
        ax.axvline(0, color="black", lw=0.8)
        ax.set_xlabel("percentage points of success")
        ends = {k: text(summary["names"][pair[k]]) for k in ("from", "to")}
        ax.set_title(f"Why success differs: {ends['from']} → {ends['to']} "
                     f"(total {100 * pair['outcomes']['success']['total']:+.1f} pp)", fontsize=9)
        ax.tick_params(labelsize=7)
    fig.tight_layout()
    return png(fig)


def files(summary: dict[str, Any]) -> dict[str, str | bytes]:
    import base64

    png = figure(summary)
    env = _env()
    ctx = {"s": summary, "compared": COMPARED}
    return {"compare.json": json.dumps(summary, indent=2) + "\n",
            "compare.md": env.get_template("compare.md.j2").render(**ctx),
            "compare.html": env.get_template("compare.html.j2").render(
                **ctx, figure=base64.b64encode(png).decode("ascii")),
            "figures/compare.png": png}
