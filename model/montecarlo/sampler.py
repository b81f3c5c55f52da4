"""Worlds drawn: correlated standard normals (the Gaussian copula) through each prior's
quantile function, block by block from seeds that depend only on the block's index."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.core import copula as gc
from model.core.variables import CRUXES, NAMES
from model.montecarlo.cells import map_edges
from model.priors.beliefs import Priors

#: Worlds per block. Fixed: changing it changes every random stream.
BLOCK = 65_536


def block_rng(seed: int, block: int) -> np.random.Generator:
    """The generator of block ``block``: independent of how blocks are distributed."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=(block,))))


@dataclass(frozen=True)
class Sampler:
    """What a worker needs to draw worlds: marginals, copula, horizon, target."""

    marginals: tuple  # (name, Marginal) for every variable, in NAMES order
    random: tuple[str, ...]  # the variables that are not point masses, in NAMES order
    copula: gc.GaussianCopula  # over the random variables
    horizon: float
    target: float
    map_edges: tuple[np.ndarray, np.ndarray]  # cell edges in C and in R
    utilities: tuple[float, float, float] | None = None  # set: accumulate sensitivity bins
    #: a calibrated priors file's weighting: ("update", trust, target) or ("tilt", λ)
    weighting: tuple | None = None
    #: the evidence applied as weights (MODEL.md §5.v3), and each random crux's quantile bins
    evidence: tuple = ()
    crux_edges: tuple[tuple[str, np.ndarray], ...] = ()

    @classmethod
    def from_priors(cls, priors: Priors, horizon: float | None = None, target: float | None = None) -> Sampler:
        from model.montecarlo.given import crux_edges

        random = priors.random_names()
        edges = tuple((n, crux_edges(priors.variables[n].marginal)) for n in CRUXES if n in random)
        return cls(
            tuple((n, priors.variables[n].marginal) for n in NAMES),
            random,
            priors.copula(random),
            priors.calibration.horizon_years if horizon is None else horizon,
            priors.calibration.target if target is None else target,
            (
                map_edges("capability_needed", priors.variables["capability_needed"].marginal),
                map_edges("relative_difficulty", priors.variables["relative_difficulty"].marginal),
            ),
            evidence=priors.evidence,
            crux_edges=edges if priors.evidence else (),
        )

    def prepare(self) -> None:
        """Build each marginal's quantile table now (≈ 0.1 s), so that forked workers share it
        instead of each building its own."""
        marginals = dict(self.marginals)
        for name in self.random:
            marginals[name].from_z(np.zeros(1))

    def draw(self, rng: np.random.Generator, n: int, copula_u: bool = False):
        """n worlds: correlated standard normals through each marginal's quantile function.

        With ``copula_u`` also returns u = Φ(z) of every random variable (rows in NAMES order).
        """
        z = self.copula.correlate(rng.standard_normal((len(self.random), n)))
        worlds: dict[str, np.ndarray | float] = {name: m.value for name, m in self.marginals if m.family == "point"}
        marginals = dict(self.marginals)
        for name, row in zip(self.random, z, strict=True):
            worlds[name] = marginals[name].from_z(row)
        if copula_u:
            return worlds, gc.uniforms(z)
        return worlds
