"""Conditional means of outputs given each belief, from the Monte Carlo sample, in constant memory.

A world's position in a variable's prior is u = Φ(z), its copula coordinate, so
equal-width bins of u are equal-probability bins of the variable under its
prior. Per-bin counts and sums merge exactly across blocks. From them come
given-data first-order indices (respecting the copula), conditional curves
and tornado swings, and the regression estimate of partial EVPI (Strong &
Oakley 2013, Med. Decis. Making 33:755) with a piecewise-constant regression.
"""

from __future__ import annotations

import numpy as np

#: Outputs summarised per bin; net_benefit is the decision's "build minus don't build".
OUTPUTS = ("success", "kicking_the_can", "capability_externalities", "x_risk",
           "success_within_horizon", "plan_minus_baseline", "net_benefit")
BINS = 40  # per variable
JOINT_BINS = 20  # per crux, for the two cruxes jointly


def net_benefit(values: dict, utilities: tuple[float, float, float]):
    """Utility of building the AAR minus not building it, per world.

    V·(plan_solved − baseline) − C_x·x_risk − C_e·capability_externalities.
    """
    v, c_x, c_e = utilities
    return (v * values["plan_minus_baseline"] - c_x * values["x_risk"]
            - c_e * values["capability_externalities"])


def accumulate(u: np.ndarray, outputs: np.ndarray, joint: tuple[int, int] | None):
    """Per-bin counts and sums.

    u: (variables, n) copula coordinates in [0, 1]; outputs: (len(OUTPUTS), n).
    Returns counts (variables, BINS), sums (variables, BINS, outputs), and the
    same on a JOINT_BINS² grid of the two rows named by ``joint`` (or None).
    """
    k, n = u.shape
    q = outputs.shape[0]
    idx = np.minimum((u * BINS).astype(np.intp), BINS - 1)
    cell = (idx + (np.arange(k) * BINS)[:, None]).ravel()
    counts = np.bincount(cell, minlength=k * BINS).reshape(k, BINS)
    sums = np.stack([np.bincount(cell, weights=np.tile(outputs[j], k), minlength=k * BINS)
                     for j in range(q)], axis=-1).reshape(k, BINS, q)
    jc = js = None
    if joint is not None:
        a = np.minimum((u[joint[0]] * JOINT_BINS).astype(np.intp), JOINT_BINS - 1)
        b = np.minimum((u[joint[1]] * JOINT_BINS).astype(np.intp), JOINT_BINS - 1)
        c = a * JOINT_BINS + b
        jc = np.bincount(c, minlength=JOINT_BINS**2)
        js = np.stack([np.bincount(c, weights=outputs[j], minlength=JOINT_BINS**2) for j in range(q)], axis=-1)
    return counts, sums, jc, js


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


def evppi(counts: np.ndarray, nb_sums: np.ndarray) -> tuple[float, float]:
    """Partial EVPI and flip probability from bins of net benefit (one variable or a joint grid).

    EVPPI = E_X[max(E[NB | X], 0)] − max(E[NB], 0); flip = P_X(the best action given X differs).
    """
    n = counts.sum()
    means = nb_sums / np.maximum(counts, 1)
    overall = nb_sums.sum() / n
    value = float((counts * np.maximum(means, 0)).sum() / n - max(overall, 0.0))
    flip = float(counts[(means > 0) != (overall > 0)].sum() / n)
    return max(value, 0.0), flip
