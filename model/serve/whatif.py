"""What-ifs: a variable's 5th and 95th percentiles (or a point's value) changed on the page.

The user's file stays untouched: a what-if is a small overlay file in a temporary folder
that inherits the user's file (``[meta] base`` = its absolute path) and sets only the
changed variables. "Write to file" puts the same values into the user's file with
tomlkit, so its comments and layout stay as they were.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

import numpy as np
import tomlkit

from model.core.errors import PriorsError
from model.core.variables import BY_NAME, CRUXES
from model.spec.priors import Prior, Priors, load

#: A what-if: (5th, 95th percentile) of a distribution, or the value of a point.
Change = tuple[float, float] | float


def table_of(name: str) -> str:
    """The table a variable is written in: [cruxes] or [parameters]."""
    return "cruxes" if name in CRUXES else "parameters"


def interval(prior: Prior) -> tuple[float, float] | float:
    """A prior's (5th, 95th) percentiles, or its value when it is a point."""
    m = prior.marginal
    if m.family == "point":
        return float(m.ppf(np.array([0.5]))[0])
    lo, hi = m.ppf(np.array([0.05, 0.95]))
    return float(lo), float(hi)


def _number(x: float) -> float | int:
    """``x`` rounded to 6 significant digits, as people write numbers in a file."""
    y = float(f"{x:.6g}")
    return int(y) if y.is_integer() and abs(y) < 1e15 else y


def _inline(items: Mapping[str, object]) -> tomlkit.items.InlineTable:
    """An inline table written ``{ key = value, … }``, as the presets write them."""
    text = ", ".join(f"{k} = {tomlkit.item(v).as_string()}" for k, v in items.items())
    return tomlkit.parse(f"x = {{ {text} }}")["x"]


def candidates(prior: Prior, change: Change) -> list[object]:
    """TOML values for ``change``, best first: the prior's own family refitted by ``ci90``;
    then ``"a to b"`` (lognormal, or normal when a ≤ 0) for a family that has no ``ci90``.
    Truncation bounds and ``source`` are kept."""
    m = prior.marginal
    keep = {"source": prior.source} if prior.source else {}
    if m.family == "point" or not isinstance(change, tuple):
        value = _number(float(change[0] if isinstance(change, tuple) else change))
        return [_inline({"dist": "point", "value": value, **keep}) if keep else value]
    a, b = (_number(x) for x in change)
    base = getattr(m, "base", m)  # a truncated family's own
    bounds = {k: _number(getattr(m, k)) for k in ("lower", "upper")
              if base is not m and math.isfinite(getattr(m, k))}
    own = _inline({"dist": base.family, "ci90": [a, b], **bounds, **keep})
    to = _inline({"dist": "lognormal" if a > 0 else "normal", "ci90": [a, b], **bounds, **keep})
    plain = f"{a:g} to {b:g}"
    if prior.written.startswith(('"', "'")) and not keep:  # written as "a to b": keep that form
        return [plain, own]
    return [own, to if (bounds or keep) else plain]


def overlay_text(priors: Priors, values: Mapping[str, object]) -> str:
    """A priors file that inherits ``priors``' file and sets ``values`` (TOML values by variable)."""
    doc = tomlkit.document()
    meta = tomlkit.table()
    meta.update({"name": priors.name, "description": priors.description,
                 "base": str(Path(priors.path).absolute())})
    doc.add("meta", meta)
    for table in ("cruxes", "parameters"):
        mine = {n: v for n, v in values.items() if table_of(n) == table}
        if mine:
            t = tomlkit.table()
            for n, v in mine.items():
                t.add(n, v)
            doc.add(table, t)
    return tomlkit.dumps(doc)


def _load_overlay(folder: str, priors: Priors, values: Mapping[str, object]) -> Priors:
    overlay = Path(folder) / "what-if.toml"
    overlay.write_text(overlay_text(priors, values), encoding="utf-8")
    return load(overlay)


@dataclass(frozen=True)
class WhatIf:
    """The priors with the what-ifs applied, and the TOML value each variable got."""

    priors: Priors
    values: Mapping[str, object]


def apply(priors: Priors, changes: Mapping[str, Change]) -> WhatIf:
    """``priors`` (loaded from its file) with ``changes``; raises PriorsError naming the file.

    Each variable takes its first candidate value that loads (tried alone, then remembered).
    """
    if not changes:
        return WhatIf(priors, {})
    with tempfile.TemporaryDirectory(prefix="aar-what-if-") as folder:
        chosen = {n: _value(folder, priors, n, c) for n, c in changes.items()}
        try:
            return WhatIf(_load_overlay(folder, priors, chosen), chosen)
        except PriorsError as exc:
            raise _renamed(exc, priors.path) from None


_chosen: dict[tuple, object] = {}


def _value(folder: str, priors: Priors, name: str, change: Change) -> object:
    """The first of :func:`candidates` that loads on its own (the last one if none does)."""
    prior = priors.variables[name]
    key = (name, prior.written, prior.source, change)
    if key not in _chosen:
        options = candidates(prior, change)
        _chosen[key] = options[-1]
        for value in options[:-1]:
            try:
                _load_overlay(folder, priors, {name: value})
            except PriorsError:
                continue
            _chosen[key] = value
            break
        if len(_chosen) > 4096:
            _chosen.clear()
    return _chosen[key]


def _renamed(error: PriorsError, path: Path) -> PriorsError:
    """The overlay's problems, said of the page's what-if rather than of a temporary file."""
    from model.core.errors import Problem

    what = f"what-if on {Path(path).name}"
    return PriorsError([Problem(Path(what) if "aar-what-if-" in str(p.file) else p.file, p.key, p.message)
                        for p in error.problems])


def write(path: Path, values: Mapping[str, object]) -> list[str]:
    """Put ``values`` (TOML values by variable) into the user's file, keeping its comments and
    layout; returns the variables that were inherited and are now set in the file itself.

    Written to a temporary file beside it and renamed over it, so a reader never sees half.
    """
    path = Path(path)
    text = path.read_text(encoding="utf-8-sig")
    doc = tomlkit.parse(text)
    added = []
    for name, value in values.items():
        table = table_of(name)
        if table not in doc:
            doc.add(tomlkit.nl())
            doc.add(table, tomlkit.table())
        if name not in doc[table]:
            added.append(name)
            doc[table].add(tomlkit.comment(f"{name}: set on the aar-risk serve page (was inherited)"))
        doc[table][name] = value
    _replace(path, tomlkit.dumps(doc))
    return added


def _replace(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` atomically, keeping its permissions."""
    real = Path(os.path.realpath(path))  # a symlinked file stays a symlink
    fd, tmp = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=real.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.chmod(tmp, os.stat(real).st_mode & 0o7777)
        os.replace(tmp, real)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
