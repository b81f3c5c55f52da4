"""Binary cruxes as the Forecasting Research Institute measures them (docs/model.md,
"Binary cruxes").

A person gives P(U), the chance of the outcome U; P(c), the chance of the crux c; and
P(U|c). Divergences are Kullback–Leibler in base 10 on binary events. Every function takes
floats or arrays and broadcasts; it returns NaN where a logarithm would meet a probability
of exactly 0 or 1 (the divergence is then undefined, as in FRI's own code), never a number
made up for it.

References: Karger, Atanasov and Tetlock, "Improving Judgments of Existential Risk: Better
Forecasts, Questions, Explanations, Policies" (FRI, 2022), where the two metrics are defined;
Forecasting Research Institute, "Roots of Disagreement on AI Risk" (2024), which applies them.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

#: P(U|c) of the most informative question (FRI): 1 − 1e-16, so that no logarithm meets 1.
NEAR_ONE = 1 - 1e-16
#: How far outside [0, 1] a computed P(U|¬c) may fall from float rounding alone (0.075 −
#: 0.75 × 0.1 is −1.4e-17): within it a row is coherent, its P(U|¬c) exactly 0 or 1.
ROUNDING = 1e-12


def _open(*ps: np.ndarray) -> np.ndarray:
    """Whether every probability lies strictly between 0 and 1."""
    inside = np.ones(np.broadcast_shapes(*(p.shape for p in ps)), dtype=bool)
    for p in ps:
        inside &= (p > 0) & (p < 1)
    return inside


def _out(x: np.ndarray):
    """A float for scalar arguments, the array otherwise."""
    return x[()] if x.ndim == 0 else x


def kl(p: ArrayLike, q: ArrayLike):
    """KL(p‖q) = p log10(p/q) + (1 − p) log10((1 − p)/(1 − q)) (FRI)."""
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        d = p * np.log10(p / q) + (1 - p) * np.log10((1 - p) / (1 - q))
    return _out(np.where(_open(p, q), d, np.nan))


def skl(p: ArrayLike, q: ArrayLike):
    """Symmetric divergence SKL(p, q) = KL(p‖q) + KL(q‖p): a sum, not a mean ."""
    return kl(p, q) + kl(q, p)


def p_u_not_c(p_u: ArrayLike, p_c: ArrayLike, p_u_given_c: ArrayLike):
    """P(U|¬c) = (P(U) − P(c)·P(U|c)) / (1 − P(c)), by total probability; NaN where P(c) = 1.

    FRI's worked example: P(U) = 0.09, P(c) = 0.75, P(U|c) = 0.10 give P(U|¬c) = 0.06."""
    p_u, p_c, puc = (np.asarray(v, dtype=float) for v in (p_u, p_c, p_u_given_c))
    with np.errstate(divide="ignore", invalid="ignore"):
        return _out(np.where(p_c < 1, (p_u - p_c * puc) / (1 - p_c), np.nan))


def coherent(p_u: ArrayLike, p_c: ArrayLike, p_u_given_c: ArrayLike):
    """Whether the answers fit one probability distribution: P(U|c)·P(c) ≤ P(U) and the
    implied P(U|¬c) within [0, 1] (FRI's coherence check), up to :data:`ROUNDING`; False
    where P(c) = 1."""
    x = np.asarray(p_u_not_c(p_u, p_c, p_u_given_c))
    return _out((x >= -ROUNDING) & (x <= 1 + ROUNDING))


def voi(p_u: ArrayLike, p_c: ArrayLike, p_u_given_c: ArrayLike):
    """Value of information of the crux for one person (FRI):
    ``VOI = P(c)·KL(P(U|c)‖P(U)) + (1 − P(c))·KL(P(U|¬c)‖P(U))``, the expected divergence
    between their forecast of U after learning c (or ¬c) and before."""
    p_c = np.asarray(p_c, dtype=float)
    return p_c * kl(p_u_given_c, p_u) + (1 - p_c) * kl(p_u_not_c(p_u, p_c, p_u_given_c), p_u)


def voi_max(p_u: ArrayLike):
    """The most VOI a question can give (FRI): ``VOI(P(U), P(c) = P(U), P(U|c) = 1 − 1e-16)``,
    the question that resolves U itself; close to the binary entropy H₁₀(P(U))."""
    return voi(p_u, p_u, NEAR_ONE)


def voi_share(p_u: ArrayLike, p_c: ArrayLike, p_u_given_c: ArrayLike):
    """VOI as a share of :func:`voi_max` (FRI's "VOI share")."""
    return voi(p_u, p_c, p_u_given_c) / voi_max(p_u)


def odds_mean(p: ArrayLike, q: ArrayLike):
    """G(p, q): the geometric mean of the odds of p and q turned back into a probability,
    √(pq) / (√(pq) + √((1 − p)(1 − q))). G(1 − p, 1 − q) = 1 − G(p, q)."""
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    yes, no = np.sqrt(p * q), np.sqrt((1 - p) * (1 - q))
    with np.errstate(divide="ignore", invalid="ignore"):
        return _out(np.where(_open(p, q), yes / (yes + no), np.nan))


def vod(a: tuple[ArrayLike, ArrayLike, ArrayLike], b: tuple[ArrayLike, ArrayLike, ArrayLike]):
    """Value of discrimination of the crux between persons ``a`` and ``b``, each
    ``(P(U), P(c), P(U|c))`` (FRI): how much their disagreement about U,
    SKL(P_a(U), P_b(U)), shrinks once both learn c:

    ``SKL(P_a(U), P_b(U)) − [SKL(P_a(U|c), P_b(U|c))·G(P_a(c), P_b(c))
    + SKL(P_a(U|¬c), P_b(U|¬c))·G(1 − P_a(c), 1 − P_b(c))]``.

    Symmetric in ``a`` and ``b``; negative when learning c would leave them further apart."""
    (ua, ca, uca), (ub, cb, ucb) = a, b
    unca, uncb = p_u_not_c(ua, ca, uca), p_u_not_c(ub, cb, ucb)
    ca, cb = np.asarray(ca, dtype=float), np.asarray(cb, dtype=float)
    after = skl(uca, ucb) * odds_mean(ca, cb) + skl(unca, uncb) * odds_mean(1 - ca, 1 - cb)
    return skl(ua, ub) - after


def vod_share(a: tuple[ArrayLike, ArrayLike, ArrayLike], b: tuple[ArrayLike, ArrayLike, ArrayLike]):
    """VoD as a share of the disagreement it can remove, SKL(P_a(U), P_b(U)) (FRI's "VoD share");
    NaN where the two give the same P(U) (nothing to remove)."""
    first = np.asarray(skl(a[0], b[0]))
    with np.errstate(divide="ignore", invalid="ignore"):
        return _out(np.where(first > 0, np.asarray(vod(a, b)) / first, np.nan))
