"""A priors file's text read safely and parsed: size, encoding, nesting and syntax checked,
each failure a problem with its line."""

from __future__ import annotations

import codecs
import re
import sys
import tomllib
from pathlib import Path

from model.core.errors import Problem
from model.core.limits import MAX_BYTES, MAX_KEY_PARTS, MAX_NESTING
from model.core.text import escaped
from model.priors.presets import file_kind
from model.priors.problems import Problems
from model.priors.tomltext import key_of, long_key, nesting, redefinition


def read(path: Path, problems: Problems) -> tuple[str, dict] | None:
    text = _text(path, problems)
    if text is None:
        return None
    depth, where = nesting(text)
    if depth > MAX_NESTING:
        problems.append(
            Problem(
                path,
                escaped(key_of(text, where), 400),
                "TOML nested too deeply: arrays "
                f"or inline tables {depth} levels inside each other (at most "
                f"{MAX_NESTING})",
                text.count("\n", 0, where) + 1,
            )
        )
        return None
    if (long := long_key(text)) is not None:
        start, parts = long
        problems.append(
            Problem(
                path,
                escaped(text[start : start + 40], 40) + "…",
                f"a dotted key of {parts:,} parts (at most {MAX_KEY_PARTS}; "
                "a priors file's keys have 1 to 3, as in parameters.containment.dist)",
                text.count("\n", 0, start) + 1,
                start - text.rfind("\n", 0, start),
            )
        )
        return None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        _syntax(path, text, str(exc), problems)
    except RecursionError:
        problems.add(path, "", "TOML nested too deeply: arrays or inline tables inside each other")
    except ValueError:  # an integer with more digits than Python converts
        digits = re.search(r"\d[\d_]{999,}", text)
        problems.append(
            Problem(
                path,
                escaped(key_of(text, digits.start()), 400) if digits else "",
                f"a number has too many digits to read (at most {sys.get_int_max_str_digits()})",
                text.count("\n", 0, digits.start()) + 1 if digits else None,
            )
        )
    return None


def _text(path: Path, problems: Problems) -> str | None:
    """The file's text: a regular file of at most MAX_BYTES, UTF-8 (a byte-order mark is dropped)."""
    kind = file_kind(path)
    if kind == "missing":
        problems.add(path, "", "no such priors file")
        return None
    if kind is not None:
        problems.add(path, "", f"cannot read it: it is {kind}, not a regular priors file")
        return None
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        problems.add(path, "", f"cannot read the file ({exc.strerror or exc})")
        return None
    if len(data) > MAX_BYTES:
        problems.add(path, "", f"the file is larger than {MAX_BYTES:,} bytes; a priors file is a few kilobytes of TOML")
        return None
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        problems.add(path, "", "the file is UTF-16 text; save it as UTF-8")
        return None
    try:
        return data.removeprefix(codecs.BOM_UTF8).decode("utf-8")
    except UnicodeDecodeError as exc:
        at = exc.start + (len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0)
        line_start = data.rfind(b"\n", 0, at) + 1
        problems.append(
            Problem(
                path,
                "",
                f"not UTF-8 text (byte 0x{data[at]:02x} cannot be read); save the file as UTF-8",
                data.count(b"\n", 0, at) + 1,
                at - line_start + 1,
            )
        )
        return None


def _syntax(path: Path, text: str, error: str, problems: Problems):
    """A tomllib error as a problem with its line, naming the key when a value is set twice."""
    m = re.search(r"^(.*) \(at (?:line (\d+), column (\d+)|end of document)\)$", error, re.S)
    if not m:
        problems.add(path, "", f"TOML syntax error: {error}")
        return
    message = m.group(1)
    line, column = (
        (int(m.group(2)), int(m.group(3))) if m.group(2) else (text.count("\n") + 1, len(text) - text.rfind("\n"))
    )
    if re.match(r"Cannot overwrite|Cannot declare|Cannot redefine|Cannot mutate|Duplicate inline", message):
        found = redefinition(text, line, column, message)
        if found:
            key, what, at = found
            problems.append(Problem(path, escaped(key, 400), what, at))
            return
    problems.append(Problem(path, "", escaped(f"TOML syntax error: {message}", 400), line, column))
