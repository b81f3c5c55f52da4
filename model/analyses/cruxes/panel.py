"""Many people's priors files as one panel (MODEL.md §7): who they are, what they disagree on
(the players), and the pool's views that the attribution swaps in.

A panel is plain, picklable data (marginals and correlation pairs, no loaded ``Priors``), so
that a worker process or a Dask worker receives it once and evaluates any (person,
coalition, block) from it alone.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from model.core.copula import GaussianCopula
from model.core.quantities import HEADLINE, OUTCOMES, Q
from model.core.variables import NAMES
from model.families import Marginal, Mixture
from model.priors.beliefs import Priors

CORRELATIONS = "correlations"
#: The outcomes a binary crux can be scored on (probabilities of an event, not differences).
EVENTS = (*OUTCOMES, Q.success_within_horizon)
#: The model's own binary cruxes (MODEL.md §7.3): "alignment research is AGI-complete" and
#: "aligning the AAR is as hard as aligning AGI".
MODEL_CRUXES = ("capability_needed>=1", "relative_difficulty>=1")
_CRUX = re.compile(r"^\s*([A-Za-z_]\w*)\s*(>=|<=|>|<)\s*([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)\s*$")


@dataclass(frozen=True)
class Crux:
    """A binary crux: a threshold on one world variable, such as ``capability_needed>=1``."""

    variable: str
    op: str
    threshold: float

    @property
    def label(self) -> str:
        return f"{self.variable}{self.op}{self.threshold:g}"


def parse_crux(text: str) -> Crux:
    """``"variable>=x"`` (or >, <=, <) as a :class:`Crux`; a ValueError says what is wrong."""
    m = _CRUX.match(text)
    if m is None:
        raise ValueError(f"crux {text!r}: write a variable, a comparison and a number, such as capability_needed>=1")
    name, op, value = m.groups()
    if name not in NAMES:
        close = difflib.get_close_matches(name, NAMES, n=1)
        hint = f" (did you mean {close[0]}?)" if close else ""
        raise ValueError(f"crux {text!r}: no variable {name!r}{hint}")
    return Crux(name, op, float(value))


@dataclass(frozen=True)
class Person:
    """One person's view: each variable's marginal (NAMES order) and their correlations."""

    name: str
    file: str
    camp: str | None
    marginals: tuple[tuple[str, Marginal], ...]
    correlations: tuple[tuple[tuple[str, str], float], ...]

    def copula(self) -> GaussianCopula:
        return GaussianCopula.of(NAMES, NAMES, dict(self.correlations))


@dataclass(frozen=True)
class Panel:
    """Everything a task needs: the people, the players, the pool's marginals and copula."""

    people: tuple[Person, ...]
    players: tuple[str, ...]  # differing variables in NAMES order, then CORRELATIONS if they differ
    pooled: tuple[tuple[str, Marginal], ...]  # per differing variable: the mixture of everyone's marginals
    mean_correlations: tuple[tuple[tuple[str, str], float], ...]  # the mean Spearman matrix's pairs
    horizon: float
    seed: int
    outcome: str  # U of the binary cruxes
    cruxes: tuple[Crux, ...]

    def mean_copula(self) -> GaussianCopula:
        return GaussianCopula.of(NAMES, NAMES, dict(self.mean_correlations))

    def prepare(self) -> None:
        """Build every quantile table now, so that forked workers share them."""
        import numpy as np

        for p in self.people:
            for _, m in p.marginals:
                m.from_z(np.zeros(1))
        for _, m in self.pooled:
            m.from_z(np.zeros(1))


def check_alike(views: Sequence[Priors]) -> None:
    """Refuse files whose worlds are not on one footing: a different horizon, different
    evidence or a different ``[calibration] apply`` (MODEL.md §7.2); and, in this version,
    files whose worlds are weighted at all (evidence or a calibration), which the
    attribution's hybrid views cannot carry."""
    first = views[0]
    for what, key in (
        ("horizon ([calibration] horizon_years)", lambda p: p.calibration.horizon_years),
        ("evidence ([[evidence]] entries)", lambda p: p.evidence),
        ("calibration ([calibration] apply)", lambda p: p.calibration.apply),
    ):
        for p in views[1:]:
            if key(p) != key(first):
                raise ValueError(
                    f"{p.path} and {first.path} differ in {what}: their outcomes answer different "
                    "questions, so no variable's share can explain the gap; compare files that agree on it"
                )
    for p in views:
        if p.evidence or p.calibration.apply is not None:
            raise ValueError(
                f"{p.path} weights its worlds (evidence or a calibration): cruxes on many people "
                "takes unweighted priors; give the files they inherit from"
            )


def _canonical(marginals: Sequence[Marginal]) -> tuple[Marginal, ...]:
    """The marginals in an order that does not depend on the order of the files."""
    return tuple(sorted(marginals, key=repr))


def mean_spearman(views: Sequence[Priors]) -> tuple[tuple[tuple[str, str], float], ...]:
    """Every pair's mean Spearman correlation over the people (0 where a file has none)."""
    pairs: dict[tuple[str, str], list[float]] = {}
    for p in views:
        for (a, b), rho in p.correlations.items():
            key = (a, b) if NAMES.index(a) < NAMES.index(b) else (b, a)
            pairs.setdefault(key, []).append(rho)
    out = {k: sum(sorted(v)) / len(views) for k, v in pairs.items()}
    return tuple(sorted((k, v) for k, v in out.items() if v != 0))


def panel(
    views: Sequence[Priors],
    names: Sequence[str],
    files: Sequence[str],
    camps: Sequence[str | None],
    seed: int,
    outcome: str = Q.success,
    cruxes: Sequence[Crux] = (),
) -> Panel:
    """The panel of ``views`` (checked with :func:`check_alike` first)."""
    if outcome not in EVENTS:
        raise ValueError(f"outcome {outcome!r}: one of {', '.join(EVENTS)}")
    check_alike(views)
    people = tuple(
        Person(name, file, camp, tuple((n, v.variables[n].marginal) for n in NAMES), _pairs(v))
        for v, name, file, camp in zip(views, names, files, camps, strict=True)
    )
    differ = tuple(n for n in NAMES if len({v.variables[n].marginal for v in views}) > 1)
    pooled = tuple(
        (n, Mixture(_canonical([v.variables[n].marginal for v in views]), (1 / len(views),) * len(views)))
        for n in differ
    )
    corr = (CORRELATIONS,) if len({_pairs(v) for v in views}) > 1 else ()
    horizon = views[0].calibration.horizon_years
    return Panel(people, differ + corr, pooled, mean_spearman(views), horizon, seed, outcome, tuple(cruxes))


def _pairs(p: Priors) -> tuple[tuple[tuple[str, str], float], ...]:
    """A file's correlations as sorted pairs, each pair's names in NAMES order."""
    out = {}
    for (a, b), rho in p.correlations.items():
        out[(a, b) if NAMES.index(a) < NAMES.index(b) else (b, a)] = rho
    return tuple(sorted(out.items()))


COMPARED = HEADLINE
