"""What-ifs: a variable's 5th and 95th percentiles (or a point's value) changed on the page.

The user's file stays untouched: a what-if is a small overlay file that inherits the
user's file (``[meta] base`` = its absolute path) and sets only the changed variables.
On Linux the overlay lives in memory (``memfd_create``, read through ``/proc/self/fd``),
so nothing is left in $TMPDIR whenever the server stops, even by SIGKILL; elsewhere it is
a temporary folder removed right after loading. "Write to file" puts the same values into
the user's file with tomlkit, so its comments and layout stay as they were.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tomlkit

from model.core.errors import PriorsError
from model.core.variables import CRUXES
from model.priors.priors import Prior, Priors, load

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
    """``x`` as briefly as it can be written without losing what was typed: the fewest
    significant digits (at least 6) within 1e-12 of it, so 0.9999999 stays 0.9999999 (6
    digits made it 1, which a probability's interval refused) and a slider's float noise
    (0.30000000000000004) is dropped."""
    y = x
    for digits in range(6, 18):
        y = float(f"{x:.{digits}g}")
        if abs(y - x) <= 1e-12 * max(abs(x), 1e-300):
            break
    return int(y) if y.is_integer() and abs(y) < 1e15 else y


def _inline(items: Mapping[str, object]) -> tomlkit.items.InlineTable:
    """An inline table written ``{ key = value, … }``, as the presets write them."""
    text = ", ".join(f"{k} = {tomlkit.item(v).as_string()}" for k, v in items.items())
    return tomlkit.parse(f"x = {{ {text} }}")["x"]


def candidates(prior: Prior, change: Change) -> list[object]:
    """TOML values for ``change``, best first: the prior's own family, within its bounds, with
    these 5th and 95th percentiles (:func:`model.priors.refit.interval_table`); then, for a
    family that has no such form (a mixture), ``"a to b"`` (lognormal, or normal when a ≤ 0)
    with the truncation bounds. ``source`` is kept. :func:`choose` takes the first that loads
    and holds the interval within the old bounds."""
    from model.priors.refit import interval_table

    m = prior.marginal
    keep = {"source": prior.source} if prior.source else {}
    if m.family == "point" or not isinstance(change, tuple):
        value = _number(float(change[0] if isinstance(change, tuple) else change))
        return [_inline({"dist": "point", "value": value, **keep}) if keep else value]
    a, b = (_number(x) for x in change)
    base = getattr(m, "base", m)  # a truncated family's own
    bounds = {k: _number(getattr(m, k)) for k in ("lower", "upper") if base is not m and math.isfinite(getattr(m, k))}
    try:
        table = interval_table(m, float(a), float(b))
    except ValueError:  # no interval form in this family: another family, said beside the control
        table = None
    own = [_inline({k: _toml(v) for k, v in table.items()} | keep)] if table is not None else []
    to = _inline({"dist": "lognormal" if a > 0 else "normal", "ci90": [a, b], **bounds, **keep})
    plain = f"{a:g} to {b:g}"
    if prior.written.startswith(('"', "'")) and not keep and m.family in ("lognormal", "normal"):
        return [plain, *own]  # written as "a to b": keep that form
    return [*own, to if (bounds or keep) else plain]


def _toml(v):
    return [_number(x) for x in v] if isinstance(v, list) else _number(v) if isinstance(v, float) else v


#: How far a what-if's prior may miss the 5% tail masses it was asked for (each end).
MASS_TOLERANCE = 1e-3


def refusal(prior: Prior, change: Change) -> str | None:
    """Why ``change`` is impossible for ``prior`` (None: it is not): a number that is not
    finite, a 5th percentile not below the 95th, or a value outside the variable's support or
    the prior's bounds (a probability outside [0, 1], a PERT's outside its min and max)."""
    from model.core.variables import BY_NAME

    values = change if isinstance(change, tuple) else (change,)
    name = prior.name
    if not all(math.isfinite(v) for v in values):
        return f"{name}: {', '.join(f'{v:g}' for v in values)} is not a number"
    if isinstance(change, tuple) and not change[0] < change[1]:
        return f"{name}: the 5th percentile ({change[0]:g}) must be below the 95th ({change[1]:g})"
    lo, hi = (float(x) for x in prior.marginal.support)
    support = BY_NAME[name].support
    what = "a probability" if support == "probability" else f"a {_family(prior.marginal)} on {lo:g} to {hi:g}"
    if prior.marginal.family == "point":  # a point's support is its value: the variable's own limits
        lo, hi = {"probability": (0.0, 1.0), "positive": (0.0, math.inf), "nonnegative": (0.0, math.inf)}.get(
            support, (-math.inf, math.inf)
        )
        what = {"probability": "a probability", "real": "a number"}.get(support, support)
    open_lo = support == "positive" and lo == 0
    bad = [v for v in values if not lo <= v <= hi or (v == lo and open_lo)]
    if bad:
        span = f"{'(' if open_lo else '['}{lo:g}, {hi:g}{')' if math.isinf(hi) else ']'}".replace("inf", "∞")
        return f"{name} is {what}: {bad[0]:g} is outside {span}"
    return None


def _family(m) -> str:
    base = getattr(m, "base", m)
    return f"truncated {base.family}" if base is not m else m.family


def faithful(old: Prior, new: Prior, change: Change) -> str | None:
    """Why ``new`` (a candidate what-if) does not say what was asked (None: it does): its 5th
    and 95th percentiles miss by more than :data:`MASS_TOLERANCE` of mass, or it puts mass
    outside the old prior's bounds."""
    if not isinstance(change, tuple):
        return None
    m = new.marginal
    (lo, hi), (old_lo, old_hi) = m.support, old.marginal.support
    if lo < old_lo or hi > old_hi:
        return f"it would reach outside [{old_lo:g}, {old_hi:g}]"
    masses = m.cdf(np.array(change, dtype=float))
    if abs(masses[0] - 0.05) > MASS_TOLERANCE or abs(masses[1] - 0.95) > MASS_TOLERANCE:
        q = m.ppf(np.array([0.05, 0.95]))
        return f"the closest {_family(m)} within [{old_lo:g}, {old_hi:g}] has 5th–95th {q[0]:.4g}–{q[1]:.4g}"
    return None


def overlay_text(priors: Priors, values: Mapping[str, object]) -> str:
    """A priors file that inherits ``priors``' file and sets ``values`` (TOML values by variable)."""
    doc = tomlkit.document()
    meta = tomlkit.table()
    meta.update({"name": priors.name, "description": priors.description, "base": str(Path(priors.path).absolute())})
    doc.add("meta", meta)
    for table in ("cruxes", "parameters"):
        mine = {n: v for n, v in values.items() if table_of(n) == table}
        if mine:
            t = tomlkit.table()
            for n, v in mine.items():
                t.add(n, v)
            doc.add(table, t)
    return tomlkit.dumps(doc)


_OVERLAYS = "aar-what-if"


@contextlib.contextmanager
def _overlay_file(text: str):
    """A file holding ``text`` while the block runs: in memory where the system has
    ``memfd_create`` and ``/proc/self/fd`` (nothing on disk), else in a temporary folder."""
    if hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd"):
        fd = os.memfd_create(f"{_OVERLAYS}.toml", getattr(os, "MFD_CLOEXEC", 0))
        try:
            os.write(fd, text.encode("utf-8"))
            yield Path(f"/proc/self/fd/{fd}")
        finally:
            os.close(fd)
        return
    with tempfile.TemporaryDirectory(prefix=f"{_OVERLAYS}-") as folder:
        overlay = Path(folder) / "what-if.toml"
        overlay.write_text(text, encoding="utf-8")
        yield overlay


def _load_overlay(priors: Priors, values: Mapping[str, object]) -> Priors:
    with _overlay_file(overlay_text(priors, values)) as overlay:
        try:
            return load(overlay)
        except PriorsError as exc:
            raise _renamed(exc, priors.path, overlay) from None


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
    try:
        chosen = {n: _value(priors, n, c) for n, c in changes.items()}
    except Refused as exc:
        from model.core.errors import Problem

        raise PriorsError([Problem(Path(f"what-if on {Path(priors.path).name}"), "", str(exc))]) from None
    return WhatIf(_load_overlay(priors, chosen), chosen)


_chosen: dict[tuple, object] = {}


class Refused(ValueError):
    """A what-if no prior of the variable's family, within its bounds, can hold."""


def _value(priors: Priors, name: str, change: Change) -> object:
    """The first of :func:`candidates` that loads on its own and says what was asked
    (:func:`faithful`); :class:`Refused`, saying why, when none does or the value is impossible."""
    return _chosen_for(priors, name, change)[0]


def _chosen_for(priors: Priors, name: str, change: Change) -> tuple[object, str]:
    """:func:`_value`'s choice and the family it loads as (remembered)."""
    prior = priors.variables[name]
    key = (name, prior.written, prior.source, change)
    chosen = _chosen.get(key)
    if chosen is None:  # chosen here, then stored whole: lanes of several tabs run this at once
        chosen = _choose(priors, prior, change)
        if len(_chosen) > 4096:
            _chosen.clear()
        _chosen[key] = chosen
    if isinstance(chosen, Refused):
        raise chosen
    assert isinstance(chosen, tuple)  # (value, family)
    return chosen


def _choose(priors: Priors, prior: Prior, change: Change) -> tuple[object, str] | Refused:
    why = refusal(prior, change)
    if why is not None:
        return Refused(why)
    for value in candidates(prior, change):
        try:
            new = _load_overlay(priors, {prior.name: value}).variables[prior.name]
        except PriorsError as exc:  # the first candidate's reason is the one given: it is the file's family
            why = why or f"{prior.name}: {exc.problems[0].message if exc.problems else exc}"
            continue
        miss = faithful(prior, new, change)
        if miss is None:
            return value, _family(new.marginal)
        assert isinstance(change, tuple)  # a point is always faithful
        why = why or f"{prior.name}: no {_family(prior.marginal)} has 5th–95th {change[0]:g}–{change[1]:g} ({miss})"
    return Refused(why or f"{prior.name}: no prior holds this what-if")


def check(priors: Priors, name: str, change: Change) -> tuple[str | None, str]:
    """For the page, beside the control: (why ``change`` is refused, or None; a note on what
    it became when that is not the file's family)."""
    try:
        _, became = _chosen_for(priors, name, change)
    except Refused as exc:
        return str(exc), ""
    family = _family(priors.variables[name].marginal)
    if became not in (family, "point"):
        return None, f"a {family} has no form given by an interval: this what-if is a {became}"
    return None, ""


def _renamed(error: PriorsError, path: Path, overlay: Path) -> PriorsError:
    """The overlay's problems, said of the page's what-if rather than of the overlay file."""
    from model.core.errors import Problem

    what = Path(f"what-if on {Path(path).name}")
    return PriorsError(
        [
            Problem(what if Path(p.file) == overlay or _OVERLAYS in str(p.file) else p.file, p.key, p.message)
            for p in error.problems
        ]
    )


class Changed(Exception):
    """The file is not the one the page's results came from (an editor saved it meanwhile)."""


def digest_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write(path: Path, values: Mapping[str, object], expected: str | None = None) -> list[str]:
    """Put ``values`` (TOML values by variable) into the user's file, keeping its comments,
    layout, line endings (LF or CRLF) and byte-order mark; returns the variables that were
    inherited and are now set in the file itself.

    ``expected``: the sha256 of the file's bytes the values were chosen on; if the file
    holds anything else now (an editor saved it, or is half-way through writing it),
    :class:`Changed` is raised and nothing is written. The new text must read back (Python's
    own TOML reader) as the old file with exactly these values set, else nothing is written
    (:class:`Unwritable`). Written to a temporary file beside it and renamed over it, so a
    reader never sees half; and not renamed if the file changed while the new text was made.
    """
    import tomllib

    from model.serve import watch

    path = Path(path)
    before = watch.stamp(path)
    data = watch.read(path)  # a regular file only, without blocking
    if expected is not None and digest_of(data) != expected:
        raise Changed(
            f"{path.name} changed on disk since the page's results (is an editor saving it?); nothing was written."
        )
    bom = data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8").removeprefix("\ufeff")
    crlf = "\r\n" in text
    doc = tomlkit.parse(text)
    wanted = tomllib.loads(text)
    added = []
    for name, value in values.items():
        table = table_of(name)
        if table not in doc:
            doc.add(tomlkit.nl())
            doc.add(table, tomlkit.table())
        if name not in doc[table]:
            added.append(name)
            if not isinstance(doc[table], tomlkit.items.InlineTable):  # an inline table holds no comment
                doc[table].add(tomlkit.comment(f"{name}: set on the aar-risk serve page (was inherited)"))
        doc[table][name] = value
        wanted.setdefault(table, {})[name] = tomllib.loads(f"x = {tomlkit.item(value).as_string()}")["x"]
    new = tomlkit.dumps(doc)
    if crlf:
        new = new.replace("\r\n", "\n").replace("\n", "\r\n")
    try:
        ok = tomllib.loads(new) == wanted
    except (tomllib.TOMLDecodeError, RecursionError):
        ok = False
    if not ok:
        raise Unwritable(
            f"the what-ifs could not be put into {path.name} as valid TOML that keeps the rest of "
            f"it as it is (nothing was written); set {', '.join(values)} in the file by hand"
        )
    _replace(path, ("\ufeff" if bom else "") + new, before)
    return added


class Unwritable(Exception):
    """The file's layout leaves no safe place for the what-ifs."""


def _replace(path: Path, text: str, before=None) -> None:
    """Write ``text`` to ``path`` atomically, keeping its permissions; with ``before`` (the
    file's stamp when it was read), only if the file has not changed since."""
    import stat

    from model.serve import watch

    real = Path(os.path.realpath(path))  # a symlinked file stays a symlink
    mode = os.stat(real).st_mode
    if not mode & stat.S_IWUSR or not os.access(real, os.W_OK):  # the rename below would replace it anyway
        raise PermissionError(f"{Path(path).name} is read-only: nothing was written")
    fd, tmp = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".tmp", dir=real.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.chmod(tmp, os.stat(real).st_mode & 0o7777)
        if before is not None and watch.stamp(path) != before:
            raise Changed(
                f"{Path(path).name} changed on disk while it was being written (is an editor "
                "saving it?); nothing was written. Write again once the page shows its new results."
            )
        os.replace(tmp, real)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
