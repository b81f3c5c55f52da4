"""The page's HTML pieces: outcome cards (the test hooks), the status line, errors, the table.

All user text (file names, variable values, messages) is escaped here.
"""

from __future__ import annotations

import html
from pathlib import Path

from model.api import Run
from model.api.given import Given, Weighted
from model.core.errors import Problem
from model.core.evidence import Entry
from model.core.quantities import COLORS, DEFINITIONS, LABELS, OUTCOMES, QUANTITIES, Q
from model.core.text import one_line
from model.priors.priors import Priors
from model.report.render import decimals, error_text, pct, ratio_pm

_CARD = (
    "flex:1 1 180px;min-width:170px;padding:10px 14px;border:1px solid #ddd;border-top:6px solid {color};"
    "border-radius:6px;background:#fff"
)


def _pm(mcse: float | None, d: int) -> str:
    """The Monte Carlo error to one significant digit (the rounding rule of model/report/render.py)."""
    return f"± {error_text(100 * mcse)} pp Monte Carlo error" if mcse else "no Monte Carlo error (one world)"


def percent(run: Run, name: str) -> str:
    """A mean as the page shows it, to the precision its Monte Carlo error supports."""
    e = run.estimates[name]
    return pct(e.mean, decimals(e.mcse))


def _weighted(w: Weighted) -> str:
    return "—" if w.mean is None else pct(w.mean, decimals(w.mcse))


def _pp(after: Weighted, before: float) -> str:
    """The change from your priors in pp, to the decimals the given view's error supports."""
    if after.mean is None:
        return "—"
    shown = f"{100 * (after.mean - before):+.{decimals(after.mcse)}f}"
    return (shown if float(shown) != 0 else f"{0:.{decimals(after.mcse)}f}") + " pp"  # no "-0 pp"


def _number(testid: str, text: str, color: str = "#000") -> str:
    return (
        f'<div style="font-size:26px;font-weight:600;color:{color}">'
        f'<span data-testid="{testid}">{html.escape(text)}</span></div>'
    )


def _both_views(run: Run, name: str, given: Given) -> str:
    """A card's two numbers: your priors (``outcome-<name>``) and given the evidence (``given-<name>``)."""
    e, w = run.estimates[name], given.estimates[name]
    small = "font-size:11px;color:#555"
    return (
        '<div style="display:flex;gap:14px;flex-wrap:wrap">'
        f'<div><div style="{small}">your priors</div>{_number(f"outcome-{name}", percent(run, name))}'
        f'<div style="{small}">{_pm(e.mcse, decimals(e.mcse))}</div></div>'
        f'<div><div style="{small}">given the evidence, as of {given.as_of.isoformat()}</div>'
        f"{_number(f'given-{name}', _weighted(w), '#1d3557')}"
        f'<div style="{small}"><span data-testid="change-{name}">{html.escape(_pp(w, e.mean))}</span>'
        f" · {html.escape(_pm(w.mcse, decimals(w.mcse)))}</div></div></div>"
    )


def outcome_cards(run: Run, other: Run | None = None, other_name: str = "") -> str:
    """The four outcomes: mean (in ``data-testid="outcome-<name>"``), error, spread; a file with
    evidence shows its given view beside it (``given-<name>``, ``change-<name>``)."""
    cards = []
    given = run.given
    for name in OUTCOMES:
        e = run.estimates[name]
        d = decimals(e.mcse)
        spread = f"{pct(e.p5, 1)} – {pct(e.p95, 1)}"
        extra = (
            f'<div style="color:#555;font-size:12px">{html.escape(other_name)}: {percent(other, name)}</div>'
            if other is not None
            else ""
        )
        numbers = (
            _both_views(run, name, given)
            if given is not None
            else (
                _number(f"outcome-{name}", pct(e.mean, d)).replace("26px", "30px", 1)
                + f'<div style="font-size:12px;color:#555">{_pm(e.mcse, d)}</div>'
            )
        )
        cards.append(
            f'<div style="{_CARD.format(color=COLORS.get(name, "#999"))}" title="{html.escape(DEFINITIONS[name])}">'
            f'<div style="font-size:13px;color:#333">{html.escape(LABELS[name])}</div>{numbers}'
            f'<div style="font-size:12px;color:#555">5th–95th across worlds'
            f"{' (your priors)' if given is not None else ''}: {spread}</div>{extra}</div>"
        )
    return f'<div style="display:flex;gap:10px;flex-wrap:wrap">{"".join(cards)}</div>'


def entry_label(entry: Entry) -> str:
    """An entry's checkbox label: its words and date, without control characters."""
    return one_line(f"{entry.words()} ({entry.date.isoformat()})")


def evidence(run: Run, file_priors: Priors, off: frozenset[str]) -> str:
    """The evidence section: how much is left of the worlds, each entry's Bayes factor and what
    it alone moves (switched-off entries greyed), and what switching one off means."""
    given = run.given
    by_ident = {} if given is None else {x.entry.ident: x for x in given.entries}
    success = run.estimates[Q.success].mean
    rows = []
    for i, e in enumerate(file_priors.evidence, 1):
        x = by_ident.get(e.ident)
        cells = (
            [ratio_pm(x.bayes_factor.as_dict()), _pp(x.alone[Q.success], success)]
            if x is not None and e.ident not in off
            else ["switched off", "—"]
        )
        grey = ' style="color:#999"' if e.ident in off else ""
        rows.append(
            f'<tr data-testid="evidence-entry"{grey}><td>{i}</td><td>{html.escape(e.words())}</td>'
            f"<td>{e.date.isoformat()}</td><td>{html.escape(cells[0])}</td><td>{html.escape(cells[1])}</td>"
            f"<td>{e.strength:g}</td><td>{html.escape(e.origin or '—')}</td></tr>"
        )
    if given is None:
        left = "every entry is switched off: the numbers above are your priors as written"
    else:
        left = (
            f"given the evidence, as of {given.as_of.isoformat()}: effective sample size "
            f"{given.effective_sample_size:,.0f} of {run.result.samples:,} worlds"
        )
    return (
        f'<div data-testid="evidence-ess" style="font-size:13px;color:#444">{html.escape(left)}</div>'
        '<table style="border-collapse:collapse;font-size:13px" cellpadding="4"><tr style="text-align:left">'
        "<th>#</th><th>entry</th><th>date</th><th>Bayes factor</th><th>success, alone</th><th>strength</th>"
        f"<th>file</th></tr>{''.join(rows)}</table>"
        '<div style="font-size:12px;color:#666">Switching an entry off weighs the evidence without it, '
        "here only: &lsquo;write to file&rsquo; never writes it. To leave one out for good, set its "
        "<code>strength = 0</code> in your file or in a copy of the evidence file.</div>"
    )


def quantity_table(run: Run, other: Run | None = None, other_name: str = "") -> str:
    """Every reported quantity: mean ± error and its spread across worlds, with its definition."""
    head = "<th>mean</th><th>5th / 50th / 95th across worlds</th>"
    given = run.given
    head += f"<th>given the evidence, as of {given.as_of.isoformat()}</th>" if given is not None else ""
    head += f"<th>{html.escape(other_name)}</th>" if other is not None else ""
    rows = []
    for q in QUANTITIES:
        e = run.estimates[q.name]
        d = decimals(e.mcse)
        err = f" ± {error_text(100 * e.mcse)} pp" if e.mcse else ""
        cells = f"<td>{pct(e.mean, d)}{err}</td><td>{pct(e.p5, 1)} / {pct(e.p50, 1)} / {pct(e.p95, 1)}</td>"
        if given is not None:
            w = given.estimates[q.name]
            cells += f"<td>{_weighted(w)} ({_pp(w, e.mean)})</td>"
        cells += f"<td>{percent(other, q.name)}</td>" if other is not None else ""
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
