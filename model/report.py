"""Human-readable reports rendered from a summary dict through Jinja2 templates."""

from __future__ import annotations

import base64
import math
from typing import Any

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from .variables import BY_NAME, CRUXES

LABELS = {
    "success": "Success", "kicking_the_can": "Kicking the can",
    "capability_externalities": "Capability externalities", "x_risk": "Existential risk",
    "misaligned_contained": "… misaligned but contained or harmless",
    "aligned_too_slow": "… aligned but too slow",
    "success_within_horizon": "Success within the horizon",
    "baseline_success": "No-AAR baseline: today's field solves alignment before AGI",
    "plan_solved": "With the plan: alignment solved before AGI",
    "plan_minus_baseline": "What the plan adds to the chance alignment is solved in time",
}


def decimals(mcse: float, scale: float = 100.0) -> int:
    """Decimals (of ``value × scale``) that the Monte Carlo error supports: two significant
    digits of the error, at most 6."""
    err = mcse * scale
    if not err > 0 or not math.isfinite(err):
        return 2
    return int(min(6, max(0, 1 - math.floor(math.log10(err)))))


def pct(value: float, digits: int) -> str:
    return f"{100 * value:.{digits}f}%"


def pct_pm(est: dict[str, float]) -> str:
    d = decimals(est["mcse"])
    return f"{pct(est['mean'], d)} ± {100 * est['mcse']:.{d}f} pp"


def spread(est: dict[str, float]) -> str:
    d = max(decimals(est["mcse"]) - 1, 1)
    return " / ".join(pct(est[k], d) for k in ("p5", "p50", "p95"))


def _env() -> Environment:
    env = Environment(loader=PackageLoader("model", "templates"), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                      autoescape=select_autoescape(["html.j2"]))
    env.filters.update(pct_pm=pct_pm, spread=spread, pct=lambda v, d=1: pct(v, d))
    env.globals.update(labels=LABELS, variables=BY_NAME, cruxes=CRUXES)
    return env


def markdown(summary: dict[str, Any], sens: dict | None = None) -> str:
    """report.md for one run (figures referenced from figures/)."""
    return _env().get_template("report.md.j2").render(s=summary, sens=sens)


def html(summary: dict[str, Any], figures: dict[str, bytes], sens: dict | None = None) -> str:
    """report.html for one run: self-contained, figures embedded, no external requests."""
    encoded = {k: base64.b64encode(v).decode("ascii") for k, v in figures.items()}
    return _env().get_template("report.html.j2").render(s=summary, figures=encoded, sens=sens)


def files(summary: dict[str, Any], figures: dict[str, bytes], sens: dict | None = None) -> dict[str, str | bytes]:
    """Every file of a run's report folder, by relative path (sensitivity.json when ``sens``)."""
    import json

    out = {"summary.json": json.dumps(summary, indent=2) + "\n", "report.md": markdown(summary, sens),
           "report.html": html(summary, figures, sens), **{f"figures/{k}": v for k, v in figures.items()}}
    if sens is not None:
        out["sensitivity.json"] = json.dumps(sens, indent=2) + "\n"
    return out
