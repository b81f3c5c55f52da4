"""User text (names, descriptions, sources, file names) is shown as written everywhere:
never read as Markdown, rich markup, mathtext or broken TOML, never sent to a terminal
with control characters; terminal tables keep names and numbers whole."""

from __future__ import annotations

import dataclasses
import html
import os
import re
import shutil
import subprocess
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.cli import terminal
from model.report.render import md, md_code, md_quote, pct_pm, spread

from .conftest import ROOT, aar_in_process

AUTHOR = ROOT / "priors" / "author.toml"
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
BOX = re.compile("[\u2500-\u257f]")
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

#: Hostile strings of every kind the bugs came in; hidden tests try others of the same kinds.
#: These load: a name is one line without control characters; text may have line breaks.
HOSTILE_NAMES = [
    "[bold red]Evil[/green] <script>alert(1)</script>",
    "pipe | in | name $\\frac{1}{2}$",
    "`tick` **bold** _under_ ~~strike~~ [link](javascript:alert(1)) ![img](x)",
    "# heading - list > quote 1. item",
    "$\\cmd$ and $ and $$ and \\$",
    "_hidden & &amp; &#60;tag&#62; <b>x</b> \u202eevil",
]
HOSTILE_SOURCE = (
    "[/green] $\\alpha$ <img src=x onerror=alert(3)> | `\n"
    "[link](javascript:alert(4)) </td></tr> <!-- c --> \\ \"\"\" ''' ü [/x]\n\tend"
)
#: What programs and file names can still carry: line breaks and control characters.
CONTROL_NAMES = ["\x1b[31mred\x1b[0m \x07bell \r over \x9b2J", "two\nlines\r\nthree", "\x1b]0;title\x07"]
HOSTILE_DESCRIPTION = (
    "Line one <b>bold</b>\n# not a heading\n- not a list\n> not nested\n"
    "<script>alert(2)</script>\n\n    indented code?\n| a | b |\n===\nlast line"
)


def toml_str(s: str) -> str:
    """A TOML basic string (what a user would type, escaped)."""
    out = []
    for c in s:
        if c in '"\\':
            out.append("\\" + c)
        elif ord(c) < 0x20 or ord(c) == 0x7F:
            out.append(f"\\u{ord(c):04x}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def hostile_priors(
    folder: Path, name: str, stem: str = "hostile", source: str = HOSTILE_SOURCE, description: str = HOSTILE_DESCRIPTION
) -> Path:
    path = folder / f"{stem}.toml"
    path.write_text(
        "\n".join(
            [
                "[meta]",
                f"name = {toml_str(name)}",
                f"description = {toml_str(description)}",
                'base = "author"',
                "",
                "[cruxes]",
                f'relative_difficulty = {{ dist = "beta", ci90 = [0.5, 0.95], source = {toml_str(source)} }}',
                "",
                "[parameters]",
                f'containment = {{ dist = "beta", alpha = 3, beta = 3, source = {toml_str(source[::-1])} }}',
                "",
                "[calibration]",
                f"source = {toml_str(source)}",
                "",
            ]
        )
    )
    return path


# --- 1. Markdown -----------------------------------------------------------------------------


def _markdown():
    markdown_it = pytest.importorskip("markdown_it")
    return markdown_it.MarkdownIt("commonmark").enable(["table", "strikethrough"])


class _Html(HTMLParser):
    """Tags, table rows (cell counts) and block quotes of rendered Markdown."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.rows, self.quotes, self.attrs, self.tables = [], [], [], [], []
        self._quote = 0
        self._cells = None

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.append((tag, dict(attrs)))
        if tag == "blockquote":
            self._quote += 1
            self.quotes.append("")
        elif tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self._cells = 0
        elif tag in ("td", "th") and self._cells is not None:
            self._cells += 1

    def handle_endtag(self, tag):
        if tag == "blockquote":
            self._quote -= 1
        elif tag == "tr":
            self.rows.append(self._cells)
            self.tables[-1].append(self._cells)
            self._cells = None

    def handle_data(self, data):
        if self._quote:
            self.quotes[-1] += data

    def handle_comment(self, data):
        self.tags.append("!--")


#: Every tag the templates themselves produce.
TEMPLATE_TAGS = {
    "h1",
    "h2",
    "h3",
    "p",
    "blockquote",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "code",
    "strong",
    "em",
    "img",
    "ul",
    "li",
    "a",
    "br",
}


def _check_markdown(text: str) -> _Html:
    rendered = _markdown().render(text)
    assert "<script" not in rendered and not re.search(r"<[a-z]+[^>]*\son[a-z]+=", rendered)
    parsed = _Html()
    parsed.feed(rendered)
    assert set(parsed.tags) <= TEMPLATE_TAGS, set(parsed.tags) - TEMPLATE_TAGS
    for tag, attrs in parsed.attrs:
        if tag == "img":
            assert attrs["src"].startswith("figures/"), attrs
        if tag == "a":  # the calibration's link, or the table of contents' links to the report's sections
            assert attrs["href"] == "calibration/report.md" or re.fullmatch(r"#[a-z0-9_-]+", attrs["href"]), attrs
    assert "<b>" not in rendered and "<del>" not in rendered
    for table in parsed.tables:  # every row has as many cells as the header
        assert len(set(table)) == 1, table
    return parsed


def _norm(s: str) -> str:
    return " ".join(s.split())


def _visible_text(s: str) -> str:
    return _norm(terminal.visible(s.replace("\r\n", "\n").replace("\r", "\n")))


def _tokens(tokens, max_size=40):
    """Text made of ``tokens`` (characters and short strings)."""
    return st.lists(st.sampled_from(tokens), max_size=max_size).map("".join)


@given(_tokens(list("ab 1.-+=*_`#|![]()<>&;~$\\\n\r\t>:{}\"'\x1b") + ["&lt;", "&#60;", "<b>", "<!--", "www.x.com"]))
def test_md_shows_any_text_verbatim_in_a_paragraph_and_a_table_cell(s):
    mdit = _markdown()
    for source in (f"{md(s)}\n", f"| a | b |\n|---|---|\n| {md(s)} | x |\n"):
        rendered = mdit.render(source)
        parsed = _Html()
        parsed.feed(rendered)
        assert set(parsed.tags) <= {"p", "table", "thead", "tbody", "tr", "th", "td"}, rendered
        assert all(n == 2 for n in parsed.rows)
        if parsed.rows:
            rendered = re.search(r"<td>(.*?)</td>", rendered, re.S)[1]
        assert _norm(html.unescape(re.sub(r"<[^>]+>", " ", rendered))) == _visible_text(s)


@given(_tokens(list("ab -+=*_`#|!<>&\\\n\r") + ["1. ", "    ", "===", "---", "<div>", "```"]))
def test_md_quote_keeps_every_line_in_one_block_quote(s):
    rendered = _markdown().render(f"para\n\n{md_quote(s)}\n\nafter\n")
    parsed = _Html()
    parsed.feed(rendered)
    assert parsed.tags.count("blockquote") == 1 and parsed.tags.count("p") <= 3 + s.count("\n") + s.count("\r")
    assert set(parsed.tags) <= {"p", "blockquote"}, rendered
    assert _norm(parsed.quotes[0]) == _visible_text(s)
    assert rendered.rstrip().endswith("<p>after</p>")


@given(_tokens(list("ab |`\\<>&*\n "), max_size=20))
def test_md_code_is_one_code_span_even_in_a_table(s):
    rendered = _markdown().render(f"| a | b |\n|---|---|\n| {md_code(s, table=True)} | x |\n")
    parsed = _Html()
    parsed.feed(rendered)
    assert all(n == 2 for n in parsed.rows), rendered
    if s.strip():
        code = re.search(r"<code>(.*?)</code>", rendered, re.S)
        assert code and html.unescape(code[1]) == s.replace("\n", " ")


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    from model.montecarlo.engine import simulate
    from model.priors.priors import load
    from model.report.figures import FIGURES
    from model.report.render import files
    from model.report.summary import build

    folder = tmp_path_factory.mktemp("hostile")
    out = []
    for i, name in enumerate(HOSTILE_NAMES):
        p = load(hostile_priors(folder, name, stem=f"h{i}` <i>|x"))
        summary = build(p, simulate(p, samples=2000, workers=1))
        out.append((p, summary, files(summary, {k: b"" for k in FIGURES})))
    return out


def test_report_md_renders_user_text_as_text(hostile_run):
    for p, summary, content in hostile_run:
        md_text = content["report.md"]
        parsed = _check_markdown(md_text)
        assert parsed.tables[-1] == [5] * 18  # your priors: header + 17 variables (one unused), sources with | kept in
        assert len(parsed.quotes) == 1  # the description: one quote, every line inside it
        for line in HOSTILE_DESCRIPTION.splitlines():
            assert _norm(terminal.visible(line)) in _norm(parsed.quotes[0])
        assert "last line" in parsed.quotes[0]
        assert "<script>" not in content["report.html"]


def test_compare_md_keeps_its_columns_with_pipes_in_names(tmp_path):
    from model.report.compare import files

    names = ["a | b | c", "x\ny | `z`"]
    summary = _compare_summary(names, ["p|1.toml", "p`2.toml"])
    content = files(summary)
    parsed = _check_markdown(content["compare.md"])
    from model.analyses.compare import COMPARED

    assert [set(t) for t in parsed.tables] == [{3}, {1 + len(COMPARED)}]  # outcome | 2 files; variable | …
    assert "a \\| b \\| c" in content["compare.md"]


def test_calibration_md_and_calibrated_priors_file(tmp_path):
    from model.analyses.calibration import methods as cal
    from model.analyses.calibration.pipeline import run
    from model.priors.priors import load
    from model.report.calibration import make

    name = HOSTILE_NAMES[0] + " " + HOSTILE_NAMES[1] + ' """ \\'
    p = load(hostile_priors(tmp_path, name, stem="cal [x] 'q'"))
    summary, content = make(run(p, cal.Market.from_priors(p), ("tilt",), samples=3000, seed=1, workers=1))
    _check_markdown(content["report.md"])
    toml = content[f"priors/{p.path.stem}.calibrated.toml"]
    data = tomllib.loads(toml)
    assert data["meta"]["name"] == name + " (calibrated)"
    assert data["calibration"]["source"] == HOSTILE_SOURCE


# --- 6. no Monte Carlo error ---------------------------------------------------------------------


def test_no_error_is_shown_where_none_was_estimated():
    est = {"mean": 0.25, "mcse": None, "p5": 0.1, "p50": 0.2, "p95": 0.4}
    assert "±" not in pct_pm(est) and pct_pm(est) == "25.00%"
    assert "±" not in pct_pm({**est, "mcse": 0.0}) and "±" not in pct_pm({**est, "mcse": float("nan")})
    assert spread(est) == "10.0% / 20.0% / 40.0%"
    assert pct_pm({**est, "mcse": 0.0012}) == "25% ± 0.1 pp"


def test_a_single_world_reports_no_error():
    from model.montecarlo.engine import simulate
    from model.priors.priors import load
    from model.report.figures import render_all
    from model.report.render import files
    from model.report.summary import build

    p = load(AUTHOR)
    r = simulate(p, samples=1, workers=1)
    summary = build(p, r)
    content = files(summary, render_all(p, r))
    for key in ("report.md", "report.html"):
        assert "±" not in re.sub(r"mean ± MC error|\(±\)|\(±, in percentage points\)", "", content[key]), key
        text = re.sub(r"base64,[A-Za-z0-9+/=]+", "base64,", content[key])  # not the images' bytes
        assert not re.search(r"\bNone\b|\bnan\b", text), key


def test_compare_without_errors():
    from model.report.compare import files

    summary = _compare_summary(["a", "b"], ["a.toml", "b.toml"], se=None)
    content = files(summary)
    cells = [line for line in content["compare.md"].splitlines() if line.startswith("|")]
    cells += re.findall(r"<td[^>]*>.*?</td>", content["compare.html"])
    assert len(cells) > 20 and not any("±" in c for c in cells)
    assert "None" not in content["compare.md"] + content["compare.html"]


def _compare_summary(names, files, se=0.001):
    from model.analyses.compare import COMPARED
    from model.report.summary import OUTCOMES

    qs = (*OUTCOMES, "success_within_horizon", "plan_minus_baseline")
    players = ["capability_needed", "relative_difficulty"]
    return {
        "files": files,
        "names": dict(zip(files, names)),
        "samples": 1000,
        "seed": 1,
        "outcomes": {f: {q: 0.25 for q in qs} for f in files},
        "mcse": {f: {q: None if se is None else 0.001 for q in qs} for f in files},
        "attribution": [
            {
                "from": a,
                "to": b,
                "method": "shapley",
                "samples": 1000,
                "players": players,
                "outcomes": {
                    q: {
                        "total": 0.01,
                        "total_se": se,
                        "by_variable": {v: 0.005 for v in players},
                        "se": {v: se for v in players},
                    }
                    for q in COMPARED
                },
            }
            for a, b in zip(files, files[1:])
        ],
        "versions": {"model": "0"},
    }


# --- 3. matplotlib mathtext ------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", HOSTILE_NAMES + CONTROL_NAMES + ["$\\undefinedcommand{x}$", "$", "a $b", "$\\frac{1}{$", "_x"]
)
def test_compare_figure_draws_any_name(monkeypatch, name):
    import matplotlib.cbook as cbook

    from model.report import compare as compare_report
    from model.report import plotting

    drawn = []
    real_png = plotting.png

    def capture(fig):
        drawn.append([t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))])
        return real_png(fig)

    monkeypatch.setattr(plotting, "png", capture)
    png = compare_report.figure(_compare_summary([name, "other $x$"], ["a.toml", "b.toml"]))
    assert png.startswith(b"\x89PNG")
    texts = drawn[0]
    assert not any(cbook.is_math_text(t) for t in texts)
    assert any(t.strip() == plotting.text(name).strip() for t in texts)  # in the legend, verbatim


def test_figure_text_shows_dollars_verbatim():
    from matplotlib.text import Text

    from model.report.plotting import text

    for s in ("$\\cmd$", "\\$x$", "a$$b", "$"):
        shown, math = Text(text=text(s))._preprocess_math(text(s))
        assert not math and shown == s


# --- 4. TOML ---------------------------------------------------------------------------------


@given(name=st.text(max_size=30), source=st.text(max_size=30), stem=st.text(max_size=10))
def test_calibrated_file_round_trips_any_text(author_worlds, name, source, stem):
    from model.analyses.calibration import methods as cal
    from model.priors.refit import calibrated_file

    p, worlds, w = author_worlds
    q = dataclasses.replace(
        p,
        name=name,
        path=p.path.with_name(f"{stem or 'x'}.toml".replace("/", "_").replace("\x00", "_")),  # no file has them
        calibration=p.calibration.model_copy(update={"source": source}),
    )
    text = calibrated_file(
        q,
        cal.Market(0.14, 4.0, 20.0),
        "update",
        None,
        q.path.parent,
        (worlds, w),
        {"success_within_horizon": {"mean": 0.1, "mcse": 0.001}},
    )
    data = tomllib.loads(text)
    assert data["meta"]["name"] == name + " (calibrated)"
    assert data["calibration"]["source"] == source
    assert data["calibration"]["target"] == 0.14 and data["calibration"]["apply"] == "update"
    assert data["meta"]["base"] == q.path.name


@pytest.fixture(scope="module")
def author_worlds():
    from model.montecarlo.engine import simulate
    from model.priors.priors import load

    p = load(AUTHOR)
    worlds = simulate(p, samples=4000, seed=3, workers=1, keep_worlds=True).worlds
    return p, worlds, np.full(4000, 1 / 4000)


@pytest.mark.parametrize("name", HOSTILE_NAMES + ['"""', "a\\", "\\u0041", "[/x]", "ünï©ødé ★ 🙂"])
def test_calibrated_file_is_valid_priors_file(tmp_path, author_worlds, name):
    from model.analyses.calibration import methods as cal
    from model.priors.priors import load
    from model.priors.refit import calibrated_file

    p, worlds, w = author_worlds
    weird = tmp_path / 'we"ird [name] ★.toml'
    weird.write_bytes(AUTHOR.read_bytes())
    q = dataclasses.replace(
        p, name=name, path=weird, calibration=p.calibration.model_copy(update={"source": HOSTILE_SOURCE + name})
    )
    (tmp_path / "priors").mkdir()
    text = calibrated_file(
        q,
        cal.Market(0.14, 4.0, 20.0),
        "tilt",
        3.5,
        tmp_path / "priors",
        (worlds, w),
        {"success_within_horizon": {"mean": 0.14, "mcse": 0.001}},
    )
    path = tmp_path / "priors" / "c.toml"
    path.write_text(text)
    back = load(path)
    assert back.name == name + " (calibrated)" and back.calibration.source == HOSTILE_SOURCE + name
    assert back.base.resolve() == weird.resolve() and back.calibration.apply == "tilt"
    assert back.calibration.tilt_lambda == 3.5
    assert text.startswith("# ")  # still commented and readable


# --- 2 and 5. the terminal -------------------------------------------------------------------


def aar(*args, cwd, columns=None):
    """aar-risk as a user runs it, its stdout piped (not a terminal), in this process."""
    env = {"FORCE_COLOR": None, "TTY_COMPATIBLE": None, **({"COLUMNS": str(columns)} if columns else {})}
    return aar_in_process(*args, cwd=cwd, env=env)


def _plain_output_ok(out: str):
    assert not ANSI.search(out) and "\x1b" not in out, out
    assert not BOX.search(out), out
    assert not RAW_CONTROL.search(out)


def _whole_on_a_line(out: str, *parts: str) -> bool:
    return any(all(part in line for part in parts) for line in out.splitlines())


@pytest.mark.parametrize("columns", [80, 120])
def test_validate_piped_keeps_names_and_numbers_whole(tmp_path, columns):
    from model.priors.priors import load

    r = aar("validate", AUTHOR, cwd=tmp_path, columns=columns)
    assert r.returncode == 0, r.stderr
    _plain_output_ok(r.stdout)
    p = load(AUTHOR)
    for name, prior in p.variables.items():
        if prior.unused is not None:  # v3: shown as unused, with why
            assert _whole_on_a_line(r.stdout, name, "unused")
            continue
        q = [f"{v:.4g}" for v in prior.marginal.ppf(np.array([0.05, 0.5, 0.95]))]
        assert any(
            line.split()[0] == name and re.search(r"\s{2,}".join(map(re.escape, q)), line)
            for line in r.stdout.splitlines()
        ), (name, q)
        params = ", ".join(f"{k}={v:.4g}" for k, v in prior.marginal.params().items())
        assert _whole_on_a_line(r.stdout, name, params)
        assert _whole_on_a_line(r.stdout, name, prior.source)  # sources in full, below the table
    assert "valid" in r.stdout


@pytest.mark.parametrize("columns", [80, 120])
def test_run_piped_keeps_outcome_rows_whole(tmp_path, columns):
    import json

    from model.report.render import LABELS, quantity_pm, spread

    r = aar("run", AUTHOR, "-n", 20_000, "-o", tmp_path / "fresh" / "r", cwd=tmp_path, columns=columns)
    assert r.returncode == 0, r.stderr
    _plain_output_ok(r.stdout)
    s = json.loads((tmp_path / "fresh" / "r" / "summary.json").read_text())
    rows = [
        *s["outcomes"].items(),
        *[(k, s[k]) for k in ("success_within_horizon", "baseline_success", "plan_minus_baseline")],
    ]
    for key, est in rows:
        assert _whole_on_a_line(r.stdout, LABELS[key], quantity_pm(est, key), spread(est, key)), key


def test_sensitivity_piped_shows_full_variable_names(tmp_path):
    import json

    r = aar("sensitivity", AUTHOR, "-n", 20_000, "-o", tmp_path / "fresh" / "s", cwd=tmp_path, columns=80)
    assert r.returncode == 0, r.stderr
    _plain_output_ok(r.stdout)
    sens = json.loads((tmp_path / "fresh" / "s" / "sensitivity.json").read_text())
    lines = r.stdout.splitlines()
    for q in ("success", "x_risk"):  # each outcome's table, ranked by its own index
        for v in sens["outcomes"][q]["ranking"][:3]:
            assert any(line.split() and line.split()[0] == v for line in lines), (q, v)


def test_hostile_text_in_validate_run_compare(tmp_path):
    names = ["[bold red]Evil[/green] $\\frac{1}{2}$", "[/x] | `$x$` _y_ <script>"]
    files = [hostile_priors(tmp_path, n, stem=f"[bold]f{i}\x1b[2J\r") for i, n in enumerate(names)]
    v = aar("validate", files[0], cwd=tmp_path, columns=100)
    assert v.returncode == 0, v.stderr
    _plain_output_ok(v.stdout)
    assert "[bold red]Evil[/green] $\\frac{1}{2}$ (" in v.stdout and "[bold]f0\\x1b[2J\\r.toml" in v.stdout
    assert terminal.one_line(HOSTILE_SOURCE) in v.stdout
    r = aar("run", files[1], "-n", 2000, "-o", tmp_path / "fresh" / "r", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    _plain_output_ok(r.stdout)
    assert "[/x] | `$x$` _y_ <script>" in r.stdout
    c = aar("compare", *files, "-n", 2000, "-o", tmp_path / "fresh" / "c", cwd=tmp_path)
    assert c.returncode == 0, c.stderr
    _plain_output_ok(c.stdout)
    _check_markdown((tmp_path / "fresh" / "c" / "compare.md").read_text())


def _grid(name="capability_needed", source="x " * 80):
    return terminal.Grid(
        "[bold]T[/bold] \x1b[2J",
        [
            terminal.Column("variable"),
            terminal.Column("5th", "number", "right"),
            terminal.Column("source", "text", below="sources"),
        ],
        [[name, "0.2626", source], ["relative_difficulty", "0.5", "[/green]"]],
    )


@pytest.mark.parametrize("width", [40, 60, 80, 120, 200])
def test_terminal_tables_never_break_names(width):
    out = ANSI.sub("", terminal.render(_grid(), terminal=True, width=width))
    assert "\x1b" not in out.replace("\\x1b", "")
    for parts in (("capability_needed", "0.2626"), ("relative_difficulty", "0.5")):
        assert _whole_on_a_line(out, *parts), out
    assert "[/green]" in out and "[bold]T[/bold] \\x1b[2J" in out
    assert _norm(" ".join(ANSI.sub("", out).split("sources:")[-1].split())).count("x x x") >= 1


@pytest.mark.parametrize("width", [50, 60, 80, 100, 120, 160])
def test_cli_tables_at_a_terminal(width):
    from model.priors.priors import load

    p = load(AUTHOR)
    import io

    buf = io.StringIO()
    terminal.validate(p, AUTHOR, file=buf, terminal=True, width=width)
    out = ANSI.sub("", buf.getvalue())
    if width >= 60:  # a rich table that fits (narrower, a plain one: nothing is cut)
        assert BOX.search(out) and all(len(line) <= width for line in out.splitlines()), out
    for name, prior in p.variables.items():
        if prior.unused is not None:  # v3: shown as unused, with why
            assert _whole_on_a_line(out, name, "unused"), (name, out)
            continue
        q = [f"{v:.4g}" for v in prior.marginal.ppf(np.array([0.05, 0.5, 0.95]))]
        assert _whole_on_a_line(out, name, *q), (name, out)
    summary = _run_summary()
    buf = io.StringIO()
    terminal.outcomes(summary, file=buf, terminal=True, width=width)
    out = ANSI.sub("", buf.getvalue())
    from model.report.render import pct_pm, spread

    if BOX.search(out):
        assert all(len(line) <= width for line in out.splitlines()), out
    for est in summary["outcomes"].values():
        assert _whole_on_a_line(out, pct_pm(est), spread(est)), out


def _run_summary():
    est = {"mean": 0.2464, "mcse": 0.0017, "p5": 0.001, "p50": 0.168, "p95": 0.734}
    return {
        "name": "[bold]Essay[/] author",
        "samples": 20_000,
        "seed": 2023,
        "outcomes": {q: est for q in ("success", "kicking_the_can", "capability_externalities", "x_risk")},
        "success_within_horizon": est,
        "baseline_success": est,
        "plan_solved": est,
        "plan_minus_baseline": est,
    }


@pytest.mark.skipif(shutil.which("script") is None, reason="needs script(1) for a pseudo-terminal")
@pytest.mark.parametrize("columns", [80, 120])
def test_validate_at_a_real_terminal(tmp_path, columns):
    exe = ROOT / ".venv" / "bin" / "aar-risk"
    if not exe.exists():
        pytest.skip("aar-risk is not installed in .venv")
    r = subprocess.run(
        ["script", "-qec", f"stty cols {columns} rows 50; {exe} validate {AUTHOR}", "/dev/null"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        env={**os.environ, "COLUMNS": str(columns), "TERM": "xterm"},
    )
    assert r.returncode == 0, r.stdout + r.stderr
    out = ANSI.sub("", r.stdout).replace("\r", "")
    assert BOX.search(out)  # a rich table
    assert all(len(line) <= columns for line in out.splitlines())
    from model.priors.priors import load

    for name, prior in load(AUTHOR).variables.items():
        if prior.unused is not None:  # v3: shown as unused, with why
            assert _whole_on_a_line(out, name, "unused"), (name, out)
            continue
        q = [f"{v:.4g}" for v in prior.marginal.ppf(np.array([0.05, 0.5, 0.95]))]
        assert _whole_on_a_line(out, name, *q), (name, out)


def test_visible_shows_control_characters():
    assert terminal.visible("a\x1b[31mb\x07\x9b\u202e") == "a\\x1b[31mb\\x07\\x9b\\u202e"
    assert terminal.one_line("a\r\nb\nc\rd\te") == "a b c\\rd e"
    assert terminal.short("abcdef", 4) == "abc…"


def test_markup_in_every_cli_table_is_text():
    import io

    summary = _run_summary()
    for term in (True, False):
        buf = io.StringIO()
        terminal.outcomes(summary, file=buf, terminal=term, width=100)
        assert "[bold]Essay[/] author" in buf.getvalue()
    compare = _compare_summary(["[/green]", "[bold]x"], ["a", "b"])
    compare["outcomes"] = {f: {q: 0.2 for q in ("success", "x_risk")} for f in compare["files"]}
    for term in (True, False):
        buf = io.StringIO()
        terminal.compare(compare, file=buf, terminal=term, width=100)
        assert "[/green]" in buf.getvalue() and "[bold]x" in buf.getvalue()
    cal = {
        "name": "[/x] \x1b[1m",
        "target": 0.14,
        "horizon_years": 4,
        "trust": 20,
        "prior": {
            "outcomes": dict.fromkeys(
                ("success_within_horizon", "success", "kicking_the_can", "capability_externalities", "x_risk"),
                {"mean": 0.1, "mcse": 0.001},
            )
        },
        "methods": {},
    }
    for term in (True, False):
        buf = io.StringIO()
        terminal.calibration(cal, file=buf, terminal=term, width=100)
        assert "[/x] \\x1b[1m" in buf.getvalue()
