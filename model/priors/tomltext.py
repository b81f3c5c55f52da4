"""Where things are in a priors file's TOML text: statements, keys and their lines.

tomllib parses but does not say where a key is; these scanners read the text once more,
skipping strings, arrays and comments whole, so that messages point to a line: which line
sets a key (:class:`Locator`), which key a failing offset belongs to, how deep the nesting
goes and where a dotted key too long for tomllib starts (both checked before parsing), and
which two lines clash when tomllib says a value is set twice.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass

from model.core.limits import MAX_KEY_PARTS


@dataclass(frozen=True)
class _Statement:
    """One top-level TOML statement: a ``[table]`` header or a ``key = value``."""

    start: int  # offset of its first character
    line: int
    path: tuple[str, ...]  # the absolute key: table parts, then the key's parts
    table: int  # how many parts of ``path`` name the table
    header: bool


_BARE = re.compile(r"[A-Za-z0-9_-]+")
_BLANK = re.compile(r"[ \t\r\n]*")
_SPACE = re.compile(r"[ \t]*")
_SPECIAL = re.compile(r"[\"'\[\]{}#\n]")
_BASIC = re.compile(r'["\\\n]')


def _past(run: re.Pattern[str], text: str, i: int) -> int:
    """Where the run of ``run`` (_BLANK or _SPACE, which also match nothing) from ``i`` ends."""
    m = run.match(text, i)
    assert m is not None  # an empty run matches
    return m.end()


def _line_end(text: str, i: int) -> int:
    j = text.find("\n", i)
    return len(text) if j < 0 else j


def _basic_end(text: str, i: int) -> int:
    """End of the one-line basic string opening at ``i``."""
    j = i + 1
    while m := _BASIC.search(text, j):
        if m.group() == "\\":
            j = m.end() + 1
        else:
            return m.end() if m.group() == '"' else m.start()
    return len(text)


def _string_end(text: str, i: int) -> int:
    """End of the string (of any of TOML's four kinds) opening at ``i``."""
    q = text[i]
    if text.startswith(q * 3, i):
        j = i + 3
        while True:
            k = text.find(q * 3, j)
            if k < 0:
                return len(text)
            backslashes = len(text[j:k]) - len(text[j:k].rstrip("\\"))
            if q == "'" or backslashes % 2 == 0:
                k += 3
                for _ in range(2):  # up to two quotes may close the content
                    k += text.startswith(q, k)
                return k
            j = k + 1
    if q == '"':
        return _basic_end(text, i)
    k = text.find("'", i + 1)
    return min(_line_end(text, i), len(text) if k < 0 else k + 1)


def _value_end(text: str, i: int) -> int:
    """Offset of the newline that ends the value starting at ``i`` (arrays may span lines)."""
    depth = 0
    while m := _SPECIAL.search(text, i):
        c, j = m.group(), m.start()
        if c == "\n" and depth <= 0:
            return j
        if c in "\"'":
            i = _string_end(text, j)
            continue
        if c == "#":
            i = _line_end(text, j)
            continue
        depth += (c in "[{") - (c in "]}")
        i = j + 1
    return len(text)


def _key_at(text: str, i: int) -> tuple[tuple[str, ...], int]:
    """The dotted key starting at ``i`` (its parts unquoted) and where it ends."""
    parts: list[str] = []
    while True:
        i = _past(_SPACE, text, i)
        if text.startswith('"', i):
            j = _basic_end(text, i)
            try:
                parts.append(tomllib.loads(f"k = {text[i:j]}")["k"])
            except (tomllib.TOMLDecodeError, ValueError):
                parts.append(text[i + 1 : j - 1])
        elif text.startswith("'", i):
            j = _string_end(text, i)
            parts.append(text[i + 1 : j - 1])
        elif m := _BARE.match(text, i):
            j = m.end()
            parts.append(m.group())
        else:
            return tuple(parts), i
        i = _past(_SPACE, text, j)
        if not text.startswith(".", i):
            return tuple(parts), i
        i += 1


def _statements(text: str) -> list[_Statement]:
    """Every top-level statement, with its line; strings, arrays and comments are skipped whole."""
    out: list[_Statement] = []
    table: tuple[str, ...] = ()
    i, line, counted = 0, 1, 0
    while (i := _past(_BLANK, text, i)) < len(text):
        line += text.count("\n", counted, i)
        counted = i
        if text[i] == "#":
            i = _line_end(text, i)
            continue
        header = text[i] == "["
        parts, j = _key_at(text, i + 1 + text.startswith("[[", i) if header else i)
        if not parts:  # not a statement (the text is broken here): skip the line
            i = _line_end(text, max(j, i + 1))
            continue
        if header:
            table = parts
            out.append(_Statement(i, line, parts, len(parts), True))
            i = _line_end(text, j)
        else:
            out.append(_Statement(i, line, table + parts, len(table), False))
            j = _past(_SPACE, text, j)
            i = _value_end(text, j + text.startswith("=", j))
    return out


def dotted(parts: tuple[str, ...]) -> str:
    """A key path as the file would write it: bare parts as they are, others quoted."""
    return ".".join(p if _BARE.fullmatch(p) else '"' + p.replace('"', '\\"') + '"' for p in parts)


def key_of(text: str, offset: int) -> str:
    """The key of the statement that holds ``offset`` ("" before the first)."""
    here = [s for s in _statements(text[: offset + 1]) if s.start <= offset]
    return dotted(here[-1].path) if here else ""


def nesting(text: str) -> tuple[int, int]:
    """The deepest nesting of arrays and inline tables, and the offset where it is reached."""
    depth = deepest = 0
    where, i = 0, 0
    while m := _SPECIAL.search(text, i):
        c, j = m.group(), m.start()
        if c in "\"'":
            i = _string_end(text, j)
            continue
        if c == "#":
            i = _line_end(text, j)
            continue
        depth = max(depth + (c in "[{") - (c in "]}"), 0)
        if depth > deepest:
            deepest, where = depth, j
        i = j + 1
    return deepest, where


_PART = "A-Za-z0-9_\x00-"  # a bare key's characters, and \x00 for each character of a quoted one
_CHAIN = re.compile(rf"(?<![{_PART}])(?:[{_PART}]+[ \t]*\.[ \t]*){{{MAX_KEY_PARTS},}}[{_PART}]+")


def long_key(text: str) -> tuple[int, int] | None:
    """Where the first dotted key of more than MAX_KEY_PARTS parts starts, and its parts; None
    without one. Linear in the text: strings become \x00s and comments spaces (so offsets
    stay), and one regex, which starts only where a part starts, finds the chain."""
    pieces, i = [], 0
    while m := _SPECIAL.search(text, i):
        c, j = m.group(), m.start()
        if c in "\"'#":
            k = _string_end(text, j) if c != "#" else _line_end(text, j)
            pieces += [text[i:j], ("\x00" if c != "#" else " ") * (k - j)]
        else:
            k = j + 1
            pieces.append(text[i:k])
        i = k
    pieces.append(text[i:])
    if not (m := _CHAIN.search("".join(pieces))):
        return None
    return m.start(), m.group().count(".") + 1


class Locator:
    """Line numbers of keys, so messages point into the file."""

    def __init__(self, text: str):
        self.statements = _statements(text)
        self.lines: dict[tuple[str, str], int] = {}
        arrays: dict[tuple[str, ...], int] = {}  # [[name]] headers seen so far, by name
        element = ""  # "name[i]": the element of an array of tables the statements are in
        for s in self.statements:
            if s.header:
                self.lines.setdefault((".".join(s.path), ""), s.line)
                element = ""
                if text.startswith("[[", s.start):
                    index = arrays[s.path] = arrays.get(s.path, -1) + 1
                    element = f"{'.'.join(s.path)}[{index}]"
                    self.lines[(element, "")] = s.line
            for cut in range(s.table, len(s.path)):
                self.lines.setdefault((".".join(s.path[:cut]), s.path[cut]), s.line)
                if element and cut == s.table:  # evidence[2].date: the key in its own element
                    self.lines.setdefault((".".join([element, *s.path[s.table : cut]]), s.path[cut]), s.line)

    def line(self, key: str) -> int | None:
        parts = [p.strip('"') for p in re.findall(r'"[^"]*"|[^.]+', key)]
        if (".".join(parts), "") in self.lines:  # a table header
            return self.lines[(".".join(parts), "")]
        for cut in range(len(parts) - 1, -1, -1):  # deepest table first
            table, rest = ".".join(parts[:cut]), parts[cut:]
            head = re.sub(r"\[\d+\]$", "", rest[0]) if rest else ""
            if (table, head) in self.lines:
                return self.lines[(table, head)]
            if table.endswith("]") and (table, "") in self.lines:  # a key not written in evidence[2]: its header
                return self.lines[(table, "")]
        return None


def _clash(first: _Statement, then: _Statement) -> bool:
    """Whether ``then`` redefines what ``first`` defined (TOML forbids it)."""
    if first.path == then.path:
        return True
    if not first.header and then.path[: len(first.path)] == first.path:  # reaches inside a value
        return True
    if not then.header and first.path[: len(then.path)] == then.path:  # a value over a table
        return True
    made = {first.path[:k] for k in range(first.table + 1, len(first.path))}  # tables a dotted key made
    return then.header and then.path in made


def redefinition(text: str, line: int, column: int, message: str) -> tuple[str, str, int] | None:
    """Key, message and line for tomllib's "Cannot overwrite a value" and its kin, or None."""
    statements = _statements(text)
    starts = text.split("\n")
    pos = sum(len(s) + 1 for s in starts[: line - 1]) + column - 1
    here = [s for s in statements if s.start < pos]
    if not here:
        return None
    then = here[-1]
    key = dotted(then.path)
    if m := re.fullmatch(r"Duplicate inline table key '(.*)'", message):
        inner = re.escape(m.group(1))
        lines = [
            text.count("\n", 0, then.start + k.start()) + 1
            for k in re.finditer(rf"(?<![\w-])[\"']?{inner}[\"']?\s*=", text[then.start : pos + 1])
        ]
        lines = lines if len(lines) > 1 else [line, line]
        where = (
            f"first at line {lines[0]}, again at line {lines[-1]}"
            if lines[0] != lines[-1]
            else f"both on line {lines[0]}"
        )
        return (f"{key}.{dotted((m.group(1),))}", f"set twice in the same inline table ({where}); keep one", lines[-1])
    first = next((s for s in here[:-1] if _clash(s, then)), None)
    if first is None:
        return None
    if first.path == then.path:
        what = f"table [{key}] is declared" if then.header and first.header else "set"
        return key, (f"{what} twice: first at line {first.line}, again at line {then.line}; keep one"), then.line
    shorter, longer = sorted((first.path, then.path), key=len)
    return (
        key,
        (
            f"{dotted(shorter)} is set twice: first at line {first.line}, again at line {then.line} "
            f"(through {dotted(longer)}: a key cannot be both a value and a table); keep one"
        ),
        then.line,
    )
