"""Which belief matters: variance-based indices per outcome, tornado swings, value of information.

* Sobol first-order and total indices with SALib (Saltelli 2002; Jansen 1999
  estimators, bootstrap confidence intervals), each prior's quantile function
  mapping SALib's uniforms. These assume independent inputs: the copula is
  ignored here.
* Given-data first-order indices, tornado swings and partial EVPI from the Monte
  Carlo sample itself (:mod:`model.montecarlo.binned`), which respect the copula. These lead:
  every output's table is ranked by its own given-data index.
* The decision "build the AAR or not" (docs/model.md, "Which belief matters"): net benefit
  v·(plan_solved − baseline) − c_x·x_risk (− c_e·capability externalities, an optional
  extra cost beyond the race they lose, 0 by default), with its Monte Carlo error.
"""

from __future__ import annotations

import numpy as np

from model.core.copula import normals
from model.core.limits import MIN_SENSITIVITY_SAMPLES
from model.core.quantities import Q
from model.core.structure import outcomes
from model.core.variables import CRUXES, NAMES
from model.families.point import Point
from model.montecarlo import binned
from model.montecarlo.engine import Result
from model.priors.beliefs import Priors

OUTPUTS = binned.OUTPUTS[:-1]  # every reported output; net_benefit only feeds the decision
SOBOL_BASE = 4096
RESAMPLES = 100
#: A Sobol index whose 95% interval is wider than this and than the index is "not resolved".
UNRESOLVED_WIDTH = 0.05
#: Values of information below this many units of value_of_success count as zero.
NEGLIGIBLE = 1e-4
#: A partial EVPI counts as zero up to this many times its Monte Carlo noise (pure noise in the
#: bin means gives an estimate of about one noise; twice it is not reached by chance).
NOISE_FACTOR = 2.0

#: What the decision section says of its net benefit and of its two methods.
FORMULA = (
    "net_benefit = value_of_success·(plan_solved − baseline) − cost_of_catastrophe·x_risk"
    " − cost_of_capability_externalities·capability_externalities; the race that "
    "capability externalities lose is already in plan_solved, so their cost is only "
    "an extra charge beyond it (0 by default)"
)
METHOD = (
    f"partial EVPI by piecewise-constant regression on {binned.BINS} equal-probability "
    f"bins per variable ({binned.JOINT_BINS}×{binned.JOINT_BINS} for the cruxes jointly); "
    "Strong & Oakley 2013. A partial EVPI counts as about zero below "
    f"{NOISE_FACTOR:g} times its Monte Carlo noise, the EVPI below its noise (an upper "
    f"bound, √(M·EVPI/N)), and either below {NEGLIGIBLE:g} × value_of_success."
)
FLIP_METHOD = (
    f"E[net benefit | belief] interpolated linearly between the {binned.BINS} bin "
    f"centres and read at {binned.FLIP_SUBPOINTS} points per bin (resolution "
    f"{100 / (binned.BINS * binned.FLIP_SUBPOINTS):.2f}%; for the cruxes jointly "
    f"{binned.JOINT_FLIP_SUBPOINTS}² points per cell)"
)


def salib_sobol(
    names: list[str], model, base: int = SOBOL_BASE, seed: int = 2023, resamples: int = RESAMPLES
) -> dict[str, dict]:
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
        si = analyze.analyze(problem, y, calc_second_order=False, num_resamples=resamples, conf_level=0.95, seed=seed)
        result[q] = {
            label: {
                n: {
                    "value": float(si[key][j]),
                    "ci": [float(si[key][j] - si[f"{key}_conf"][j]), float(si[key][j] + si[f"{key}_conf"][j])],
                }
                for j, n in enumerate(names)
            }
            for key, label in (("S1", "first_order"), ("ST", "total"))
        }
    return result


def sobol(
    priors: Priors, base: int = SOBOL_BASE, seed: int = 2023, resamples: int = RESAMPLES, horizon: float | None = None
) -> dict:
    """Sobol indices of every variable for each output (point priors: exactly 0)."""
    names = list(priors.random_names())
    fixed = {n: m.value for n in NAMES if n not in names and isinstance(m := priors.variables[n].marginal, Point)}
    h = priors.calibration.horizon_years if horizon is None else horizon

    def model(u):
        z = normals(np.clip(u, 1e-15, 1 - 1e-15))
        worlds = {**fixed, **{n: priors.variables[n].marginal.from_z(z[:, j]) for j, n in enumerate(names)}}
        out = outcomes(worlds, h)
        return {q: getattr(out, q) for q in OUTPUTS}

    result = salib_sobol(names, model, base, seed, resamples) if names else {}
    zero = {"value": 0.0, "ci": [0.0, 0.0]}
    full = {
        q: {key: {n: result.get(q, {}).get(key, {}).get(n, zero) for n in NAMES} for key in ("first_order", "total")}
        for q in OUTPUTS
    }
    return {
        "method": f"SALib Sobol' sampling, {base} base points × {len(names) + 2} "
        f"({base * (len(names) + 2):,} model runs), {resamples} bootstrap resamples "
        "(95% intervals); inputs treated as independent",
        "outcomes": full,
    }


def _resolved(value: float, ci: list[float]) -> bool:
    """Whether a Sobol index is estimated well enough to read as a share of variance.

    Not when it is above 1 (or clearly below 0), nor when its bootstrap 95% interval is
    wider than the index (and than UNRESOLVED_WIDTH, below which a small index is resolved
    as small) and reaches outside [0, 1]: e.g. 1.19, or 3.16 with interval −3.3 to 9.6.
    """
    lo, hi = ci
    if not (np.isfinite(value) and np.isfinite(lo) and np.isfinite(hi)):
        return False
    if value > 1 or value < -UNRESOLVED_WIDTH:
        return False
    return not (hi - lo > max(abs(value), UNRESOLVED_WIDTH) and (lo < 0 or hi > 1))


def _mark_resolved(block: dict) -> dict:
    return {
        key: {n: {**e, "resolved": _resolved(e["value"], e["ci"])} for n, e in entries.items()}
        for key, entries in block.items()
    }


def ranked(block: dict) -> list[str]:
    """The variables of one output's block, most important first: by the given-data index
    (which respects the correlations), then by the total Sobol index."""
    gd = block["given_data_first_order"]
    total = block["total"]
    return sorted(gd, key=lambda v: (-round(gd[v], 6), -total[v]["value"], v))


def _bins(result: Result) -> binned.SensitivitySums:
    """The run's sensitivity bins; a plain tuple in the fields' order is accepted too
    (tests/test_decision.py builds one by hand)."""
    s = result.sensitivity
    assert s is not None, "the run was made without sensitivity bins"
    return s if isinstance(s, binned.SensitivitySums) else binned.SensitivitySums(*s)


def given_data(priors: Priors, result: Result) -> dict:
    """First-order indices, tornado swings and conditional curves from the binned MC sample."""
    bins = _bins(result)
    counts, sums, sq, tot = bins.counts, bins.sums, bins.squares, bins.totals
    names = list(priors.random_names())
    n = result.samples
    means = tot / n
    var = sq / n - means**2
    s1 = binned.first_order(counts, sums, var[None, :])
    low = binned.conditional_at(counts, sums, 0.05)
    high = binned.conditional_at(counts, sums, 0.95)
    centres = (np.arange(binned.BINS) + 0.5) / binned.BINS
    out = {}
    for k, q in enumerate(binned.OUTPUTS[:-1]):
        mean = float(means[k])
        out[q] = {
            "given_data_first_order": {v: float(s1[names.index(v), k]) if v in names else 0.0 for v in NAMES},
            "tornado": {
                v: (
                    {"p5": float(low[names.index(v), k]), "p95": float(high[names.index(v), k])}
                    if v in names
                    else {"p5": mean, "p95": mean}
                )
                for v in NAMES
            },
            "curves": {
                v: {
                    "x": [float(x) for x in priors.variables[v].marginal.ppf(centres)],
                    "y": [float(y) for y in sums[i, :, k] / np.maximum(counts[i], 1)],
                }
                for i, v in enumerate(names)
                if v in CRUXES
            },
        }
    return out


def _mean_and_mcse(sq: float, tot: float, n: int) -> tuple[float, float | None]:
    """Mean and Monte Carlo error of a per-world quantity from Σx² and Σx over n worlds."""
    mean = tot / n
    if n < 2:
        return float(mean), None
    var = max((sq - tot * mean) / (n - 1), 0.0)  # rounding can make a constant's variance -1e-17
    return float(mean), float(np.sqrt(var / n))


def _tidy(x: float) -> float:
    """A noise estimate, with the far tails of φ (1e-98 and the like) shown as 0."""
    return x if x > 1e-15 else 0.0


def _check_utilities(utilities, sq, tot, n) -> None:
    """The binned net benefit must have been accumulated with these utilities (checked on the
    totals, where NB is linear in the outputs): otherwise the report would mislabel it."""
    v, c_x, c_e = utilities
    terms = [(v, Q.plan_minus_baseline), (-c_x, Q.x_risk), (-c_e, Q.capability_externalities)]
    idx = {q: binned.OUTPUTS.index(q) for _, q in terms}
    expected = sum(w * tot[idx[q]] for w, q in terms)
    scale = sum(abs(w) * np.sqrt(n * sq[idx[q]]) for w, q in terms)
    got = tot[binned.OUTPUTS.index("net_benefit")]
    if abs(got - expected) > 1e-9 * scale + 1e-12:
        raise ValueError(
            "the simulation accumulated the net benefit with other utilities than the "
            f"priors' [decision] table {tuple(utilities)}; pass utilities=priors.decision.utilities"
        )


def _means(sq, tot, n: int) -> tuple[dict, dict]:
    """Each binned output's mean and Monte Carlo error, from its sum and sum of squares."""
    pairs = {q: _mean_and_mcse(float(sq[i]), float(tot[i]), n) for i, q in enumerate(binned.OUTPUTS)}
    return {q: m for q, (m, _) in pairs.items()}, {q: e for q, (_, e) in pairs.items()}


def decision(priors: Priors, result: Result) -> dict:
    """Net benefit of building, EVPI, partial EVPI of each variable and of the two cruxes
    jointly, flip probabilities, and which beliefs (if any) are worth resolving."""
    bins = _bins(result)
    counts, sums, jc, js = bins.counts, bins.sums, bins.joint_counts, bins.joint_sums
    sq, tot = bins.squares, bins.totals
    names = list(priors.random_names())
    n = result.samples
    k = binned.OUTPUTS.index("net_benefit")
    d = priors.decision
    v, c_x, c_e = d.utilities
    _check_utilities(d.utilities, sq, tot, n)
    mean_nb, mcse_nb = _mean_and_mcse(float(sq[k]), float(tot[k]), n)
    sd_nb = 0.0 if mcse_nb is None else mcse_nb * np.sqrt(n)
    evpi = max(float(bins.positive_net_benefit[0] / n - max(mean_nb, 0.0)), 0.0)
    # EVPI is the mean of NB⁺ (best now: don't build) or of NB⁻ (best now: build); a quantity
    # in [0, M] has variance at most M·mean, and NB lies in [−(v + c_x + c_e), v].
    bound = v if mean_nb <= 0 else v + c_x + c_e
    evpi_noise = float(np.sqrt(bound * evpi / n))
    evppi, flip, noise = {}, {}, {}
    for name in (n for n in NAMES if priors.used(n)):  # v3: not the unused build_lag or years_to_build
        if name in names:  # a point prior: nothing to learn
            i = names.index(name)
            evppi[name], flip[name] = binned.evppi(counts[i], sums[i, :, k])
            noise[name] = _tidy(binned.evppi_noise(counts[i], sums[i, :, k], sd_nb))
        else:
            evppi[name], flip[name], noise[name] = 0.0, 0.0, 0.0
    if jc.sum() > 0:
        evppi["cruxes_jointly"], flip["cruxes_jointly"] = binned.evppi(jc, js[:, k], joint=True)
        noise["cruxes_jointly"] = _tidy(binned.evppi_noise(jc, js[:, k], sd_nb))
    floor = NEGLIGIBLE * v
    evpi_matters = evpi > max(evpi_noise, floor)
    worth = sorted(
        (b for b in evppi if evpi_matters and evppi[b] > max(NOISE_FACTOR * noise[b], floor)), key=lambda b: -evppi[b]
    )
    return {
        "utilities": {
            "value_of_success": v,
            "cost_of_catastrophe": c_x,
            "cost_of_capability_externalities": c_e,
            "source": d.source,
        },
        "formula": FORMULA,
        "break_even_cost": break_even(*_means(sq, tot, n), v, c_e),
        "best_action": "build" if mean_nb > 0 else "don't build",
        "net_benefit": {"mean": mean_nb, "mcse": mcse_nb},
        "share_of_worlds_favouring_build": float(bins.favouring_build[0] / n),
        "evpi": evpi,
        "evpi_noise": evpi_noise,
        "evppi": evppi,
        "evppi_noise": noise,
        "flip_probability": flip,
        "worth_learning": worth,
        "negligible": floor,
        "evpi_negligible": not evpi_matters,
        "method": METHOD,
        "flip_method": FLIP_METHOD,
    }


def break_even(means: dict, errors: dict, v: float, c_e: float = 0.0) -> dict:
    """The cost of an AAR catastrophe at which "build" and "don't build" swap (docs/model.md, v3 D):

        c_x* = (v·E[plan_solved − baseline] − c_e·E[capability_externalities]) / E[x_risk]

    a ratio of means; null with words when no cost swaps the decision (x-risk 0: build at any
    cost; the plan adds nothing: never build). Its error is the delta method's with the means'
    errors taken as independent (the simulation keeps no covariance between outputs).
    """
    gain, risk, ext = (means[q] for q in (Q.plan_minus_baseline, Q.x_risk, Q.capability_externalities))
    numerator = v * gain - c_e * ext
    if numerator <= 0:
        return {
            "value": None,
            "mcse": None,
            "words": "never build: the plan adds nothing to the chance of alignment before AGI "
            "(net of any charge for externalities), whatever an AAR catastrophe costs",
        }
    if risk <= 0:
        return {
            "value": None,
            "mcse": None,
            "words": "build at any cost: the AAR causes no catastrophe in these worlds",
        }
    value = numerator / risk
    e_gain, e_risk, e_ext = (errors[q] for q in (Q.plan_minus_baseline, Q.x_risk, Q.capability_externalities))
    mcse = (
        None
        if e_gain is None or e_risk is None
        else float(
            value * np.sqrt(((v * e_gain) ** 2 + (c_e * (e_ext or 0.0)) ** 2) / numerator**2 + (e_risk / risk) ** 2)
        )
    )
    return {
        "value": float(value),
        "mcse": mcse,
        "words": f"build if an AAR catastrophe costs less than {value:.3g} in utility units "
        f"({value / v:.3g} times value_of_success = {v:g}, the value of alignment before AGI); "
        "don't build if it costs more",
    }


def check_samples(samples: int) -> None:
    """Raise ValueError for fewer than MIN_SENSITIVITY_SAMPLES worlds (callers check before any work)."""
    if samples < MIN_SENSITIVITY_SAMPLES:
        raise ValueError(
            f"sensitivity needs at least {MIN_SENSITIVITY_SAMPLES:,} worlds "
            f"({MIN_SENSITIVITY_SAMPLES // binned.BINS} per bin of each variable), got {samples:,}"
        )


def analyse(priors: Priors, result: Result, seed: int = 2023) -> dict:
    """sensitivity.json: per output Sobol, given-data indices and tornado; the decision block."""
    check_samples(result.samples)
    sob = sobol(priors, seed=seed, horizon=result.horizon)
    given = given_data(priors, result)
    per_output = {q: {**_mark_resolved(sob["outcomes"][q]), **given[q]} for q in OUTPUTS}
    for q in OUTPUTS:  # v3: the unused one of build_lag and years_to_build is not ranked
        per_output[q]["ranking"] = [v for v in ranked(per_output[q]) if priors.used(v)]
    return {
        "samples": result.samples,
        "seed": result.seed,
        "sobol_method": sob["method"],
        "given_data_method": f"correlation ratio on {binned.BINS} equal-probability bins of each "
        "variable's copula coordinate, bias-corrected; respects correlations",
        "outcomes": per_output,
        "decision": decision(priors, result),
    }
