"""Why two people's forecasts differ: Shapley attribution of outcome differences to priors.

For a pair of priors files A → B, the players are every difference between the files:
the variables whose prior differs, ``correlations`` when the copulas differ, and each
setting that differs (``horizon_years``, ``target``, ``trust`` of ``[calibration]``;
the ``[decision]`` utilities). A coalition S is the hybrid view where the players in S
take B's value and the rest A's; its value is the mean of each outcome over common
random numbers (the same standard normals for every coalition), so differences between
coalitions carry little Monte Carlo noise. Shapley values (Shapley 1953) split the total
difference v(all) − v(∅) exactly among the players.

A setting that no compared outcome depends on (the market's ``target`` and ``trust``
only move the calibration, the utilities only the decision) is a null player: its
Shapley value is exactly 0 and it is left out of the enumeration. With at most
``EXACT_PLAYERS`` other players the values are exact, over all 2ⁿ coalitions; beyond,
they are averaged over random orderings in antithetic pairs (Castro, Gómez & Tejada
2009), which keeps the sum exact for every ordering, and the error reported combines
the world noise with the noise of sampling orderings.

Speed: the outcome equations of :mod:`model.core.structure` are traced once into a graph
of array operations, each knowing which players it depends on. Coalitions are visited
in Gray-code order (or along each ordering), so each step swaps one player and only the
operations that depend on it are recomputed; an operation whose players are a strict
subset of its consumer's is memoised by the part of the coalition it sees. The worlds
are processed in chunks, so memory does not grow with the number of worlds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from model.analyses.compare.coalitions import Views, gray, walk
from model.analyses.compare.players import COMPARED, players
from model.analyses.compare.tracing import Node, trace_outcomes
from model.priors.beliefs import Priors

EXACT_PLAYERS = 12
BATCHES = 8
#: Default worlds for the attribution (each coalition is a full evaluation of these).
SAMPLES = 131_072
#: Default number of sampled orderings (antithetic pairs) beyond EXACT_PLAYERS players.
ORDERINGS = 128


@dataclass(frozen=True)
class Attribution:
    source: Priors
    target: Priors
    method: str
    players: tuple[str, ...]  # every difference between the files, inert ones included
    samples: int
    total: dict[str, float]  # v(all) − v(∅) per outcome, on the common worlds
    total_se: dict[str, float]
    by_variable: dict[str, dict[str, float]]  # outcome -> player -> Shapley value
    se: dict[str, dict[str, float]]  # outcome -> player -> standard error (worlds, and orderings if sampled)
    inert: tuple[str, ...] = ()  # players no compared outcome depends on (Shapley value exactly 0)
    orderings: int | None = None  # sampled orderings, or None when exact
    ordering_se: dict[str, dict[str, float]] = field(default_factory=dict)  # the orderings' part of se


def _spread(x: np.ndarray) -> np.ndarray:
    """Standard error of the mean over the first axis (0 with fewer than two rows)."""
    if x.shape[0] < 2:
        return np.zeros(x.shape[1:])
    return x.std(axis=0, ddof=1) / math.sqrt(x.shape[0])


def _active(views: Views, ps, graph) -> tuple[tuple, tuple]:
    """The players some compared outcome depends on (all of them without a traced graph), and the rest."""
    if graph is not None:
        used = 0
        for x in graph.outputs:
            used |= x.mask if isinstance(x, Node) else 0
    else:  # no graph: every variable, the correlations and the horizon count
        used = views.horizon_mask
        for m in views.leaf_masks.values():
            used |= m
    active = tuple(p for p in ps if used >> views.bit[p] & 1)
    return active, tuple(p for p in ps if p not in active)


def _exact(views: Views, graph, active, mask_of, samples: int, batches: int) -> tuple[dict, np.ndarray]:
    """Exact Shapley values over all 2^n coalitions (walked in Gray-code order), per batch."""
    n = len(active)
    values = walk(views, graph, [mask_of([i for i in range(n) if g >> i & 1]) for g in gray(n)], samples, batches)
    # by subset code: bit i of the code is active player i
    by_code = np.stack([values[mask_of([i for i in range(n) if c >> i & 1])] for c in range(2**n)])
    pop = np.array([bin(c).count("1") for c in range(2**n)])
    weight = np.array(
        [math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n) if k < n else 0.0 for k in range(n + 1)]
    )
    phi = {}
    for i, p in enumerate(active):
        without = np.array([c for c in range(2**n) if not c >> i & 1], dtype=np.int64)
        phi[p] = np.tensordot(weight[pop[without]], by_code[without | (1 << i)] - by_code[without], axes=1)
    return phi, by_code[2**n - 1] - by_code[0]


def _sampled(
    views: Views, graph, active, mask_of, samples: int, batches: int, orderings: int, seed: int
) -> tuple[dict, dict, np.ndarray]:
    """Shapley values from ``orderings`` random orderings in antithetic pairs (Castro et al.
    2009): per player its values per batch and the orderings' own noise."""
    n = len(active)
    rng = np.random.default_rng(seed)
    firsts = [rng.permutation(n) for _ in range(orderings // 2)]
    orders = [o for f in firsts for o in (f, f[::-1])]  # antithetic pairs, kept together
    path = []
    for o in orders:
        path += [0] + [mask_of([int(i) for i in o[: k + 1]]) for k in range(n)]
    values = walk(views, graph, path, samples, batches)
    contrib = {p: np.zeros((len(orders), batches, len(COMPARED))) for p in active}
    for j, o in enumerate(orders):
        for k, i in enumerate(o):
            contrib[active[i]][j] = (
                values[mask_of([int(x) for x in o[: k + 1]])] - values[mask_of([int(x) for x in o[:k]])]
            )
    phi, ordering_se = {}, {}
    for p in active:
        c = contrib[p].reshape(len(orders) // 2, 2, batches, len(COMPARED)).mean(axis=1)  # pairs
        phi[p] = c.mean(axis=0)  # (batches, outcomes): the orderings averaged, per batch
        ordering_se[p] = _spread(c.mean(axis=1))  # pairs as units: the orderings' noise
    return phi, ordering_se, values[mask_of(range(n))] - values[0]


def _tabulate(ps, phi: dict, ordering_se: dict, total: np.ndarray) -> tuple[dict, dict, dict, dict, dict]:
    """Per compared quantity: the total, its error, each player's share and error (world noise
    and, for sampled orderings, the orderings' noise combined)."""
    by: dict = {}
    se: dict = {}
    tot: dict = {}
    tot_se: dict = {}
    ose: dict = {}
    for k, q in enumerate(COMPARED):
        tot[q] = float(total[:, k].mean())
        tot_se[q] = float(_spread(total[:, k : k + 1])[0])
        by[q] = {p: float(phi[p][:, k].mean()) for p in ps}
        se[q] = {}
        for p in ps:
            world = float(_spread(phi[p][:, k : k + 1])[0])
            order_part = float(ordering_se[p][k]) if p in ordering_se else 0.0
            se[q][p] = math.sqrt(world**2 + order_part**2)
        if ordering_se:
            ose[q] = {p: float(ordering_se[p][k]) if p in ordering_se else 0.0 for p in ps}
    return tot, tot_se, by, se, ose


def attribute(
    a: Priors,
    b: Priors,
    samples: int | None = None,
    seed: int = 2023,
    orderings: int | None = None,
    exact_players: int = EXACT_PLAYERS,
    trace: bool = True,
) -> Attribution:
    """Shapley attribution of B − A for every quantity in COMPARED (docs/model.md, "Comparing two views").

    ``samples`` worlds (default SAMPLES) are shared by every coalition. Up to ``exact_players``
    active players the values are exact; beyond, ORDERINGS random orderings are sampled.
    Passing ``orderings`` asks for that many sampled orderings whatever the number of players.
    ``trace=False`` evaluates the equations directly for every coalition (slower; the same numbers).
    """
    samples = SAMPLES if samples is None else int(samples)
    if samples < 1:
        raise ValueError("samples must be at least 1")
    ps = players(a, b)
    views = Views(a, b, ps, seed)
    graph = trace_outcomes(views.leaf_masks, views.horizon_mask) if trace else None
    active, inert = _active(views, ps, graph)
    batches = max(1, min(BATCHES, samples))
    n = len(active)
    bits = [views.bit[p] for p in active]

    def mask_of(members) -> int:
        return sum(1 << bits[i] for i in members)

    zero = np.zeros((batches, len(COMPARED)))
    ordering_se: dict = {}
    if (n <= exact_players and orderings is None) or n < 2:
        method = "shapley" if n else "shapley (nothing differs that the outcomes depend on)"
        phi, total = _exact(views, graph, active, mask_of, samples, batches)
        used_orderings = None
    else:
        used_orderings = ORDERINGS if orderings is None else max(2, int(orderings))
        used_orderings += used_orderings % 2
        phi, ordering_se, total = _sampled(views, graph, active, mask_of, samples, batches, used_orderings, seed)
        method = (
            f"shapley, {used_orderings} sampled orderings in antithetic pairs "
            f"(Castro et al. 2009); ± combines world noise and ordering sampling"
        )
    phi = {p: phi.get(p, zero) for p in ps}
    tot, tot_se, by, se, ose = _tabulate(ps, phi, ordering_se, total)
    return Attribution(a, b, method, ps, samples, tot, tot_se, by, se, inert, used_orderings, ose)
