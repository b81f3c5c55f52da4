"""The shape of the code: layers, one table per concept, a light and honest Python API."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from model.core.quantities import ALL, OUTCOMES, QUANTITIES, ROWS
from model.core.structure import Outcomes

from .conftest import ROOT

PACKAGE = ROOT / "model"
SOURCES = sorted(PACKAGE.rglob("*.py"))
TEMPLATES = sorted(PACKAGE.rglob("*.j2"))


def test_layers_contract_holds():
    """import-linter's layers contract (pyproject.toml): each folder imports only those below."""
    exe = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run([str(exe), "--config", str(ROOT / "pyproject.toml")], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "0 broken" in r.stdout


def test_layers_contract_fails_on_an_upward_import(tmp_path):
    """The contract is not vacuous: a core module importing the CLI breaks it."""
    import shutil

    copy = tmp_path / "model"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__", "templates"))
    with open(copy / "core" / "variables.py", "a", encoding="utf-8") as fh:
        fh.write("\nimport model.cli.terminal  # noqa\n")
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    exe = Path(sys.executable).with_name("lint-imports")
    r = subprocess.run(
        [str(exe)], capture_output=True, text=True, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)}
    )
    assert r.returncode != 0 and "model.core.variables" in r.stdout


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_function_over_60_lines(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    long = [
        f"{n.name} ({n.end_lineno - n.lineno + 1} lines, line {n.lineno})"
        for n in ast.walk(tree)
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.end_lineno - n.lineno + 1 > 60
    ]
    assert not long


def _docstring_lines(path: Path) -> set[int]:
    """Lines of docstrings (examples for a reader may name an outcome)."""
    if path.suffix != ".py":
        return set()
    lines = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(getattr(body[0], "value", None), ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            lines |= set(range(body[0].lineno, body[0].end_lineno + 1))
    return lines


def test_outcome_names_are_spelled_once():
    """Outside the one table, code and templates name the outcomes through it (Q.x_risk, OUTCOMES…)."""
    table = PACKAGE / "core" / "quantities.py"
    spelled = re.compile(r"""["'](%s)["']""" % "|".join(map(re.escape, ROWS)))
    found = [
        f"{p.relative_to(ROOT)}:{i}: {line.strip()}"
        for p in [*SOURCES, *TEMPLATES]
        if p != table
        for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if spelled.search(line) and i not in _docstring_lines(p)
    ]
    assert not found, "\n".join(found)
    labels = {q.label for q in QUANTITIES}
    retyped = [
        f"{p.relative_to(ROOT)}: {label}"
        for p in [*SOURCES, *TEMPLATES]
        if p != table
        for label in labels
        if len(label) > 12 and label in p.read_text(encoding="utf-8")
    ]
    assert not retyped


def test_the_equations_return_every_quantity_of_the_table():
    assert set(ALL) <= set(Outcomes._fields)


def test_import_model_is_light():
    code = (
        "import sys, model\nmodel.load_priors; model.simulate\nimport model.api\n"
        "print(sorted(m for m in ('pymc', 'pytensor', 'arviz', 'matplotlib', 'SALib', 'panel', 'bokeh') "
        "if m in sys.modules))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["load_priors", "simulate", "calibrate", "sensitivity", "compare"])
def test_api_functions_are_documented_with_an_example(name):
    import model

    f = getattr(model, name)
    assert callable(f) and f.__module__ == "model.api"
    assert f.__doc__ and ">>>" in f.__doc__


def test_api_summary_is_the_cli_summary_json(tmp_path):
    """model.simulate(...).summary() equals summary.json of aar-risk run, same seed and samples."""
    import model

    priors = ROOT / "priors" / "openai.toml"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "model",
            "run",
            str(priors),
            "-n",
            "30000",
            "-s",
            "7",
            "-o",
            str(tmp_path / "rep"),
            "-q",
            "--workers",
            "2",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert r.returncode == 0, r.stderr
    written = json.loads((tmp_path / "rep" / "summary.json").read_text())
    cwd = os.getcwd()
    os.chdir(ROOT)  # the summary shows the priors path as the user typed it, from here
    try:
        api = model.simulate(model.load_priors(priors), samples=30_000, seed=7, workers=1).summary()
    finally:
        os.chdir(cwd)
    assert api == written


def test_kept_worlds_are_the_runs_own_first_worlds():
    """keep=n keeps the first n worlds of the very run (not another draw): their mean matches
    a run of exactly those worlds, and the kept frame has n rows."""
    import model

    view = model.load_priors(ROOT / "priors" / "author.toml")
    run = model.simulate(view, samples=70_000, seed=3, keep=70_000, workers=1)
    df = run.to_dataframe()
    assert len(df) == 70_000
    for q in OUTCOMES:
        assert df[q].mean() == pytest.approx(run.estimates[q].mean, rel=1e-12, abs=1e-15)
    part = model.simulate(view, samples=70_000, seed=3, keep=1000, workers=1).to_dataframe()
    assert part.equals(df.iloc[:1000])
    with pytest.raises(ValueError, match="keep"):
        model.simulate(view, samples=1000, seed=3).to_dataframe()


def test_the_notebook_example_runs(tmp_path):
    r = subprocess.run(
        [sys.executable, str(ROOT / "docs" / "examples" / "two_views.py")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "AAR_EXAMPLE_OUT": str(tmp_path)},
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "two_views.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "P(success) =" in r.stdout


def test_api_docstring_examples_are_true(monkeypatch):
    """The examples in model.api's docstrings run and print what they show (from the repository)."""
    import doctest

    import model.api

    monkeypatch.chdir(ROOT)
    failed, attempted = doctest.testmod(model.api, optionflags=doctest.ELLIPSIS, report=True)
    assert attempted >= 8 and failed == 0


def test_api_checks_its_arguments_as_the_cli_does():
    import model

    view = model.load_priors(ROOT / "priors" / "author.toml")
    for kw in (
        {"samples": 1.9},
        {"samples": True},
        {"seed": 1.5},
        {"seed": 2**64},
        {"samples": 0},
        {"keep": 2.5},
        {"samples": 500, "keep": 2000},
    ):
        with pytest.raises(ValueError):
            model.simulate(view, **kw)
    for kw in (
        {"trust": -1},
        {"horizon": 0},
        {"trust": float("nan")},
        {"target": 0},
        {"target": 1.5},
        {"horizon": -4},
        {"methods": ()},
        {"methods": ("bogus",)},
        {"chains": 0},
    ):
        with pytest.raises(ValueError):
            model.calibrate(view, samples=1000, **{"methods": ("tilt",), **kw})


def test_api_calibrated_worlds_carry_their_weights(tmp_path):
    """A calibrated file's kept worlds have a weight column, and the weighted mean of the kept
    worlds is the run's estimate when all worlds are kept."""
    import model

    c = model.calibrate(ROOT / "priors" / "author.toml", methods=("reweight",), samples=20_000, seed=2)
    path = tmp_path / "author.calibrated.toml"
    path.write_text(c.calibrated_priors(tmp_path))
    run = model.simulate(path, samples=20_000, seed=2, keep=20_000, workers=1)
    df = run.to_dataframe()
    assert df["weight"].sum() == pytest.approx(1.0)
    for q in OUTCOMES:
        assert (df[q] * df["weight"]).sum() == pytest.approx(run.estimates[q].mean, rel=1e-9)
    with pytest.raises(ValueError, match="calibrated"):
        model.compare(ROOT / "priors" / "author.toml", path, samples=2000)


def test_figures_leave_the_callers_matplotlib_alone():
    """Run.figures() in a notebook: the backend and rcParams are as the user set them."""
    code = (
        "import matplotlib; matplotlib.use('svg'); matplotlib.rcParams['font.size'] = 14\n"
        "import model\nrun = model.simulate('priors/author.toml', samples=20000, seed=1, workers=1)\n"
        "figs = run.figures()\nimport matplotlib.pyplot as plt\n"
        "print(matplotlib.get_backend(), matplotlib.rcParams['font.size'], len(figs), len(plt.get_fignums()))"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["svg", "14.0", "7", "0"]


def test_no_private_scipy_function():
    """Only scipy's public API (a private name such as ``scipy.special._ufuncs`` may go in any release)."""
    private = re.compile(r"\bscipy(\.\w+)*\._(?!_)\w+|from scipy[\w.]* import _(?!_)\w+")
    found = [
        f"{p.relative_to(ROOT)}:{i}: {line.strip()}"
        for p in sorted((ROOT / "model").rglob("*.py"))
        for i, line in enumerate(p.read_text().splitlines(), 1)
        if private.search(line) or re.search(r"\b_ufuncs\b", line)
    ]
    assert not found, "\n".join(found)
