"""A priors file of the posterior: each variable's family refitted to weighted samples.

Rules, family by family (the family is kept, so the file reads like the original; each
rule is the family's ``refit`` method in its file under model/families):

* normal, lognormal, logitnormal, beta, ``"a to b"``: the posterior's 5th and 95th
  percentiles become ``ci90`` (beta and logit-normal need them inside (0, 1));
* gamma: moments (shape = m²/v, scale = v/m);
* triangular and PERT: min and max kept, the mode moved so the median matches;
* uniform: low and high become the posterior's 0.5th and 99.5th percentiles;
* mixture: the components kept, the weights replaced by the posterior
  responsibilities; truncated families keep their bounds;
* point: unchanged.

Posterior rank correlations between variables become ``[correlations]``.
"""

from __future__ import annotations

import math

import numpy as np

from model import families as fam
from model.core.copula import smallest_eigenvalue
from model.core.variables import NAMES
from model.families.base import fmt
from model.priors.beliefs import Priors


def refit(m: fam.Marginal, x: np.ndarray, w: np.ndarray) -> float | dict:
    """Marginal ``m``'s family refitted to samples x, weights w: a number (a point) or the
    table of a distribution, as the priors file writes it (each family's ``refit`` rule)."""
    return m.refit(x, w)


def rank_correlations(
    samples: dict[str, np.ndarray], w: np.ndarray, names: list[str], threshold: float = 0.05
) -> dict[tuple[str, str], float]:
    """Weighted Spearman correlations of the posterior, kept where |ρ| ≥ threshold, positive definite."""
    ranks = {}
    for n in names:
        order = np.argsort(samples[n], kind="stable")
        cw = np.empty_like(w)
        cw[order] = np.cumsum(w[order]) - w[order] / 2
        ranks[n] = cw
    out = {}
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            ra, rb = ranks[a], ranks[b]
            ma, mb = w @ ra, w @ rb
            cov = w @ ((ra - ma) * (rb - mb))
            rho = cov / math.sqrt((w @ (ra - ma) ** 2) * (w @ (rb - mb) ** 2))
            if abs(rho) >= threshold:
                out[(a, b)] = round(float(rho), 3)
    for shrink in np.linspace(1.0, 0.0, 21):  # keep the matrix positive definite
        trial = {k: round(v * shrink, 3) for k, v in out.items()}
        if _positive_definite(trial):
            return {k: v for k, v in trial.items() if abs(v) >= threshold}
    return {}


def _positive_definite(corr) -> bool:
    return smallest_eigenvalue(NAMES, corr) > 1e-8


def calibrated_file(priors: Priors, market, apply: str, lam: float | None, folder, refit_from, summary: dict) -> str:
    """The calibrated priors file: the original (``base``, a path from ``folder``, where the
    file is written) plus ``[calibration] apply``, so ``aar-risk run`` weights its own worlds
    and reproduces the calibration exactly (docs/model.md, Calibration).

    The refitted marginals follow as comments: a picture of how each belief moved, not
    what the file runs (no refit of marginals can hold an update on a function of all
    the variables). Written with tomlkit, so any name or source reads back exactly.
    """
    import os

    import tomlkit

    base = os.path.relpath(priors.path.resolve(), os.path.realpath(folder)).replace(os.sep, "/")
    how = (
        "weights every world by the market likelihood (the update: NUTS = reweighting)"
        if apply == "update"
        else "weights every world by exp(tilt_lambda * s_h) (the entropic tilt)"
    )
    doc = tomlkit.document()
    for line in (
        f"{priors.path.name} calibrated to the market: target {market.target:g} success within "
        f"{market.horizon:g} years, trust {market.trust:g}.",
        f"It inherits every belief from its base and {how}; aar-risk run reports the effective sample size.",
        *_calibrated_lines(priors, summary),
    ):
        doc.add(tomlkit.comment(_comment(line)))
    doc.add(tomlkit.nl())
    meta = tomlkit.table()
    meta.add("name", priors.name[:185] + " (calibrated)")  # names are at most 200 characters
    meta.add(
        "description",
        f"{priors.name} calibrated to {market.target:g} in {market.horizon:g} years (trust {market.trust:g}, {apply})",
    )
    meta.add("base", base)
    doc.add("meta", meta)
    calibration = tomlkit.table()
    calibration.update(
        {
            "target": float(market.target),
            "horizon_years": float(market.horizon),
            "trust": float(market.trust),
            "source": market_source(priors, market),
            "apply": apply,
        }
    )
    if apply == "tilt":
        assert lam is not None  # a tilt has its λ
        calibration.add("tilt_lambda", float(lam))
    calibration.add("fitted_to", _fitted_to(priors, calibration))
    doc.add("calibration", calibration)
    doc.add(tomlkit.nl())
    _refit_comments(doc, priors, refit_from)
    return tomlkit.dumps(doc)


def _refit_comments(doc, priors: Priors, refit_from) -> None:
    """The refitted marginals, as comments of ``doc``: how each belief moved."""
    import tomlkit

    samples, w = refit_from
    if w is None:  # NUTS draws weigh equally
        size = next(iter(samples.values())).size
        w = np.full(size, 1 / size)
    doc.add(tomlkit.comment("How each belief moved, refitted to its family (a picture only; not run):"))
    for n in priors.random_names():
        p = priors.variables[n]
        value: float | dict | str
        try:
            value = refit(p.marginal, samples[n], w)
        except Exception as exc:  # noqa: BLE001 - a picture; the file stays valid without it
            value = f"(no refit: {exc})"
        text = tomlkit.dumps({n: _inline(value)}).strip()
        doc.add(tomlkit.comment(_comment(text)))


def _calibrated_lines(priors: Priors, summary: dict) -> tuple[str, ...]:
    """What the calibration reported, and which view of ``aar-risk run`` reproduces it: with
    evidence, the view given the evidence (it multiplies on top of the weighting)."""
    s_h = summary["success_within_horizon"]["mean"]
    if not priors.evidence:
        return (f"Calibrated success within the horizon: {s_h:.4f}.",)
    day = max(e.date for e in priors.evidence).isoformat()
    return (
        f"The base's evidence ({len(priors.evidence)} entries, as of {day}) is inherited and multiplies on top.",
        f"Calibrated success within the horizon, given the evidence: {s_h:.4f}; aar-risk run shows it in",
        "its view given the evidence, and the priors as written with this weighting alone at the top.",
    )


def _fitted_to(priors: Priors, table) -> str:
    """The digest of the calibrated file as it will load: the base's beliefs with this [calibration]."""
    from dataclasses import replace

    from model.priors.fitted import content_digest
    from model.priors.schema import Calibration

    # the table's values were checked as they were made; the digest reads them, not the source
    values = {**priors.calibration.model_dump(), **table.unwrap()}
    return content_digest(replace(priors, calibration=Calibration.model_construct(**values)))


def market_source(priors: Priors, market) -> str:
    """The source of the market's reading: the file's, unless the caller set another target or
    horizon (then the file's source, about its own market, does not describe this one)."""
    c = priors.calibration
    if (market.target, market.horizon) == (c.target, c.horizon_years):
        return c.source
    return (
        f"set when calibrating: {market.target:g} in {market.horizon:g} years (the priors file's "
        f"source describes its own market, {c.target:g} in {c.horizon_years:g} years)"
    )


def _inline(value):
    """Dicts as inline tables (one line per variable, as people write priors files)."""
    import tomlkit

    if isinstance(value, dict):
        table = tomlkit.inline_table()
        for k, v in value.items():
            table.append(k, _inline(v))
        return table
    if isinstance(value, list):
        return [_inline(v) for v in value]
    return value


def _comment(text: str) -> str:
    """Text safe in a TOML comment: one line, no control characters."""
    from model.core.text import one_line

    return one_line(text)


# -- a what-if's interval (the live page): the family and its bounds kept ------------------------

#: Families a priors file can give by ``ci90`` (their 5th and 95th percentiles).
CI90_FAMILIES = ("normal", "lognormal", "beta", "logitnormal")
#: Families given by min, mode and max.
THREE_POINT = ("pert", "triangular")


def interval_table(m: fam.Marginal, a: float, b: float) -> dict:
    """The table, in ``m``'s own family and within its bounds, whose 5th and 95th percentiles
    are ``a`` and ``b``: ``ci90`` where the family has one (its truncation bounds kept, the
    base's ``ci90`` solved for when truncated), min/mode/max inside the old min and max for
    PERT and triangular. ValueError when the family has no such form; the caller checks the
    percentiles the table achieves (a min/mode/max family may not reach every interval)."""
    base = getattr(m, "base", m)
    lower, upper = (getattr(m, k) for k in ("lower", "upper")) if base is not m else (-math.inf, math.inf)
    bounds = {k: float(v) for k, v in (("lower", lower), ("upper", upper)) if math.isfinite(v)}
    if base.family in CI90_FAMILIES:
        if not bounds:
            return {"dist": base.family, "ci90": [a, b]}
        x = _solve(lambda p: _ci90_marginal(base.family, p, bounds), (a, b), (a, b))
        return {"dist": base.family, "ci90": [fmt(x[0]), fmt(x[1])], **bounds}
    if base.family in THREE_POINT and not bounds:
        lo, hi = base.min, base.max  # type: ignore[union-attr]  # THREE_POINT families have them
        x = _solve(lambda s: _three_point(base, s), (a, b), _three_point_start(base), (0.0, 1.0))
        left, right, mode = _three_point_values(lo, hi, x)
        near = 1e-6 * (hi - lo)  # a bound the solver left where it was stays exactly so
        left, right = (lo if left - lo < near else fmt(left)), (hi if hi - right < near else fmt(right))
        return {"dist": base.family, "min": left, "mode": min(max(fmt(mode), left), right), "max": right}
    raise ValueError(f"a {'truncated ' if bounds else ''}{base.family} has no form given by an interval")


def _ci90_marginal(family: str, p, bounds: dict) -> fam.Marginal:
    spec = fam.REGISTRY[family].Spec
    assert spec is not None  # every registered family has its table
    return spec.model_validate({"dist": family, "ci90": [float(p[0]), float(p[1])], **bounds}).to_marginal()


def _three_point_values(lo: float, hi: float, s) -> tuple[float, float, float]:
    """min, max and mode inside [lo, hi] from three numbers in [0, 1] (always ordered)."""
    left = lo + (hi - lo) * min(s[0], 0.999)
    right = left + (hi - left) * max(s[1], 1e-3)
    return float(left), float(right), float(left + (right - left) * s[2])


def _three_point(base, s) -> fam.Marginal:
    left, right, mode = _three_point_values(base.min, base.max, s)
    return type(base)(left, mode, right)


def _three_point_start(base) -> tuple[float, ...]:
    """Where the solver starts: a little inside the old min and max, the mode where it was."""
    return 0.01, 0.99, (base.mode - base.min) / (base.max - base.min)


def _solve(make, target, start, box=(-np.inf, np.inf)):
    """Parameters (within ``box``) of ``make`` whose 5th and 95th percentiles are ``target``,
    by least squares; the closest found when none is exact (the caller checks)."""
    from scipy.optimize import least_squares

    a, b = target
    width = b - a

    def miss(p):
        try:
            with np.errstate(all="ignore"):
                q05, q95 = make(p).ppf(np.array([0.05, 0.95]))
        except (ValueError, ZeroDivisionError, FloatingPointError):
            return np.full(2, 1e3)
        out = np.array([(q05 - a) / width, (q95 - b) / width])
        return np.where(np.isfinite(out), out, 1e3)

    return least_squares(miss, np.asarray(start, dtype=float), bounds=box, xtol=1e-12, ftol=1e-12, gtol=1e-12).x
