"""Read a priors file (MODEL.md §4) once into validated, frozen objects.

Every problem in a file and its ``base`` chain is collected and raised together
as one :class:`~model.errors.PriorsError`, each naming the file, the key (and
the line where it can be found) and what was expected.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping

import numpy as np
from pydantic import ValidationError

from . import families as fam
from .errors import PriorsError, Problem
from .schema import FAMILIES, TO_PATTERN, Calibration, Decision, Meta, MixtureSpec, Simulation, ToSpec
from .variables import BY_NAME, CRUXES, NAMES, PARAMETERS

TABLES = ("meta", "cruxes", "parameters", "correlations", "calibration", "decision", "simulation")
PRESETS_DIR = Path(__file__).resolve().parent.parent / "priors"
_PACKAGED_PRESETS = Path(__file__).resolve().parent / "presets"


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

    def copula(self) -> tuple[tuple[str, ...], np.ndarray]:
        """Variables in the copula and its Pearson correlation matrix.

        Spearman's ρ_s becomes the Gaussian copula's Pearson ρ = 2·sin(π·ρ_s/6),
        which makes the samples' rank correlation exactly ρ_s for continuous
        marginals (Kruskal 1958).
        """
        names = tuple(n for n in NAMES if any(n in pair for pair in self.correlations))
        return names, _pearson(names, self.correlations)

    def random_names(self) -> tuple[str, ...]:
        """Variables whose prior is not a point mass, in NAMES order."""
        return tuple(n for n in NAMES if self.variables[n].marginal.family != "point")

    def inherited(self, name: str) -> bool:
        return self.variables[name].origin != self.path


def _pearson(names, correlations) -> np.ndarray:
    index = {n: i for i, n in enumerate(names)}
    m = np.eye(len(names))
    for (a, b), rho in correlations.items():
        m[index[a], index[b]] = m[index[b], index[a]] = 2 * math.sin(math.pi * rho / 6)
    return m


def preset_path(name: str) -> Path:
    """Where a preset named ``name`` lives (the repository's priors/ or the installed copy)."""
    for folder in (PRESETS_DIR, _PACKAGED_PRESETS):
        if (folder / f"{name}.toml").is_file():
            return folder / f"{name}.toml"
    return PRESETS_DIR / f"{name}.toml"


def load(path: str | Path) -> Priors:
    """Parse and validate ``path`` and its bases; raise PriorsError with every problem."""
    problems: list[Problem] = []
    priors = _Loader(problems).load(Path(path), chain=())
    if problems or priors is None:
        raise PriorsError(problems)
    return priors


class _Locator:
    """Best-effort line numbers of keys, so messages point into the file."""

    _HEADER = re.compile(r'^\s*\[\s*([^\]]+?)\s*\]\s*(?:#.*)?$')
    _KEY = re.compile(r'^\s*(?:"([^"]*)"|([A-Za-z0-9_\-]+))\s*=')

    def __init__(self, text: str):
        self.lines: dict[tuple[str, str], int] = {}
        table = ""
        for no, line in enumerate(text.splitlines(), start=1):
            if h := self._HEADER.match(line):
                table = h.group(1).replace(" ", "").replace('"', "")
                self.lines.setdefault((table, ""), no)
            elif k := self._KEY.match(line):
                self.lines.setdefault((table, k.group(1) or k.group(2)), no)

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


def _suggest(word: str, options) -> str:
    close = difflib.get_close_matches(word, list(options), n=1)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _written(value: Any) -> str:
    if isinstance(value, dict):
        inner = ", ".join(f"{k} = {_written(v)}" for k, v in value.items() if k != "source")
        return "{ " + inner + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_written(v) for v in value) + "]"
    if isinstance(value, str):
        return f'"{value}"'
    return repr(value)


class _Loader:
    def __init__(self, problems: list[Problem]):
        self.problems = problems

    # -- reporting -------------------------------------------------------------------------
    def _add(self, file: Path, key: str, message: str, locator: _Locator | None = None):
        self.problems.append(Problem(file, key, message, locator.line(key) if locator else None))

    def _add_validation(self, file, key, err: ValidationError, locator):
        for e in err.errors():
            loc = ".".join(str(p) if isinstance(p, str) else f"[{p}]" for p in e["loc"])
            full = f"{key}.{loc}".replace(".[", "[") if loc else key
            msg = e["msg"].removeprefix("Value error, ")
            if e["type"] not in ("value_error", "missing", "extra_forbidden") and not isinstance(
                    e.get("input"), (dict, list)):
                msg += f" (got {e.get('input')!r})"
            if e["type"] == "extra_forbidden":
                msg = "unknown key"
            self._add(file, full, msg, locator)

    # -- files -----------------------------------------------------------------------------
    def _read(self, path: Path) -> tuple[str, dict] | None:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            self._add(path, "", "no such priors file")
            return None
        except (OSError, UnicodeDecodeError) as exc:
            self._add(path, "", f"cannot read the file ({exc.__class__.__name__}: {exc})")
            return None
        try:
            return text, tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            m = re.search(r"^(.*) \(at line (\d+), column (\d+)\)$", str(exc))
            if m:
                self.problems.append(Problem(path, "", f"TOML syntax error: {m.group(1)}",
                                             int(m.group(2)), int(m.group(3))))
            else:
                self._add(path, "", f"TOML syntax error: {exc}")
            return None

    def load(self, path: Path, chain: tuple[Path, ...]) -> Priors | None:
        path = Path(path)
        got = self._read(path)
        if got is None:
            return None
        text, data = got
        at = _Locator(text)
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

        meta = self._model(Meta, tables["meta"], path, "meta", at)
        if meta is None:  # keep a usable base so its variables still count
            raw = tables["meta"].get("base")
            meta = Meta(base=raw if isinstance(raw, str) else None)
        parent = None
        base_path = None
        if meta.base is not None:
            base_path = self._base_path(meta.base, path)
            resolved = [p.resolve() for p in (*chain, path)]
            if base_path.resolve() in resolved:
                self._add(path, "meta.base", "base files form a cycle: " + " -> ".join(
                    str(p) for p in (*chain, path, base_path)), at)
            elif not base_path.is_file():
                self._add(path, "meta.base", f'base "{meta.base}" not found (looked for {base_path}); '
                          "expected a preset name such as \"author\" or a path ending in .toml", at)
            else:
                parent = self.load(base_path, (*chain, path))

        variables = dict(parent.variables) if parent else {}
        for table, allowed, other in (("cruxes", CRUXES, "parameters"), ("parameters", PARAMETERS, "cruxes")):
            for name, value in tables[table].items():
                key = f"{table}.{name}"
                if name not in allowed:
                    if name in BY_NAME:
                        self._add(path, key, f"{name} belongs in [{other}], not [{table}]", at)
                    else:
                        self._add(path, key, f"unknown variable{_suggest(name, NAMES)}; expected one of "
                                  + ", ".join(allowed), at)
                    continue
                prior = self._prior(value, path, key, name, at)
                if prior is not None:
                    variables[name] = prior
        if parent is None and meta.base is None:
            missing = [n for n in NAMES if n not in variables and n not in tables["cruxes"]
                       and n not in tables["parameters"]]
            if missing:
                self._add(path, "", "missing variables: " + ", ".join(missing) + ' (set each in [cruxes] '
                          'or [parameters], or inherit them with base = "author" in [meta])')

        correlations = dict(parent.correlations) if parent else {}
        correlations.update(self._correlations(tables["correlations"], path, at))
        if correlations and all(a in variables and b in variables for a, b in correlations):
            names = tuple(n for n in NAMES if any(n in pair for pair in correlations))
            if np.linalg.eigvalsh(_pearson(names, correlations)).min() <= 1e-10:
                self._add(path, "correlations", "the correlations do not form a positive definite "
                          "matrix (no joint distribution has them; perfect correlations of ±1 are "
                          "not allowed either): weaken some of them", at)

        calibration = self._model(Calibration, {**(parent.calibration.model_dump() if parent else {}),
                                                **tables["calibration"]}, path, "calibration", at)
        simulation = self._model(Simulation, {**(parent.simulation.model_dump() if parent else {}),
                                              **tables["simulation"]}, path, "simulation", at)
        decision = self._model(Decision, {**(parent.decision.model_dump(exclude_none=True) if parent else {}),
                                          **tables["decision"]}, path, "decision", at)
        if self.problems:
            return None
        return Priors(path=path, name=meta.name or path.stem, description=meta.description,
                      base=base_path, variables=MappingProxyType({n: variables[n] for n in NAMES}),
                      correlations=MappingProxyType(correlations), calibration=calibration,
                      simulation=simulation, decision=decision)

    @staticmethod
    def _base_path(base: str, path: Path) -> Path:
        if base.endswith(".toml"):
            return (path.parent / base)
        sibling = path.parent / f"{base}.toml"
        return sibling if sibling.is_file() else preset_path(base)

    def _model(self, cls, data, path, key, at):
        try:
            return cls.model_validate(data)
        except ValidationError as err:
            self._add_validation(path, key, err, at)
            return None

    # -- variables -------------------------------------------------------------------------
    def _prior(self, value, path, key, name, at) -> Prior | None:
        marginal, source = self._marginal(value, path, key, at, nested=False)
        if marginal is None:
            return None
        if not self._support_ok(marginal, path, key, name, at):
            return None
        return Prior(name, marginal, _written(value), source, path)

    def _marginal(self, value, path, key, at, nested) -> tuple[fam.Marginal | None, str | None]:
        if isinstance(value, bool) or not isinstance(value, (int, float, str, dict)):
            self._add(path, key, "expected a number, a \"a to b\" string or a table with dist = "
                      f"(got {type(value).__name__} {value!r})", at)
            return None, None
        if isinstance(value, (int, float)):
            if not math.isfinite(value):
                self._add(path, key, f"expected a finite number (got {value})", at)
                return None, None
            return fam.Point(float(value)), None
        if isinstance(value, str):
            m = TO_PATTERN.match(value)
            if not m:
                self._add(path, key, f'expected "a to b" with numbers a < b (got "{value}")', at)
                return None, None
            spec = self._model(ToSpec, {"ci90": [float(m.group(1).replace("_", "")),
                                                 float(m.group(2).replace("_", ""))]}, path, key, at)
            return (self._build(spec, path, key, at), None) if spec else (None, None)
        dist = value.get("dist")
        if dist not in FAMILIES or (nested and dist == "mixture"):
            options = [f for f in FAMILIES if not (nested and f == "mixture")]
            got = "no dist" if dist is None else f'dist = "{dist}"'
            extra = " (mixtures cannot be nested)" if dist == "mixture" else _suggest(str(dist), options)
            self._add(path, f"{key}.dist", f"{got}{extra}; expected one of " + ", ".join(options), at)
            return None, None
        spec = self._model(FAMILIES[dist], value, path, key, at)
        if spec is None:
            return None, None
        if isinstance(spec, MixtureSpec):
            comps = [self._marginal(c, path, f"{key}.components[{i}]", at, nested=True)[0]
                     for i, c in enumerate(spec.components)]
            if any(c is None for c in comps):
                return None, None
            mixture = fam.Mixture(tuple(comps), tuple(spec.weights))
            if spec.lower is None and spec.upper is None:
                return mixture, spec.source
            t = fam.Truncated(mixture, -math.inf if spec.lower is None else spec.lower,
                              math.inf if spec.upper is None else spec.upper)
            if not t.kept_mass > 1e-9:
                self._add(path, key, "truncation keeps no probability mass of this mixture", at)
                return None, None
            return t, spec.source
        return self._build(spec, path, key, at), spec.source

    def _build(self, spec, path, key, at):
        try:
            return spec.to_marginal()
        except ValueError as exc:
            self._add(path, key, str(exc), at)
            return None

    def _support_ok(self, marginal, path, key, name, at) -> bool:
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

    # -- correlations ----------------------------------------------------------------------
    def _correlations(self, table, path, at) -> dict[tuple[str, str], float]:
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
            if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not math.isfinite(rho):
                self._add(path, key, f"expected a finite number in [-1, 1] (got {rho!r})", at)
            elif not -1 <= rho <= 1:
                self._add(path, key, f"a rank correlation must lie in [-1, 1] (got {rho})", at)
            elif pair in out:
                self._add(path, key, f"the pair {pair[0]}, {pair[1]} is given twice", at)
            else:
                out[pair] = float(rho)
        return out
