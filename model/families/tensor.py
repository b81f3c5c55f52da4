"""Quantile transforms of every prior family in PyTensor, for the PyMC calibration.

``from_z_tensor(marginal, z)`` maps the copula's standard normals to the
variable, like :meth:`model.families.Marginal.from_z` does in numpy; each family
file holds its own rule (``ppf_tensor``, ``from_z_tensor``). Families
with a closed-form or special-function quantile use PyTensor's own operations
(``erfcinv``, ``betaincinv``, ``gammaincinv``), so gradients flow to NUTS.
Continuous mixtures have no closed-form quantile: a small Op evaluates the
numpy quantile and supplies its exact derivative φ(z)/f(x). Point masses
inside a mixture make the transform a step function, which NUTS cannot
differentiate: those raise :class:`CalibrationError`.
"""

from __future__ import annotations

import math

import numpy as np

from model.core.backend import Array
from model.families.base import Marginal

SQRT2 = math.sqrt(2.0)


class CalibrationError(Exception):
    """A priors file that the Bayesian (NUTS) calibration cannot handle."""


def _pt():
    import pytensor.tensor as pt

    return pt


def normal_cdf(x: Array) -> Array:
    """Φ(x) in PyTensor, through erfc (accurate in both tails)."""
    return 0.5 * _pt().erfc(-x / SQRT2)


def ndtri(u: Array) -> Array:
    """Standard normal quantile, accurate in the lower tail: −√2·erfcinv(2u)."""
    return -SQRT2 * _pt().erfcinv(2.0 * u)


def ppf_tensor(m: Marginal, u: Array) -> Array:
    """F⁻¹(u) of marginal ``m`` as a PyTensor expression of ``u`` (the family's own rule)."""
    return m.ppf_tensor(u)


def from_z_tensor(m: Marginal, z: Array) -> Array:
    """The variable at copula coordinate ``z`` (a PyTensor expression)."""
    return m.from_z_tensor(z)


def check(name: str, m: Marginal) -> None:
    """Raise CalibrationError if NUTS cannot use variable ``name``'s prior."""
    if why := m.nuts_problem():
        raise CalibrationError(f"{name}: {why}")


def _op_classes():
    from pytensor.graph.basic import Apply
    from pytensor.graph.op import Op

    class _Elementwise(Op):
        """An elementwise function of z defined by a numpy marginal (hashed by it)."""

        __props__ = ("marginal",)

        def __init__(self, marginal):
            self.marginal = marginal

        def make_node(self, *inputs):
            (z,) = inputs
            z = _pt().as_tensor_variable(z)
            return Apply(self, [z], [z.type()])

    class _Quantile(_Elementwise):
        """x = F⁻¹(Φ(z)) evaluated by the numpy marginal; gradient φ(z)/f(x)."""

        def perform(self, node, inputs, outputs):
            z = np.asarray(inputs[0], dtype=float)
            outputs[0][0] = np.asarray(self.marginal.from_z(np.atleast_1d(z)), dtype=float).reshape(z.shape)

        def grad(self, inputs, grads):
            return [grads[0] * _Slope(self.marginal)(inputs[0])]

    class _Slope(_Elementwise):
        """dx/dz = φ(z)/f(x)."""

        def perform(self, node, inputs, outputs):
            z = np.atleast_1d(np.asarray(inputs[0], dtype=float))
            x = self.marginal.from_z(z)
            slope = np.exp(-(z**2) / 2) / math.sqrt(2 * math.pi) / self.marginal.pdf(x)
            outputs[0][0] = np.asarray(slope, dtype=float).reshape(np.shape(inputs[0]))

    return _Quantile


_QUANTILE = None


def NumericQuantile(marginal):  # named like the Op class it returns
    global _QUANTILE
    if _QUANTILE is None:
        _QUANTILE = _op_classes()
    return _QUANTILE(marginal)
