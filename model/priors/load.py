"""Read a priors file (docs/model.md, Priors and sampling) once into validated, frozen objects.

A file and its ``base`` chain are read (model/priors/reading.py), each table validated
(model/priors/schema.py), each variable's prior built and checked (model/priors/marginals.py),
the model tried on extreme worlds (model/priors/probes.py), and a calibrated file checked
against what it was fitted to (model/priors/fitted.py). Every problem is collected and raised
together as one :class:`~model.core.errors.PriorsError`.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import MappingProxyType
from typing import Any

from model import families as fam
from model.core.copula import smallest_eigenvalue
from model.core.errors import PriorsError
from model.core.limits import MAX_BASE_CHARS, MAX_BASE_DEPTH, MAX_COMPONENTS
from model.core.structure import OVERRIDE_UNSET
from model.core.text import controls, escaped
from model.core.variables import BY_NAME, CRUXES, DERIVED_WITH, NAMES, PARAMETERS, TIME_OVERRIDE
from model.priors.beliefs import Prior, Priors
from model.priors.gather import Evidence
from model.priors.marginals import Marginals
from model.priors.presets import (
    PRESET_NAME,
    file_kind,
    is_bundled,
    preset_path,
    resolved,
    same_file,
)
from model.priors.probes import trial
from model.priors.problems import Problems, finite, shown, suggest
from model.priors.reading import read
from model.priors.schema import Calibration, Decision, Meta, Simulation
from model.priors.tomltext import Locator

TABLES = ("meta", "cruxes", "parameters", "correlations", "calibration", "decision", "simulation", "evidence")


def load(path: str | Path) -> Priors:
    """Parse and validate ``path`` and its bases; raise PriorsError with every problem."""
    problems = Problems()
    loader = _Loader(problems)
    priors = loader.load(Path(path), chain=())
    if priors is not None and not problems:
        trial(priors, problems)
    if priors is not None and not problems:
        loader.components(priors)
    if priors is not None and not problems:
        priors = loader.fitted(priors)
    if problems or priors is None:
        raise PriorsError(problems.found)
    return priors


class _Loader:
    def __init__(self, problems: Problems):
        self.problems = problems
        self.locators = problems.locators
        self.marginals = Marginals(problems)
        self.calibrated_in: tuple[Path, Path | None] | None = None  # the file setting apply, and its base

    def components(self, priors: Priors) -> None:
        """At most MAX_COMPONENTS mixture components in the file and its bases together."""
        sizes = {n: len(getattr(p.marginal, "components", ())) for n, p in priors.variables.items()}
        if sum(sizes.values()) > MAX_COMPONENTS:
            name = max(sizes, key=sizes.__getitem__)
            prior = priors.variables[name]
            key = f"{'cruxes' if BY_NAME[name].crux else 'parameters'}.{name}.components"
            self.problems.add(
                prior.origin,
                key,
                f"the mixtures have {sum(sizes.values())} components together ("
                + ", ".join(f"{n} {k}" for n, k in sizes.items() if k)
                + f"); at most {MAX_COMPONENTS} in all (each is tabulated by root finding): "
                "merge close components",
                self.locators.get(prior.origin),
            )

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

    def load(self, path: Path, chain: tuple[Path, ...]) -> Priors | None:
        """File ``path`` (inheriting from its ``base``) as Priors; None when it has problems."""
        path = Path(path)
        got = read(path, self.problems)
        if got is None:
            return None
        text, data = got
        at = self.locators[path] = Locator(text)
        tables = self._tables(data, path, at)
        meta = self._meta(tables["meta"], path, at)
        base_path = self._base_path(meta.base, path, at) if meta.base is not None else None
        parent = self._parent(base_path, path, chain, at) if base_path is not None else None
        variables = self._variables(tables, parent, path, at)
        if parent is None and meta.base is None:
            self._complete(variables, tables, path)
        correlations = self._all_correlations(tables["correlations"], parent, variables, path, at)
        notices = self._timing(variables, correlations, tables, parent, path, at)
        evidence = Evidence(self.problems, self.locators).gather(
            parent, meta.evidence, tables["evidence"], path, at, variables
        )
        calibration, simulation, decision = self._settings(tables, parent, path, at)
        if {"apply", "tilt_lambda", "fitted_to"} & set(tables["calibration"]):
            self.calibrated_in = (path, base_path)
        if self.problems:
            return None
        return Priors(
            path=path,
            name=meta.name or path.stem,
            description=meta.description,
            base=base_path,
            variables=MappingProxyType({n: variables[n] for n in NAMES}),
            correlations=MappingProxyType(correlations),
            calibration=calibration,
            simulation=simulation,
            decision=decision,
            notices=notices,
            evidence=evidence,
        )

    def _timing(
        self, variables: dict, correlations: dict, tables: dict, parent: Priors | None, path: Path, at: Locator
    ) -> tuple[str, ...]:
        """v3 C: T_b is C·T_g + build_lag unless years_to_build is set. The unused one of the two
        becomes a placeholder point (marked unused); what the user may not expect is a notice."""
        if self.problems or any(n not in variables for n in NAMES if n not in (TIME_OVERRIDE, DERIVED_WITH)):
            return ()
        override = TIME_OVERRIDE in variables
        if not override and DERIVED_WITH not in variables:
            return ()  # reported as missing by _complete
        unused = DERIVED_WITH if override else TIME_OVERRIDE
        set_in = variables.get(unused)
        why = (
            f"{TIME_OVERRIDE} is set, so T_b is taken from it"
            if override
            else f"T_b is derived as capability_needed·years_to_agi + {DERIVED_WITH}"
        )
        variables[unused] = Prior(unused, fam.Point(OVERRIDE_UNSET), "unused", why, path, unused=why)
        notices = []
        if override:
            origin = escaped(variables[TIME_OVERRIDE].origin.name, 80)
            notices.append(
                f"{TIME_OVERRIDE} is set (in {origin}): T_b is taken from its prior, not derived as "
                f"capability_needed·years_to_agi + {DERIVED_WITH} (model v3), so dated evidence about "
                "capability cannot reach T_b"
                + (
                    f"; {DERIVED_WITH} (set in {escaped(set_in.origin.name, 80)}) is unused"
                    if set_in is not None
                    else ""
                )
            )
        elif parent is not None and DERIVED_WITH not in tables["parameters"] and not is_bundled(path):
            notices.append(
                f"T_b is derived (model v3): capability_needed·years_to_agi + {DERIVED_WITH} ({DERIVED_WITH} "
                f"from {escaped(variables[DERIVED_WITH].origin.name, 80)}); set {TIME_OVERRIDE} in [parameters] "
                "to give T_b directly instead"
            )
        own = {}  # this file's own pairs, by the key as written (for the error's line)
        for raw in tables["correlations"]:
            names = [n.strip() for n in str(raw).split(",")]
            if len(names) == 2 and all(n in BY_NAME for n in names):
                own[tuple(sorted(names, key=NAMES.index))] = raw
        for pair in [p for p in correlations if unused in p]:
            if pair in own and correlations[pair] != 0:
                self.problems.add(
                    path,
                    f'correlations."{own[pair]}"',
                    f"{unused} is unused here ({why}): correlate "
                    f"{TIME_OVERRIDE if unused == DERIVED_WITH else DERIVED_WITH} instead, or "
                    + (f"remove {TIME_OVERRIDE} to derive T_b" if override else f"set {TIME_OVERRIDE} to override T_b"),
                    at,
                )
            elif pair not in own:  # inherited from a base that used the variable: it no longer applies
                notices.append(
                    f"the correlation {pair[0]}, {pair[1]} = {correlations[pair]:g} from a base file is dropped: "
                    f"{unused} is unused here ({why})"
                )
            correlations.pop(pair)
        return tuple(notices)

    def _tables(self, data: dict, path: Path, at: Locator) -> dict[str, Any]:
        """Each known table of the file ({} when absent); unknown tables and non-tables reported."""
        for table in data:
            if table not in TABLES:
                self.problems.add(
                    path,
                    table,
                    f"unknown table{suggest(table, TABLES)}; expected one of " + ", ".join(f"[{t}]" for t in TABLES),
                    at,
                )
        tables: dict[str, Any] = {"evidence": data.get("evidence", [])}  # an array of tables, read by Evidence
        for table in TABLES[:-1]:
            value = data.get(table, {})
            if not isinstance(value, dict):
                self.problems.add(path, table, f"expected a table [{table}], got {type(value).__name__}", at)
                value = {}
            tables[table] = value
        return tables

    def _meta(self, table: dict, path: Path, at: Locator) -> Meta:
        meta = self.problems.validated(Meta, table, path, "meta", at)
        if meta is None:  # keep a usable base so its variables still count
            raw = table.get("base")
            meta = Meta(base=raw if isinstance(raw, str) else None, evidence=[])
        return meta

    def _variables(self, tables: dict, parent: Priors | None, path: Path, at: Locator) -> dict[str, Prior]:
        """The parent's priors overridden by those of [cruxes] and [parameters]."""
        variables = {n: p for n, p in parent.variables.items() if p.unused is None} if parent else {}
        for table, allowed, other in (("cruxes", CRUXES, "parameters"), ("parameters", PARAMETERS, "cruxes")):
            for name, value in tables[table].items():
                key = f"{table}.{name}"
                if name in allowed:
                    if (prior := self.marginals.prior(value, path, key, name, at)) is not None:
                        variables[name] = prior
                elif name in BY_NAME:
                    self.problems.add(path, key, f"{name} belongs in [{other}], not [{table}]", at)
                else:
                    self.problems.add(
                        path, key, f"unknown variable{suggest(name, NAMES)}; expected one of " + ", ".join(allowed), at
                    )
        return variables

    def _complete(self, variables: dict, tables: dict, path: Path):
        """A file without a base must set every variable."""
        given = set(variables) | set(tables["cruxes"]) | set(tables["parameters"])
        missing = [
            n
            for n in NAMES
            if n not in given and not BY_NAME[n].optional and not (n == DERIVED_WITH and TIME_OVERRIDE in given)
        ]
        if missing:
            self.problems.add(
                path,
                "",
                "missing variables: " + ", ".join(missing) + " (set each in [cruxes] "
                'or [parameters], or inherit them with base = "author" in [meta])',
            )

    def _all_correlations(
        self, table: dict, parent: Priors | None, variables: dict, path: Path, at: Locator
    ) -> dict[tuple[str, str], float]:
        """The parent's correlations updated by this file's, checked positive definite together."""
        correlations = dict(parent.correlations) if parent else {}
        correlations.update(self._correlations(table, path, at))
        if (
            correlations
            and all(a in variables and b in variables for a, b in correlations)
            and smallest_eigenvalue(NAMES, correlations) <= 1e-10
        ):
            self.problems.add(
                path,
                "correlations",
                "the correlations do not form a positive definite "
                "matrix (no joint distribution has them; perfect correlations of ±1 are "
                "not allowed either): weaken some of them",
                at,
            )
        return correlations

    def _settings(self, tables: dict, parent: Priors | None, path: Path, at: Locator):
        """[calibration], [simulation] and [decision], each over the parent's."""

        def merged(cls: type, table: Any, inherited: Any) -> Any:
            return self.problems.validated(cls, {**inherited, **tables[table]}, path, table, at)

        return (
            merged(Calibration, "calibration", parent.calibration.model_dump() if parent else {}),
            merged(Simulation, "simulation", parent.simulation.model_dump() if parent else {}),
            merged(Decision, "decision", parent.decision.model_dump(exclude_none=True) if parent else {}),
        )

    def _parent(self, base_path: Path, path: Path, chain: tuple[Path, ...], at: Locator) -> Priors | None:
        """The base file loaded, unless it closes a cycle or makes the chain too long."""
        if resolved(base_path) in [resolved(p) for p in (*chain, path)]:
            self.problems.add(
                path,
                "meta.base",
                "base files form a cycle: " + " -> ".join(str(p) for p in (*chain, path, base_path)),
                at,
            )
        elif len(chain) + 2 > MAX_BASE_DEPTH:
            self.problems.add(
                path,
                "meta.base",
                f"too many base files: {chain[0]} inherits through more than "
                f"{MAX_BASE_DEPTH} files in a chain (each one's base has a base); inherit from a "
                "file nearer the end of the chain",
                at,
            )
        else:
            return self.load(base_path, (*chain, path))
        return None

    def _base_path(self, base: str, path: Path, at: Locator) -> Path | None:
        """The file ``base`` names: a path ending in .toml (beside ``path``), or a preset name.

        A preset name is looked up beside ``path`` first, then among the presets; ``path``
        itself never counts, so priors/author.toml with base = "author" inherits the preset.
        """
        if len(base) > MAX_BASE_CHARS:
            self.problems.add(
                path,
                "meta.base",
                f"base is a path of {len(base):,} characters; at most "
                f'{MAX_BASE_CHARS} (a preset name such as "author" or a shorter relative path '
                "ending in .toml)",
                at,
            )
            return None
        too_long = [p for p in base.split("/") if len(p.encode("utf-8", "surrogateescape")) > 255]
        if too_long:
            size = len(too_long[0].encode("utf-8", "surrogateescape"))
            self.problems.add(
                path, "meta.base", f"base has a name of {size} bytes in it; a file system allows at most 255", at
            )
            return None
        if base.endswith(".toml") and not controls(base):
            found = path.parent / base
        elif PRESET_NAME.fullmatch(base):
            sibling = path.parent / f"{base}.toml"
            found = (
                sibling
                if file_kind(sibling) is None and not same_file(sibling, path)
                else (preset_path(base, exclude=path))
            )
        else:
            self.problems.add(
                path,
                "meta.base",
                f"base = {shown(base)} is neither a preset name (letters, digits, "
                "'_' or '-', such as \"author\") nor a path ending in .toml",
                at,
            )
            return None
        kind, named = file_kind(found), escaped(base, 80)
        if kind == "missing":
            self.problems.add(
                path,
                "meta.base",
                f'base "{named}" not found (looked for {escaped(str(found), 200)}); '
                'expected a preset name such as "author" or a path ending in .toml',
                at,
            )
        elif kind is not None:
            self.problems.add(path, "meta.base", f'base "{named}" is {kind}, not a regular priors file', at)
        return found if kind is None else None

    # -- correlations ----------------------------------------------------------------------
    def _correlations(self, table: Any, path: Path, at: Locator) -> dict[tuple[str, str], float]:
        out: dict[tuple[str, str], float] = {}
        for raw, rho in table.items():
            key = f'correlations."{raw}"'
            names = [p.strip() for p in raw.split(",")]
            unknown = [n for n in names if n not in BY_NAME]
            if len(names) != 2 or unknown:
                what = "; ".join(f'unknown variable "{n}"{suggest(n, NAMES)}' for n in unknown)
                self.problems.add(
                    path,
                    key,
                    (what + "; " if what else "") + 'expected "variable_a, variable_b" naming two variables',
                    at,
                )
                continue
            if names[0] == names[1]:
                self.problems.add(path, key, "a variable cannot be correlated with itself", at)
                continue
            pair = tuple(sorted(names, key=NAMES.index))
            if isinstance(rho, bool) or not isinstance(rho, (int, float)) or not finite(rho):
                self.problems.add(path, key, f"expected a finite number in [-1, 1] (got {shown(rho)})", at)
            elif not -1 <= rho <= 1:
                self.problems.add(path, key, f"a rank correlation must lie in [-1, 1] (got {rho})", at)
            elif pair in out:
                self.problems.add(path, key, f"the pair {pair[0]}, {pair[1]} is given twice", at)
            else:
                out[pair] = float(rho)
        return out
