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
import operator
from dataclasses import dataclass, field
from functools import partial

import numpy as np

from model.core.backend import numpy_ops
from model.core.copula import correlated
from model.core.quantities import HEADLINE
from model.core.structure import outcomes
from model.core.variables import NAMES
from model.montecarlo.engine import BLOCK, block_rng
from model.priors.beliefs import Priors

COMPARED = HEADLINE
CORRELATIONS = "correlations"
#: Settings of a priors file that are players when they differ: (table, key).
SETTINGS = (("calibration", "horizon_years"), ("calibration", "target"), ("calibration", "trust"),
            ("decision", "value_of_success"), ("decision", "cost_of_catastrophe"),
            ("decision", "cost_of_capability_externalities"))
#: The only setting the compared outcomes depend on (success within the horizon).
HORIZON = "horizon_years"
EXACT_PLAYERS = 12
BATCHES = 8
#: Worlds evaluated together; the memo of one chunk is dropped before the next.
CHUNK = 16_384
#: Default worlds for the attribution (each coalition is a full evaluation of these).
SAMPLES = 131_072
#: Default number of sampled orderings (antithetic pairs) beyond EXACT_PLAYERS players.
ORDERINGS = 128
#: Most bytes the per-chunk memo of intermediate arrays may hold.
MEMO_BYTES = 192 * 2**20


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


def _setting(p: Priors, table: str, key: str):
    return getattr(getattr(p, table), key)


def players(a: Priors, b: Priors) -> tuple[str, ...]:
    """Every difference between the two files: variables, correlations, then settings."""
    differ = tuple(n for n in NAMES if a.variables[n].marginal != b.variables[n].marginal)
    corr = (CORRELATIONS,) if dict(a.correlations) != dict(b.correlations) else ()
    settings = tuple(key for table, key in SETTINGS if _setting(a, table, key) != _setting(b, table, key))
    return differ + corr + settings


# --- the outcome equations as a graph of array operations ---------------------------------------

class _Node:
    """One array operation of the traced outcome equations (or an input)."""

    __slots__ = ("fn", "args", "index", "mask", "leaf", "trace")
    __array_ufunc__ = None  # a numpy function must not swallow a node: tracing then fails
    __hash__ = object.__hash__

    def __init__(self, trace: list, fn=None, args=(), leaf=None):
        self.fn, self.args, self.leaf, self.trace = fn, args, leaf, trace
        self.index = len(trace)
        self.mask = 0
        trace.append(self)

    def __bool__(self):
        raise TypeError("the outcome equations branch on a traced value")

    def __len__(self):
        raise TypeError("the outcome equations ask the length of a traced value")

    def __array__(self, *args, **kwargs):
        raise TypeError("a numpy function was called on a traced value (use the xp namespace)")


def _apply(fn, *args):
    trace = next((a.trace for a in args if isinstance(a, _Node)), None)
    if trace is None:  # constants only: evaluate now
        return fn(*args)
    return _Node(trace, fn, args)


def _binary(fn):
    return (lambda self, other: _apply(fn, self, other)), (lambda self, other: _apply(fn, other, self))


for _name, _fn in (("add", operator.add), ("sub", operator.sub), ("mul", operator.mul),
                   ("truediv", operator.truediv), ("floordiv", operator.floordiv), ("pow", operator.pow),
                   ("mod", operator.mod), ("and", operator.and_), ("or", operator.or_), ("xor", operator.xor)):
    _f, _r = _binary(_fn)
    setattr(_Node, f"__{_name}__", _f)
    setattr(_Node, f"__r{_name}__", _r)
for _name, _fn in (("lt", operator.lt), ("le", operator.le), ("gt", operator.gt), ("ge", operator.ge),
                   ("eq", operator.eq), ("ne", operator.ne)):
    setattr(_Node, f"__{_name}__", _binary(_fn)[0])
for _name, _fn in (("neg", operator.neg), ("pos", operator.pos), ("abs", operator.abs), ("invert", operator.invert)):
    setattr(_Node, f"__{_name}__", (lambda fn: lambda self: _apply(fn, self))(_fn))


class _LazyOps:
    """The ``xp`` namespace of :mod:`model.core.backend` for traced values: same names, deferred."""

    def __getattr__(self, name):
        attr = getattr(numpy_ops, name)
        if not callable(attr):
            return attr

        def call(*args, **kwargs):
            return _apply(partial(attr, **kwargs) if kwargs else attr, *args)
        return call


@dataclass
class _Graph:
    trace: list  # every traced node, by index
    nodes: list  # needed nodes, in evaluation (creation) order
    outputs: list  # per COMPARED: a node or a constant
    memo: set  # indices of nodes worth memoising


def _trace(leaf_masks: dict[str, int], horizon_mask: int) -> _Graph | None:
    """Trace :func:`model.core.structure.outcomes` once; None if it cannot be traced."""
    trace: list = []
    leaves = {n: _Node(trace, leaf=n) for n in NAMES}
    horizon = _Node(trace, leaf=HORIZON)
    try:
        o = outcomes(leaves, horizon, xp=_LazyOps())
        outs = [getattr(o, q) for q in COMPARED]
    except Exception:  # noqa: BLE001 - any failure: evaluate the equations directly instead
        return None
    if not all(isinstance(x, (_Node, int, float, np.floating)) for x in outs):
        return None
    masks = {**leaf_masks, HORIZON: horizon_mask}
    for node in trace:
        if node.leaf is not None:
            node.mask = masks.get(node.leaf, 0)
        else:
            node.mask = 0
            for a in node.args:
                if isinstance(a, _Node):
                    node.mask |= a.mask
    needed = set()
    stack = [x.index for x in outs if isinstance(x, _Node)]
    while stack:
        i = stack.pop()
        if i in needed:
            continue
        needed.add(i)
        stack.extend(a.index for a in trace[i].args if isinstance(a, _Node))
    nodes = [n for n in trace if n.index in needed]
    memo = set()
    for n in nodes:
        for a in n.args:
            if isinstance(a, _Node) and a.leaf is None and a.mask and a.mask != n.mask:
                memo.add(a.index)
    return _Graph(trace, nodes, outs, memo)


# --- evaluating coalitions --------------------------------------------------------------------

class _Chunk:
    """The outcome sums of one chunk of worlds, coalition after coalition.

    ``visit(S)`` returns the sum over the chunk's worlds of every COMPARED outcome in the
    hybrid view S (a bitmask over the players). Each node keeps the part of the coalition
    it was last computed for, ``S & node.mask``; a node whose part has not changed is not
    recomputed, and a memoised node whose part was seen before is read back, so the
    operations below it are skipped too.
    """

    def __init__(self, graph: _Graph | None, leaf_value, horizon_value, size: int, direct):
        self.graph, self.leaf_value, self.horizon_value = graph, leaf_value, horizon_value
        self.size, self.direct = size, direct
        n = len(graph.trace) if graph is not None else 0
        self.values: list = [None] * n
        self.keys: list = [None] * n
        self.memo: dict[tuple[int, int], np.ndarray] = {}
        self.memo_bytes = 0
        self.sums_memo: dict[tuple[int, int], float] = {}

    def _get(self, node: _Node, s: int):
        i = node.index
        key = s & node.mask
        if self.keys[i] == key:
            return self.values[i]
        memoised = i in self.graph.memo
        out = self.memo.get((i, key)) if memoised else None
        if out is None:
            if node.leaf is not None:
                out = self.horizon_value(s) if node.leaf == HORIZON else self.leaf_value(node.leaf, s)
            else:
                get = self._get
                out = node.fn(*[get(a, s) if isinstance(a, _Node) else a for a in node.args])
                if memoised and self.memo_bytes < MEMO_BYTES:
                    self.memo[(i, key)] = out
                    self.memo_bytes += getattr(out, "nbytes", 8)
        self.keys[i] = key
        self.values[i] = out
        return out

    def visit(self, s: int) -> np.ndarray:
        if self.graph is None:
            return self.direct(s)
        out = np.empty(len(COMPARED))
        for k, x in enumerate(self.graph.outputs):
            if not isinstance(x, _Node):
                out[k] = float(x) * self.size
                continue
            key = (x.index, s & x.mask)
            total = self.sums_memo.get(key)
            if total is None:
                v = self._get(x, s)
                total = float(np.sum(v)) if np.ndim(v) else float(v) * self.size
                self.sums_memo[key] = total
            out[k] = total
        return out


def _chunks(samples: int, batches: int):
    """(batch, block, start, stop) of every chunk: batches are consecutive ranges of worlds,
    cut at engine blocks (each block's normals drawn once) and at CHUNK worlds."""
    bounds = np.linspace(0, samples, batches + 1).round().astype(int)
    out = []
    for b in range(batches):
        lo, hi = int(bounds[b]), int(bounds[b + 1])
        while lo < hi:
            block = lo // BLOCK
            stop = min(hi, (block + 1) * BLOCK, lo + CHUNK)
            out.append((b, block, lo - block * BLOCK, stop - block * BLOCK))
            lo = stop
    return out, np.diff(bounds)


class _Views:
    """The two files' marginals and copulas, on common standard normals."""

    def __init__(self, a: Priors, b: Priors, ps: tuple[str, ...], seed: int):
        self.a, self.b, self.seed = a, b, seed
        self.bit = {p: i for i, p in enumerate(ps)}
        self.copulas = {"a": a.copula(NAMES), "b": b.copula(NAMES)}
        in_copula = set(correlated(NAMES, a.correlations)) | set(correlated(NAMES, b.correlations))
        corr_bit = 1 << self.bit[CORRELATIONS] if CORRELATIONS in self.bit else 0
        self.leaf_masks = {n: (1 << self.bit[n] if n in self.bit else 0)
                           | (corr_bit if n in in_copula else 0) for n in NAMES}
        self.horizon_mask = 1 << self.bit[HORIZON] if HORIZON in self.bit else 0
        self._block = (None, None)

    def normals(self, block: int) -> dict[str, np.ndarray]:
        if self._block[0] != block:
            n = BLOCK  # every block is drawn whole, so a world's normals never depend on `samples`
            z = block_rng(self.seed, block).standard_normal((len(NAMES), n))
            out = {tag: copula.correlate(z.copy()) for tag, copula in self.copulas.items()}
            self._block = (block, out)
        return self._block[1]

    def chunk(self, graph, block: int, start: int, stop: int) -> _Chunk:
        z = {tag: zz[:, start:stop] for tag, zz in self.normals(block).items()}
        cache: dict[tuple[str, str, str], np.ndarray] = {}
        corr_bit = 1 << self.bit[CORRELATIONS] if CORRELATIONS in self.bit else 0

        def leaf_value(name: str, s: int):
            prior_of = "b" if name in self.bit and s >> self.bit[name] & 1 else "a"
            copula_of = "b" if s & corr_bit else "a"
            key = (name, prior_of, copula_of)
            if key not in cache:
                src = self.a if prior_of == "a" else self.b
                cache[key] = src.variables[name].marginal.from_z(z[copula_of][NAMES.index(name)])
            return cache[key]

        def horizon_value(s: int) -> float:
            p = self.b if s & self.horizon_mask else self.a
            return p.calibration.horizon_years

        def direct(s: int) -> np.ndarray:
            o = outcomes({n: leaf_value(n, s) for n in NAMES}, horizon_value(s))
            return np.array([float(np.sum(np.broadcast_to(getattr(o, q), (stop - start,)))) for q in COMPARED])

        return _Chunk(graph, leaf_value, horizon_value, stop - start, direct)


def _gray(n: int):
    """All 2ⁿ subset codes, each differing from the previous one in one bit (Gray code)."""
    for i in range(2**n):
        yield i ^ (i >> 1)


def _walk(views: _Views, graph, path: list[int], samples: int, batches: int) -> dict[int, np.ndarray]:
    """Mean of every COMPARED outcome per batch, for each distinct coalition on ``path``."""
    chunks, sizes = _chunks(samples, batches)
    distinct = list(dict.fromkeys(path))
    sums = {s: np.zeros((batches, len(COMPARED))) for s in distinct}
    for batch, block, start, stop in chunks:
        ev = views.chunk(graph, block, start, stop)
        seen = set()
        for s in path:
            if s not in seen:
                seen.add(s)
                sums[s][batch] += ev.visit(s)
    return {s: v / sizes[:, None] for s, v in sums.items()}


def _spread(x: np.ndarray) -> np.ndarray:
    """Standard error of the mean over the first axis (0 with fewer than two rows)."""
    if x.shape[0] < 2:
        return np.zeros(x.shape[1:])
    return x.std(axis=0, ddof=1) / math.sqrt(x.shape[0])


def _active(views: "_Views", ps, graph) -> tuple[tuple, tuple]:
    """The players some compared outcome depends on (all of them without a traced graph), and the rest."""
    if graph is not None:
        used = 0
        for x in graph.outputs:
            used |= x.mask if isinstance(x, _Node) else 0
    else:  # no graph: every variable, the correlations and the horizon count
        used = views.horizon_mask
        for m in views.leaf_masks.values():
            used |= m
    active = tuple(p for p in ps if used >> views.bit[p] & 1)
    return active, tuple(p for p in ps if p not in active)


def _exact(views: "_Views", graph, active, mask_of, samples: int, batches: int) -> tuple[dict, np.ndarray]:
    """Exact Shapley values over all 2^n coalitions (walked in Gray-code order), per batch."""
    n = len(active)
    values = _walk(views, graph, [mask_of([i for i in range(n) if g >> i & 1]) for g in _gray(n)],
                   samples, batches)
    # by subset code: bit i of the code is active player i
    by_code = np.stack([values[mask_of([i for i in range(n) if c >> i & 1])] for c in range(2**n)])
    pop = np.array([bin(c).count("1") for c in range(2**n)])
    weight = np.array([math.factorial(k) * math.factorial(n - k - 1) / math.factorial(n) if k < n else 0.0
                       for k in range(n + 1)])
    phi = {}
    for i, p in enumerate(active):
        without = np.array([c for c in range(2**n) if not c >> i & 1], dtype=np.int64)
        phi[p] = np.tensordot(weight[pop[without]], by_code[without | (1 << i)] - by_code[without], axes=1)
    return phi, by_code[2**n - 1] - by_code[0]


def _sampled(views: "_Views", graph, active, mask_of, samples: int, batches: int, orderings: int,
             seed: int) -> tuple[dict, dict, np.ndarray]:
    """Shapley values from ``orderings`` random orderings in antithetic pairs (Castro et al.
    2009): per player its values per batch and the orderings' own noise."""
    n = len(active)
    rng = np.random.default_rng(seed)
    firsts = [rng.permutation(n) for _ in range(orderings // 2)]
    orders = [o for f in firsts for o in (f, f[::-1])]  # antithetic pairs, kept together
    path = []
    for o in orders:
        path += [0] + [mask_of([int(i) for i in o[:k + 1]]) for k in range(n)]
    values = _walk(views, graph, path, samples, batches)
    contrib = {p: np.zeros((len(orders), batches, len(COMPARED))) for p in active}
    for j, o in enumerate(orders):
        for k, i in enumerate(o):
            contrib[active[i]][j] = values[mask_of([int(x) for x in o[:k + 1]])] - values[mask_of([int(x) for x in o[:k]])]
    phi, ordering_se = {}, {}
    for p in active:
        c = contrib[p].reshape(len(orders) // 2, 2, batches, len(COMPARED)).mean(axis=1)  # pairs
        phi[p] = c.mean(axis=0)  # (batches, outcomes): the orderings averaged, per batch
        ordering_se[p] = _spread(c.mean(axis=1))  # pairs as units: the orderings' noise
    return phi, ordering_se, values[mask_of(range(n))] - values[0]


def _tabulate(ps, phi: dict, ordering_se: dict, total: np.ndarray) -> tuple[dict, dict, dict, dict, dict]:
    """Per compared quantity: the total, its error, each player's share and error (world noise
    and, for sampled orderings, the orderings' noise combined)."""
    by, se, tot, tot_se, ose = {}, {}, {}, {}, {}
    for k, q in enumerate(COMPARED):
        tot[q] = float(total[:, k].mean())
        tot_se[q] = float(_spread(total[:, k:k + 1])[0])
        by[q] = {p: float(phi[p][:, k].mean()) for p in ps}
        se[q] = {}
        for p in ps:
            world = float(_spread(phi[p][:, k:k + 1])[0])
            order_part = float(ordering_se[p][k]) if p in ordering_se else 0.0
            se[q][p] = math.sqrt(world**2 + order_part**2)
        if ordering_se:
            ose[q] = {p: float(ordering_se[p][k]) if p in ordering_se else 0.0 for p in ps}
    return tot, tot_se, by, se, ose


def check_comparable(views: list[Priors]) -> None:
    """Refuse calibrated files: their worlds are weighted by the market, which no variable's
    Shapley value can hold (the attribution would say nothing differs while the outcomes do)."""
    for v in views:
        if v.calibration.apply is not None:
            raise ValueError(f"{v.path} is calibrated (its worlds are weighted by the market): compare the "
                             "file it inherits from; its calibration report shows what the market changes")


def attribute(a: Priors, b: Priors, samples: int | None = None, seed: int = 2023,
              orderings: int | None = None, exact_players: int = EXACT_PLAYERS,
              trace: bool = True) -> Attribution:
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
    views = _Views(a, b, ps, seed)
    graph = _trace(views.leaf_masks, views.horizon_mask) if trace else None
    active, inert = _active(views, ps, graph)
    batches = max(1, min(BATCHES, samples))
    n = len(active)
    bits = [views.bit[p] for p in active]

    def mask_of(members) -> int:
        return sum(1 << bits[i] for i in members)

    zero = np.zeros((batches, len(COMPARED)))
    ordering_se: dict = {}
    if n <= exact_players and orderings is None or n < 2:
        method = "shapley" if n else "shapley (nothing differs that the outcomes depend on)"
        phi, total = _exact(views, graph, active, mask_of, samples, batches)
        used_orderings = None
    else:
        used_orderings = ORDERINGS if orderings is None else max(2, int(orderings))
        used_orderings += used_orderings % 2
        phi, ordering_se, total = _sampled(views, graph, active, mask_of, samples, batches, used_orderings, seed)
        method = (f"shapley, {used_orderings} sampled orderings in antithetic pairs "
                  f"(Castro et al. 2009); ± combines world noise and ordering sampling")
    phi = {p: phi.get(p, zero) for p in ps}
    tot, tot_se, by, se, ose = _tabulate(ps, phi, ordering_se, total)
    return Attribution(a, b, method, ps, samples, tot, tot_se, by, se, inert, used_orderings, ose)


# --- crux maps on common axes -------------------------------------------------------------------

#: The crux map's default axes are the run's (engine.MAP_AXES), widened to every view's central 99%.
MAP_PERCENTILES = (0.005, 0.995)
#: Most worlds per view re-binned when a run's own map has other edges.
MAP_WORLDS = 2**20


@dataclass(frozen=True)
class CruxMaps:
    """Every view's crux map on the same cells."""

    c_edges: np.ndarray
    r_edges: np.ndarray
    counts: list  # per view: (cells, cells) worlds
    means: list  # per view: {quantity: (cells, cells)}, NaN where no world fell
    worlds: list[int]  # per view: worlds binned
    reused: list[bool]  # per view: the run's own map (same edges) or re-binned here


def common_edges(views: list[Priors], cells: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Cell edges shared by every view: the default axes, widened to each view's 0.5th and
    99.5th percentiles of the crux where they reach beyond."""
    from model.montecarlo.engine import MAP_AXES, MAP_CELLS

    cells = MAP_CELLS if cells is None else cells
    edges = []
    for name, (lo, hi) in MAP_AXES.items():
        for p in views:
            a, b = (float(v) for v in p.variables[name].marginal.ppf(np.array(MAP_PERCENTILES)))
            lo, hi = min(lo, a), max(hi, b)
        edges.append(np.linspace(lo, hi, cells + 1))
    return edges[0], edges[1]


def _bin_map(priors: Priors, result, edges, worlds: int):
    """Counts and mean outcomes per cell of ``worlds`` of the run's worlds (same seed, same draws)."""
    from model.montecarlo.engine import MAP_QUANTITIES, Sampler, crux_cells

    cells = len(edges[0]) - 1
    sampler = Sampler.from_priors(priors, result.horizon, result.target)
    counts = np.zeros(cells * cells + 1)
    sums = np.zeros((len(MAP_QUANTITIES), cells * cells + 1))
    for block in range(math.ceil(worlds / BLOCK)):
        n = min(BLOCK, worlds - block * BLOCK)
        w = sampler.draw(block_rng(result.seed, block), n)
        o = outcomes(w, sampler.horizon)
        c = np.broadcast_to(w["capability_needed"], (n,))
        r = np.broadcast_to(w["relative_difficulty"], (n,))
        cell = crux_cells(c, r, edges)
        counts += np.bincount(cell, minlength=cells * cells + 1)
        for k, q in enumerate(MAP_QUANTITIES):
            sums[k] += np.bincount(cell, weights=np.broadcast_to(getattr(o, q), (n,)), minlength=cells * cells + 1)
    shape = (cells, cells)
    inner = counts[:-1].reshape(shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        means = {q: np.where(inner > 0, sums[k, :-1].reshape(shape) / inner, np.nan)
                 for k, q in enumerate(MAP_QUANTITIES)}
    return inner.astype(np.int64), means


def crux_maps(runs: list, max_worlds: int = MAP_WORLDS) -> CruxMaps:
    """The views' crux maps on common edges: a run's own map where its edges are the common
    ones, otherwise its first ``max_worlds`` worlds binned again on the common edges."""
    edges = common_edges([p for p, _ in runs])
    counts, means, worlds, reused = [], [], [], []
    for p, r in runs:
        m = getattr(r, "crux_map", None)
        if m is not None and np.array_equal(m.c_edges, edges[0]) and np.array_equal(m.r_edges, edges[1]):
            counts.append(np.asarray(m.counts))
            means.append(dict(m.means))
            worlds.append(int(np.asarray(m.counts).sum()))
            reused.append(True)
        else:
            n = min(r.samples, max_worlds)
            c, mm = _bin_map(p, r, edges, n)
            counts.append(c)
            means.append(mm)
            worlds.append(int(c.sum()))
            reused.append(False)
    return CruxMaps(edges[0], edges[1], counts, means, worlds, reused)
