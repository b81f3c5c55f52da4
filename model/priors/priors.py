"""Read a priors file (docs/model.md, Priors and sampling) once into validated, frozen objects.

Every problem in a file and its ``base`` chain is collected and raised together
as one :class:`~model.errors.PriorsError`, each naming the file, the key (and
the line where it can be found) and what was expected.
"""

from __future__ import annotations

import codecs
import difflib
import math
import os
import re
import stat
import sys
import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Iterable, Mapping

import numpy as np
from pydantic import ValidationError

from model import families as fam
from model.core.copula import GaussianCopula, smallest_eigenvalue
from model.core.errors import PriorsError, Problem
from model.core.limits import (MAX_BASE_CHARS, MAX_BASE_DEPTH, MAX_BYTES, MAX_COMPONENTS, MAX_KEY_PARTS,
                               MAX_NESTING, POSITIVE_FLOOR, VALUE_LIMIT)
from model.core.quantities import ALL, SIGNED
from model.priors.schema import FAMILIES, TO_PATTERN, Calibration, Decision, Meta, Simulation, ToSpec
from model.core.text import controls, escaped
from model.core.variables import BY_NAME, CRUXES, DIVISORS, NAMES, PARAMETERS

TABLES = ("meta", "cruxes", "parameters", "correlations", "calibration", "decision", "simulation")
PRESETS_DIR = Path(__file__).resolve().parents[2] / "priors"
_PACKAGED_PRESETS = Path(__file__).resolve().parents[1] / "presets"

#: A preset named by ``base`` (no .toml suffix): letters, digits, '_' and '-' only.
PRESET_NAME = re.compile(r"[A-Za-z0-9_-]{1,100}")
#: The far tails probed: z = ±9 is a 1-in-10^19 draw, beyond any simulation's reach.
PROBE_Z = 9.0
#: Quasi-random worlds of the trial run (plus each variable alone at its extremes).
TRIAL_WORLDS = 256


@dataclass(frozen=True)
class Prior:
    """One variable's prior: its distribution, how it was written, why, and where."""

    name: str
    marginal: fam.Marginal
    written: str
    source: str | None
    origin: Path


@dataclass(frozen=True)
class Priors:
    path: Path
    name: str
    description: str
    base: Path | None
    variables: Mapping[str, Prior]
    correlations: Mapping[tuple[str, str], float]
    calibration: Calibration
    simulation: Simulation
    decision: Decision
    #: What the user should know but that does not stop a run (a calibrated file that cannot be checked).
    warnings: tuple[str, ...] = ()

    def copula(self, rows: tuple[str, ...] = NAMES) -> GaussianCopula:
        """The Gaussian copula of the variables ``rows`` (model/core/copula.py)."""
        return GaussianCopula.of(rows, NAMES, self.correlations)

    def random_names(self) -> tuple[str, ...]:
        """Variables whose prior is not a point mass, in NAMES order."""
        return tuple(n for n in NAMES if self.variables[n].marginal.family != "point")

    def inherited(self, name: str) -> bool:
        return self.variables[name].origin != self.path


def preset_path(name: str, exclude: Path | None = None) -> Path:
    """Where a preset named ``name`` lives (the repository's priors/ or the installed copy).

    ``exclude`` (a file asking for its base) is skipped, so a file never inherits from itself.
    """
    for folder in (PRESETS_DIR, _PACKAGED_PRESETS):
        candidate = folder / f"{name}.toml"
        if _file_kind(candidate) is None and not (exclude and _same_file(candidate, exclude)):
            return candidate
    return PRESETS_DIR / f"{name}.toml"


def _file_kind(path: Path) -> str | None:
    """None for a regular file; otherwise what ``path`` is ("missing", "a folder", ...)."""
    try:
        st = os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return "missing"
    except (OSError, ValueError) as exc:
        return f"unreadable ({getattr(exc, 'strerror', None) or exc})"
    if stat.S_ISREG(st.st_mode):
        return None
    if stat.S_ISDIR(st.st_mode):
        return "a folder"
    if stat.S_ISFIFO(st.st_mode):
        return "a named pipe"
    return "a socket" if stat.S_ISSOCK(st.st_mode) else "a device"


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError, ValueError):  # a symlink loop, a name too long
        return path.absolute()


def _same_file(a: Path, b: Path) -> bool:
    return _resolved(a) == _resolved(b)


def load(path: str | Path) -> Priors:
    """Parse and validate ``path`` and its bases; raise PriorsError with every problem."""
    problems: list[Problem] = []
    loader = _Loader(problems)
    priors = loader.load(Path(path), chain=())
    if priors is not None and not problems:
        loader.trial(priors)
    if priors is not None and not problems:
        loader.components(priors)
    if priors is not None and not problems:
        priors = loader.fitted(priors)
    if problems or priors is None:
        raise PriorsError(problems)
    return priors


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
        i = _SPACE.match(text, i).end()
        if text.startswith('"', i):
            j = _basic_end(text, i)
            try:
                parts.append(tomllib.loads(f"k = {text[i:j]}")["k"])
            except (tomllib.TOMLDecodeError, ValueError):
                parts.append(text[i + 1:j - 1])
        elif text.startswith("'", i):
            j = _string_end(text, i)
            parts.append(text[i + 1:j - 1])
        elif m := _BARE.match(text, i):
            j = m.end()
            parts.append(m.group())
        else:
            return tuple(parts), i
        i = _SPACE.match(text, j).end()
        if not text.startswith(".", i):
            return tuple(parts), i
        i += 1


def _statements(text: str) -> list[_Statement]:
    """Every top-level statement, with its line; strings, arrays and comments are skipped whole."""
    out: list[_Statement] = []
    table: tuple[str, ...] = ()
    i, line, counted = 0, 1, 0
    while (i := _BLANK.match(text, i).end()) < len(text):
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
            j = _SPACE.match(text, j).end()
            i = _value_end(text, j + text.startswith("=", j))
    return out


def _dotted(parts: tuple[str, ...]) -> str:
    """A key path as the file would write it: bare parts as they are, others quoted."""
    return ".".join(p if _BARE.fullmatch(p) else '"' + p.replace('"', '\\"') + '"' for p in parts)


def _key_of(text: str, offset: int) -> str:
    """The key of the statement that holds ``offset`` ("" before the first)."""
    here = [s for s in _statements(text[:offset + 1]) if s.start <= offset]
    return _dotted(here[-1].path) if here else ""


def _nesting(text: str) -> tuple[int, int]:
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


def _long_key(text: str) -> tuple[int, int] | None:
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


class _Locator:
    """Line numbers of keys, so messages point into the file."""

    def __init__(self, text: str):
        self.statements = _statements(text)
        self.lines: dict[tuple[str, str], int] = {}
        for s in self.statements:
            if s.header:
                self.lines.setdefault((".".join(s.path), ""), s.line)
            for cut in range(s.table, len(s.path)):
                self.lines.setdefault((".".join(s.path[:cut]), s.path[cut]), s.line)

    def line(self, key: str) -> int | None:
        parts = [p.strip('"') for p in re.findall(r'"[^"]*"|[^.]+', key)]
        if (".".join(parts), "") in self.lines:  # a table header
            return self.lines[(".".join(parts), "")]
        for cut in range(len(parts) - 1, -1, -1):  # deepest table first
            table, rest = ".".join(parts[:cut]), parts[cut:]
            head = re.sub(r"\[\d+\]$", "", rest[0]) if rest else ""
            if (table, head) in self.lines:
                return self.lines[(table, head)]
        return None


def _clash(first: _Statement, then: _Statement) -> bool:
    """Whether ``then`` redefines what ``first`` defined (TOML forbids it)."""
    if first.path == then.path:
        return True
    if not first.header and then.path[:len(first.path)] == first.path:  # reaches inside a value
        return True
    if not then.header and first.path[:len(then.path)] == then.path:  # a value over a table
        return True
    made = {first.path[:k] for k in range(first.table + 1, len(first.path))}  # tables a dotted key made
    return then.header and then.path in made


def _redefinition(text: str, line: int, column: int, message: str) -> tuple[str, str, int] | None:
    """Key, message and line for tomllib's "Cannot overwrite a value" and its kin, or None."""
    statements = _statements(text)
    starts = text.split("\n")
    pos = sum(len(s) + 1 for s in starts[:line - 1]) + column - 1
    here = [s for s in statements if s.start < pos]
    if not here:
        return None
    then = here[-1]
    key = _dotted(then.path)
    if m := re.fullmatch(r"Duplicate inline table key '(.*)'", message):
        inner = re.escape(m.group(1))
        lines = [text.count("\n", 0, then.start + k.start()) + 1 for k in
                 re.finditer(rf"(?<![\w-])[\"']?{inner}[\"']?\s*=", text[then.start:pos + 1])]
        lines = lines if len(lines) > 1 else [line, line]
        where = (f"first at line {lines[0]}, again at line {lines[-1]}" if lines[0] != lines[-1]
                 else f"both on line {lines[0]}")
        return (f"{key}.{_dotted([m.group(1)])}", f"set twice in the same inline table ({where}); keep one",
                lines[-1])
    first = next((s for s in here[:-1] if _clash(s, then)), None)
    if first is None:
        return None
    if first.path == then.path:
        what = f"table [{key}] is declared" if then.header and first.header else "set"
        return key, (f"{what} twice: first at line {first.line}, again at line {then.line}; "
                     "keep one"), then.line
    shorter, longer = sorted((first.path, then.path), key=len)
    return key, (f"{_dotted(shorter)} is set twice: first at line {first.line}, again at line {then.line} "
                 f"(through {_dotted(longer)}: a key cannot be both a value and a table); keep one"), then.line


def _suggest(word: str, options: Iterable[str]) -> str:
    close = difflib.get_close_matches(word[:100], list(options), n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _shown(value: Any, width: int = 60) -> str:
    """``repr(value)`` for a message, short (and safe for integers too long to print)."""
    try:
        text = repr(value)
    except ValueError:
        text = f"<an integer of {value.bit_length()} bits>"
    return text if len(text) <= width else text[:width - 1] + "…"


def _finite(value: Any) -> bool:
    """A finite int or float (an int too large for a float is not)."""
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _toml_string(text: str) -> str:
    """``text`` as a TOML basic string (templates quote priors back into files)."""
    def char(c: str) -> str:
        if c in '"\\':
            return "\\" + c
        if c.isprintable():
            return c
        return f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}"

    return '"' + "".join(map(char, text)) + '"'


def _written(value: Any) -> str:
    if isinstance(value, dict):
        inner = ", ".join(f"{k} = {_written(v)}" for k, v in value.items() if k != "source")
        return "{ " + inner + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_written(v) for v in value) + "]"
    if isinstance(value, str):
        return _toml_string(value)
    return repr(value)


#: What each outcome of model.structure may be: probabilities in [0, 1], one difference in [-1, 1].
_RANGES = {**{q: (0.0, 1.0) for q in ("p_align", "catastrophic", "win", "win_without_uplift", *ALL)},
           **{q: (-1.0, 1.0) for q in SIGNED}}


@lru_cache(maxsize=1024)
def _values_at(marginal: fam.Marginal, z: tuple[float, ...]) -> np.ndarray:
    """``marginal.exact_from_z(z)``, remembered: load is called often on the same files."""
    with np.errstate(all="ignore"):
        x = np.asarray(marginal.exact_from_z(np.array(z)), dtype=float)
    x.setflags(write=False)
    return x


def _trial_z(k: int) -> np.ndarray:
    """Copula coordinates (k variables × worlds) of the trial run.

    The median world, each variable alone at -PROBE_Z and +PROBE_Z, all at once at
    either end, and TRIAL_WORLDS points of Roberts' R_k sequence spread over [-PROBE_Z, PROBE_Z]^k.
    """
    g = 2.0
    for _ in range(60):  # the root of g^(k+1) = g + 1
        g = (1 + g) ** (1 / (k + 1))
    u = (0.5 + np.outer((1 / g) ** np.arange(1, k + 1), np.arange(1, TRIAL_WORLDS + 1))) % 1
    alone = np.zeros((k, 2 * k))
    alone[np.arange(k), 2 * np.arange(k)] = -PROBE_Z
    alone[np.arange(k), 2 * np.arange(k) + 1] = PROBE_Z
    return np.hstack([np.zeros((k, 1)), alone, np.full((k, 1), -PROBE_Z), np.full((k, 1), PROBE_Z),
                      PROBE_Z * (2 * u - 1)])


def _broken(priors: Priors, names: tuple[str, ...], z: np.ndarray) -> dict[int, str]:
    """Worlds (columns of ``z``) where an outcome is not a finite number in its range, and why."""
    from model.core.structure import outcomes

    n = z.shape[1]
    worlds = {v: _values_at(priors.variables[v].marginal, tuple(z[names.index(v)] if v in names else np.zeros(n)))
              for v in NAMES}
    with np.errstate(all="ignore"):
        out = outcomes(worlds, priors.calibration.horizon_years)
    bad: dict[int, str] = {}
    for field in out._fields:
        v = np.broadcast_to(np.asarray(getattr(out, field), dtype=float), (n,))
        lo, hi = _RANGES.get(field, (-math.inf, math.inf))
        for i in np.flatnonzero(~np.isfinite(v) | (v < lo - 1e-9) | (v > hi + 1e-9)):
            bad.setdefault(int(i), f"{field} is {v[i]:.3g}" + ("" if math.isnan(v[i]) or not math.isfinite(v[i])
                                                                 else f", outside [{lo:g}, {hi:g}]"))
    return bad


class _Loader:
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        self.locators: dict[Path, _Locator] = {}
        self.calibrated_in: tuple[Path, Path | None] | None = None  # the file setting apply, and its base

    def components(self, priors: Priors) -> None:
        """At most MAX_COMPONENTS mixture components in the file and its bases together."""
        sizes = {n: len(getattr(p.marginal, "components", ())) for n, p in priors.variables.items()}
        if sum(sizes.values()) > MAX_COMPONENTS:
            name = max(sizes, key=sizes.get)
            prior = priors.variables[name]
            key = f"{'cruxes' if BY_NAME[name].crux else 'parameters'}.{name}.components"
            self._add(prior.origin, key, f"the mixtures have {sum(sizes.values())} components together ("
                      + ", ".join(f"{n} {k}" for n, k in sizes.items() if k) + f"); at most {MAX_COMPONENTS} in "
                      "all (each is tabulated by root finding): merge close components",
                      self.locators.get(prior.origin))

    def fitted(self, priors: Priors) -> Priors:
        """A calibrated file checked against what it was fitted to (model/priors/fitted.py): a
        stale tilt is a problem, a stale or unchecked update a warning."""
        from model.priors.fitted import check

        if priors.calibration.apply is None:
            return priors
        where, base = self.calibrated_in or (priors.path, priors.base)
        at = self.locators.get(where)
        line = (at.line("calibration.fitted_to") or at.line("calibration.apply")) if at else None
        problem, warning = check(priors, where, None if base is None else Path(os.path.normpath(base)), line)
        if problem is not None:
            self.problems.append(problem)
        from dataclasses import replace

        return replace(priors, warnings=(warning,)) if warning else priors

    # -- reporting -------------------------------------------------------------------------
    def _add(self, file: Path, key: str, message: str, locator: _Locator | None = None):
        self.problems.append(Problem(file, escaped(key, 400), escaped(message, 2000),
                                     locator.line(key) if locator else None))

    def _add_validation(self, file: Path, key: str, err: ValidationError, locator: _Locator) -> None:
        for e in err.errors():
            loc = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in e["loc"])
            full = f"{key}.{loc}".replace(".[", "[") if loc else key
            msg = e["msg"].removeprefix("Value error, ")
            if e["type"] not in ("value_error", "missing", "extra_forbidden") and not isinstance(
                    e.get("input"), (dict, list)):
                msg += f" (got {_shown(e.get('input'))})"
            if e["type"] == "extra_forbidden":
                msg = "unknown key"
            self._add(file, full, msg, locator)

    # -- files -----------------------------------------------------------------------------
    def _read(self, path: Path) -> tuple[str, dict] | None:
        text = self._text(path)
        if text is None:
            return None
        depth, where = _nesting(text)
        if depth > MAX_NESTING:
            self.problems.append(Problem(path, escaped(_key_of(text, where), 400), "TOML nested too deeply: arrays "
                                         f"or inline tables {depth} levels inside each other (at most "
                                         f"{MAX_NESTING})", text.count("\n", 0, where) + 1))
            return None
        if (long := _long_key(text)) is not None:
            start, parts = long
            self.problems.append(Problem(path, escaped(text[start:start + 40], 40) + "…", f"a dotted key of {parts:,} parts (at most {MAX_KEY_PARTS}; "
                                         "a priors file's keys have 1 to 3, as in parameters.containment.dist)",
                                         text.count("\n", 0, start) + 1, start - text.rfind("\n", 0, start)))
            return None
        try:
            return text, tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            self._syntax(path, text, str(exc))
        except RecursionError:
            self._add(path, "", "TOML nested too deeply: arrays or inline tables inside each other")
        except ValueError:  # an integer with more digits than Python converts
            long = re.search(r"\d[\d_]{999,}", text)
            self.problems.append(Problem(path, escaped(_key_of(text, long.start()), 400) if long else "",
                                         "a number has too many digits to read (at most "
                                         f"{sys.get_int_max_str_digits()})",
                                         text.count("\n", 0, long.start()) + 1 if long else None))
        return None

    def _text(self, path: Path) -> str | None:
        """The file's text: a regular file of at most MAX_BYTES, UTF-8 (a byte-order mark is dropped)."""
        kind = _file_kind(path)
        if kind == "missing":
            self._add(path, "", "no such priors file")
            return None
        if kind is not None:
            self._add(path, "", f"cannot read it: it is {kind}, not a regular priors file")
            return None
        try:
            with open(path, "rb") as fh:
                data = fh.read(MAX_BYTES + 1)
        except OSError as exc:
            self._add(path, "", f"cannot read the file ({exc.strerror or exc})")
            return None
        if len(data) > MAX_BYTES:
            self._add(path, "", f"the file is larger than {MAX_BYTES:,} bytes; a priors file is a few "
                      "kilobytes of TOML")
            return None
        if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            self._add(path, "", "the file is UTF-16 text; save it as UTF-8")
            return None
        try:
            return data.removeprefix(codecs.BOM_UTF8).decode("utf-8")
        except UnicodeDecodeError as exc:
            at = exc.start + (len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0)
            line_start = data.rfind(b"\n", 0, at) + 1
            self.problems.append(Problem(
                path, "", f"not UTF-8 text (byte 0x{data[at]:02x} cannot be read); save the file as UTF-8",
                data.count(b"\n", 0, at) + 1, at - line_start + 1))
            return None

    def _syntax(self, path: Path, text: str, error: str):
        """A tomllib error as a problem with its line, naming the key when a value is set twice."""
        m = re.search(r"^(.*) \(at (?:line (\d+), column (\d+)|end of document)\)$", error, re.S)
        if not m:
            self._add(path, "", f"TOML syntax error: {error}")
            return
        message = m.group(1)
        line, column = (int(m.group(2)), int(m.group(3))) if m.group(2) else (
            text.count("\n") + 1, len(text) - text.rfind("\n"))
        if re.match(r"Cannot overwrite|Cannot declare|Cannot redefine|Cannot mutate|Duplicate inline", message):
            found = _redefinition(text, line, column, message)
            if found:
                key, what, at = found
                self.problems.append(Problem(path, escaped(key, 400), what, at))
                return
        self.problems.append(Problem(path, "", escaped(f"TOML syntax error: {message}", 400), line, column))

    def load(self, path: Path, chain: tuple[Path, ...]) -> Priors | None:
        """File ``path`` (inheriting from its ``base``) as Priors; None when it has problems."""
        path = Path(path)
        got = self._read(path)
        if got is None:
            return None
        text, data = got
        at = self.locators[path] = _Locator(text)
        tables = self._tables(data, path, at)
        meta = self._meta(tables["meta"], path, at)
        base_path = self._base_path(meta.base, path, at) if meta.base is not None else None
        parent = self._parent(base_path, path, chain, at) if base_path is not None else None
        variables = self._variables(tables, parent, path, at)
        if parent is None and meta.base is None:
            self._complete(variables, tables, path)
        correlations = self._all_correlations(tables["correlations"], parent, variables, path, at)
        calibration, simulation, decision = self._settings(tables, parent, path, at)
        if {"apply", "tilt_lambda", "fitted_to"} & set(tables["calibration"]):
            self.calibrated_in = (path, base_path)
        if self.problems:
            return None
        return Priors(path=path, name=meta.name or path.stem, description=meta.description,
                      base=base_path, variables=MappingProxyType({n: variables[n] for n in NAMES}),
                      correlations=MappingProxyType(correlations), calibration=calibration,
                      simulation=simulation, decision=decision)

    def _tables(self, data: dict, path: Path, at: _Locator) -> dict[str, dict]:
        """Each known table of the file ({} when absent); unknown tables and non-tables reported."""
        for table in data:
            if table not in TABLES:
                self._add(path, table, f"unknown table{_suggest(table, TABLES)}; expected one of "
                          + ", ".join(f"[{t}]" for t in TABLES), at)
        tables = {}
        for table in TABLES:
            value = data.get(table, {})
            if not isinstance(value, dict):
                self._add(path, table, f"expected a table [{table}], got {type(value).__name__}", at)
                value = {}
            tables[table] = value
        return tables

    def _meta(self, table: dict, path: Path, at: _Locator) -> Meta:
        meta = self._model(Meta, table, path, "meta", at)
        if meta is None:  # keep a usable base so its variables still count
            raw = table.get("base")
            meta = Meta(base=raw if isinstance(raw, str) else None)
        return meta

    def _variables(self, tables: dict, parent: Priors | None, path: Path, at: _Locator) -> dict[str, Prior]:
        """The parent's priors overridden by those of [cruxes] and [parameters]."""
        variables = dict(parent.variables) if parent else {}
        for table, allowed, other in (("cruxes", CRUXES, "parameters"), ("parameters", PARAMETERS, "cruxes")):
            for name, value in tables[table].items():
                key = f"{table}.{name}"
                if name in allowed:
                    if (prior := self._prior(value, path, key, name, at)) is not None:
                        variables[name] = prior
                elif name in BY_NAME:
                    self._add(path, key, f"{name} belongs in [{other}], not [{table}]", at)
                else:
                    self._add(path, key, f"unknown variable{_suggest(name, NAMES)}; expected one of "
                              + ", ".join(allowed), at)
        return variables

    def _complete(self, variables: dict, tables: dict, path: Path):
        """A file without a base must set every variable."""
        missing = [n for n in NAMES if n not in variables and n not in tables["cruxes"]
                   and n not in tables["parameters"]]
        if missing:
            self._add(path, "", "missing variables: " + ", ".join(missing) + ' (set each in [cruxes] '
                      'or [parameters], or inherit them with base = "author" in [meta])')

    def _all_correlations(self, table: dict, parent: Priors | None, variables: dict, path: Path,
                          at: _Locator) -> dict[tuple[str, str], float]:
        """The parent's correlations updated by this file's, checked positive definite together."""
        correlations = dict(parent.correlations) if parent else {}
        correlations.update(self._correlations(table, path, at))
        if correlations and all(a in variables and b in variables for a, b in correlations):
            if smallest_eigenvalue(NAMES, correlations) <= 1e-10:
                self._add(path, "correlations", "the correlations do not form a positive definite "
                          "matrix (no joint distribution has them; perfect correlations of ±1 are "
                          "not allowed either): weaken some of them", at)
        return correlations

    def _settings(self, tables: dict, parent: Priors | None, path: Path, at: _Locator):
        """[calibration], [simulation] and [decision], each over the parent's."""
        def merged(cls: type, table: Any, inherited: Any) -> Any:
            return self._model(cls, {**inherited, **tables[table]}, path, table, at)

        return (merged(Calibration, "calibration", parent.calibration.model_dump() if parent else {}),
                merged(Simulation, "simulation", parent.simulation.model_dump() if parent else {}),
                merged(Decision, "decision", parent.decision.model_dump(exclude_none=True) if parent else {}))

    def _parent(self, base_path: Path, path: Path, chain: tuple[Path, ...], at: _Locator) -> Priors | None:
        """The base file loaded, unless it closes a cycle or makes the chain too long."""
        if _resolved(base_path) in [_resolved(p) for p in (*chain, path)]:
            self._add(path, "meta.base", "base files form a cycle: " + " -> ".join(
                str(p) for p in (*chain, path, base_path)), at)
        elif len(chain) + 2 > MAX_BASE_DEPTH:
            self._add(path, "meta.base", f"too many base files: {chain[0]} inherits through more than "
                      f"{MAX_BASE_DEPTH} files in a chain (each one's base has a base); inherit from a "
                      "file nearer the end of the chain", at)
        else:
            return self.load(base_path, (*chain, path))
        return None

    def _base_path(self, base: str, path: Path, at: _Locator) -> Path | None:
        """The file ``base`` names: a path ending in .toml (beside ``path``), or a preset name.

        A preset name is looked up beside ``path`` first, then among the presets; ``path``
        itself never counts, so priors/author.toml with base = "author" inherits the preset.
        """
        if len(base) > MAX_BASE_CHARS:
            self._add(path, "meta.base", f"base is a path of {len(base):,} characters; at most {MAX_BASE_CHARS} "
                      "(a preset name such as \"author\" or a shorter relative path ending in .toml)", at)
            return None
        too_long = [p for p in base.split("/") if len(p.encode("utf-8", "surrogateescape")) > 255]
        if too_long:
            self._add(path, "meta.base", f"base has a name of {len(too_long[0].encode('utf-8', 'surrogateescape'))} "
                      "bytes in it; a file system allows at most 255", at)
            return None
        if base.endswith(".toml") and not controls(base):
            found = path.parent / base
        elif PRESET_NAME.fullmatch(base):
            sibling = path.parent / f"{base}.toml"
            found = sibling if _file_kind(sibling) is None and not _same_file(sibling, path) else (
                preset_path(base, exclude=path))
        else:
            self._add(path, "meta.base", f"base = {_shown(base)} is neither a preset name (letters, digits, "
                      "'_' or '-', such as \"author\") nor a path ending in .toml", at)
            return None
        kind, shown = _file_kind(found), escaped(base, 80)
        if kind == "missing":
            self._add(path, "meta.base", f'base "{shown}" not found (looked for {escaped(str(found), 200)}); '
                      "expected a preset name such as \"author\" or a path ending in .toml", at)
        elif kind is not None:
            self._add(path, "meta.base", f'base "{shown}" is {kind}, not a regular priors file', at)
        return found if kind is None else None

    def _model(self, cls: type, data: Any, path: Path, key: str, at: _Locator) -> Any:
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            self._add_validation(path, key, err, at)
            return None

    # -- variables -------------------------------------------------------------------------
    def _prior(self, value: Any, path: Path, key: str, name: str, at: _Locator) -> Prior | None:
        with np.errstate(all="ignore"):  # extreme parameters overflow inside scipy; the checks say why
            marginal, source = self._marginal(value, path, key, at, nested=False)
            if marginal is None or not (self._support_ok(marginal, path, key, name, at)
                                        and self._values_ok(marginal, path, key, name, at)):
                return None
        return Prior(name, marginal, _written(value), source, path)

    def _marginal(self, value: Any, path: Path, key: str, at: _Locator,
                  nested: bool) -> tuple[fam.Marginal | None, str | None]:
        """A number (a point), an ``"a to b"`` string or a family's table, and its source."""
        if isinstance(value, bool) or not isinstance(value, (int, float, str, dict)):
            self._add(path, key, "expected a number, a \"a to b\" string or a table with dist = "
                      f"(got {type(value).__name__} {_shown(value)})", at)
            return None, None
        if isinstance(value, (int, float)):
            if not _finite(value):
                self._add(path, key, f"expected a finite number (got {_shown(value)})", at)
                return None, None
            return fam.Point(float(value)), None
        if isinstance(value, str):
            return self._a_to_b(value, path, key, at), None
        return self._family(value, path, key, at, nested)

    def _a_to_b(self, value: str, path: Path, key: str, at: _Locator) -> fam.Marginal | None:
        m = TO_PATTERN.match(value)
        if not m:
            self._add(path, key, f'expected "a to b" with numbers a < b (got {_shown(value)})', at)
            return None
        spec = self._model(ToSpec, {"ci90": [float(m.group(1).replace("_", "")),
                                             float(m.group(2).replace("_", ""))]}, path, key, at)
        return self._build(spec, path, key, at) if spec else None

    def _family(self, value: dict, path: Path, key: str, at: _Locator,
                nested: bool) -> tuple[fam.Marginal | None, str | None]:
        """A table with ``dist``: validated by that family's Spec, its nested parts parsed first."""
        dist = value.get("dist")
        options = [f for f, spec in FAMILIES.items() if spec.nestable or not nested]
        if not isinstance(dist, str) or dist not in options:
            got = "no dist" if dist is None else f"dist = {_shown(dist)}"
            extra = f" ({dist}s cannot be nested)" if dist in FAMILIES else _suggest(str(dist), options)
            self._add(path, f"{key}.dist", f"{got}{extra}; expected one of " + ", ".join(options), at)
            return None, None
        components = value.get("components")
        if isinstance(components, list) and len(components) > MAX_COMPONENTS:
            self._add(path, f"{key}.components", f"{len(components):,} components; a priors file's mixtures "
                      f"have at most {MAX_COMPONENTS} in all (each is tabulated by root finding): merge close "
                      "components", at)
            return None, None
        spec = self._model(FAMILIES[dist], value, path, key, at)
        if spec is None:
            return None, None
        parts = [self._marginal(v, path, f"{key}.{sub}", at, nested=True)[0] for sub, v in spec.parts()]
        if any(p is None for p in parts):
            return None, None
        return self._build(spec, path, key, at, tuple(parts)), spec.source

    def _build(self, spec: Any, path: Path, key: str, at: _Locator, parts: tuple = ()) -> fam.Marginal | None:
        try:
            with np.errstate(all="ignore"):
                return spec.to_marginal(parts)
        except ValueError as exc:
            self._add(path, key, str(exc), at)
        except (ArithmeticError, RuntimeError) as exc:
            self._add(path, key, f"this distribution cannot be built ({exc}); check its parameters", at)
        return None

    def _support_ok(self, marginal: fam.Marginal, path: Path, key: str, name: str, at: _Locator) -> bool:
        rule = BY_NAME[name].support
        lo, hi = marginal.support
        atoms = [v for v, w in marginal.atoms if w > 0]
        family = marginal.family
        need = {"nonnegative": "must be >= 0", "positive": "must be > 0",
                "probability": "is a probability and must lie in [0, 1]"}.get(rule)
        bad = ((rule in ("nonnegative", "positive", "probability") and lo < 0)
               or (rule == "positive" and any(v <= 0 for v in atoms))
               or (rule == "probability" and hi > 1))
        if bad:
            self._add(path, key, f"{name} {need}, but this {family} has support [{lo:g}, {hi:g}]; "
                      "use a family inside that range or truncate it with lower/upper", at)
            return False
        if name == "automation_fraction" and any(v >= 1 for v in atoms):
            self._add(path, key, "automation_fraction cannot be exactly 1 with positive probability "
                      "(Amdahl's speed-up 1/(1 - p) would be infinite); use a value below 1", at)
            return False
        return True

    def _values_ok(self, marginal: fam.Marginal, path: Path, key: str, name: str, at: _Locator) -> bool:
        """Every value the simulation can draw is a finite number the model can use.

        Probed down to 1-in-10^19 tails: values must lie within ±VALUE_LIMIT, and above
        POSITIVE_FLOOR for a variable the model divides by, so no product or quotient overflows.
        """
        family = marginal.family
        try:
            x = _values_at(marginal, tuple(PROBE_Z * np.linspace(-1, 1, 7)))
        except (ValueError, ArithmeticError, RuntimeError) as exc:
            self._add(path, key, f"this {family} cannot be evaluated ({exc}); check its parameters", at)
            return False
        x = np.concatenate([x, [v for v, w in marginal.atoms if w > 0]])
        point = family == "point"
        if not np.all(np.isfinite(x)):
            wrong = ", ".join(sorted({f"{v:g}" for v in x if not math.isfinite(v)}))
            self._add(path, key, f"this {family} does not give finite numbers in its far tails (it gives {wrong} "
                      "there); narrow it or truncate it with lower/upper", at)
        elif np.max(np.abs(x)) > VALUE_LIMIT:
            v = x[np.argmax(np.abs(x))]
            self._add(path, key, (f"{v:.3g} is too large" if point else f"this {family} reaches {v:.3g} in its "
                                  "far tail (a 1-in-10^19 draw)") + f": values must lie within ±{VALUE_LIMIT:g}"
                      + ("" if point else "; narrow it or truncate it with lower/upper"), at)
        elif name in DIVISORS and x.min() < POSITIVE_FLOOR:
            self._add(path, key, (f"{x.min():.3g} is too close to 0" if point else f"this {family} reaches "
                                  f"{x.min():.3g} in its far low tail (a 1-in-10^19 draw)")
                      + f": {name} must be at least {POSITIVE_FLOOR:g}"
                      + ("" if point else "; narrow it or truncate it with lower"), at)
        else:
            return True
        return False

    # -- the trial run ---------------------------------------------------------------------
    def trial(self, priors: Priors):
        """Run the model on a few hundred extreme worlds; name the variables of any that fails.

        Each random variable alone at its far tails (z = ±PROBE_Z) with the others at their
        medians, all of them at once, and TRIAL_WORLDS quasi-random worlds in between.
        """
        names = priors.random_names()
        z = _trial_z(len(names))
        bad = _broken(priors, names, z)
        alone = {names[(c - 1) // 2]: c for c in sorted(bad, reverse=True) if 1 <= c <= 2 * len(names)}
        for col in sorted(alone.values()) or sorted(bad)[:1]:  # each variable that fails alone, else one world
            z_bad, why = self._smallest(priors, names, z[:, [col]], bad[col])
            guilty = {n: v for n, v in zip(names, z_bad[:, 0]) if v != 0}
            for name in guilty:
                self._culprit(priors, name, guilty, why)
            if not guilty:
                self._add(priors.path, "", f"the model's {why} with these priors (every variable at its "
                          "median); check their values")

    @staticmethod
    def _smallest(priors: Priors, names: tuple[str, ...], z_bad: np.ndarray, why: str) -> tuple[np.ndarray, str]:
        """A failing world with as many variables as possible put back at their medians."""
        for j in range(len(names)):
            z_try = z_bad.copy()
            z_try[j] = 0.0
            if z_bad[j, 0] != 0 and (again := _broken(priors, names, z_try)):
                z_bad, why = z_try, again[0]
        return z_bad, why

    def _culprit(self, priors: Priors, name: str, zs: dict[str, float], why: str):
        """Report ``name``, one of the variables whose values ``zs`` break the model together."""
        def value(n: str) -> str:
            return f"{n} = {float(_values_at(priors.variables[n].marginal, (zs[n],))[0]):.3g}"

        prior = priors.variables[name]
        key = f"{'cruxes' if BY_NAME[name].crux else 'parameters'}.{name}"
        others = [value(n) for n in zs if n != name]
        where = f"with {value(name)} (a {'high' if zs[name] > 0 else 'low'} value this prior can draw)" + (
            f" and {', '.join(others)}" if others else "") + ", every other variable at its median"
        self._add(prior.origin, key, f"{where}, the model's {why}: the model cannot compute with this prior; "
                  "narrow it or truncate it with lower/upper", self.locators.get(prior.origin))

    # -- correlations ----------------------------------------------------------------------
    def _correlations(self, table: Any, path: Path, at: _Locator) -> dict[tuple[str, str], float]:
        out: dict[tuple[str, str], float] = {}
        for raw, rho in table.items():
            key = f'correlations."{raw}"'
            names = [p.strip() for p in raw.split(",")]
            unknown = [n for n in names if n not in BY_NAME]
            if len(names) != 2 or unknown:
                what = "; ".join(f'unknown variable "{n}"{_suggest(n, NAMES)}' for n in unknown)
                self._add(path, key, (what + "; " if what else "") +
                          'expected "variable_a, variable_b" naming two variables', at)
                continue
            if names[0] == names[1]:
                self._add(path, key, "a variable cannot be correlated with itself", at)
                continue
            pair = tuple(sorted(names, key=NAMES.index))
            if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not _finite(rho):
                self._add(path, key, f"expected a finite number in [-1, 1] (got {_shown(rho)})", at)
            elif not -1 <= rho <= 1:
                self._add(path, key, f"a rank correlation must lie in [-1, 1] (got {rho})", at)
            elif pair in out:
                self._add(path, key, f"the pair {pair[0]}, {pair[1]} is given twice", at)
            else:
                out[pair] = float(rho)
        return out
