"""The page's HTML pieces: outcome cards (the test hooks), the status line, errors, the table.

All user text (file names, variable values, messages) is escaped here.
"""

from __future__ import annotations

import html
from pathlib import Path

from model.api import Run
from model.core.errors import Problem
from model.core.quantities import COLORS, DEFINITIONS, LABELS, OUTCOMES, QUANTITIES
from model.report.render import decimals, pct

_CARD = (
    "flex:1 1 180px;min-width:170px;padding:10px 14px;border:1px solid #ddd;border-top:6px solid {color};"
    "border-radius:6px;background:#fff"
)


def _pm(mcse: float | None, d: int) -> str:
    return f"± {100 * mcse:.{d}f} pp Monte Carlo error" if mcse else "no Monte Carlo error (one world)"


def percent(run: Run, name: str) -> str:
    """A mean as the page shows it, to the precision its Monte Carlo error supports."""
    e = run.estimates[name]
    return pct(e.mean, decimals(e.mcse))


def outcome_cards(run: Run, other: Run | None = None, other_name: str = "") -> str:
    """The four outcomes: mean (in ``data-testid="outcome-<name>"``), error, spread."""
    cards = []
    for name in OUTCOMES:
        e = run.estimates[name]
        d = decimals(e.mcse)
        spread = f"{pct(e.p5, 1)} – {pct(e.p95, 1)}"
        extra = (
            f'<div style="color:#555;font-size:12px">{html.escape(other_name)}: {percent(other, name)}</div>'
            if other is not None
            else ""
        )
        cards.append(
            f'<div style="{_CARD.format(color=COLORS.get(name, "#999"))}" title="{html.escape(DEFINITIONS[name])}">'
            f'<div style="font-size:13px;color:#333">{html.escape(LABELS[name])}</div>'
            f'<div style="font-size:30px;font-weight:600">'
            f'<span data-testid="outcome-{name}">{pct(e.mean, d)}</span></div>'
            f'<div style="font-size:12px;color:#555">{_pm(e.mcse, d)}</div>'
            f'<div style="font-size:12px;color:#555">5th–95th across worlds: {spread}</div>{extra}</div>'
        )
    return f'<div style="display:flex;gap:10px;flex-wrap:wrap">{"".join(cards)}</div>'


def quantity_table(run: Run, other: Run | None = None, other_name: str = "") -> str:
    """Every reported quantity: mean ± error and its spread across worlds, with its definition."""
    head = "<th>mean</th><th>5th / 50th / 95th across worlds</th>"
    head += f"<th>{html.escape(other_name)}</th>" if other is not None else ""
    rows = []
    for q in QUANTITIES:
        e = run.estimates[q.name]
        d = decimals(e.mcse)
        err = f" ± {100 * e.mcse:.{d}f}" if e.mcse else ""
        cells = f"<td>{pct(e.mean, d)}{err}</td><td>{pct(e.p5, 1)} / {pct(e.p50, 1)} / {pct(e.p95, 1)}</td>" + (
            f"<td>{percent(other, q.name)}</td>" if other is not None else ""
        )
        rows.append(f'<tr title="{html.escape(q.definition)}"><td>{html.escape(q.label)}</td>{cells}</tr>')
    return (
        '<table style="border-collapse:collapse;font-size:13px" cellpadding="4">'
        f"<tr style='text-align:left'><th></th>{head}</tr>{''.join(rows)}</table>"
    )


def status(run: Run, refined: bool, path: Path, note: str = "", whatif: tuple[str, ...] = ()) -> str:
    """Which estimate is shown: worlds, seed, whether it is still being refined, and the
    variables with a what-if (``data-whatif``, comma-separated; empty for the file as it is)."""
    r = run.result
    stage = "refined" if refined else "quick"
    what = f"{r.samples:,} worlds, seed {r.seed}" + ("" if refined else " (quick estimate; refining…)")
    if r.weighting is not None and r.ess is not None:
        what += f"; calibrated file, worlds weighted as run weights them (effective sample size {r.ess:,.0f})"
    return (
        f'<div style="font-size:13px;color:#444"><span data-testid="status" data-stage="{stage}" '
        f'data-samples="{r.samples}" data-seed="{r.seed}" data-whatif="{html.escape(",".join(whatif))}">'
        f"{html.escape(what)}</span>{html.escape(note)}</div>"
    )


def _where(p: Problem) -> str:
    """Where to look, in words: line and key."""
    parts = ([f"line {p.line}"] if p.line is not None else []) + ([f"key {p.key}"] if p.key else [])
    return f' <span style="color:#555">({html.escape(", ".join(parts))})</span>' if parts else ""


def problems(items: tuple[Problem, ...] | list[Problem], title: str) -> str:
    """The file's problems, each with file, line and key; the last good results stay below."""
    lines = "".join(f"<li><code>{html.escape(str(p))}</code>{_where(p)}</li>" for p in items)
    return (
        f'<div data-testid="priors-error" style="border:2px solid #e63946;background:#fff0f0;'
        f'padding:8px 12px;border-radius:6px"><b>{html.escape(title)}</b><ul style="margin:4px 0">'
        f"{lines}</ul></div>"
    )
