"""The few array operations the structural model needs, for numpy and for PyTensor.

The equations in :mod:`model.core.structure` take one of these namespaces as ``xp``
so the same code runs on Monte Carlo arrays and on PyMC tensors.
"""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any, TypeAlias

import numpy as np
from scipy import special

SQRT2 = math.sqrt(2.0)

#: A numpy array (or float) in the Monte Carlo, a PyTensor tensor in PyMC: the equations
#: accept either, through the ``xp`` namespace.
Array: TypeAlias = Any
#: One of the namespaces below (``numpy_ops`` or ``pytensor_ops()``).
Ops: TypeAlias = SimpleNamespace

numpy_ops = SimpleNamespace(
    name="numpy",
    exp=np.exp,
    expm1=np.expm1,
    log=np.log,
    log1p=np.log1p,
    abs=np.abs,
    clip=np.clip,
    maximum=np.maximum,
    minimum=np.minimum,
    where=np.where,
    sigmoid=special.expit,
    normal_cdf=special.ndtr,
)


def pytensor_ops() -> SimpleNamespace:
    """The PyTensor namespace (imported on demand: PyTensor is slow to import)."""
    import pytensor.tensor as pt

    return SimpleNamespace(
        name="pytensor",
        exp=pt.exp,
        expm1=pt.expm1,
        log=pt.log,
        log1p=pt.log1p,
        abs=pt.abs,
        clip=pt.clip,
        maximum=pt.maximum,
        minimum=pt.minimum,
        where=pt.switch,
        sigmoid=pt.sigmoid,
        normal_cdf=lambda x: 0.5 * pt.erfc(-x / SQRT2),
    )
