"""The code passes its own tools: ruff (lint and format) and mypy, as pyproject.toml configures
them ([tool.ruff], [tool.mypy]), with zero findings on model/."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import ROOT


def _tool(name: str) -> Path:
    """The tool installed beside this interpreter (the test extra installs it), else a skip."""
    exe = Path(sys.executable).with_name(name)
    if not exe.is_file():
        pytest.skip(f"{name} is not installed beside {sys.executable} (pip install -e '.[test]')")
    return exe


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([*args], capture_output=True, text=True, cwd=ROOT, timeout=600)


def test_ruff_check_finds_nothing():
    r = _run(str(_tool("ruff")), "check", "--no-cache", "model/")
    assert r.returncode == 0, r.stdout + r.stderr


def test_ruff_format_changes_nothing():
    r = _run(str(_tool("ruff")), "format", "--check", "--no-cache", "model/")
    assert r.returncode == 0, r.stdout + r.stderr


@pytest.mark.slow  # about 20 s without mypy's cache
def test_mypy_finds_nothing():
    r = _run(str(_tool("mypy")), "model/")
    assert r.returncode == 0, r.stdout + r.stderr
    assert r.stdout.startswith("Success: no issues found"), r.stdout
