"""User text made safe to show: control characters as escapes, one line, cut to a width.

One escaper for the whole package. Shown as escapes (``\\x1b``, ``\\n``, ``\\u202e``): C0 and
C1 control characters, DEL, line and paragraph separators, lone surrogates, and the invisible
bidi controls that reorder what a reader sees ("Trojan source": U+061C, U+200E, U+200F,
U+202A–U+202E, U+2066–U+2069). Which characters a priors file may *contain* is another
question, answered by :func:`controls`.
"""

from __future__ import annotations

import re
import unicodedata

_BIDI = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
#: Every character shown as an escape but tabs and newlines (which :func:`visible` keeps).
_CONTROL = re.compile(f"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029{_BIDI}\ud800-\udfff]")
#: Every character :func:`escaped` shows as an escape: the above, tabs and newlines too.
_STRICT = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_BIDI}\ud800-\udfff]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}
LINE_BREAK = re.compile(r"\r?\n")
_SPACES = re.compile(r"\s+")

ELLIPSIS = "…"


def _escape(ch: str) -> str:
    code = ord(ch)
    return _NAMED.get(ch) or (f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")


def escaped(text: object, width: int | None = None) -> str:
    """``text`` on one line with every control and bidi character shown as an escape
    (``"a\\nb\\u202e"`` reads ``a\\nb\\u202e``), cut to ``width`` characters with an ellipsis."""
    out = _STRICT.sub(lambda m: _escape(m[0]), str(text))
    return out if width is None or len(out) <= width else out[: width - 1] + ELLIPSIS


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


def controls(text: str, allowed: str = "") -> list[str]:
    """Control characters (and line/paragraph separators) in ``text`` other than ``allowed``:
    what a priors file's names and text may not contain (bidi controls are allowed there,
    and shown escaped)."""
    return sorted({c for c in text if c not in allowed and unicodedata.category(c) in ("Cc", "Zl", "Zp")})
