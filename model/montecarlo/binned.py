"""Conditional means of outputs given each belief, from the Monte Carlo sample, in constant memory.

A world's position in a variable's prior is u = Φ(z), its copula coordinate, so
equal-width bins of u are equal-probability bins of the variable under its
prior. Per-bin counts and sums merge exactly across blocks. From them come
given-data first-order indices (respecting the copula), conditional curves
and tornado swings, and the regression estimate of partial EVPI (Strong &
Oakley 2013, Med. Decis. Making 33:755) with a piecewise-constant regression,
and the probability that learning a belief would flip the decision.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import numpy as np

from model.core.quantities import HEADLINE, Q

#: Outputs summarised per bin; net_benefit is the decision's "build minus don't build".
OUTPUTS = (*HEADLINE, "net_benefit")
BINS = 40  # per variable
JOINT_BINS = 20  # per crux, for the two cruxes jointly


def net_benefit(values: dict, utilities: tuple[float, float, float]):
    """Utility of building the AAR minus not building it, per world (docs/model.md, "Which belief matters").

    v·(plan_solved − baseline) − c_x·x_risk − c_e·capability_externalities, with
    utilities = (v, c_x, c_e). The race that capability externalities lose is already in
    plan_solved (it is success the plan did not get), so c_e is only an *extra* cost per
    unit of their probability beyond that lost race: 0 (the default) charges them once.
    """
    v, c_x, c_e = utilities
    return v * values[Q.plan_minus_baseline] - c_x * values[Q.x_risk] - c_e * values[Q.capability_externalities]


def accumulate(u: np.ndarray, outputs: np.ndarray, joint: tuple[int, int] | None):
    """Per-bin counts and sums.

    u: (variables, n) copula coordinates in [0, 1]; outputs: (len(OUTPUTS), n).
    Returns counts (variables, BINS), sums (variables, BINS, outputs), and the
    same on a JOINT_BINS² grid of the two rows named by ``joint`` (or None).
    """
    k, _ = u.shape
    q = outputs.shape[0]
    idx = np.minimum((u * BINS).astype(np.intp), BINS - 1)
    cell = (idx + (np.arange(k) * BINS)[:, None]).ravel()
    counts = np.bincount(cell, minlength=k * BINS).reshape(k, BINS)
    sums = np.stack(
        [np.bincount(cell, weights=np.tile(outputs[j], k), minlength=k * BINS) for j in range(q)], axis=-1
    ).reshape(k, BINS, q)
    jc = js = None
    if joint is not None:
        a = np.minimum((u[joint[0]] * JOINT_BINS).astype(np.intp), JOINT_BINS - 1)
        b = np.minimum((u[joint[1]] * JOINT_BINS).astype(np.intp), JOINT_BINS - 1)
        c = a * JOINT_BINS + b
        jc = np.bincount(c, minlength=JOINT_BINS**2)
        js = np.stack([np.bincount(c, weights=outputs[j], minlength=JOINT_BINS**2) for j in range(q)], axis=-1)
    return counts, sums, jc, js


@dataclass(frozen=True)
class SensitivitySums:
    """What the engine accumulates for the sensitivity section: additive over worlds, so
    blocks merge exactly (in block order, whatever the workers).

    ``counts`` (variables, BINS) and ``sums`` (variables, BINS, OUTPUTS) per bin of each
    variable's copula coordinate; ``joint_counts`` (JOINT_BINS²) and ``joint_sums``
    (JOINT_BINS², OUTPUTS) on the two cruxes' grid (zeros when one is a point prior);
    ``positive_net_benefit`` Σ max(NB, 0) and ``favouring_build`` #(NB > 0), each an array
    of one element; ``squares`` Σ y² and ``totals`` Σ y per output.
    """

    counts: np.ndarray
    sums: np.ndarray
    joint_counts: np.ndarray
    joint_sums: np.ndarray
    positive_net_benefit: np.ndarray
    favouring_build: np.ndarray
    squares: np.ndarray
    totals: np.ndarray

    def merge(self, other: SensitivitySums) -> SensitivitySums:
        return SensitivitySums(*(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)))


def sensitivity_sums(u: np.ndarray, outputs: np.ndarray, joint: tuple[int, int] | None) -> SensitivitySums:
    """The :class:`SensitivitySums` of one block: copula coordinates ``u`` (variables, n) and
    ``outputs`` (len(OUTPUTS), n), net benefit last; ``joint``: the cruxes' rows of ``u``."""
    counts, sums, jc, js = accumulate(u, outputs, joint)
    if jc is None:
        jc, js = np.zeros(JOINT_BINS**2, np.int64), np.zeros((JOINT_BINS**2, len(OUTPUTS)))
    nb = outputs[OUTPUTS.index("net_benefit")]
    return SensitivitySums(
        counts,
        sums,
        jc,
        js,
        np.array([np.maximum(nb, 0).sum()]),
        np.array([np.count_nonzero(nb > 0)]),
        (outputs**2).sum(axis=1),
        outputs.sum(axis=1),
    )


def first_order(counts: np.ndarray, sums: np.ndarray, total_var: np.ndarray) -> np.ndarray:
    """Given-data first-order index Var(E[Y | X_i]) / Var(Y) from bin means, bias-corrected.

    Under no dependence the raw ratio has expectation (B − 1)/(N − 1); it is
    removed and the result rescaled (the usual correction of the correlation ratio).
    """
    n = counts.sum(axis=1, keepdims=True)
    means = sums / np.maximum(counts, 1)[..., None]
    grand = sums.sum(axis=1, keepdims=True) / n[..., None]
    between = (counts[..., None] * (means - grand) ** 2).sum(axis=1) / n
    raw = np.divide(between, total_var, out=np.zeros_like(between), where=total_var > 0)
    bias = (BINS - 1) / np.maximum(n - 1, 1)
    return np.clip((raw - bias) / (1 - bias), 0.0, 1.0)


def conditional_at(counts: np.ndarray, sums: np.ndarray, u: float) -> np.ndarray:
    """E[Y | X at its u-quantile], interpolated between bin centres: (variables, outputs)."""
    means = sums / np.maximum(counts, 1)[..., None]
    centres = (np.arange(BINS) + 0.5) / BINS
    pos = np.clip(np.interp(u, centres, np.arange(BINS)), 0, BINS - 1)
    lo = int(np.floor(pos))
    hi = min(lo + 1, BINS - 1)
    f = pos - lo
    return (1 - f) * means[:, lo] + f * means[:, hi]


def evppi(counts: np.ndarray, nb_sums: np.ndarray, joint: bool = False) -> tuple[float, float]:
    """Partial EVPI and flip probability from bins of net benefit (one variable or a joint grid).

    EVPPI = E_X[max(E[NB | X], 0)] − max(E[NB], 0), piecewise constant on the bins;
    flip = P_X(the best action given X differs), from :func:`flip_probability`.
    """
    n = counts.sum()
    means = nb_sums / np.maximum(counts, 1)
    overall = nb_sums.sum() / n
    value = float((counts * np.maximum(means, 0)).sum() / n - max(overall, 0.0))
    return max(value, 0.0), flip_probability(counts, nb_sums, joint)


def _sign_flips(means: np.ndarray, overall: float) -> np.ndarray:
    """Whether the best action given a value differs from the best action now (build iff > 0)."""
    return (means > 0) != (overall > 0)


#: Sub-points per bin (and per joint cell side) at which the interpolated E[NB | X] is read.
FLIP_SUBPOINTS = 64
JOINT_FLIP_SUBPOINTS = 16


def _filled(means: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Bin means with empty bins given their nearest non-empty bin's mean (for interpolation)."""
    empty = counts == 0
    if not empty.any() or empty.all():
        return means
    from scipy import ndimage

    idx = ndimage.distance_transform_edt(empty, return_distances=False, return_indices=True)
    return means[tuple(idx)]


def flip_probability(counts: np.ndarray, nb_sums: np.ndarray, joint: bool = False) -> float:
    """P(learning X exactly would change the best action), X a belief (1-D bins) or, with
    ``joint``, the two cruxes (a square grid of joint bins, possibly flattened).

    E[NB | X] is read off the bin means interpolated linearly between bin centres (constant
    beyond the outer centres) at FLIP_SUBPOINTS points per bin (JOINT_FLIP_SUBPOINTS² per
    joint cell), and each bin weighted by its share of worlds. A piecewise-constant reading
    would move in steps of one bin (2.5% with 40 bins); this one resolves 1/(40·64) ≈ 0.04%.
    It is exactly 0 when no bin mean lies on the other side of 0 (then the partial EVPI is 0).
    """
    counts = np.asarray(counts)
    n = counts.sum()
    if n == 0:
        return 0.0
    means = nb_sums / np.maximum(counts, 1)
    overall = float(nb_sums.sum() / n)
    if not _sign_flips(means[counts > 0], overall).any():
        return 0.0
    if joint:
        side = math.isqrt(counts.size)  # counts is a square grid
        return _flip_2d(counts.reshape(side, side), means.reshape(side, side), overall)
    return _flip_1d(counts, means, overall)


def _flip_1d(counts: np.ndarray, means: np.ndarray, overall: float) -> float:
    b = counts.size
    centres = (np.arange(b) + 0.5) / b
    ok = counts > 0
    sub = (np.arange(b)[:, None] + (np.arange(FLIP_SUBPOINTS) + 0.5)[None, :] / FLIP_SUBPOINTS) / b
    curve = np.interp(sub, centres[ok], means[ok])
    share = _sign_flips(curve, overall).mean(axis=1)
    return float((counts * share).sum() / counts.sum())


def _flip_2d(counts: np.ndarray, means: np.ndarray, overall: float) -> float:
    from scipy.interpolate import RegularGridInterpolator

    b = counts.shape[0]
    centres = (np.arange(b) + 0.5) / b
    grid = RegularGridInterpolator((centres, centres), _filled(means, counts), method="linear")
    k = JOINT_FLIP_SUBPOINTS
    pts = np.clip((np.arange(b * k) + 0.5) / (b * k), centres[0], centres[-1])
    x, y = np.meshgrid(pts, pts, indexing="ij")
    curve = grid(np.stack([x.ravel(), y.ravel()], axis=-1)).reshape(b, k, b, k)
    share = _sign_flips(curve, overall).mean(axis=(1, 3))
    return float((counts * share).sum() / counts.sum())


def evppi_noise(counts: np.ndarray, nb_sums: np.ndarray, sd: float) -> float:
    """Rough Monte Carlo noise of :func:`evppi`'s value, given the sd of NB across worlds.

    Two parts, each bin's mean having standard error sd/√count (the overall sd: an upper
    bound on the spread within a bin): the sampling error of the bins whose mean has the
    other sign (the only ones that enter the estimate), √Σ (w_b·se_b)², and the upward bias
    of max(mean, 0) on a noisy mean near 0, Σ w_b·se_b·φ(mean_b/se_b).
    """
    counts = np.asarray(counts).ravel()
    nb_sums = np.asarray(nb_sums).ravel()
    n = counts.sum()
    if n == 0 or not sd > 0:
        return 0.0
    ok = counts > 0
    w = counts[ok] / n
    se = sd / np.sqrt(counts[ok])
    means = nb_sums[ok] / counts[ok]
    overall = float(nb_sums.sum() / n)
    flips = _sign_flips(means, overall)
    sampling = float(np.sqrt(((w * se)[flips] ** 2).sum()))
    bias = float((w * se * np.exp(-0.5 * (means / se) ** 2) / np.sqrt(2 * np.pi)).sum())
    return sampling + bias
