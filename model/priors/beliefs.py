"""A priors file once read: each variable's prior, the correlations and the settings, frozen."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from model import families as fam
from model.core.copula import GaussianCopula
from model.core.evidence import Entry
from model.core.variables import NAMES, TIME_OVERRIDE
from model.priors.schema import Calibration, Decision, Simulation


@dataclass(frozen=True)
class Prior:
    """One variable's prior: its distribution, how it was written, why, and where."""

    name: str
    marginal: fam.Marginal
    written: str
    source: str | None
    origin: Path
    #: Why this variable is not used (v3: years_to_build when T_b is derived, build_lag when
    #: years_to_build overrides it); its prior is then a placeholder point.
    unused: str | None = None


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
    #: Facts about how the file is read that the user may not expect (v3: how T_b is obtained).
    notices: tuple[str, ...] = ()
    #: Dated observations ``run`` applies as weights (MODEL.md §5.v3): the bases', the included
    #: files', then the file's own, each once.
    evidence: tuple[Entry, ...] = ()

    @property
    def as_of(self) -> date | None:
        """The date of the latest evidence entry (None without evidence)."""
        return max(e.date for e in self.evidence) if self.evidence else None

    def copula(self, rows: tuple[str, ...] = NAMES) -> GaussianCopula:
        """The Gaussian copula of the variables ``rows`` (model/core/copula.py)."""
        return GaussianCopula.of(rows, NAMES, self.correlations)

    def random_names(self) -> tuple[str, ...]:
        """Variables whose prior is not a point mass, in NAMES order."""
        return tuple(n for n in NAMES if self.variables[n].marginal.family != "point")

    def used(self, name: str) -> bool:
        """Whether the model uses ``name`` (False for the placeholder of build_lag or years_to_build)."""
        return self.variables[name].unused is None

    @property
    def build_override(self) -> bool:
        """Whether years_to_build is set, overriding T_b = C·T_g + build_lag (docs/model.md, v3 C)."""
        return self.used(TIME_OVERRIDE)

    def inherited(self, name: str) -> bool:
        return self.variables[name].origin != self.path
