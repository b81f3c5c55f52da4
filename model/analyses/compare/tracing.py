"""The outcome equations of :mod:`model.core.structure` traced once into a graph of array
operations, each knowing which players it depends on (so a coalition step recomputes only
what the swapped player reaches)."""

from __future__ import annotations

import operator
from dataclasses import dataclass
from functools import partial

import numpy as np

from model.analyses.compare.players import COMPARED, HORIZON
from model.core.backend import numpy_ops
from model.core.structure import outcomes
from model.core.variables import NAMES


class Node:
    """One array operation of the traced outcome equations (or an input)."""

    __slots__ = ("args", "fn", "index", "leaf", "mask", "trace")
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
    trace = next((a.trace for a in args if isinstance(a, Node)), None)
    if trace is None:  # constants only: evaluate now
        return fn(*args)
    return Node(trace, fn, args)


def _binary(fn):
    return (lambda self, other: _apply(fn, self, other)), (lambda self, other: _apply(fn, other, self))


for _name, _fn in (
    ("add", operator.add),
    ("sub", operator.sub),
    ("mul", operator.mul),
    ("truediv", operator.truediv),
    ("floordiv", operator.floordiv),
    ("pow", operator.pow),
    ("mod", operator.mod),
    ("and", operator.and_),
    ("or", operator.or_),
    ("xor", operator.xor),
):
    _f, _r = _binary(_fn)
    setattr(Node, f"__{_name}__", _f)
    setattr(Node, f"__r{_name}__", _r)
for _name, _fn in (
    ("lt", operator.lt),
    ("le", operator.le),
    ("gt", operator.gt),
    ("ge", operator.ge),
    ("eq", operator.eq),
    ("ne", operator.ne),
):
    setattr(Node, f"__{_name}__", _binary(_fn)[0])
for _name, _unary in (("neg", operator.neg), ("pos", operator.pos), ("abs", operator.abs), ("invert", operator.invert)):
    setattr(Node, f"__{_name}__", (lambda fn: lambda self: _apply(fn, self))(_unary))


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
class Graph:
    trace: list  # every traced node, by index
    nodes: list  # needed nodes, in evaluation (creation) order
    outputs: list  # per COMPARED: a node or a constant
    memo: set  # indices of nodes worth memoising


def trace_outcomes(leaf_masks: dict[str, int], horizon_mask: int) -> Graph | None:
    """Trace :func:`model.core.structure.outcomes` once; None if it cannot be traced."""
    trace: list = []
    leaves = {n: Node(trace, leaf=n) for n in NAMES}
    horizon = Node(trace, leaf=HORIZON)
    try:
        o = outcomes(leaves, horizon, xp=_LazyOps())  # type: ignore[arg-type]  # traced stand-ins for arrays
        outs = [getattr(o, q) for q in COMPARED]
    except Exception:  # noqa: BLE001 - any failure: evaluate the equations directly instead
        return None
    if not all(isinstance(x, (Node, int, float, np.floating)) for x in outs):
        return None
    masks = {**leaf_masks, HORIZON: horizon_mask}
    for node in trace:
        if node.leaf is not None:
            node.mask = masks.get(node.leaf, 0)
        else:
            node.mask = 0
            for a in node.args:
                if isinstance(a, Node):
                    node.mask |= a.mask
    needed = set()
    stack = [x.index for x in outs if isinstance(x, Node)]
    while stack:
        i = stack.pop()
        if i in needed:
            continue
        needed.add(i)
        stack.extend(a.index for a in trace[i].args if isinstance(a, Node))
    nodes = [n for n in trace if n.index in needed]
    memo = set()
    for n in nodes:
        for a in n.args:
            if isinstance(a, Node) and a.leaf is None and a.mask and a.mask != n.mask:
                memo.add(a.index)
    return Graph(trace, nodes, outs, memo)
