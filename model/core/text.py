"""User text made safe to show: control characters as escapes, one line, cut to a width."""

from __future__ import annotations

import re

#: Control characters, C0 and C1, DEL, and the invisible bidi controls ("Trojan source").
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_NAMED = {"\r": "\\r", "\x0b": "\\v", "\x0c": "\\f", "\x1b": "\\x1b"}
LINE_BREAK = re.compile(r"\r?\n")
_SPACES = re.compile(r"\s+")

ELLIPSIS = "…"


def _escape(ch: str) -> str:
    code = ord(ch)
    return _NAMED.get(ch) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def visible(text: object) -> str:
    """``text`` with tabs as spaces and every other control character (but newlines) shown
    as an escape: ``"a\\x1b[31mb"`` prints as ``a\\x1b[31mb``, not in red."""
    return _CONTROL.sub(lambda m: _escape(m[0]), str(text).replace("\t", " "))


def one_line(text: object) -> str:
    """User text made safe for one line of a terminal: :func:`visible`, newlines and runs of
    white space as single spaces, trimmed."""
    return _SPACES.sub(" ", " ".join(visible(line) for line in LINE_BREAK.split(str(text)))).strip()


def short(text: object, width: int) -> str:
    """:func:`one_line` cut to ``width`` cells with an ellipsis."""
    from rich.cells import cell_len, set_cell_size

    s = one_line(text)
    if cell_len(s) <= width:
        return s
    return set_cell_size(s, max(width - 1, 0)).rstrip() + ELLIPSIS
