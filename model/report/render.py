"""Human-readable reports rendered from a summary dict through Jinja2 templates."""

from __future__ import annotations

import base64
import math
import re
from typing import Any, TypeGuard

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from model.core.quantities import DEFINITIONS, HEADLINE, LABELS, OUTCOMES, ROWS, SHORT, SIGNED, Q
from model.core.text import visible
from model.core.variables import BY_NAME, CRUXES


def _has_error(mcse: float | None) -> TypeGuard[float]:
    """Whether a Monte Carlo error was estimated: None (a single world), 0 and NaN mean "no error"."""
    return mcse is not None and math.isfinite(mcse) and mcse > 0


def decimals(mcse: float | None, scale: float = 100.0) -> int:
    """Decimals of ``value × scale`` by one rule for every number (issue 20): the most whose last
    digit is still at least twice the Monte Carlo error, at most 6 (2 where there is no error)."""
    if not _has_error(mcse) or not math.isfinite(mcse * scale) or not mcse * scale > 0:
        return 2
    return int(min(6, max(0, math.floor(-math.log10(2 * mcse * scale)))))


def error_text(x: float) -> str:
    """A Monte Carlo error to one significant digit, never in exponent form (0.07, 0.0005, 3)."""
    if not x > 0 or not math.isfinite(x):
        return "0"
    x = float(f"{x:.1g}")  # rounded first: 0.0995 is 0.1, not 0.10
    d = max(0, -math.floor(math.log10(x)))
    return f"{x:.{d}f}"


def num(value: float, digits: int = 2) -> str:
    """A plain number for prose: rounded to ``digits`` decimals, trailing zeros dropped, never in
    exponent form or as "-0" (4 years, not 4.0; 12.5; 0.0001)."""
    text = f"{float(value):.{digits}f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text in ("-0", "") else text


def sig(value: float | None, digits: int = 3) -> str:
    """A number to ``digits`` significant digits for prose and tables; — for none."""
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.{digits}g}" if 1e-4 <= abs(value) < 1e6 or value == 0 else num(value, 6)


def plural(count: float, noun: str) -> str:
    """``1 world``, ``2 worlds``, ``1,000,000 worlds`` (whole counts with thousands separators)."""
    return f"{count:,.0f} {noun}" + ("" if round(count) == 1 else "s")


def source_path(module) -> str:
    """Where a module's source is, relative to the project (model/core/structure.py): derived
    from the module itself, so a report never names a file that has moved (issue 20)."""
    from pathlib import Path

    project = Path(__file__).resolve().parents[2]  # model/report/render.py → the folder that holds model/
    return Path(module.__file__).resolve().relative_to(project).as_posix()


#: A belief's name in words where it is not a variable (the EVPI of the two cruxes together).
BELIEF_WORDS = {"cruxes_jointly": "the two cruxes jointly (capability_needed and relative_difficulty)"}


def belief(name: str) -> str:
    """A belief for a reader: a variable's name, or words for the cruxes jointly."""
    return BELIEF_WORDS.get(name, name)


def pct(value: float, digits: int) -> str:
    return f"{100 * value:.{digits}f}%"


def pct_pm(est: dict[str, Any]) -> str:
    """``mean ± error pp``; the mean alone where no error could be estimated; — where there is no
    mean (evidence that rules out every world)."""
    if est.get("mean") is None:
        return "—"
    mcse = est.get("mcse")
    d = decimals(mcse)
    if not _has_error(mcse):
        return pct(est["mean"], d)
    return f"{pct(est['mean'], d)} ± {error_text(100 * mcse)} pp"


def pp_pm(est: dict[str, Any]) -> str:
    """A difference of two probabilities: ``±d.d pp ± e``, in percentage points (never %)."""
    if est.get("mean") is None:
        return "—"
    mcse = est.get("mcse")
    d = decimals(mcse)
    value = f"{100 * est['mean']:+.{d}f}"
    value = value if float(value) != 0 else f"{0:.{d}f}"  # no "-0.000"
    return f"{value} pp ± {error_text(100 * mcse)}" if _has_error(mcse) else f"{value} pp"


def quantity_pm(est: dict[str, Any], name: str) -> str:
    """:func:`pct_pm`, or :func:`pp_pm` for a quantity that is a difference (SIGNED)."""
    return pp_pm(est) if name in SIGNED else pct_pm(est)


def pm(se: float | None, fmt: str = "%.2f", scale: float = 100.0) -> str:
    """`` ± se`` (times ``scale``) or nothing where no error could be estimated."""
    return f" ± {fmt % (scale * se)}" if _has_error(se) else ""


def pp_change(after: dict[str, Any], before: dict[str, Any]) -> str:
    """``after − before`` in percentage points, ± the error of ``after`` (both from the same worlds)."""
    if after.get("mean") is None or before.get("mean") is None:
        return "—"
    mcse = after.get("mcse")
    d = decimals(mcse)
    change = 100 * (after["mean"] - before["mean"])
    shown = f"{change:+.{d}f}"
    text = (shown if float(shown) != 0 else f"{0:.{d}f}") + " pp"  # no "-0.000"
    return f"{text} ± {error_text(100 * mcse)}" if _has_error(mcse) else text


def signed(value: float, mcse: float | None, scale: float = 1.0) -> str:
    """A signed number (a shift in prior standard deviations) by the one rounding rule of
    :func:`decimals`; never "-0"."""
    d = decimals(mcse, scale)
    shown = f"{scale * value:+.{d}f}"
    return shown if float(shown) != 0 else f"{0:.{d}f}"


def ratio_pm(est: dict[str, Any]) -> str:
    """A ratio (a Bayes factor) with its Monte Carlo error, to the error's second digit."""
    mcse = est.get("mcse")
    if est["mean"] < 1e-4:  # no exponents, and no error longer than the number it qualifies
        return "< 0.0001"
    d = decimals(mcse, scale=1.0)
    return f"{est['mean']:.{d}f} ± {error_text(mcse)}" if _has_error(mcse) else f"{est['mean']:.3g}"


def spread(est: dict[str, Any], name: str | None = None) -> str:
    """5th / 50th / 95th percentiles across worlds: in % (in pp for a difference, SIGNED)."""
    d = max(decimals(est.get("mcse")) - 1, 1)
    if name in SIGNED:
        return " / ".join(f"{100 * est[k]:+.{d}f}" for k in ("p5", "p50", "p95")) + " pp"
    return " / ".join(pct(est[k], d) for k in ("p5", "p50", "p95"))


# --- Markdown escaping -------------------------------------------------------------------
# User text (names, descriptions, sources, file names) reaches report.md, compare.md and
# calibration.md only through these filters, as it reaches the HTML only through autoescape.

#: Characters that can start Markdown syntax anywhere in a line (CommonMark lets any ASCII
#: punctuation be backslash-escaped; these are the ones that do something mid-line, in GFM
#: tables (|), strikethrough (~) and the math extensions ($) included).
_MD_ACTIVE = re.compile(r"([\\`*_\[\]#|!~$])")
#: What makes a line a block (list item, heading underline, thematic break) when it starts it.
_MD_LINE_START = re.compile(r"^([-+=])|^(\d+)([.)])")
_HTML = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_NEWLINES = re.compile(r"\r\n?|\n|\u2028|\u2029|\x85|\x0b|\x0c")


def _md_line(line: str) -> str:
    line = visible(line.replace("\t", " ")).strip()
    line = "".join(_HTML.get(c, c) for c in line)
    line = _MD_ACTIVE.sub(r"\\\1", line)
    return _MD_LINE_START.sub(lambda m: f"\\{m[1]}" if m[1] else f"{m[2]}\\{m[3]}", line)


def md(text: Any) -> str:
    """User text as one line of Markdown text: shown exactly as written, never as markup.

    Safe in a paragraph, a heading and a table cell: newlines become spaces, ``|`` is
    escaped, ``&``, ``<`` and ``>`` become entities, every other active character is
    backslash-escaped."""
    if text is None:
        return ""
    return _md_line(" ".join(_NEWLINES.split(str(text))))


def md_quote(text: Any) -> str:
    """User text as a Markdown block quote: every line kept inside the quote (``> ``)."""
    lines = [_md_line(line) for line in _NEWLINES.split("" if text is None else str(text))]
    while lines and not lines[-1]:
        lines.pop()
    return "\n".join(f"> {line}" if line else ">" for line in lines) or ">"


def md_code(text: Any, table: bool = False) -> str:
    """User text as a Markdown code span (backticks included), on one line; ``table=True``
    escapes ``|``, which GFM reads as a cell border even inside a code span."""
    s = visible(" ".join(_NEWLINES.split("" if text is None else str(text))))
    if table:
        s = s.replace("|", "\\|")
    if not s.strip():
        return md(s)
    fence = "`" * (max((len(run) for run in re.findall(r"`+", s)), default=0) + 1)
    if s[0] in "` " or s[-1] in "` ":
        s = f" {s} "
    return f"{fence}{s}{fence}"


def kl_text(v: dict) -> str:
    """A KL divergence to the precision its effective sample size allows."""
    res = v.get("kl_resolution")
    if not res or not math.isfinite(res):
        return f"{v['kl']:.4f}"
    digits = int(min(6, max(1, 1 - math.floor(math.log10(res)))))
    if v["kl"] < res:
        return f"< {res:.{digits}f}"
    return f"{v['kl']:.{digits}f}"


def _shown(value: Any) -> Any:
    """Every value a template prints, before HTML escaping: control and bidi characters shown
    as escapes (a name with U+202E read backwards in the HTML report, while the terminal and
    report.md showed ``\u202e``). Markup the templates built themselves is left as it is."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return visible(value)
    return value


def _env() -> Environment:
    env = Environment(
        loader=PackageLoader("model.report", "templates"),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=select_autoescape(["html.j2"]),
        finalize=_shown,
    )
    env.filters.update(
        pct_pm=pct_pm,
        pp_pm=pp_pm,
        num=num,
        sig=sig,
        belief=belief,
        plural=plural,
        quantity_pm=quantity_pm,
        pp_change=pp_change,
        ratio_pm=ratio_pm,
        signed=signed,
        spread=spread,
        pct=lambda v, d=1: pct(v, d),
        pm=pm,
        md=md,
        md_quote=md_quote,
        md_code=md_code,
        kl=kl_text,
    )
    from model.core import structure

    env.globals.update(
        equations_file=source_path(structure),
        belief_words=BELIEF_WORDS,
        labels=LABELS,
        short=SHORT,
        decimals=decimals,
        definitions=DEFINITIONS,
        variables=BY_NAME,
        cruxes=CRUXES,
        rows=ROWS,
        headline=HEADLINE,
        plan_rows=(Q.baseline_success, Q.plan_solved, Q.plan_minus_baseline),
        #: With the plan, alignment solved = success + the AAR failed harmlessly and the field finished in time
        plan_parts=(Q.success, Q.harmless_failure_field_in_time),
        calibration_columns=(*OUTCOMES, Q.baseline_success, Q.plan_minus_baseline),
    )
    return env


#: No calibration beside the report (``link`` of :func:`files`).
NO_CALIBRATION = {"exists": False, "current": False, "numbers": None}


CONTENTS = "<!-- contents -->"


def anchor(title: str) -> str:
    """GitHub's anchor of a heading: lower case, spaces to '-', other punctuation dropped."""
    return re.sub(r"[^\w\- ]", "", title.strip().lower()).replace(" ", "-")


def contents_md(text: str) -> str:
    """The report's level-2 headings as a linked list, where the template marks CONTENTS."""
    titles = [line[3:] for line in text.splitlines() if line.startswith("## ")]
    items = "\n".join(f"- [{t}](#{anchor(t)})" for t in titles)
    return text.replace(CONTENTS, f"**Contents**\n\n{items}\n", 1)


def contents_html(text: str) -> str:
    """Each <h2> given an id, and their list where the template marks CONTENTS."""
    titles: list[str] = []

    def with_id(m: re.Match) -> str:
        titles.append(m.group(1))
        return f'<h2 id="{anchor(re.sub("<[^>]+>", "", m.group(1)))}">{m.group(1)}</h2>'

    text = re.sub(r"<h2>(.*?)</h2>", with_id, text)
    items = "".join(f'<li><a href="#{anchor(re.sub("<[^>]+>", "", t))}">{t}</a></li>' for t in titles)
    return text.replace(CONTENTS, f'<nav class="small"><b>Contents</b><ul>{items}</ul></nav>', 1)


def markdown(summary: dict[str, Any], sens: dict | None = None, link: dict = NO_CALIBRATION) -> str:
    """report.md for one run (figures referenced from figures/), with its table of contents."""
    return contents_md(_env().get_template("report.md.j2").render(s=summary, sens=sens, calibration=link))


def html(
    summary: dict[str, Any], figures: dict[str, bytes], sens: dict | None = None, link: dict = NO_CALIBRATION
) -> str:
    """report.html for one run: self-contained, figures embedded, no external requests."""
    encoded = {k: base64.b64encode(v).decode("ascii") for k, v in figures.items()}
    return contents_html(
        _env().get_template("report.html.j2").render(s=summary, figures=encoded, sens=sens, calibration=link)
    )


def files(
    summary: dict[str, Any], figures: dict[str, bytes], sens: dict | None = None, link: dict = NO_CALIBRATION
) -> dict[str, str | bytes]:
    """Every file of a run's report folder, by relative path (sensitivity.json when ``sens``).
    ``link`` says whether a calibration of these priors sits beside the report (``exists``) and
    was made from these very priors (``current``); it is not part of summary.json, which
    depends only on the priors, the samples and the seed."""
    import json

    out: dict[str, str | bytes] = {
        "summary.json": json.dumps(summary, indent=2) + "\n",
        "report.md": markdown(summary, sens, link),
        "report.html": html(summary, figures, sens, link),
        **{f"figures/{k}": v for k, v in figures.items()},
    }
    if sens is not None:
        out["sensitivity.json"] = json.dumps(sens, indent=2) + "\n"
    return out
