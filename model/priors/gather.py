"""The evidence a priors file applies (MODEL.md §5.v3): its base's entries, then those of the
files ``[meta] evidence`` lists (relative to the file, under the same rules as ``base``), then
its own ``[[evidence]]``; an entry reached twice applies once."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from model.core.evidence import Entry
from model.core.limits import MAX_BASE_CHARS, MAX_EVIDENCE
from model.core.text import controls, escaped
from model.priors.beliefs import Prior, Priors
from model.priors.evidence import entries
from model.priors.presets import file_kind, resolved
from model.priors.problems import Problems
from model.priors.reading import read
from model.priors.schema import EvidenceMeta
from model.priors.tomltext import Locator


class Evidence:
    """Collects a file's evidence, adding every problem to ``problems``."""

    def __init__(self, problems: Problems, locators: dict[Path, Locator]):
        self.problems = problems
        self.locators = locators

    def gather(
        self,
        parent: Priors | None,
        listed: list[str],
        inline: Any,
        path: Path,
        at: Locator,
        variables: Mapping[str, Prior],
    ) -> tuple[Entry, ...]:
        found: list[Entry] = list(parent.evidence) if parent else []
        for i, name in enumerate(listed):
            file = self._file(name, path, f"meta.evidence[{i}]", at)
            if file is not None:
                found += self._read(file, name)
        found += self._own(entries(inline, path, path.name, at, self.problems), path)
        unique: dict[str, Entry] = {}
        for e in found:
            unique.setdefault(e.ident, e)
        if len(unique) > MAX_EVIDENCE:
            self.problems.add(
                path,
                "evidence",
                f"{len(unique)} evidence entries with the base and included files; at most {MAX_EVIDENCE}",
                at,
            )
        self._unused(unique.values(), variables, path, at)
        return tuple(unique.values())

    @staticmethod
    def _own(got: list[Entry], path: Path) -> list[Entry]:
        from dataclasses import replace

        where = resolved(path)
        return [replace(e, ident=f"{where}#{i}") for i, e in enumerate(got)]

    def _file(self, name: str, path: Path, key: str, at: Locator) -> Path | None:
        """The evidence file ``name`` lists, beside ``path``; None (and a problem) if it cannot be one."""
        if len(name) > MAX_BASE_CHARS or any(len(p.encode("utf-8", "surrogateescape")) > 255 for p in name.split("/")):
            self.problems.add(
                path, key, f"a path of {len(name):,} characters or a name over 255 bytes; use a shorter path", at
            )
            return None
        if not name.endswith(".toml") or controls(name):
            self.problems.add(
                path, key, f'"{escaped(name, 80)}" is not a path ending in .toml (relative to this file)', at
            )
            return None
        found = path.parent / name
        kind = file_kind(found)
        if kind == "missing":
            self.problems.add(
                path, key, f'evidence file "{escaped(name, 80)}" not found (looked for {escaped(str(found), 200)})', at
            )
        elif kind is not None:
            self.problems.add(path, key, f'evidence file "{escaped(name, 80)}" is {kind}, not a regular file', at)
        return found if kind is None else None

    def _read(self, file: Path, name: str) -> list[Entry]:
        """The entries of one evidence file: [[evidence]] and an optional [meta], nothing else."""
        got = read(file, self.problems)
        if got is None:
            return []
        text, data = got
        at = self.locators[file] = Locator(text)
        for key in data:
            if key not in ("meta", "evidence"):
                self.problems.add(
                    file,
                    key,
                    "an evidence file holds only [meta] (name, description) and [[evidence]] entries; "
                    "priors go in a priors file (which can list this one in [meta] evidence)",
                    at,
                )
        if isinstance(data.get("meta", {}), dict):
            self.problems.validated(EvidenceMeta, data.get("meta", {}), file, "meta", at)
        else:
            self.problems.add(file, "meta", "expected a table [meta]", at)
        return self._own(entries(data.get("evidence", []), file, os.path.normpath(name), at, self.problems), file)

    def _unused(self, found, variables: Mapping[str, Prior], path: Path, at: Locator) -> None:
        for e in found:
            prior = variables.get(e.variable) if e.variable else None
            if prior is not None and prior.unused:
                self.problems.add(
                    path,
                    "evidence",
                    f'the measurement "{escaped(e.words(), 120)}" (in {escaped(e.origin, 80)}) is of '
                    f"{e.variable}, which is unused here ({prior.unused})",
                    at,
                )
