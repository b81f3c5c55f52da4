"""Can the model compute with these priors? Far-tail probes of each prior, and a trial run.

Each prior is probed at z = ±PROBE_Z (a 1-in-10^19 draw) for values the model cannot use;
then the model runs on a few hundred extreme worlds, and the variables of any world whose
outcomes are not finite numbers in their ranges are named.
"""

from __future__ import annotations

import math
from functools import lru_cache
from pathlib import Path

import numpy as np

from model import families as fam
from model.core.limits import POSITIVE_FLOOR, VALUE_LIMIT
from model.core.quantities import ALL, SIGNED
from model.core.variables import BY_NAME, DIVISORS, NAMES
from model.priors.beliefs import Priors
from model.priors.problems import Problems
from model.priors.tomltext import Locator

#: The far tails probed: z = ±9 is a 1-in-10^19 draw, beyond any simulation's reach.
PROBE_Z = 9.0
#: Quasi-random worlds of the trial run (plus each variable alone at its extremes).
TRIAL_WORLDS = 256


#: What each outcome of model.structure may be: probabilities in [0, 1], one difference in [-1, 1].
_RANGES = {
    **{q: (0.0, 1.0) for q in ("p_align", "catastrophic", "win", "win_without_uplift", *ALL)},
    **{q: (-1.0, 1.0) for q in SIGNED},
}


@lru_cache(maxsize=1024)
def values_at(marginal: fam.Marginal, z: tuple[float, ...]) -> np.ndarray:
    """``marginal.exact_from_z(z)``, remembered: load is called often on the same files."""
    with np.errstate(all="ignore"):
        x = np.asarray(marginal.exact_from_z(np.array(z)), dtype=float)
    x.setflags(write=False)
    return x


def trial_z(k: int) -> np.ndarray:
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
    return np.hstack(
        [np.zeros((k, 1)), alone, np.full((k, 1), -PROBE_Z), np.full((k, 1), PROBE_Z), PROBE_Z * (2 * u - 1)]
    )


def broken(priors: Priors, names: tuple[str, ...], z: np.ndarray) -> dict[int, str]:
    """Worlds (columns of ``z``) where an outcome is not a finite number in its range, and why."""
    from model.core.structure import outcomes

    n = z.shape[1]
    worlds = {
        v: values_at(priors.variables[v].marginal, tuple(z[names.index(v)] if v in names else np.zeros(n)))
        for v in NAMES
    }
    with np.errstate(all="ignore"):
        out = outcomes(worlds, priors.calibration.horizon_years)
    bad: dict[int, str] = {}
    for field in out._fields:
        v = np.broadcast_to(np.asarray(getattr(out, field), dtype=float), (n,))
        lo, hi = _RANGES.get(field, (-math.inf, math.inf))
        for i in np.flatnonzero(~np.isfinite(v) | (v < lo - 1e-9) | (v > hi + 1e-9)):
            bad.setdefault(
                int(i),
                f"{field} is {v[i]:.3g}"
                + ("" if math.isnan(v[i]) or not math.isfinite(v[i]) else f", outside [{lo:g}, {hi:g}]"),
            )
    return bad


def values_ok(marginal: fam.Marginal, path: Path, key: str, name: str, at: Locator, problems: Problems) -> bool:
    """Every value the simulation can draw is a finite number the model can use.

    Probed down to 1-in-10^19 tails: values must lie within ±VALUE_LIMIT, and above
    POSITIVE_FLOOR for a variable the model divides by, so no product or quotient overflows.
    """
    family = marginal.family
    try:
        x = values_at(marginal, tuple(PROBE_Z * np.linspace(-1, 1, 7)))
    except (ValueError, ArithmeticError, RuntimeError) as exc:
        problems.add(path, key, f"this {family} cannot be evaluated ({exc}); check its parameters", at)
        return False
    x = np.concatenate([x, [v for v, w in marginal.atoms if w > 0]])
    point = family == "point"
    if not np.all(np.isfinite(x)):
        wrong = ", ".join(sorted({f"{v:g}" for v in x if not math.isfinite(v)}))
        problems.add(
            path,
            key,
            f"this {family} does not give finite numbers in its far tails (it gives {wrong} "
            "there); narrow it or truncate it with lower/upper",
            at,
        )
    elif np.max(np.abs(x)) > VALUE_LIMIT:
        v = x[np.argmax(np.abs(x))]
        problems.add(
            path,
            key,
            (f"{v:.3g} is too large" if point else f"this {family} reaches {v:.3g} in its far tail (a 1-in-10^19 draw)")
            + f": values must lie within ±{VALUE_LIMIT:g}"
            + ("" if point else "; narrow it or truncate it with lower/upper"),
            at,
        )
    elif name in DIVISORS and x.min() < POSITIVE_FLOOR:
        problems.add(
            path,
            key,
            (
                f"{x.min():.3g} is too close to 0"
                if point
                else f"this {family} reaches {x.min():.3g} in its far low tail (a 1-in-10^19 draw)"
            )
            + f": {name} must be at least {POSITIVE_FLOOR:g}"
            + ("" if point else "; narrow it or truncate it with lower"),
            at,
        )
    else:
        return True
    return False


def trial(priors: Priors, problems: Problems) -> None:
    """Run the model on a few hundred extreme worlds; name the variables of any that fails.

    Each random variable alone at its far tails (z = ±PROBE_Z) with the others at their
    medians, all of them at once, and TRIAL_WORLDS quasi-random worlds in between.
    """
    names = priors.random_names()
    z = trial_z(len(names))
    bad = broken(priors, names, z)
    alone = {names[(c - 1) // 2]: c for c in sorted(bad, reverse=True) if 1 <= c <= 2 * len(names)}
    for col in sorted(alone.values()) or sorted(bad)[:1]:  # each variable that fails alone, else one world
        z_bad, why = _smallest(priors, names, z[:, [col]], bad[col])
        guilty = {n: v for n, v in zip(names, z_bad[:, 0], strict=True) if v != 0}
        for name in guilty:
            _culprit(priors, name, guilty, why, problems)
        if not guilty:
            problems.add(
                priors.path,
                "",
                f"the model's {why} with these priors (every variable at its median); check their values",
            )


def _smallest(priors: Priors, names: tuple[str, ...], z_bad: np.ndarray, why: str) -> tuple[np.ndarray, str]:
    """A failing world with as many variables as possible put back at their medians."""
    for j in range(len(names)):
        z_try = z_bad.copy()
        z_try[j] = 0.0
        if z_bad[j, 0] != 0 and (again := broken(priors, names, z_try)):
            z_bad, why = z_try, again[0]
    return z_bad, why


def _culprit(priors: Priors, name: str, zs: dict[str, float], why: str, problems: Problems) -> None:
    """Report ``name``, one of the variables whose values ``zs`` break the model together."""

    def value(n: str) -> str:
        return f"{n} = {float(values_at(priors.variables[n].marginal, (zs[n],))[0]):.3g}"

    prior = priors.variables[name]
    key = f"{'cruxes' if BY_NAME[name].crux else 'parameters'}.{name}"
    others = [value(n) for n in zs if n != name]
    where = (
        f"with {value(name)} (a {'high' if zs[name] > 0 else 'low'} value this prior can draw)"
        + (f" and {', '.join(others)}" if others else "")
        + ", every other variable at its median"
    )
    problems.add(
        prior.origin,
        key,
        f"{where}, the model's {why}: the model cannot compute with this prior; "
        "narrow it or truncate it with lower/upper",
        problems.locators.get(prior.origin),
    )
