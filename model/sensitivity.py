"""Which belief matters: variance-based indices per outcome, tornado swings, value of information.

* Sobol first-order and total indices with SALib (Saltelli 2002; Jansen 1999
  estimators, bootstrap confidence intervals), each prior's quantile function
  mapping SALib's uniforms. These assume independent inputs: the copula is
  ignored here.
* Given-data first-order indices, tornado swings and partial EVPI from the Monte
  Carlo sample itself (:mod:`model.binned`), which respect the copula.
"""

from __future__ import annotations

import numpy as np
from scipy import special

from . import binned
from .engine import Result
from .priors import Priors
from .structure import outcomes
from .variables import CRUXES, NAMES

OUTPUTS = binned.OUTPUTS[:-1]  # every reported output; net_benefit only feeds the decision
SOBOL_BASE = 4096
RESAMPLES = 100


def salib_sobol(names: list[str], model, base: int = SOBOL_BASE, seed: int = 2023,
                resamples: int = RESAMPLES) -> dict[str, dict]:
    """First-order and total Sobol indices with 95% bootstrap intervals, via SALib.

    ``model(u)`` maps an (n, len(names)) array of uniforms to {output: values};
    returns {output: {"first_order"|"total": {name: {"value", "ci"}}}}.
    """
    from SALib.analyze import sobol as analyze
    from SALib.sample import sobol as sample

    problem = {"num_vars": len(names), "names": names, "bounds": [[0.0, 1.0]] * len(names)}
    u = sample.sample(problem, base, calc_second_order=False, scramble=True, seed=seed)
    result = {}
    for q, y in model(u).items():
        y = np.ascontiguousarray(np.broadcast_to(np.asarray(y, dtype=float), (u.shape[0],)))
        if np.ptp(y) == 0:
            zero = {n: {"value": 0.0, "ci": [0.0, 0.0]} for n in names}
            result[q] = {"first_order": zero, "total": zero}
            continue
        si = analyze.analyze(problem, y, calc_second_order=False, num_resamples=resamples,
                             conf_level=0.95, seed=seed)
        result[q] = {label: {n: {"value": float(si[key][j]),
                                 "ci": [float(si[key][j] - si[f"{key}_conf"][j]),
                                        float(si[key][j] + si[f"{key}_conf"][j])]}
                             for j, n in enumerate(names)}
                     for key, label in (("S1", "first_order"), ("ST", "total"))}
    return result


def sobol(priors: Priors, base: int = SOBOL_BASE, seed: int = 2023, resamples: int = RESAMPLES,
          horizon: float | None = None) -> dict:
    """Sobol indices of every variable for each output (point priors: exactly 0)."""
    names = list(priors.random_names())
    fixed = {n: priors.variables[n].marginal.value for n in NAMES if n not in names}
    h = priors.calibration.horizon_years if horizon is None else horizon

    def model(u):
        z = special.ndtri(np.clip(u, 1e-15, 1 - 1e-15))
        worlds = {**fixed, **{n: priors.variables[n].marginal.from_z(z[:, j]) for j, n in enumerate(names)}}
        out = outcomes(worlds, h)
        return {q: getattr(out, q) for q in OUTPUTS}

    result = salib_sobol(names, model, base, seed, resamples) if names else {}
    zero = {"value": 0.0, "ci": [0.0, 0.0]}
    full = {q: {key: {n: result.get(q, {}).get(key, {}).get(n, zero) for n in NAMES}
                for key in ("first_order", "total")} for q in OUTPUTS}
    return {"method": f"SALib Sobol' sampling, {base} base points × {len(names) + 2} "
                      f"({base * (len(names) + 2):,} model runs), {resamples} bootstrap resamples "
                      "(95% intervals); inputs treated as independent",
            "outcomes": full}


def given_data(priors: Priors, result: Result) -> dict:
    """First-order indices, tornado swings and conditional curves from the binned MC sample."""
    counts, sums, *_rest, sq, tot = result.sensitivity
    names = list(priors.random_names())
    n = result.samples
    means = tot / n
    var = sq / n - means ** 2
    s1 = binned.first_order(counts, sums, var[None, :])
    low = binned.conditional_at(counts, sums, 0.05)
    high = binned.conditional_at(counts, sums, 0.95)
    centres = (np.arange(binned.BINS) + 0.5) / binned.BINS
    out = {}
    for k, q in enumerate(binned.OUTPUTS[:-1]):
        mean = float(means[k])
        out[q] = {
            "given_data_first_order": {v: float(s1[names.index(v), k]) if v in names else 0.0 for v in NAMES},
            "tornado": {v: ({"p5": float(low[names.index(v), k]), "p95": float(high[names.index(v), k])}
                            if v in names else {"p5": mean, "p95": mean}) for v in NAMES},
            "curves": {v: {"x": [float(x) for x in priors.variables[v].marginal.ppf(centres)],
                           "y": [float(y) for y in sums[i, :, k] / np.maximum(counts[i], 1)]}
                       for i, v in enumerate(names) if v in CRUXES},
        }
    return out


def decision(priors: Priors, result: Result) -> dict:
    """EVPI, partial EVPI of each variable and of the two cruxes jointly, and flip probabilities."""
    counts, sums, jc, js, nb_plus, nb_pos, _sq, tot = result.sensitivity
    names = list(priors.random_names())
    n = result.samples
    k = binned.OUTPUTS.index("net_benefit")
    mean_nb = float(tot[k] / n)
    evpi = float(nb_plus[0] / n - max(mean_nb, 0.0))
    evppi, flip = {}, {}
    for v in NAMES:  # a point prior: nothing to learn
        evppi[v], flip[v] = binned.evppi(counts[names.index(v)], sums[names.index(v), :, k]) if v in names else (0.0, 0.0)
    if jc.sum() > 0:
        evppi["cruxes_jointly"], flip["cruxes_jointly"] = binned.evppi(jc, js[:, k])
    d = priors.decision
    return {"utilities": {"value_of_success": d.value_of_success, "cost_of_catastrophe": d.cost_of_catastrophe,
                          "cost_of_capability_externalities": d.cost_of_capability_externalities,
                          "source": d.source},
            "best_action": "build" if mean_nb > 0 else "don't build",
            "expected_net_benefit": mean_nb, "share_of_worlds_favouring_build": float(nb_pos[0] / n),
            "evpi": evpi, "evppi": evppi, "flip_probability": flip,
            "method": f"partial EVPI by piecewise-constant regression on {binned.BINS} equal-probability "
                      f"bins per variable ({binned.JOINT_BINS}×{binned.JOINT_BINS} for the cruxes jointly); "
                      "Strong & Oakley 2013"}


def analyse(priors: Priors, result: Result, seed: int = 2023) -> dict:
    """sensitivity.json: per output Sobol, given-data indices and tornado; the decision block."""
    sob = sobol(priors, seed=seed, horizon=result.horizon)
    given = given_data(priors, result)
    per_output = {q: {**sob["outcomes"][q], **given[q]} for q in OUTPUTS}
    return {"samples": result.samples, "seed": result.seed, "sobol_method": sob["method"],
            "given_data_method": f"correlation ratio on {binned.BINS} equal-probability bins of each "
                                 "variable's copula coordinate, bias-corrected; respects correlations",
            "outcomes": per_output, "decision": decision(priors, result)}
