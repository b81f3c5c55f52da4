"""Distribution families of priors files, one file each, and their registry (docs/model.md, Priors and sampling).

A family file owns its table's schema (``Spec``), its numpy quantile, CDF and
density, its PyTensor quantile (``ppf_tensor``) and its refit rule (``refit``).
:data:`REGISTRY` maps the ``dist = "…"`` of a priors file to the family's class;
adding a family touches its own file and this registry.
"""

from __future__ import annotations

from model.families.base import TABLE_TOLERANCE, Z95, Z_TABLE, Family, Marginal, ScipyFamily, ZTable
from model.families.beta import BETA_LOG_BOUND, Beta, beta_from_ci90
from model.families.gamma import Gamma
from model.families.logitnormal import LogitNormal
from model.families.lognormal import LogNormal
from model.families.mixture import Mixture
from model.families.normal import Normal
from model.families.pert import Pert
from model.families.point import Point
from model.families.triangular import Triangular
from model.families.truncated import Truncated
from model.families.uniform import Uniform

#: ``dist`` name → family class, in the order error messages list them.
REGISTRY: dict[str, type[Family]] = {
    cls.family: cls for cls in (Point, Normal, LogNormal, Beta, LogitNormal, Uniform, Triangular, Pert, Gamma, Mixture)
}

__all__ = [
    "BETA_LOG_BOUND",
    "REGISTRY",
    "TABLE_TOLERANCE",
    "Z95",
    "Z_TABLE",
    "Beta",
    "Family",
    "Gamma",
    "LogNormal",
    "LogitNormal",
    "Marginal",
    "Mixture",
    "Normal",
    "Pert",
    "Point",
    "ScipyFamily",
    "Triangular",
    "Truncated",
    "Uniform",
    "ZTable",
    "beta_from_ci90",
]
