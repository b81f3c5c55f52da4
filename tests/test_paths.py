"""Every repository path and module a docstring, comment or document names exists.

Paths such as ``model/priors/load.py`` or ``docs/model.md`` must be files or folders of the
repository; dotted names such as ``model.core.copula`` (in backticks or Sphinx roles) must be
modules, or names defined in one (``model.core.copula.GaussianCopula``).
"""

from __future__ import annotations

import ast
import re
from functools import lru_cache
from pathlib import Path

import pytest

from .conftest import ROOT

TOP = ("model", "docs", "tests", "priors", "benchmarks", "scripts")
#: A path: a top folder, then parts, ending in a file name with a suffix or a folder's "/".
PATH = re.compile(r"(?<![\w./-])((?:%s)/[\w./-]*[\w/])" % "|".join(TOP))
#: A dotted name of the package: ``model.x.y`` inside backticks or after a Sphinx role.
MODULE = re.compile(r"(?:`|:\w+:`~?)(model(?:\.\w+)++)(?<!\.md)(?<!\.py)(?<!\.toml)")
#: Stale references left to their owners: the reports print these, so fixing them changes
#: every report's bytes (done with the report rewrite). Remove an entry once it is fixed.
PENDING: set[tuple[str, str]] = set()
SOURCES = [
    *sorted((ROOT / "model").rglob("*.py")),
    *sorted((ROOT / "model").rglob("*.j2")),
    *sorted((ROOT / "docs").rglob("*.md")),
    ROOT / "README.md",
]


def _path_exists(ref: str) -> bool:
    ref = ref.rstrip("/.")
    if any(c in ref for c in "*{}<>") or re.search(r"\b[A-Z]{2,}\b", ref):  # a pattern: priors/NAME.toml
        return True
    return (ROOT / ref).exists()


@lru_cache(maxsize=None)
def _defined(module: Path) -> frozenset[str]:
    """Names defined at the top of a module (functions, classes, assignments, imports)."""
    tree = ast.parse(module.read_text(encoding="utf-8"))
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            for t in node.targets if isinstance(node, ast.Assign) else [node.target]:
                names |= {n.id for n in ast.walk(t) if isinstance(n, ast.Name)}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
    for node in tree.body:  # model/__init__.py serves names lazily: those of _API and __all__
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") in ("_API", "__all__"):
            names |= {e.value for e in ast.walk(node.value) if isinstance(e, ast.Constant) and isinstance(e.value, str)}
    return frozenset(names)


def _module_exists(ref: str) -> bool:
    parts = ref.split(".")
    for cut in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:cut])
        for module in (base.with_suffix(".py"), base / "__init__.py"):
            if module.is_file():
                rest = parts[cut:]
                return not rest or rest[0] in _defined(module)
    return False


def _references(path: Path) -> list[tuple[int, str, bool]]:
    found = []
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        found += [(i, m.group(1), _path_exists(m.group(1))) for m in PATH.finditer(line)]
        found += [(i, m.group(1), _module_exists(m.group(1))) for m in MODULE.finditer(line)]
    return found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_named_path_and_module_exists(path):
    here = path.relative_to(ROOT).as_posix()
    missing = [f"{here}:{i}: {ref}" for i, ref, ok in _references(path) if not ok and (here, ref) not in PENDING]
    assert not missing, "names that do not exist:\n" + "\n".join(missing)


def test_pending_references_are_still_stale():
    """An entry of PENDING that was fixed is taken off the list."""
    for where, ref in sorted(PENDING):
        assert any(r == ref and not ok for _, r, ok in _references(ROOT / where)), (where, ref)


def test_the_scanner_finds_paths_and_modules():
    """The check is not vacuous: it reads both kinds of reference and tells good from bad."""
    text = "see model/priors/load.py, docs/model.md and :mod:`model.core.copula` but not `model.spec.x`"
    paths = [m.group(1) for m in PATH.finditer(text)]
    modules = [m.group(1) for m in MODULE.finditer(text)]
    assert paths == ["model/priors/load.py", "docs/model.md"] and modules == ["model.core.copula", "model.spec.x"]
    assert all(map(_path_exists, paths)) and _module_exists(modules[0]) and not _module_exists(modules[1])
    assert not _path_exists("model/analyses/calibrate.py")
