"""One variable's prior read from its value in the file: a number (a point), an ``"a to b"``
string or a family's table, built into a marginal and checked against the variable's
support and the values the model can use."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from model import families as fam
from model.core.limits import MAX_COMPONENTS
from model.core.variables import BY_NAME
from model.priors.beliefs import Prior
from model.priors.probes import values_ok
from model.priors.problems import Problems, finite, shown, suggest
from model.priors.schema import FAMILIES, TO_PATTERN, ToSpec
from model.priors.tomltext import Locator


class Marginals:
    """Reads priors, adding what is wrong with them to ``problems``."""

    def __init__(self, problems: Problems):
        self.problems = problems

    def prior(self, value: Any, path: Path, key: str, name: str, at: Locator) -> Prior | None:
        with np.errstate(all="ignore"):  # extreme parameters overflow inside scipy; the checks say why
            marginal, source = self._marginal(value, path, key, at, nested=False)
            if marginal is None or not (
                self._support_ok(marginal, path, key, name, at)
                and values_ok(marginal, path, key, name, at, self.problems)
            ):
                return None
        return Prior(name, marginal, written(value), source, path)

    def _marginal(
        self, value: Any, path: Path, key: str, at: Locator, nested: bool
    ) -> tuple[fam.Marginal | None, str | None]:
        """A number (a point), an ``"a to b"`` string or a family's table, and its source."""
        if isinstance(value, bool) or not isinstance(value, (int, float, str, dict)):
            self.problems.add(
                path,
                key,
                'expected a number, a "a to b" string or a table with dist = '
                f"(got {type(value).__name__} {shown(value)})",
                at,
            )
            return None, None
        if isinstance(value, (int, float)):
            if not finite(value):
                self.problems.add(path, key, f"expected a finite number (got {shown(value)})", at)
                return None, None
            return fam.Point(float(value)), None
        if isinstance(value, str):
            return self._a_to_b(value, path, key, at), None
        return self._family(value, path, key, at, nested)

    def _a_to_b(self, value: str, path: Path, key: str, at: Locator) -> fam.Marginal | None:
        m = TO_PATTERN.match(value)
        if not m:
            self.problems.add(path, key, f'expected "a to b" with numbers a < b (got {shown(value)})', at)
            return None
        spec = self.problems.validated(
            ToSpec, {"ci90": [float(m.group(1).replace("_", "")), float(m.group(2).replace("_", ""))]}, path, key, at
        )
        return self._build(spec, path, key, at) if spec else None

    def _family(
        self, value: dict, path: Path, key: str, at: Locator, nested: bool
    ) -> tuple[fam.Marginal | None, str | None]:
        """A table with ``dist``: validated by that family's Spec, its nested parts parsed first."""
        dist = value.get("dist")
        options = [f for f, spec in FAMILIES.items() if spec.nestable or not nested]
        if not isinstance(dist, str) or dist not in options:
            got = "no dist" if dist is None else f"dist = {shown(dist)}"
            extra = f" ({dist}s cannot be nested)" if dist in FAMILIES else suggest(str(dist), options)
            self.problems.add(path, f"{key}.dist", f"{got}{extra}; expected one of " + ", ".join(options), at)
            return None, None
        components = value.get("components")
        if isinstance(components, list) and len(components) > MAX_COMPONENTS:
            self.problems.add(
                path,
                f"{key}.components",
                f"{len(components):,} components; a priors file's mixtures "
                f"have at most {MAX_COMPONENTS} in all (each is tabulated by root finding): merge close "
                "components",
                at,
            )
            return None, None
        spec = self.problems.validated(FAMILIES[dist], value, path, key, at)
        if spec is None:
            return None, None
        parts = [self._marginal(v, path, f"{key}.{sub}", at, nested=True)[0] for sub, v in spec.parts()]
        if any(p is None for p in parts):
            return None, None
        return self._build(spec, path, key, at, tuple(parts)), spec.source

    def _build(self, spec: Any, path: Path, key: str, at: Locator, parts: tuple = ()) -> fam.Marginal | None:
        try:
            with np.errstate(all="ignore"):
                return spec.to_marginal(parts)
        except ValueError as exc:
            self.problems.add(path, key, str(exc), at)
        except (ArithmeticError, RuntimeError) as exc:
            self.problems.add(path, key, f"this distribution cannot be built ({exc}); check its parameters", at)
        return None

    def _support_ok(self, marginal: fam.Marginal, path: Path, key: str, name: str, at: Locator) -> bool:
        rule = BY_NAME[name].support
        lo, hi = marginal.support
        atoms = [v for v, w in marginal.atoms if w > 0]
        family = marginal.family
        need = {
            "nonnegative": "must be >= 0",
            "positive": "must be > 0",
            "probability": "is a probability and must lie in [0, 1]",
        }.get(rule)
        bad = (
            (rule in ("nonnegative", "positive", "probability") and lo < 0)
            or (rule == "positive" and any(v <= 0 for v in atoms))
            or (rule == "probability" and hi > 1)
        )
        if bad:
            self.problems.add(
                path,
                key,
                f"{name} {need}, but this {family} has support [{lo:g}, {hi:g}]; "
                "use a family inside that range or truncate it with lower/upper",
                at,
            )
            return False
        if name == "automation_fraction" and any(v >= 1 for v in atoms):
            self.problems.add(
                path,
                key,
                "automation_fraction cannot be exactly 1 with positive probability "
                "(Amdahl's speed-up 1/(1 - p) would be infinite); use a value below 1",
                at,
            )
            return False
        return True


def _toml_string(text: str) -> str:
    """``text`` as a TOML basic string (templates quote priors back into files)."""

    def char(c: str) -> str:
        if c in '"\\':
            return "\\" + c
        if c.isprintable():
            return c
        return f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}"

    return '"' + "".join(map(char, text)) + '"'


def written(value: Any) -> str:
    if isinstance(value, dict):
        inner = ", ".join(f"{k} = {written(v)}" for k, v in value.items() if k != "source")
        return "{ " + inner + " }"
    if isinstance(value, list):
        return "[" + ", ".join(written(v) for v in value) + "]"
    if isinstance(value, str):
        return _toml_string(value)
    return repr(value)
