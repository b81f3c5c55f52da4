"""Why two people's forecasts differ: Shapley attribution of outcome differences to priors.

For a pair of priors files A → B, the players are the variables whose prior
differs (and ``correlations`` when the copulas differ). A coalition S is the
hybrid world where the players in S take B's prior and the rest A's; its value
is the mean of each outcome over common random numbers (the same standard
normals for every coalition), so differences between coalitions carry little
Monte Carlo noise. Shapley values (Shapley 1953) split the total difference
v(all) − v(∅) exactly among the players: exactly over all coalitions when there
are at most ``EXACT_PLAYERS`` players, otherwise averaged over random orderings
(Castro, Gómez & Tejada 2009), which keeps the sum exact for every ordering.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .engine import BLOCK, block_rng
from .priors import Priors
from .structure import outcomes
from .variables import NAMES

COMPARED = ("success", "kicking_the_can", "capability_externalities", "x_risk",
            "success_within_horizon", "plan_minus_baseline")
CORRELATIONS = "correlations"
EXACT_PLAYERS = 8
BATCHES = 8


@dataclass(frozen=True)
class Attribution:
    source: Priors
    target: Priors
    method: str
    players: tuple[str, ...]
    samples: int
    total: dict[str, float]  # v(all) − v(∅) per outcome, on the common worlds
    total_se: dict[str, float]
    by_variable: dict[str, dict[str, float]]  # outcome -> player -> Shapley value
    se: dict[str, dict[str, float]]  # outcome -> player -> standard error (batch means)


def players(a: Priors, b: Priors) -> tuple[str, ...]:
    differ = tuple(n for n in NAMES if a.variables[n].marginal != b.variables[n].marginal)
    return differ + ((CORRELATIONS,) if dict(a.correlations) != dict(b.correlations) else ())


def _common_normals(a: Priors, b: Priors, n: int, seed: int):
    """One set of standard normals per world and variable, put through each file's copula."""
    z = np.concatenate([block_rng(seed, k).standard_normal((len(NAMES), min(BLOCK, n - k * BLOCK)))
                        for k in range(math.ceil(n / BLOCK))], axis=1)
    out = {}
    for tag, p in (("a", a), ("b", b)):
        names, corr = p.copula()
        zz = z.copy()
        if names:
            idx = [NAMES.index(v) for v in names]
            zz[idx] = np.linalg.cholesky(corr) @ z[idx]
        out[tag] = zz
    return out


def attribute(a: Priors, b: Priors, samples: int = 131_072, seed: int = 2023,
              orderings: int = 24) -> Attribution:
    """Shapley attribution of B − A for every quantity in COMPARED."""
    ps = players(a, b)
    z = _common_normals(a, b, samples, seed)
    cache: dict[tuple[str, str, str], np.ndarray] = {}

    def column(name: str, prior_of: str, copula_of: str) -> np.ndarray:
        key = (name, prior_of, copula_of)
        if key not in cache:
            src = a if prior_of == "a" else b
            cache[key] = src.variables[name].marginal.from_z(z[copula_of][NAMES.index(name)])
        return cache[key]

    horizon = a.calibration.horizon_years
    values: dict[frozenset, np.ndarray] = {}

    def value(coalition: frozenset) -> np.ndarray:
        """Batch means (BATCHES × len(COMPARED)) of the hybrid world's outcomes."""
        if coalition not in values:
            cop = "b" if CORRELATIONS in coalition else "a"
            worlds = {n: column(n, "b" if n in coalition else "a", cop) for n in NAMES}
            o = outcomes(worlds, horizon)
            cols = np.stack([np.broadcast_to(getattr(o, q), (samples,)) for q in COMPARED], axis=1)
            values[coalition] = np.stack([c.mean(axis=0) for c in np.array_split(cols, BATCHES)])
        return values[coalition]

    n = len(ps)
    phi = {p: np.zeros((BATCHES, len(COMPARED))) for p in ps}
    if n <= EXACT_PLAYERS:
        method = "shapley"
        for mask in range(2**n):
            s = frozenset(p for i, p in enumerate(ps) if mask >> i & 1)
            for p in ps:
                if p in s:
                    continue
                weight = math.factorial(len(s)) * math.factorial(n - len(s) - 1) / math.factorial(n)
                phi[p] += weight * (value(s | {p}) - value(s))
    else:
        method = f"shapley, {orderings} sampled orderings (Castro et al. 2009)"
        rng = np.random.default_rng(seed)
        orders = [tuple(rng.permutation(n)) for _ in range(orderings // 2)]
        orders += [tuple(reversed(o)) for o in orders]  # antithetic pairs
        for order in orders:
            s = frozenset()
            for i in order:
                p = ps[i]
                phi[p] += (value(s | {p}) - value(s)) / len(orders)
                s = s | {p}
    total = value(frozenset(ps)) - value(frozenset())
    by, se, tot, tot_se = {}, {}, {}, {}
    for k, q in enumerate(COMPARED):
        tot[q] = float(total[:, k].mean())
        tot_se[q] = float(total[:, k].std(ddof=1) / math.sqrt(BATCHES))
        by[q] = {p: float(phi[p][:, k].mean()) for p in ps}
        se[q] = {p: float(phi[p][:, k].std(ddof=1) / math.sqrt(BATCHES)) for p in ps}
    return Attribution(a, b, method, ps, samples, tot, tot_se, by, se)

