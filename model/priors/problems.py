"""The problems found in a priors file and its bases, collected to be raised together.

Each names the file, the key (and the line where it can be found) and what was expected;
user text in it is escaped (model/core/text.py), so a message never carries control or
bidi characters.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from model.core.errors import Problem
from model.core.text import escaped
from model.priors.tomltext import Locator


class Problems:
    """Every problem found so far, and each file's :class:`Locator` (to give lines)."""

    def __init__(self):
        self.found: list[Problem] = []
        self.locators: dict[Path, Locator] = {}

    def __bool__(self) -> bool:
        return bool(self.found)

    def append(self, problem: Problem) -> None:
        self.found.append(problem)

    def add(self, file: Path, key: str, message: str, locator: Locator | None = None):
        self.found.append(
            Problem(file, escaped(key, 400), escaped(message, 2000), locator.line(key) if locator else None)
        )

    def add_validation(self, file: Path, key: str, err: ValidationError, locator: Locator) -> None:
        for e in err.errors():
            loc = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in e["loc"])
            full = f"{key}.{loc}".replace(".[", "[") if loc else key
            msg = ours(e)
            if e["type"] not in ("value_error", "missing", "extra_forbidden") and not isinstance(
                e.get("input"), (dict, list)
            ):
                msg += f" (got {shown(e.get('input'))})"
            if e["type"] == "extra_forbidden":
                msg = "unknown key"
            self.add(file, full, msg, locator)

    def validated(self, cls: type[BaseModel], data: Any, path: Path, key: str, at: Locator) -> Any:
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            self.add_validation(path, key, err, at)
            return None


#: pydantic's wording of a failed check, in ours (issue 20: "Field required" is not how we speak).
_WORDING = {
    "missing": lambda c: "required: this key must be set",
    "greater_than": lambda c: f"must be greater than {_n(c['gt'])}",
    "greater_than_equal": lambda c: f"must be at least {_n(c['ge'])}",
    "less_than": lambda c: f"must be less than {_n(c['lt'])}",
    "less_than_equal": lambda c: f"must be at most {_n(c['le'])}",
    "literal_error": lambda c: f"expected one of {c['expected'].replace(' or ', ', ')}",
    "int_type": lambda c: "expected a whole number",
    "float_type": lambda c: "expected a number",
    "finite_number": lambda c: "expected a finite number (not inf or nan)",
    "string_type": lambda c: "expected text in quotes",
    "bool_type": lambda c: "expected true or false",
    "list_type": lambda c: "expected a list in brackets, [ … ]",
    "dict_type": lambda c: "expected a table",
    "too_short": lambda c: f"expected at least {c.get('min_length')} items",
    "too_long": lambda c: f"expected at most {c.get('max_length')} items",
    "date_type": lambda c: "expected a date such as 2026-12-01",
}


def _n(x: object) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def ours(error: Mapping[str, Any]) -> str:
    """One pydantic error's message in the project's words (its own value errors as written)."""
    words = _WORDING.get(error["type"])
    if words is not None:
        try:
            return words(error.get("ctx") or {})
        except (KeyError, TypeError):
            pass
    return str(error["msg"]).removeprefix("Value error, ")


def suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word[:100], list(options), n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


def shown(value: Any, width: int = 60) -> str:
    """``repr(value)`` for a message, short (and safe for integers too long to print)."""
    try:
        text = repr(value)
    except ValueError:
        text = f"<an integer of {value.bit_length()} bits>"
    return text if len(text) <= width else text[: width - 1] + "…"


def finite(value: Any) -> bool:
    """A finite int or float (an int too large for a float is not)."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False
