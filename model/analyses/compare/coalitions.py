"""Evaluating coalitions: each hybrid view's outcome sums on common random numbers, chunk by
chunk, recomputing only the operations a swapped player reaches."""

from __future__ import annotations

import numpy as np

from model.analyses.compare.players import COMPARED, CORRELATIONS, HORIZON, player_of
from model.analyses.compare.tracing import Graph, Node
from model.core.copula import correlated
from model.core.structure import outcomes
from model.core.variables import NAMES
from model.montecarlo.engine import BLOCK, block_rng
from model.priors.beliefs import Priors

#: Worlds evaluated together; the memo of one chunk is dropped before the next.
CHUNK = 16_384
#: Most bytes the per-chunk memo of intermediate arrays may hold.
MEMO_BYTES = 192 * 2**20


class Chunk:
    """The outcome sums of one chunk of worlds, coalition after coalition.

    ``visit(S)`` returns the sum over the chunk's worlds of every COMPARED outcome in the
    hybrid view S (a bitmask over the players). Each node keeps the part of the coalition
    it was last computed for, ``S & node.mask``; a node whose part has not changed is not
    recomputed, and a memoised node whose part was seen before is read back, so the
    operations below it are skipped too.
    """

    def __init__(self, graph: Graph | None, leaf_value, horizon_value, size: int, direct):
        self.graph, self.leaf_value, self.horizon_value = graph, leaf_value, horizon_value
        self.size, self.direct = size, direct
        n = len(graph.trace) if graph is not None else 0
        self.values: list = [None] * n
        self.keys: list = [None] * n
        self.memo: dict[tuple[int, int], np.ndarray] = {}
        self.memo_bytes = 0
        self.sums_memo: dict[tuple[int, int], float] = {}

    def _get(self, node: Node, s: int):
        assert self.graph is not None  # only called when the equations were traced
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
                out = node.fn(*[get(a, s) if isinstance(a, Node) else a for a in node.args])
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
            if not isinstance(x, Node):
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


def chunk_ranges(samples: int, batches: int):
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


class Views:
    """The two files' marginals and copulas, on common standard normals."""

    def __init__(self, a: Priors, b: Priors, ps: tuple[str, ...], seed: int):
        self.a, self.b, self.seed = a, b, seed
        self.bit = {p: i for i, p in enumerate(ps)}
        self.player_of = of = player_of(a, b)
        self.copulas = {"a": a.copula(NAMES), "b": b.copula(NAMES)}
        in_copula = set(correlated(NAMES, a.correlations)) | set(correlated(NAMES, b.correlations))
        corr_bit = 1 << self.bit[CORRELATIONS] if CORRELATIONS in self.bit else 0
        self.leaf_masks = {
            n: (1 << self.bit[of[n]] if of[n] in self.bit else 0) | (corr_bit if n in in_copula else 0) for n in NAMES
        }
        self.horizon_mask = 1 << self.bit[HORIZON] if HORIZON in self.bit else 0
        self._block: tuple[int | None, dict[str, np.ndarray]] = (None, {})

    def normals(self, block: int) -> dict[str, np.ndarray]:
        if self._block[0] != block:
            n = BLOCK  # every block is drawn whole, so a world's normals never depend on `samples`
            z = block_rng(self.seed, block).standard_normal((len(NAMES), n))
            out = {tag: copula.correlate(z.copy()) for tag, copula in self.copulas.items()}
            self._block = (block, out)
        return self._block[1]

    def chunk(self, graph, block: int, start: int, stop: int) -> Chunk:
        z = {tag: zz[:, start:stop] for tag, zz in self.normals(block).items()}
        cache: dict[tuple[str, str, str], np.ndarray] = {}
        corr_bit = 1 << self.bit[CORRELATIONS] if CORRELATIONS in self.bit else 0

        def leaf_value(name: str, s: int):
            player = self.player_of[name]
            prior_of = "b" if player in self.bit and s >> self.bit[player] & 1 else "a"
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

        return Chunk(graph, leaf_value, horizon_value, stop - start, direct)


def gray(n: int):
    """All 2ⁿ subset codes, each differing from the previous one in one bit (Gray code)."""
    for i in range(2**n):
        yield i ^ (i >> 1)


def walk(views: Views, graph, path: list[int], samples: int, batches: int) -> dict[int, np.ndarray]:
    """Mean of every COMPARED outcome per batch, for each distinct coalition on ``path``."""
    chunks, sizes = chunk_ranges(samples, batches)
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
