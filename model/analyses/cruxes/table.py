"""Reading a survey table: one row per person and crux, checked once (docs/model.md, "Binary
cruxes"). Every problem is a :class:`model.core.errors.Problem` naming the file, the line
and the column; all of them are raised together as :class:`model.core.errors.SurveyError`.

Two header forms are accepted: ``person, camp, crux, p_u, p_c, p_u_given_c`` and that of the
Forecasting Research Institute's adversarial-collaboration data, ``person, Camp, ID, PU, Pc,
PUc``. The camp column may be left out (or left empty in every row): there are then no camps.
A pandas DataFrame is read as the CSV file ``df.to_csv(index=False)`` would be: its header
is line 1 and its first row line 2.
"""

from __future__ import annotations

import csv
import difflib
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model.core.errors import Problem, SurveyError

FIELDS = ("person", "camp", "crux", "p_u", "p_c", "p_u_given_c")
#: The FRI adversarial collaboration's headers for the same fields.
FRI = {"person": "person", "Camp": "camp", "ID": "crux", "PU": "p_u", "Pc": "p_c", "PUc": "p_u_given_c"}
HEADERS = {**{f: f for f in FIELDS}, **FRI}
REQUIRED = ("person", "crux", "p_u", "p_c", "p_u_given_c")
LABELS = {"p_u": "P(U)", "p_c": "P(c)", "p_u_given_c": "P(U|c)"}
#: At most this many problems are listed; the last line says how many more there were.
MAX_PROBLEMS = 25
DATAFRAME = "<DataFrame>"


@dataclass(frozen=True)
class Answer:
    """One person's answers on one crux, and the line they came from."""

    person: str
    camp: str | None
    crux: str
    p_u: float
    p_c: float
    p_u_given_c: float
    line: int


@dataclass(frozen=True)
class Survey:
    """A checked survey table. ``camps`` is empty when the table gives none."""

    source: str
    answers: tuple[Answer, ...]
    camps: tuple[str, ...]


Record = tuple[int, Sequence[Any]]  # (line, cells)


def read_survey(table: Any) -> Survey:
    """A survey table from a CSV file (a path) or a pandas DataFrame, checked: raises
    :class:`model.core.errors.SurveyError` listing every problem with its line and column."""
    if hasattr(table, "columns") and hasattr(table, "itertuples"):
        file = Path(DATAFRAME)
        header = [str(c) for c in table.columns]
        records: list[Record] = [(i + 2, list(row)) for i, row in enumerate(table.itertuples(index=False, name=None))]
    else:
        file = Path(table)
        header, records = _csv(file)
    problems: list[Problem] = []
    columns = _columns(file, header, problems)
    if not problems and not records:
        problems.append(Problem(file, "", "no answers: the table has a header but no rows", 2))
    if problems:
        raise SurveyError(problems)
    answers = [a for line, cells in records if (a := _answer(file, header, columns, line, cells, problems))]
    camps = _check_people(file, header, columns, answers, problems)
    if problems:
        raise SurveyError(_capped(problems))
    return Survey(str(table) if file != Path(DATAFRAME) else DATAFRAME, tuple(answers), camps)


def _capped(problems: list[Problem]) -> list[Problem]:
    if len(problems) <= MAX_PROBLEMS:
        return problems
    last = problems[MAX_PROBLEMS - 1]
    more = len(problems) - MAX_PROBLEMS + 1
    return [
        *problems[: MAX_PROBLEMS - 1],
        Problem(last.file, "", f"and {more} more problems after this line", last.line),
    ]


def _csv(file: Path) -> tuple[list[str], list[Record]]:
    """The header and the non-blank records of a CSV file, each with the line it starts on."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise SurveyError([Problem(file, "", f"cannot read it: {exc.strerror or exc}")]) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise SurveyError([Problem(file, "", "not UTF-8 text (save the table as CSV in UTF-8)", line)]) from None
    reader = csv.reader(io.StringIO(text, newline=""))
    records: list[Record] = []
    try:
        while True:
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                break
            if any(c.strip() for c in cells):
                records.append((start, cells))
    except csv.Error as exc:
        raise SurveyError([Problem(file, "", f"not a CSV table: {exc}", reader.line_num)]) from None
    if not records:
        expected = ", ".join(FIELDS)
        raise SurveyError([Problem(file, "", f"empty: expected a header row ({expected}) and one row per answer", 1)])
    (_, header), *rows = records
    return [h.strip() for h in header], rows


def _columns(file: Path, header: list[str], problems: list[Problem]) -> dict[str, int]:
    """Which column holds each field; unknown, repeated and missing headers are problems."""
    columns: dict[str, int] = {}
    for i, name in enumerate(header):
        field = HEADERS.get(name)
        if field is None:
            close = difflib.get_close_matches(name, HEADERS, n=1, cutoff=0.5)
            hint = f" (did you mean {close[0]}?)" if close else ""
            problems.append(Problem(file, name, f"unknown column{hint}; the columns are {', '.join(FIELDS)}", 1, i + 1))
        elif field in columns:
            first = header[columns[field]]
            problems.append(
                Problem(file, name, f"a second column for {field} (column {columns[field] + 1}, {first})", 1, i + 1)
            )
        else:
            columns[field] = i
    fri = {v: k for k, v in FRI.items()}
    for field in REQUIRED:
        if field not in columns:
            also = f", or {fri[field]} in the FRI form" if fri[field] != field else ""
            problems.append(Problem(file, field, f"missing column (name it {field}{also})", 1))
    return columns


def _text(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value).strip()


def _answer(
    file: Path, header: list[str], columns: dict[str, int], line: int, cells: Sequence[Any], problems: list[Problem]
) -> Answer | None:
    """One row as an :class:`Answer`, or None (and its problems added)."""
    n, width = len(cells), len(header)
    if n > width and any(_text(c) for c in cells[width:]):
        problems.append(Problem(file, "", f"{n} cells where the header has {width}", line, width + 1))
        return None
    if n < width:
        problems.append(Problem(file, header[n], f"{n} cells where the header has {width}", line, n + 1))
        return None
    before = len(problems)
    texts = {}
    for field in ("person", "crux"):
        i = columns[field]
        texts[field] = _text(cells[i])
        if not texts[field]:
            problems.append(Problem(file, header[i], f"empty: every row names a {field}", line, i + 1))
    numbers = {f: _probability(file, header, columns[f], LABELS[f], line, cells, problems) for f in LABELS}
    if len(problems) > before:
        return None
    camp = _text(cells[columns["camp"]]) if "camp" in columns else ""
    return Answer(texts["person"], camp or None, texts["crux"], line=line, **numbers)  # type: ignore[arg-type]


def _probability(
    file: Path, header: list[str], i: int, label: str, line: int, cells: Sequence[Any], problems: list[Problem]
) -> float | None:
    """A probability cell: a number from 0 to 1 (a number already, in a DataFrame, or text)."""
    value, where = cells[i], (line, i + 1)
    text = _text(value)
    if not text:
        problems.append(Problem(file, header[i], f"empty: give {label} as a number from 0 to 1", *where))
        return None
    try:
        x = float(value) if not isinstance(value, (str, bool)) else float(text)
    except (TypeError, ValueError):
        x = math.nan
    if isinstance(value, bool) or not math.isfinite(x):
        problems.append(
            Problem(file, header[i], f"{text!r} is not a number: write {label} from 0 to 1, such as 0.09", *where)
        )
        return None
    if not 0 <= x <= 1:
        hint = f" (a percentage? write {x / 100:g})" if 1 < x <= 100 else ""
        problems.append(Problem(file, header[i], f"{label} = {text} is outside [0, 1]{hint}", *where))
        return None
    return x


def _check_people(
    file: Path, header: list[str], columns: dict[str, int], answers: list[Answer], problems: list[Problem]
) -> tuple[str, ...]:
    """Each person answers a crux once and keeps one camp; camps are given in every row or in
    none. Returns the camps, sorted."""
    seen: dict[tuple[str, str], int] = {}
    camp_of: dict[str, tuple[str | None, int]] = {}
    given = any(a.camp for a in answers)
    crux_at = columns["crux"] + 1
    camp_at = columns["camp"] + 1 if "camp" in columns else None
    for a in answers:
        first = seen.setdefault((a.person, a.crux), a.line)
        if first != a.line:
            why = f"person {a.person!r} already answered crux {a.crux!r} on line {first}"
            problems.append(Problem(file, header[crux_at - 1], why, a.line, crux_at))
        if given and a.camp is None:
            why = f"no camp for person {a.person!r}: give every row a camp, or none"
            problems.append(Problem(file, header[camp_at - 1] if camp_at else "camp", why, a.line, camp_at))
            continue
        camp, line = camp_of.setdefault(a.person, (a.camp, a.line))
        if camp != a.camp:
            why = f"person {a.person!r} is in camp {camp!r} on line {line}, {a.camp!r} here"
            problems.append(Problem(file, header[camp_at - 1] if camp_at else "camp", why, a.line, camp_at))
    return tuple(sorted({a.camp for a in answers if a.camp}))
