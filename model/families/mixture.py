"""Weighted mixtures, point masses included (docs/model.md, Priors and sampling)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, ClassVar, Literal, cast

import numpy as np
from pydantic import Field, model_validator

from model.families.base import Family, Marginal
from model.families.fields import FamilySpec


class MixtureSpec(FamilySpec):
    dist: Literal["mixture"]
    components: list[object] = Field(min_length=1)
    weights: list[Annotated[float, Field(ge=0, allow_inf_nan=False)]]
    nestable: ClassVar[bool] = False

    @model_validator(mode="after")
    def _check(self):
        if len(self.weights) != len(self.components):
            raise ValueError(f"{len(self.components)} components but {len(self.weights)} weights")
        if abs(sum(self.weights) - 1) > 1e-9:
            raise ValueError(f"weights must sum to 1 (they sum to {sum(self.weights):.10g})")
        return self

    def parts(self) -> tuple[tuple[str, object], ...]:
        return tuple((f"components[{i}]", c) for i, c in enumerate(self.components))

    def _base(self, parts: tuple[Marginal, ...]):
        return Mixture(parts, tuple(self.weights))


@dataclass(frozen=True)
class Mixture(Family):
    """Weighted mixture; point-mass components become atoms of the quantile function.

    The quantile of the continuous part is found with scipy's vectorised
    bracketing root finder (Chandrupatla 1997), bracketed by the components'
    own quantiles.
    """

    components: tuple[Marginal, ...]
    weights: tuple[float, ...]
    family = "mixture"
    Spec = MixtureSpec
    _cont: tuple = field(init=False, repr=False, compare=False)
    _atoms: tuple = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        cont: list[tuple[Marginal, float]] = []
        atoms: dict[float, float] = {}
        for c, w in zip(self.components, self.weights, strict=True):
            if w == 0:
                continue
            for v, m in c.atoms:
                atoms[v] = atoms.get(v, 0.0) + w * m
            atom_mass = sum(m for _, m in c.atoms)
            if atom_mass < 1:
                cont.append((c, w * (1 - atom_mass)))
        object.__setattr__(self, "_cont", tuple(cont))
        object.__setattr__(self, "_atoms", tuple(sorted(atoms.items())))

    @property
    def atoms(self) -> tuple[tuple[float, float], ...]:
        return self._atoms

    @property
    def support(self) -> tuple[float, float]:
        sup = [c.support for c, w in zip(self.components, self.weights, strict=True) if w > 0]
        return min(s[0] for s in sup), max(s[1] for s in sup)

    def _cont_cdf(self, x):
        total = sum(w for _, w in self._cont)
        return sum(w * c.cdf(x) for c, w in self._cont) / total

    def cdf(self, x: np.ndarray) -> np.ndarray:
        return cast("np.ndarray", sum(w * c.cdf(x) for c, w in zip(self.components, self.weights, strict=True)))

    def cdf_left(self, x: np.ndarray) -> np.ndarray:
        return cast("np.ndarray", sum(w * c.cdf_left(x) for c, w in zip(self.components, self.weights, strict=True)))

    def sf(self, x: np.ndarray) -> np.ndarray:
        return cast("np.ndarray", sum(w * c.sf(x) for c, w in zip(self.components, self.weights, strict=True)))

    def isf(self, s: np.ndarray) -> np.ndarray:
        """The value with P(X > x) = s, found on the survival function as ``_cont_ppf`` finds
        the quantile on the CDF, so that no digits are lost far in the upper tail."""
        from scipy.optimize import elementwise

        if self._atoms:  # the quantile handles the atoms' jumps
            return super().isf(s)
        s = np.asarray(s, dtype=float)
        if len(self._cont) == 1:
            return self._cont[0][0].isf(s)
        qs = [c.isf(s) for c, _ in self._cont]
        lo, hi = np.minimum.reduce(qs), np.maximum.reduce(qs)
        out = hi.copy()
        todo = (hi > lo) & (self.sf(hi) < s)
        if todo.any():
            res = elementwise.find_root(lambda x, t: self.sf(x) - t, (lo[todo], hi[todo]), args=(s[todo],))
            out[todo] = np.where(np.isfinite(res.x), res.x, lo[todo])
        return out

    def pdf(self, x: np.ndarray) -> np.ndarray:
        return sum(w * c.pdf(x) for c, w in self._cont)

    def _cont_ppf(self, v):
        from scipy.optimize import elementwise  # ≈ 0.2 s, only for a mixture's quantile

        if len(self._cont) == 1:
            return self._cont[0][0].ppf(v)
        qs = [c.ppf(v) for c, _ in self._cont]
        lo, hi = np.minimum.reduce(qs), np.maximum.reduce(qs)
        out = lo.copy()
        todo = (hi > lo) & (self._cont_cdf(lo) < v)
        if todo.any():
            res = elementwise.find_root(lambda x, t: self._cont_cdf(x) - t, (lo[todo], hi[todo]), args=(v[todo],))
            # no sign change within rounding (v within 1e-16 of 1): the root is the bracket's top
            out[todo] = np.where(np.isfinite(res.x), res.x, hi[todo])
        return out

    def ppf(self, u: np.ndarray) -> np.ndarray:
        u = np.asarray(u, dtype=float)
        w_cont = sum(w for _, w in self._cont)
        values = np.array([a for a, _ in self._atoms])
        masses = np.array([m for _, m in self._atoms])
        if not len(values):
            return self._cont_ppf(np.clip(u, 0, 1))
        below = np.concatenate([[0.0], np.cumsum(masses)[:-1]])  # atom mass strictly below each atom
        cont_at = w_cont * self._cont_cdf(values) if w_cont > 0 else np.zeros_like(values)
        g_minus = cont_at + below  # P(X < a_j)
        g_at = g_minus + masses  # P(X <= a_j)
        k = np.searchsorted(g_at, u, side="left")  # atoms wholly below u
        kk = np.minimum(k, len(values) - 1)
        in_atom = (k < len(values)) & (u > g_minus[kk])
        out = values[kk].astype(float)
        if w_cont > 0:
            rest = ~in_atom
            mass_below = np.concatenate([[0.0], np.cumsum(masses)])[k[rest]]
            v = np.clip((u[rest] - mass_below) / w_cont, 1e-300, 1 - 1e-16)
            out[rest] = self._cont_ppf(v)
        return out

    def params(self) -> dict[str, float]:
        return {f"w{i}": w for i, w in enumerate(self.weights)}

    # -- PyTensor: no closed form; a small Op evaluates the numpy quantile ----------------
    def ppf_tensor(self, u):
        from model.families.tensor import NumericQuantile, ndtri

        return NumericQuantile(self)(ndtri(u))

    def from_z_tensor(self, z):
        from model.families.tensor import NumericQuantile

        return NumericQuantile(self)(z)

    def nuts_problem(self) -> str | None:
        if any(w > 0 for _, w in self.atoms):
            return (
                "a mixture with a point mass is a step function of the latent variable, which "
                "NUTS cannot differentiate; use --method reweight (or tilt) for this priors file"
            )
        return None

    # -- refit ----------------------------------------------------------------------------
    def refit(self, x: np.ndarray, w: np.ndarray) -> dict:
        """The components kept, the weights replaced by the posterior responsibilities."""
        resp = [wc * c.likelihood(x) for c, wc in zip(self.components, self.weights, strict=True)]
        total = np.sum(resp, axis=0)
        new = [float(w @ np.divide(r, total, out=np.zeros_like(r), where=total > 0)) for r in resp]
        new = [v / sum(new) for v in new]
        return {"dist": self.family, "weights": _fix_sum(new), "components": [c.as_table() for c in self.components]}


def _fix_sum(weights: list[float]) -> list[float]:
    """Weights rounded so that they sum to 1 within the loader's tolerance."""
    rounded = [round(v, 12) for v in weights]
    rounded[-1] = round(1 - sum(rounded[:-1]), 12)
    return rounded
