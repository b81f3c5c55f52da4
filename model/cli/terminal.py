"""What the CLI prints to stdout: rich tables at a terminal, plain aligned text when piped.

Two rules hold for every table:

* names and numbers are never wrapped, folded or cut: at a terminal their columns are
  ``no_wrap`` and as wide as their longest cell; long text (sources, parameters) is cut
  with an ellipsis to fit, or left out of the table, and then given in full below it;
* user text (names, descriptions, sources, file names) is never read as rich markup
  (cells are :class:`rich.text.Text`, consoles have ``markup=False``) and never reaches
  the terminal with control characters in it: ESC, CR, the other C0 and C1 controls and
  the bidi overrides are shown as escapes such as ``\\x1b`` (:func:`visible`).

When stdout is not a terminal the tables are plain text: no box drawing, no ANSI codes,
one row per line, columns separated by at least two spaces, so ``grep`` and ``awk`` work.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from model.core.quantities import OUTCOMES, SHORT, SIGNED, Q
from model.core.text import LINE_BREAK, one_line, short
from model.core.text import visible as visible  # tests reach it through this module

if TYPE_CHECKING:
    from rich.console import JustifyMethod
    from rich.text import Text

#: A cut text column is never narrower than this; below it the column leaves the table.
MIN_TEXT = 12


@dataclass(frozen=True)
class Column:
    """A table column.

    kind: ``"name"`` and ``"number"`` never wrap nor are cut; ``"label"`` is fixed prose
    that may wrap between words at a narrow terminal; ``"text"`` is long (user) text: cut
    with an ellipsis at a terminal and given in full below the table under ``below``.
    ``inline``: whether a text column stays in the row when piped (else only below).
    ``header_max``: at a terminal, headers longer than this are cut (and named in full below).
    """

    header: str
    kind: str = "name"
    justify: JustifyMethod = "left"
    below: str | None = None
    inline: bool = False
    header_max: int | None = None
    priority: int = 0  # text columns with a lower priority get the room first


@dataclass
class Grid:
    title: str
    columns: Sequence[Column]
    rows: list[list[str]]
    keys: list[str] | None = None  # what names a row below the table [its first cell]


def _cells(text: object) -> str:
    return one_line(text) or "—"


def _header_lines(text: str) -> list[str]:
    return [one_line(line) for line in LINE_BREAK.split(str(text))]


def is_terminal(stream: IO | None = None) -> bool:
    stream = stream or sys.stdout
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def emit(
    grids: Grid | Iterable[Grid],
    after: Iterable = (),
    *,
    file: IO | None = None,
    terminal: bool | None = None,
    width: int | None = None,
) -> None:
    """Print ``grids`` then the lines ``after`` (``str`` or :class:`rich.text.Text`, never
    markup) to ``file`` [stdout]: rich tables at a terminal, plain text otherwise."""
    file = file or sys.stdout
    grids = [grids] if isinstance(grids, Grid) else list(grids)
    terminal = is_terminal(file) if terminal is None else terminal
    if terminal:
        from rich.console import Console

        console = Console(
            file=file,
            width=width,
            markup=False,
            emoji=False,
            highlight=False,
            force_terminal=True if width is not None else None,
        )
        for grid in grids:
            _rich(console, grid)
        for line in after:
            console.print(_text(line))
    else:
        lines = []
        for grid in grids:
            lines += _plain(grid)
        lines += [one_line(_text(line).plain) for line in after]
        file.write("".join(line.rstrip() + "\n" for line in lines))
        file.flush()


def render(grids: Grid | Iterable[Grid], after: Iterable = (), *, terminal: bool, width: int = 80) -> str:
    """What :func:`emit` prints, as a string (ANSI codes included at a terminal)."""
    import io

    buf = io.StringIO()
    emit(grids, after, file=buf, terminal=terminal, width=width)
    return buf.getvalue()


def _text(line):
    from rich.text import Text

    if isinstance(line, Text):
        return line
    return Text(one_line(line))


def _full_below(grid: Grid, col: int, which: list[int]) -> list[str]:
    keys = grid.keys or [row[0] for row in grid.rows]
    heading = grid.columns[col].below or grid.columns[col].header
    return [f"{one_line(heading)}:"] + [
        f"  {_cells(keys[i])}: {_cells(grid.rows[i][col])}" for i in which if one_line(grid.rows[i][col])
    ]


# --- plain text ------------------------------------------------------------------------------


def _plain(grid: Grid) -> list[str]:
    from rich.cells import cell_len

    shown = [i for i, c in enumerate(grid.columns) if c.kind != "text" or c.inline]
    table = [[" ".join(_header_lines(grid.columns[i].header)) or "—" for i in shown]]
    table += [[_cells(row[i]) for i in shown] for row in grid.rows]
    widths = [max(cell_len(r[j]) for r in table) for j in range(len(shown))]
    out = [one_line(grid.title)] if one_line(grid.title) else []
    for r in table:
        cells = []
        for j, (cell, w) in enumerate(zip(r, widths, strict=True)):
            pad = " " * (w - cell_len(cell))
            right = grid.columns[shown[j]].justify == "right"
            cells.append(pad + cell if right else cell + pad)
        out.append("  ".join(cells))
    for i in range(len(grid.columns)):
        if i not in shown:
            out += _full_below(grid, i, list(range(len(grid.rows))))
    return out


# --- rich, at a terminal ---------------------------------------------------------------------


def _overhead(n: int) -> int:
    """Border cells of a rich table of n columns: "│ " + " │" per column, shared borders."""
    return 3 * n + 1


def _headers(cols) -> tuple[list[list[str]], list[str]]:
    """Each column's header lines (cut to ``header_max`` at a terminal) and the cut headers in full."""
    from rich.cells import cell_len

    headers, cut_headers = [], []
    for c in cols:
        lines = _header_lines(c.header)
        if c.header_max is not None and any(cell_len(line) > c.header_max for line in lines):
            cut_headers.append(" ".join(lines))
            lines = [short(line, c.header_max) for line in lines]
        headers.append(lines)
    return headers, cut_headers


def _budget(cols, content: list[int], width: int) -> dict[int, int]:
    """Widths of the text columns: in priority order, what names, numbers and labels leave."""
    fixed = [j for j, c in enumerate(cols) if c.kind != "text"]
    room = max(0, width - _overhead(len(fixed)) - sum(content[j] for j in fixed))
    budget = {}
    for j, c in sorted(enumerate(cols), key=lambda jc: (jc[1].priority, jc[0])):
        if c.kind == "text":
            w = min(content[j], room - 3)
            if w >= min(content[j], MIN_TEXT):
                budget[j] = w
                room -= w + 3
    return budget


def _below(console, grid: Grid, rows: list[list[str]], budget: dict[int, int]) -> None:
    """Text cut from the table (or left out of it), in full below it with a hanging indent."""
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    for j, c in enumerate(grid.columns):
        if c.kind != "text":
            continue
        cut = [i for i, r in enumerate(rows) if (j not in budget or cell_len(r[j]) > budget[j]) and r[j] != "—"]
        if cut:
            keys = grid.keys or [row[0] for row in grid.rows]
            console.print(Text(f"{one_line(c.below or c.header)}:"))
            listing = Table.grid(padding=(0, 2), pad_edge=True)
            listing.add_column(no_wrap=True, min_width=max(cell_len(_cells(keys[i])) for i in cut))
            listing.add_column(overflow="fold")
            for i in cut:
                listing.add_row(Text(_cells(keys[i]) + ":"), Text(rows[i][j]))
            console.print(listing)


def _rich(console, grid: Grid) -> None:
    """``grid`` as a rich table: names and numbers whole, labels wrapped, text cut to fit."""
    from rich import box
    from rich.cells import cell_len
    from rich.table import Table
    from rich.text import Text

    cols = grid.columns
    rows = [[_cells(cell) for cell in row] for row in grid.rows]
    headers, cut_headers = _headers(cols)
    content = [max([cell_len(line) for line in headers[j]] + [cell_len(r[j]) for r in rows]) for j in range(len(cols))]
    label_min = [
        max(
            [max((cell_len(w) for w in line.split()), default=0) for line in headers[j]]
            + [max((cell_len(w) for w in r[j].split()), default=0) for r in rows]
        )
        for j in range(len(cols))
    ]
    fixed = [j for j, c in enumerate(cols) if c.kind != "text"]
    need = sum(content[j] if cols[j].kind != "label" else label_min[j] for j in fixed)
    if need + _overhead(len(fixed)) > console.width:  # not even names and numbers fit: plain text
        for line in _plain(grid):
            console.print(Text(line), crop=False, soft_wrap=True)
        return
    budget = _budget(cols, content, console.width)
    shown = [j for j in range(len(cols)) if cols[j].kind != "text" or j in budget]
    title = one_line(grid.title)
    span = min(console.width, _overhead(len(shown)) + sum(budget.get(j, content[j]) for j in shown))
    if cell_len(title) > span:  # a title wider than the table is not wrapped into it
        console.print(Text(title), soft_wrap=True)
        title = ""
    table = Table(title=Text(title) if title else None, box=box.HEAVY_HEAD)
    for j in shown:
        no_wrap, max_width = True, None
        min_width: int | None = content[j]
        if cols[j].kind == "label":
            no_wrap, min_width = False, label_min[j]
        elif cols[j].kind == "text":
            min_width, max_width = None, budget[j]
        table.add_column(
            Text("\n".join(headers[j])),
            justify=cols[j].justify,
            no_wrap=no_wrap,
            overflow="ellipsis",
            min_width=min_width,
            max_width=max_width,
        )
    for r in rows:
        table.add_row(*(Text(r[j]) if cols[j].kind != "text" else Text(short(r[j], budget[j])) for j in shown))
    console.print(table)
    _below(console, grid, rows, budget)
    if cut_headers:
        console.print(Text("columns: " + "; ".join(cut_headers)))


# --- the CLI's tables ------------------------------------------------------------------------


#: The rows of ``aar-risk run``'s table after the four outcomes.
RUN_ROWS = ("success_within_horizon", "baseline_success", "plan_solved", "plan_minus_baseline")


def outcomes(summary: dict, **kw) -> None:
    """``aar-risk run``: each outcome's mean ± Monte Carlo error and spread across worlds; for
    a file with evidence, your priors and given the evidence side by side (:func:`given`)."""
    from model.core.quantities import DEFINITIONS
    from model.report.render import LABELS, quantity_pm, spread

    rows = [*summary["outcomes"].items(), *[(k, summary[k]) for k in RUN_ROWS]]
    definitions = [f"{LABELS[k]}: {DEFINITIONS[k]}." for k, _ in rows]
    if summary.get("given_evidence"):
        grids, after = given(summary)
        emit(grids, [*after, *definitions], **kw)
        return
    grid = Grid(
        f"{summary['name']} — {summary['samples']:,} worlds, seed {summary['seed']}",
        [
            Column("outcome", "label"),
            Column("mean ± MC error", "number", "right"),
            Column("5th / 50th / 95th\nacross worlds", "number", "right"),
        ],
        [[LABELS[k], quantity_pm(est, k), spread(est, k)] for k, est in rows],
    )
    emit(grid, definitions, **kw)


def _weighted(est: dict, name: str) -> str:
    """A weighted mean ± its error (``—`` where the evidence ruled out every world)."""
    from model.report.render import quantity_pm

    return "—" if est.get("mean") is None else quantity_pm(est, name)


def _change(after: dict, before: dict) -> str:
    """``after − before`` in pp, to the decimals ``after``'s error supports (without the error:
    it is the one in ``after``'s column)."""
    from model.report.render import decimals

    if after.get("mean") is None:
        return "—"
    d = decimals(after.get("mcse"))
    text = f"{100 * (after['mean'] - before['mean']):+.{d}f} pp"
    return "0.0 pp" if float(text[:-3]) == 0 else text


def given(summary: dict) -> tuple[list[Grid], list[str]]:
    """A run with evidence (MODEL.md §5.v3): the outcomes under your priors as written and given
    the evidence, the change in pp; the effective sample size; each entry's Bayes factor."""
    from model.report.render import LABELS, quantity_pm, ratio_pm

    g = summary["given_evidence"]
    as_of = g["as_of"]
    keys = [*summary["outcomes"], *RUN_ROWS]
    before = {k: summary["outcomes"].get(k) or summary[k] for k in keys}
    after = {k: g["outcomes"].get(k) or g[k] for k in keys}
    outcomes_grid = Grid(
        f"{summary['name']} — {summary['samples']:,} worlds, seed {summary['seed']}",
        [
            Column("outcome", "label"),
            Column("your priors\n(as written)", "number", "right"),
            Column(f"given the evidence\n(as of {as_of})", "number", "right"),
            Column("change", "number", "right"),
        ],
        [[LABELS[k], quantity_pm(before[k], k), _weighted(after[k], k), _change(after[k], before[k])] for k in keys],
    )
    success = summary["outcomes"][Q.success]
    entries = Grid(
        f"Evidence as of {as_of}: each entry's Bayes factor, and success given it alone",
        [
            Column("#", "number", "right"),
            Column("entry", "text", below="entries", inline=True),
            Column("date", "number"),
            Column("Bayes factor", "number", "right"),
            Column("success,\nalone", "number", "right"),
            Column("strength", "number", "right"),
        ],
        [
            [
                str(i),
                e["words"],
                e["date"],
                ratio_pm(e["bayes_factor"]),
                _change(e["alone"]["outcomes"][Q.success], success),
                f"{e['strength']:g}",
            ]
            for i, e in enumerate(g["entries"], 1)
        ],
        [f"#{i}" for i in range(1, len(g["entries"]) + 1)],
    )
    after_lines = [
        _ess_line(g, summary["samples"]),
        "change: given the evidence less your priors, in percentage points (its Monte Carlo error "
        "is about the one in the given column); 5th/50th/95th across worlds: report.md",
        "Bayes factor: the entry's mean likelihood over your priors' worlds, over its largest "
        "(1: your priors expected it; near 0: it surprised them)",
    ]
    return [outcomes_grid, entries], after_lines


def _ess_line(g: dict, samples: int) -> str:
    """The effective sample size given the evidence, and what to do when it is too small."""
    ess = f"given the evidence: effective sample size {g['effective_sample_size']:,.0f} of {samples:,} worlds"
    if g["effective_sample_size"] < 1:
        return ess + (
            " — the evidence rules out every world drawn (each weight underflowed to 0): "
            "lower an entry's strength, widen a measurement's sd, or check a date"
        )
    return ess + (" — too few, these numbers are unreliable: run more worlds (-n)" if g.get("warning") else "")


def _header(name: str) -> str:
    """A quantity's short label on at most two lines, for a narrow table column."""
    import textwrap

    s = SHORT[name]
    return "\n".join(textwrap.wrap(s, max(8, len(s) // 2 + 1))[:2]) if len(s) > 10 else s


def _sobol_cell(entry: dict) -> str:
    return f"{entry['value']:.2f}" if entry.get("resolved", True) else "not resolved"


def sensitivity_lines(sens: dict) -> list[str]:
    """The decision in words: best action, net benefit, and what (if anything) is worth learning."""
    d = sens["decision"]
    nb = d["net_benefit"]
    err = f" ± {nb['mcse']:.4f}" if nb.get("mcse") else ""
    lines = [
        f"best action: {d['best_action']} (net benefit of building {nb['mean']:+.4f}{err}); "
        f"EVPI {d['evpi']:.3g} (MC error at most {d['evpi_noise']:.2g})"
    ]
    be = d.get("break_even_cost")
    if be:
        err = f" ± {be['mcse']:.2g}" if be.get("mcse") else ""
        lines.append(
            f"break-even cost of an AAR catastrophe: {be['value']:.3g}{err}; {be['words']}"
            if be["value"] is not None
            else f"break-even cost: none; {be['words']}"
        )
    if d["evpi_negligible"]:
        lines.append(
            "no belief is worth resolving for this decision: even perfect information about "
            "everything is worth about nothing"
        )
    elif not d["worth_learning"]:
        lines.append("no single belief is worth resolving for this decision: every partial EVPI is about zero")
    else:
        lines.append(
            "most worth learning: "
            + ", ".join(
                f"{k} ({d['evppi'][k]:.3g}, flips the decision with probability {100 * d['flip_probability'][k]:.1f}%)"
                for k in d["worth_learning"][:3]
            )
        )
    return lines


def sensitivity(sens: dict, top: int = 5, **kw) -> None:
    """``aar-risk sensitivity``: for each outcome the beliefs that matter most for it, ranked
    by the given-data index (which respects correlations), and the decision."""
    grids = []
    for q in OUTCOMES:
        block = sens["outcomes"][q]
        order = block.get("ranking") or sorted(
            block["given_data_first_order"], key=lambda v: -block["given_data_first_order"][v]
        )
        grids.append(
            Grid(
                f"{SHORT[q]}: which belief matters",
                [
                    Column("variable"),
                    Column("given data\n(first order)", "number", "right"),
                    Column("Sobol total\n(independent)", "number", "right"),
                ],
                [[v, f"{block['given_data_first_order'][v]:.2f}", _sobol_cell(block["total"][v])] for v in order[:top]],
            )
        )
    after = [
        "given data: share of the outcome's variance a belief explains alone, respecting your "
        "correlations; Sobol total assumes independent beliefs",
        *sensitivity_lines(sens),
    ]
    emit(grids, after, **kw)


def validate(spec, path, **kw) -> None:
    """``aar-risk validate``: every variable's prior, its percentiles, its source."""
    import numpy as np
    from rich.text import Text

    from model.core.variables import BY_NAME

    rows, keys = [], []
    for name, prior in spec.variables.items():
        if prior.unused is not None:  # v3: build_lag or years_to_build, whichever T_b does not use
            keys.append(name)
            rows.append([name, "unused", "—", "—", "—", "—", prior.unused, "—"])
            continue
        m = prior.marginal
        q = m.ppf(np.array([0.05, 0.5, 0.95]))
        params = ", ".join(f"{k}={v:.4g}" for k, v in m.params().items())
        keys.append(name)
        rows.append(
            [
                name + (" ★" if BY_NAME[name].crux else ""),
                m.family,
                params,
                *(f"{v:.4g}" for v in q),
                prior.source or "—",
                f"inherited ({prior.origin.name})" if spec.inherited(name) else "this file",
            ]
        )
    grid = Grid(
        f"{spec.name} ({path})",
        [
            Column("variable"),
            Column("family", "text", below="families", inline=True, priority=-1),
            Column("parameters", "text", below="parameters", inline=True, priority=0),
            Column("5th", "number", "right"),
            Column("50th", "number", "right"),
            Column("95th", "number", "right"),
            Column("source", "text", below="sources", priority=2),
            Column("from", "text", below="from", inline=True, priority=1),
        ],
        rows,
        keys,
    )
    after: list[str | Text] = [f"rank correlation {a}, {b} = {rho}" for (a, b), rho in spec.correlations.items()]
    after.append(Text.assemble((f"{one_line(path)}: valid", "green"), " (★ = crux)"))
    emit([grid, *_evidence_grid(spec)], after, **kw)


def _evidence_grid(spec) -> list[Grid]:
    """``validate``: the evidence entries the file applies (MODEL.md §5.v3), if any."""
    if not spec.evidence:
        return []
    return [
        Grid(
            f"evidence applied by run, as of {spec.as_of.isoformat()}",
            [
                Column("#", "number", "right"),
                Column("entry"),
                Column("kind"),
                Column("date"),
                Column("strength", "number", "right"),
                Column("source", "text", below="sources", priority=2),
                Column("from", "text", below="from", inline=True, priority=1),
            ],
            [
                [str(i), e.words(), e.kind, e.date.isoformat(), f"{e.strength:g}", e.source, e.origin or "—"]
                for i, e in enumerate(spec.evidence, 1)
            ],
        )
    ]


def calibration(summary: dict, **kw) -> None:
    """``aar-risk calibrate``: the outcomes, prior and calibrated by each method."""
    from model.report.render import pct_pm

    cols = [Q.success_within_horizon, *OUTCOMES]
    grid = Grid(
        f"{summary['name']}: calibrated to {100 * summary['target']:.0f}% in "
        f"{summary['horizon_years']:g} years (trust {summary['trust']:g})",
        [Column("method"), *(Column(_header(c), "number", "right") for c in cols)],
        [["prior", *(pct_pm(summary["prior"]["outcomes"][c]) for c in cols)]]
        + [["given evidence", *(pct_pm(given["outcomes"][c]) for c in cols)] for given in _given(summary)]
        + [[name, *(pct_pm(m["outcomes"][c]) for c in cols)] for name, m in summary["methods"].items()],
    )
    after = [
        f"{name}: effective sample size {m['ess']:,.0f} is too small to trust its numbers"
        for name, m in summary["methods"].items()
        if m.get("ess") is not None and m["ess"] < 1000
    ]
    if summary.get("evidence"):
        n, day = len(summary["evidence"]["entries"]), summary["evidence"]["as_of"]
        after.insert(0, f"every method is given the evidence ({n} entries, as of {day}), as is the starting point")
    emit(grid, after + _explains(summary), **kw)


def _explains(summary: dict) -> list[str]:
    """Why the calibration came out so, in three lines: the beliefs the update moved most, those
    it and the tilt move in opposite directions, the outcomes that moved against s_h."""
    from model.report.render import SHORT, signed

    x = summary.get("explains")
    if not x:
        return []
    lines = []
    if x["update"]:
        top = x["moved_most"][x["update"]][:3]
        moved = ", ".join(f"{r['variable']} {signed(r['shift_sd'], r['shift_mcse'])} sd" for r in top)
        lines.append(f"moved most by the update ({x['update']}, in prior standard deviations): {moved}")
    if x["update"] and x["tilt"]:
        both = f"{len(x['opposite'])} of {x['beliefs']} beliefs"
        lines.append(
            f"the update and the tilt move {both} in opposite directions"
            + (f": {', '.join(x['opposite'])}" if x["opposite"] else "")
        )
    for name, o in x["outcomes"].items():
        if o["against"]:
            names = ", ".join(SHORT[a["outcome"]] for a in o["against"])
            lines.append(f"{name}: moved against success within the horizon: {names}")
    return lines


def _given(summary: dict) -> list[dict]:
    """The prior given the evidence, the calibration's starting point (none without evidence)."""
    evidence = summary.get("evidence")
    return [evidence["prior_given_evidence"]] if evidence else []


def compare(summary: dict, **kw) -> None:
    """``aar-risk compare``: outcomes side by side, then for each pair every outcome's change
    (in percentage points) and the difference that moves it most."""
    from model.report.render import LABELS

    files = summary["files"]
    grid = Grid(
        "Outcomes side by side (mean)",
        [
            Column("outcome", "label"),
            *(Column(one_line(summary["names"][f]), "number", "right", header_max=24) for f in files),
        ],
        [
            [LABELS[q], *(_share(summary["outcomes"][f][q], q) for f in files)]
            for q in next(iter(summary["outcomes"].values()))
        ],
    )
    grids, after = [grid], []
    for pair in summary["attribution"]:
        grids.append(_pair_grid(summary, pair, LABELS))
        inert = pair.get("inert", {})
        if inert:
            after.append(
                f"{pair['from']} → {pair['to']}: also different, no effect on these outcomes: {', '.join(inert)}"
            )
    emit(grids, after, **kw)


def _share(p: float, q: str) -> str:
    """A probability as a percentage; a difference of two (what the plan adds) in pp."""
    return f"{100 * p:+.1f} pp" if q in SIGNED else f"{100 * p:.1f}%"


def largest_driver(pair: dict, q: str) -> tuple[str, float] | None:
    """The difference between a pair's files that moves outcome ``q`` most, and by how much."""
    by = pair["outcomes"][q]["by_variable"]
    inert = pair.get("inert", {})
    moving = [k for k in by if k not in inert]
    if not moving:
        return None
    top = max(moving, key=lambda k: abs(by[k]))
    return top, by[top]


def _pair_grid(summary: dict, pair: dict, labels: dict) -> Grid:
    """One pair of files: each compared outcome's change and its largest driver, in pp."""
    names = {k: one_line(summary["names"][pair[k]]) for k in ("from", "to")}
    rows = []
    for q, block in pair["outcomes"].items():
        top = largest_driver(pair, q)
        rows.append(
            [
                labels[q],
                f"{100 * block['total']:+.1f} pp",
                top[0] if top else "—",
                f"{100 * top[1]:+.1f} pp" if top else "—",
            ]
        )
    return Grid(
        f"{names['from']} → {names['to']}: change in each outcome and its largest driver",
        [
            Column("outcome", "label"),
            Column("change", "number", "right"),
            Column("largest driver"),
            Column("its share", "number", "right"),
        ],
        rows,
    )


def _metric(v: float | None) -> str:
    return "—" if v is None else f"{v:.4f}"


def _survey_share(v: float | None) -> str:
    return "—" if v is None else f"{100 * v:.0f}%"


def survey(summary: dict, **kw) -> None:
    """``aar-risk cruxes --survey``: each crux's VoD and each camp's VOI, then the rows left out."""
    block = summary["survey"]
    camps = list(block["cruxes"][0]["voi_median"]) if block["cruxes"] else []
    grid = Grid(
        "Binary cruxes by value of discrimination (median over cross-camp pairs)",
        [
            Column("crux", header_max=24),
            Column("pairs", "number", "right"),
            Column("VoD", "number", "right"),
            Column("VoD share", "number", "right"),
            *(Column(f"VOI {one_line(c)}", "number", "right", header_max=24) for c in camps),
            *(Column(f"VOI share {one_line(c)}", "number", "right", header_max=24) for c in camps),
        ],
        [
            [
                x["crux"],
                str(x["pairs"]),
                _metric(x["vod_median"]),
                _survey_share(x["vod_share_median"]),
                *(_metric(x["voi_median"][c]) for c in camps),
                *(_survey_share(x["voi_share_median"][c]) for c in camps),
            ]
            for x in block["cruxes"]
        ],
    )
    after = [f"left out: {o['person']}, {o['crux']}: {o['why']}" for o in block["incoherent"]]
    emit(grid, after, **kw)


def people(summary: dict, **kw) -> None:
    """``aar-risk cruxes PRIORS…``: each person's outcomes and the pools; the players of U's
    between-person variance; each binary crux's VoD and VOI."""
    from model.report.render import quantity_pm

    shown = list(summary["pools"]["linear"])
    rows = [
        [p["name"], p["camp"] or "—", *(quantity_pm(p["outcomes"][q], q) for q in shown)] for p in summary["people"]
    ]
    for key, name in (
        ("linear", "linear pool"),
        ("geometric_mean_of_odds", "geo. mean of odds"),
        ("extremized", "extremized"),
    ):
        block = summary["pools"][key]
        rows.append([name, "", *(quantity_pm(block[q], q) if q in block else "—" for q in shown)])
    outcomes = Grid(
        "Each person's outcomes, and the pools",
        [
            Column("person", header_max=24),
            Column("camp"),
            *(Column(SHORT[q], "number", "right", header_max=16) for q in shown),
        ],
        rows,
    )
    u = summary["outcome"]
    block = summary["attribution"][u]
    ranked = sorted(block["players"].items(), key=lambda kv: -(kv[1]["value"] or 0.0))
    players = Grid(
        f"Which disagreement matters: Var_people(P({SHORT[u]})) = {block['total']:.4g}, by player",
        [Column("player"), Column("Shapley value", "number", "right"), Column("±", "number", "right")],
        [[p, f"{v['value']:.3g}", f"{v['error']:.2g}"] for p, v in ranked],
    )
    camps = list(summary["binary_cruxes"][0]["voi_median"]) if summary["binary_cruxes"] else []
    binary = Grid(
        f"Binary cruxes (U = {u}) by value of discrimination",
        [
            Column("crux", header_max=28),
            Column("pairs", "number", "right"),
            Column("VoD", "number", "right"),
            Column("VoD share", "number", "right"),
            *(Column(f"VOI {one_line(c)}", "number", "right", header_max=24) for c in camps),
        ],
        [
            [x["crux"], str(x["pairs"]), _metric(x["vod_median"]), _survey_share(x["vod_share_median"])]
            + [_metric(x["voi_median"][c]) for c in camps]
            for x in summary["binary_cruxes"]
        ],
    )
    after = [f"left out: {o['person']}, {o['crux']}: {o['why']}" for o in summary["left_out"]]
    emit([outcomes, players, binary], after, **kw)
