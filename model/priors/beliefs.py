"""A priors file once read: each variable's prior, the correlations and the settings, frozen."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from model import families as fam
from model.core.copula import GaussianCopula
from model.core.variables import NAMES
from model.priors.schema import Calibration, Decision, Simulation


@dataclass(frozen=True)
class Prior:
    """One variable's prior: its distribution, how it was written, why, and where."""

    name: str
    marginal: fam.Marginal
    written: str
    source: str | None
    origin: Path


@dataclass(frozen=True)
class Priors:
    path: Path
    name: str
    description: str
    base: Path | None
    variables: Mapping[str, Prior]
    correlations: Mapping[tuple[str, str], float]
    calibration: Calibration
    simulation: Simulation
    decision: Decision
    #: What the user should know but that does not stop a run (a calibrated file that cannot be checked).
    warnings: tuple[str, ...] = ()

    def copula(self, rows: tuple[str, ...] = NAMES) -> GaussianCopula:
        """The Gaussian copula of the variables ``rows`` (model/core/copula.py)."""
        return GaussianCopula.of(rows, NAMES, self.correlations)

    def random_names(self) -> tuple[str, ...]:
        """Variables whose prior is not a point mass, in NAMES order."""
        return tuple(n for n in NAMES if self.variables[n].marginal.family != "point")

    def inherited(self, name: str) -> bool:
        return self.variables[name].origin != self.path
