"""Calibration benchmark on the author preset, measured in one run.

    python benchmarks/bench_calibrate.py

Prints PyTensor/PyMC compile time, NUTS sampling time and ESS per second
(4 chains × 1000 draws), reweighting and tilting time at 10⁶ worlds, and a run of
a calibrated priors file (worlds weighted as they stream) against a plain run of
the same worlds, side by side. Targets (2-core machine): the whole NUTS calibration
under 60 s including compilation; reweighting under 2 s; the weighted run ≤ 1.2×
the plain one.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    import warnings

    warnings.simplefilter("ignore")
    from model.analyses.calibration import methods as cal
    from model.montecarlo.engine import simulate
    from model.priors.priors import load

    priors = load(ROOT / "priors" / "author.toml")
    market = cal.Market.from_priors(priors)

    t = time.perf_counter()
    sim = simulate(priors, samples=1_000_000, keep_worlds=True)
    t_sim = time.perf_counter() - t
    t = time.perf_counter()
    w = cal.reweight(sim.worlds, market)
    cal.weighted_summary(sim.worlds, w, priors)
    t_rw = time.perf_counter() - t
    t = time.perf_counter()
    cal.tilt(sim.worlds["success_within_horizon"], market.target)
    t_tilt = time.perf_counter() - t

    def best(f, repeat=3):
        times = []
        for _ in range(repeat):
            t0 = time.perf_counter()
            f()
            times.append(time.perf_counter() - t0)
        return min(times)

    weighting = ("update", market.trust, market.target)
    t_plain = best(lambda: simulate(priors, samples=1_000_000, seed=3))
    t_weighted = best(lambda: simulate(priors, samples=1_000_000, seed=3, weighting=weighting))

    import pymc as pm

    t = time.perf_counter()
    model = cal.build_model(priors, market)
    model.compile_logp()
    model.compile_dlogp()
    t_compile = time.perf_counter() - t
    t = time.perf_counter()
    idata = cal.nuts(priors, market, draws=1000, tune=1000, chains=4, seed=1, prior_draws=0)
    t_nuts = time.perf_counter() - t
    diag = cal.diagnostics(idata)
    del pm

    rows = [
        ("reweighting 10⁶ worlds (weights + summary), excl. simulation", t_rw, 2.0),
        ("reweighting incl. simulating the 10⁶ worlds", t_rw + t_sim, None),
        ("entropic tilting 10⁶ worlds", t_tilt, None),
        ("compiling logp and its gradient (alone)", t_compile, None),
        ("run of a calibrated file, 10⁶ worlds (weighted as they stream)", t_weighted, None),
        ("plain run of the same 10⁶ worlds", t_plain, None),
        ("whole NUTS calibration, 4 × 1000 draws, incl. compilation", t_nuts, 60.0),
    ]
    print(f"aar-cruxes calibration benchmark · author preset · {os.cpu_count()} cores")
    for name, secs, limit in rows:
        verdict = "" if limit is None else (f"target ≤ {limit:g} s  " + ("ok" if secs <= limit else "MISSED"))
        print(f"  {name:<62} {secs:7.2f} s   {verdict}")
    ratio = t_weighted / t_plain
    print(f"  calibrated run / plain run: ratio {ratio:.2f}   target ≤ 1.2  {'ok' if ratio <= 1.2 else 'MISSED'}")
    print(f"  NUTS min bulk ESS {diag['ess_bulk_min']:.0f}: {diag['ess_bulk_min'] / t_nuts:.0f} per second "
          f"of sampling; r̂ max {diag['r_hat_max']:.4f}; divergences {diag['divergences']}")


if __name__ == "__main__":
    main()
