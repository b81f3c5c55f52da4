"""Where NUTS diverges under model v3 (issue 18), for the three presets.

    PYTHONPATH=$PWD python benchmarks/nuts_v3_diagnose.py [author openai pessimist]
        [--draws N] [--tune N] [--seed N] [--init jitter+adapt_full] [--target-accept A]

Runs the calibration's NUTS (``model.analyses.calibration.methods``: the model of
``build_model``, target acceptance ``TARGET_ACCEPT``, 4 chains × 1000 draws after 1000 tuning
steps on 2 cores, the preset's own seed) and prints the gates (divergences, r̂, ESS, E-BFMI),
the quantities with the lowest bulk ESS, and NUTS's posterior means against reweighting of
400,000 prior worlds. For each divergence it takes the point where the leapfrog trajectory
started and where it blew up (PyMC's warning stat), evaluates the equations there in numpy
and says which branch of the AAR-first race it sits in (T_b against T_a, T_g and the horizon
h; which side of d_h = min(d_agi', h − T_b); d_solve as v3 B writes it) and how steep the
market log-likelihood is there, in total and through each term of success within the
horizon (the field-first term q·field_h and the AAR-first term (1 − q)·P_boot·W_h), against
the same at the posterior draws. About a minute for the author and 10 to 13 minutes for
openai on two shared cores.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def worlds_at(priors, chol, random, zs: np.ndarray) -> dict[str, np.ndarray]:
    """The world variables at latent points ``zs`` (points × variables), as build_model maps them."""
    from model.core.variables import NAMES

    zc = zs @ chol.T
    out = {}
    for n in NAMES:
        m = priors.variables[n].marginal
        out[n] = m.from_z(zc[:, random.index(n)]) if n in random else np.full(len(zs), float(m.value))
    return out


def anatomy(w: dict[str, np.ndarray], horizon: float) -> dict[str, np.ndarray]:
    """The v3 race's pieces in numpy (model.core.structure's own functions)."""
    from model.core import structure as st

    p_boot, _, s, s_cap = st.aar_fate(w)
    t_a, t_g = w["field_years"], w["years_to_agi"]
    t_b = st.build_time(w["capability_needed"], t_g, w["build_lag"], w.get("years_to_build", 0.0))
    d_solve = np.maximum(t_a - t_b, 0.0) / s
    d_agi = np.maximum(t_g - t_b, 0.0) / s_cap
    return {
        "T_b": t_b,
        "T_a": t_a,
        "T_g": t_g,
        "s": s,
        "s_cap": s_cap,
        "sigma_t": w["timing_noise"],
        "d_solve_days": d_solve * 365.25,
        "d_agi": d_agi,
        "h - T_b": horizon - t_b,
        "h_binds": (horizon - t_b) < d_agi,
        "p_boot": p_boot,
    }


def term_gradients(model, priors, market):
    """A compiled function z ↦ (|∇ log L|, |∇ of the field term|, |∇ of the AAR term|,
    log L, success_h), the gradients of the market log-likelihood through each term of s_h."""
    import pytensor
    import pytensor.tensor as pt

    from model.core import structure as st
    from model.core.backend import pytensor_ops

    xp = pytensor_ops()
    z = model["z"]
    from model.core.variables import NAMES

    random = set(priors.random_names())
    w = {
        n: model[n] if n in random else pt.constant(priors.variables[n].marginal.value, dtype="float64") for n in NAMES
    }
    o = st.outcomes(w, market.horizon, xp)
    p_boot, _, s, s_cap = st.aar_fate(w, xp)
    _, _, aar_h = st.aar_races(
        w["field_years"], o.t_build, w["years_to_agi"], s, s_cap, w["timing_noise"], market.horizon, xp
    )
    field_term = o.success_within_horizon - (1 - o.field_first) * p_boot * aar_h
    aar_term = (1 - o.field_first) * p_boot * aar_h
    s_h = pt.clip(o.success_within_horizon, 0.0, 1.0)
    loglik = st.market_log_likelihood(s_h, market.trust, market.target, xp)
    # d log L / d s_h times the gradient of each term of s_h
    dl_ds = market.trust * (market.target / s_h - (1 - market.target) / (1 - s_h))
    g_total = pt.grad(loglik, z)
    g_field = dl_ds * pt.grad(field_term, z)
    g_aar = dl_ds * pt.grad(aar_term, z)
    norm = lambda g: pt.sqrt(pt.sum(g**2))  # noqa: E731
    return pytensor.function([z], [norm(g_total), norm(g_field), norm(g_aar), loglik, s_h], on_unused_input="ignore")


def worst_ess(idata) -> None:
    """The three quantities with the lowest bulk ESS (the gate's min)."""
    import arviz as az

    from model.analyses.calibration import methods as cal

    names = ["z", *[v for v in idata.posterior.data_vars if v in cal.REPORTED]]
    bulk = az.ess(idata, var_names=names, method="bulk")
    rows = [
        (float(bulk["z"].values[i]), f"z[{c}]") for i, c in enumerate(idata.posterior["z"].coords["variable"].values)
    ]
    rows += [(float(bulk[v].values), v) for v in names[1:]]
    print("   lowest bulk ESS: " + ", ".join(f"{n} {e:.0f}" for e, n in sorted(rows)[:3]))


def agree(idata, priors, market, seed: int, samples: int = 400_000) -> None:
    """NUTS's posterior means against reweighting of ``samples`` prior worlds (same likelihood)."""
    import arviz as az

    from model.analyses.calibration import methods as cal
    from model.montecarlo.engine import simulate

    worlds = simulate(priors, samples=samples, seed=seed, keep_worlds=True).worlds
    rw = cal.weighted_summary(worlds, cal.reweight(worlds, market), priors)["outcomes"]
    print("   outcome: NUTS ± mcse | reweighting ± mcse | difference in combined errors")
    for q in cal.REPORTED:
        m = float(idata.posterior[q].mean())
        e = float(az.mcse(idata, var_names=[q], method="mean")[q])
        r, re = rw[q]["mean"], rw[q]["mcse"]
        print(f"     {q:>26}: {m:.4f} ± {e:.4f} | {r:.4f} ± {re:.4f} | {(m - r) / np.hypot(e, re):+.1f}")


def diagnose(preset: str, draws: int, tune: int, seed: int | None, **sample_kw) -> dict:
    import pymc as pm

    from model.analyses.calibration import methods as cal
    from model.montecarlo.engine import Sampler
    from model.priors.priors import load

    priors = load(ROOT / "priors" / f"{preset}.toml")
    market = cal.Market.from_priors(priors)
    seed = priors.simulation.seed if seed is None else seed
    model = cal.build_model(priors, market)
    t0 = time.perf_counter()
    with cal._pymc_quiet():
        kw = {"target_accept": cal.TARGET_ACCEPT, **sample_kw}
        idata = pm.sample(
            model=model,
            draws=draws,
            tune=tune,
            chains=4,
            cores=2,
            random_seed=seed,
            progressbar=False,
            mp_ctx=cal._chain_context(),
            compute_convergence_checks=False,
            keep_warning_stat=True,
            **kw,
        )
    elapsed = time.perf_counter() - t0
    diag = cal.diagnostics(idata)
    print(f"\n== {preset} (seed {seed}, {sample_kw or 'defaults'}): {elapsed:.0f} s")
    print("   " + ", ".join(f"{k} {v:.4g}" for k, v in diag.items()), "| failed:", cal.failed_gates(diag) or "none")

    worst_ess(idata)
    agree(idata, priors, market, seed)
    random = list(priors.random_names())
    chol = Sampler.from_priors(priors).copula.dense_factor()
    grads = term_gradients(model, priors, market)
    div = idata.sample_stats["diverging"].values
    sources, ends = [], []
    warns = idata.sample_stats["warning"].values if "warning" in idata.sample_stats else np.empty((0, 0))
    for warn in warns.ravel():
        for w in warn if isinstance(warn, list | tuple) else [warn]:
            src = getattr(w, "divergence_point_source", None) or {}
            dst = getattr(w, "divergence_point_dest", None) or {}
            if "z" in src:
                sources.append(np.asarray(src["z"], dtype=float))
            if "z" in dst:
                ends.append(np.asarray(dst["z"], dtype=float))
    post_z = idata.posterior["z"].values.reshape(-1, len(random))
    rows = {"posterior draws": post_z[:: max(1, len(post_z) // 400)]}
    if div.any():
        rows["divergent draws"] = idata.posterior["z"].values[div]
    if sources:
        rows["divergence sources"] = np.array(sources)
    if ends:
        rows["divergence ends"] = np.array(ends)
    for label, zs in rows.items():
        a = anatomy(worlds_at(priors, chol, random, zs), market.horizon)
        g = np.array([grads(z)[:3] for z in zs])
        print(f"   {label} ({len(zs)}):")
        for k in ("T_b", "T_g", "T_a", "h - T_b", "d_agi", "d_solve_days", "s", "sigma_t", "p_boot"):
            q = np.quantile(a[k], [0.1, 0.5, 0.9])
            print(f"     {k:>13}: 10/50/90% {q[0]:.4g} / {q[1]:.4g} / {q[2]:.4g}")
        branch = {
            "T_b > h (no AAR success in time)": np.mean(a["h - T_b"] <= 0),
            "T_b < h, h binds d_h": np.mean((a["h - T_b"] > 0) & a["h_binds"]),
            "T_b < h, d_agi' binds d_h": np.mean((a["h - T_b"] > 0) & ~a["h_binds"]),
            "T_b ≥ T_g (AGI first)": np.mean(a["T_b"] >= a["T_g"]),
            "T_a ≤ T_b (field done)": np.mean(a["T_a"] <= a["T_b"]),
        }
        print("     branch shares: " + "; ".join(f"{k} {v:.2f}" for k, v in branch.items()))
        med = np.median(g, axis=0)
        top = np.max(g, axis=0)
        print(
            f"     |∇z log L| median {med[0]:.3g} max {top[0]:.3g}; through field term median {med[1]:.3g}, "
            f"through AAR term median {med[2]:.3g} max {top[2]:.3g}"
        )
        if label != "posterior draws":
            print("     per divergence: T_b, h − T_b, d_agi', d_solve (days), s, |∇ log L|, |∇ AAR term|")
            for i in range(min(len(zs), 12)):
                print(
                    f"       {a['T_b'][i]:.4f} {a['h - T_b'][i]:+.5f} {a['d_agi'][i]:.4f} "
                    f"{a['d_solve_days'][i]:.4g} {a['s'][i]:.4g} {g[i, 0]:.3g} {g[i, 2]:.3g}"
                )
    return diag


def main() -> None:
    warnings.simplefilter("ignore")
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("presets", nargs="*", default=["author", "openai", "pessimist"])
    p.add_argument("--draws", type=int, default=1000)
    p.add_argument("--tune", type=int, default=1000)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--init", default=None, help="PyMC init, e.g. jitter+adapt_full")
    p.add_argument("--target-accept", type=float, default=None)
    args = p.parse_args()
    kw = {"init": args.init} if args.init else {}
    if args.target_accept:
        kw["target_accept"] = args.target_accept
    for preset in args.presets:
        diagnose(preset, args.draws, args.tune, args.seed, **kw)


if __name__ == "__main__":
    main()
