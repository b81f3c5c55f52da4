"""Which disagreement matters: the between-person variance of each outcome, attributed to the
players by Shapley values (MODEL.md §7.2).

``v(S) = Var_people(P(∅)) − Var_people(P(S))``, where P(S) is each person's mean outcome when
the players in S take the pool's view. v(∅) = 0 and v(all) is the whole variance (everyone's
views coincide once every difference is pooled), so the Shapley values split the variance
exactly: the residual ``Var_people(P) − Σ φ`` is 0 up to rounding. The variance is the
population variance of the people (divided by n): a property of this panel, not an estimate
of a wider population's.

Exact over all 2ⁿ coalitions up to :data:`EXACT_PLAYERS` players; beyond, averaged over random
orderings in antithetic pairs (Castro, Gómez & Tejada 2009), which keeps the sum exact for
every ordering. Errors: the world noise by the jackknife over batches of worlds (v is not
linear in the means, so batch-wise values would be biased), combined with the orderings'
own noise when they are sampled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from model.analyses.compare.coalitions import gray

EXACT_PLAYERS = 12
#: Sampled orderings (antithetic pairs) beyond EXACT_PLAYERS players, unless asked otherwise.
ORDERINGS = 128


@dataclass(frozen=True)
class Plan:
    """The coalitions to evaluate, in the order to visit them, and how they combine."""

    players: tuple[str, ...]
    coalitions: tuple[int, ...]  # bitmasks over players, distinct, empty coalition included
    orders: tuple[tuple[int, ...], ...] | None  # sampled orderings, or None when exact

    @property
    def method(self) -> str:
        if self.orders is None:
            return "shapley" if self.players else "shapley (nothing differs)"
        return f"shapley, {len(self.orders)} sampled orderings in antithetic pairs (Castro et al. 2009)"


def plan(players: tuple[str, ...], seed: int, orderings: int | None = None, exact: int = EXACT_PLAYERS) -> Plan:
    """Exact (every subset, in Gray-code order) up to ``exact`` players unless ``orderings`` is
    given; otherwise ``orderings`` (default ORDERINGS, made even) random orderings in pairs."""
    n = len(players)
    if n < 2 or (n <= exact and orderings is None):
        return Plan(players, tuple(gray(n)), None)
    k = ORDERINGS if orderings is None else max(2, int(orderings))
    k += k % 2
    rng = np.random.default_rng(seed)
    firsts = [tuple(int(i) for i in rng.permutation(n)) for _ in range(k // 2)]
    orders = tuple(o for f in firsts for o in (f, f[::-1]))
    path = [0]
    for o in orders:
        mask = 0
        for i in o:
            mask |= 1 << i
            path.append(mask)
    return Plan(players, tuple(dict.fromkeys(path)), orders)


def spread(means: np.ndarray) -> np.ndarray:
    """Population variance over people (axis 0), centred on the first person so that
    identical people give exactly 0."""
    d = means - means[:1]
    return np.var(d, axis=0)


def _exact(values: dict[int, np.ndarray], n: int) -> np.ndarray:
    """(players, …) Shapley values from v over all 2ⁿ coalitions."""
    weight = [math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n) for k in range(n)]
    phi = []
    for i in range(n):
        total = 0.0
        for c in range(2**n):
            if not c >> i & 1:
                total = total + weight[bin(c).count("1")] * (values[c | 1 << i] - values[c])
        phi.append(total)
    return np.array(phi)


def _by_order(values: dict[int, np.ndarray], orders) -> np.ndarray:
    """(orders, players, …) each player's marginal contribution along each ordering."""
    shape = next(iter(values.values())).shape
    out = np.zeros((len(orders), len(orders[0]), *shape))
    for j, o in enumerate(orders):
        mask = 0
        for i in o:
            out[j, i] = values[mask | 1 << i] - values[mask]
            mask |= 1 << i
    return out


def shapley(the_plan: Plan, means: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shapley values (players, outcomes) of v from ``means`` (people, coalitions, outcomes),
    the coalitions in ``the_plan.coalitions`` order; and the orderings' standard error (0 when exact)."""
    var = {s: spread(means[:, k]) for k, s in enumerate(the_plan.coalitions)}
    values = {s: var[0] - v for s, v in var.items()}
    n = len(the_plan.players)
    if the_plan.orders is None:
        phi = _exact(values, n) if n else np.zeros((0, means.shape[2]))
        return phi, np.zeros_like(phi)
    contrib = _by_order(values, the_plan.orders)
    pairs = contrib.reshape(len(the_plan.orders) // 2, 2, *contrib.shape[1:]).mean(axis=1)
    se = pairs.std(axis=0, ddof=1) / math.sqrt(pairs.shape[0]) if pairs.shape[0] > 1 else np.zeros(pairs.shape[1:])
    return pairs.mean(axis=0), se


@dataclass(frozen=True)
class Attribution:
    """Per outcome: the between-person variance, each player's share and its error."""

    method: str
    players: tuple[str, ...]
    total: np.ndarray  # (outcomes,) Var_people(P)
    residual: np.ndarray  # (outcomes,) total − Σ φ
    value: np.ndarray  # (players, outcomes)
    error: np.ndarray  # (players, outcomes)
    orderings: int | None


def attribute(the_plan: Plan, sums: np.ndarray, sizes: np.ndarray) -> Attribution:
    """The attribution from per-batch sums (people, coalitions, batches, outcomes) over batches
    of ``sizes`` worlds: values on every world, errors by the delete-one-batch jackknife."""
    total_sums = sums.sum(axis=2)
    worlds = sizes.sum()
    phi, ordering_se = shapley(the_plan, total_sums / worlds)
    b = len(sizes)
    if b > 1:
        drops = np.stack([shapley(the_plan, (total_sums - sums[:, :, k]) / (worlds - sizes[k]))[0] for k in range(b)])
        world_se = np.sqrt((b - 1) / b * ((drops - drops.mean(axis=0)) ** 2).sum(axis=0))
    else:
        world_se = np.zeros_like(phi)
    total = spread(total_sums[:, 0] / worlds)
    orders = None if the_plan.orders is None else len(the_plan.orders)
    error = np.sqrt(world_se**2 + ordering_se**2)
    return Attribution(the_plan.method, the_plan.players, total, total - phi.sum(axis=0), phi, error, orders)
