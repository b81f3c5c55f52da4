"""The calibration report: calibration.json, report.md/.html, figures, InferenceData, priors file."""

from __future__ import annotations

import base64
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from model.analyses.calibrate import GATES, REPORTED, Market
from model.spec.priors import Priors
from model.report.render import _env
from model.report.summary import display_path, versions
from model.core.variables import CRUXES, NAMES

METHOD_COLORS = {"prior": "#8d99ae", "nuts": "#264653", "reweight": "#2a9d8f", "tilt": "#e9c46a"}


def build(priors: Priors, market: Market, samples: int, seed: int, prior: dict, methods: dict,
          calibrated: dict | None) -> dict[str, Any]:
    order = [n for n in CRUXES] + [n for n in NAMES if n not in CRUXES]
    for m in methods.values():
        m["variables"] = {n: m["variables"][n] for n in order if n in m["variables"]}
    from model.report.summary import priors_digest

    return {"priors": display_path(priors.path), "priors_digest": priors_digest(priors),
            "name": priors.name, "target": market.target,
            "horizon_years": market.horizon, "trust": market.trust, "samples": samples, "seed": seed,
            "source": priors.calibration.source, "prior": prior, "methods": methods,
            "gates": {k: {"op": op, "limit": v} for k, (op, v) in GATES.items()},
            "calibrated_priors": calibrated, "versions": {**versions(), **_pymc_versions(methods)},
            "nuts": {"draws": methods["nuts"]["draws"], "chains": methods["nuts"]["chains"],
                     "tune": methods["nuts"]["tune"]} if "nuts" in methods else None}


def _pymc_versions(methods) -> dict:
    if "nuts" not in methods:
        return {}
    import arviz
    import pymc
    import pytensor

    return {"pymc": pymc.__version__, "pytensor": pytensor.__version__, "arviz": arviz.__version__}


def _png(fig) -> bytes:
    from model.report.figures import png

    return png(fig)


def crux_figure(priors: Priors, prior_worlds, posteriors: dict) -> bytes:
    """Prior against posterior density of the two cruxes, one curve per method."""
    from model.report.figures import _plt, text

    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, name in zip(axes, CRUXES):
        x0 = prior_worlds[name]
        if np.ptp(x0) == 0:
            ax.set_title(f"{text(name)}: a point prior")
            continue
        lo, hi = np.quantile(x0, [0.002, 0.998])
        bins = np.linspace(lo, hi, 60)
        ax.hist(x0, bins=bins, density=True, histtype="stepfilled", alpha=0.35, color=METHOD_COLORS["prior"],
                label="prior")
        for method, (x, w) in posteriors.items():
            ax.hist(x[name], bins=bins, weights=w, density=True, histtype="step", lw=1.6,
                    color=METHOD_COLORS[method], label=method)
        ax.set_title(text(name))
        ax.set_yticks([])
    axes[0].legend(frameon=False, fontsize=8)
    fig.suptitle("The two cruxes: prior against calibrated")
    fig.tight_layout()
    return _png(fig)


def outcome_figure(summary: dict) -> bytes:
    from model.report.figures import _plt
    from model.core.quantities import SHORT

    plt = _plt()
    keys = ["success", "kicking_the_can", "capability_externalities", "x_risk", "success_within_horizon"]
    cols = [("prior", summary["prior"])] + list(summary["methods"].items())
    fig, ax = plt.subplots(figsize=(8, 3.4))
    width = 0.8 / len(cols)
    for i, (name, block) in enumerate(cols):
        ax.bar([k + i * width for k in range(len(keys))], [100 * block["outcomes"][q]["mean"] for q in keys], width,
               label=name, color=METHOD_COLORS[name], alpha=0.9)
    ax.axhline(100 * summary["target"], color="#e76f51", lw=1, ls="--", label=f"market {100 * summary['target']:.0f}%")
    ax.set_xticks([k + 0.4 - width / 2 for k in range(len(keys))], [SHORT[q] for q in keys], fontsize=7)
    ax.set_ylabel("percent")
    ax.legend(frameon=False, fontsize=8)
    ax.set_title("Prior against calibrated probabilities")
    fig.tight_layout()
    return _png(fig)


def success_h_figure(worlds, posteriors: dict, target: float) -> bytes:
    """The distribution of s_h across worlds: prior, and calibrated by each method, market marked."""
    from model.report.figures import _plt

    plt = _plt()
    s = np.asarray(worlds["success_within_horizon"])
    edges = np.linspace(0, 1, 81)
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.hist(s, bins=edges, density=True, color=METHOD_COLORS["prior"], alpha=0.5, label="prior")
    for name, (draws, w) in posteriors.items():
        x = np.asarray(draws["success_within_horizon"]) if "success_within_horizon" in draws else None
        if x is None:
            continue
        ax.hist(x, bins=edges, weights=None if w is None else w, density=True, histtype="step", lw=1.6,
                color=METHOD_COLORS[name], label=name)
    ax.axvline(target, color="#e76f51", lw=1.2, ls="--", label=f"market {100 * target:.0f}%")
    ax.set_xlabel("a world's chance of success within the horizon, s_h")
    ax.set_ylabel("density across worlds")
    ax.set_xlim(0, max(float(np.quantile(s, 0.995)), 1.5 * target))
    ax.legend(frameon=False, fontsize=8)
    ax.set_title("What the calibration did to your worlds")
    fig.tight_layout()
    return _png(fig)


def rank_figure(idata) -> bytes:
    import arviz as az

    from model.report.figures import _plt

    plt = _plt()
    names = [n for n in (*CRUXES, "success_within_horizon") if n in idata.posterior]
    axes = az.plot_rank(idata, var_names=names, figsize=(9, 2.6))
    fig = np.ravel(axes)[0].figure
    fig.suptitle("NUTS rank plots (uniform when the chains agree)", fontsize=9)
    fig.tight_layout()
    data = _png(fig)
    plt.close("all")
    return data


def netcdf(idata) -> bytes:
    """The InferenceData (prior, posterior, sample_stats) as netCDF bytes."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "calibration.nc")
        idata.to_netcdf(path)
        with open(path, "rb") as fh:
            return fh.read()


def files(summary: dict, figures: dict[str, bytes], idata=None, calibrated_toml: str | None = None,
          stem: str = "priors") -> dict[str, str | bytes]:
    env = _env()
    encoded = {k: base64.b64encode(v).decode("ascii") for k, v in figures.items()}
    ctx = {"s": summary, "reported": REPORTED, "figures": figures, "crux_names": CRUXES}
    out: dict[str, str | bytes] = {
        "calibration.json": json.dumps(summary, indent=2) + "\n",
        "report.md": env.get_template("calibration.md.j2").render(**ctx),
        "report.html": env.get_template("calibration.html.j2").render(**{**ctx, "figures": encoded}),
        **{f"figures/{k}": v for k, v in figures.items()},
    }
    if idata is not None:
        out["calibration.nc"] = netcdf(idata)
    if calibrated_toml is not None:
        out[f"priors/{stem}.calibrated.toml"] = calibrated_toml
    return out



def make(priors: Priors, market: Market, methods: tuple[str, ...], samples: int, seed: int,
         draws: int = 1000, tune: int = 1000, chains: int = 4, workers: int | None = None,
         step=lambda label: None, progress=None, out_dir=None) -> tuple[dict, dict[str, str | bytes], bool]:
    """Run the requested methods; return calibration.json's dict, the folder's files, converged."""
    from model.analyses import calibrate as cal
    from model.simulate.engine import simulate
    from model.spec.refit import calibrated_file

    step("simulating prior worlds")
    tell = progress or (lambda label, done, total: None)
    mc = simulate(priors, samples=samples, seed=seed, workers=workers, keep_worlds=True,
                  horizon=market.horizon, target=market.target,
                  progress=lambda done: tell("prior worlds", done, samples))
    worlds = mc.worlds
    prior = cal.prior_summary(worlds)
    results: dict[str, dict] = {}
    posteriors: dict[str, tuple[dict, np.ndarray | None]] = {}
    idata = None
    converged = True
    if "nuts" in methods:
        step("NUTS (compiling, then sampling)")
        idata = cal.nuts(priors, market, draws=draws, tune=tune, chains=chains, seed=seed,
                         progress=lambda done, total: tell("NUTS draws", done, total))
        diag = cal.diagnostics(idata)
        failed = cal.failed_gates(diag)
        converged = not failed
        results["nuts"] = {**cal.nuts_summary(idata, priors, worlds), "draws": draws, "tune": tune,
                           "chains": chains, "converged": converged,
                           "failed": failed, "diagnostics": diag}
        posteriors["nuts"] = ({n: idata.posterior[n].values.ravel()
                               for n in (*priors.random_names(), "success_within_horizon")}, None)
    if "reweight" in methods:
        step("reweighting")
        w = cal.reweight(worlds, market)
        ess = cal.kish_ess(w)
        results["reweight"] = {**cal.weighted_summary(worlds, w, priors), "ess": ess,
                               "warning": ess < cal.ESS_WARNING or ess < 0.1 * len(w)}
        posteriors["reweight"] = (worlds, w)
    if "tilt" in methods:
        step("tilting")
        w, lam, kl = cal.tilt(worlds["success_within_horizon"], market.target)
        ess = cal.kish_ess(w)
        results["tilt"] = {**cal.weighted_summary(worlds, w, priors), "kl": kl, "lambda": lam,
                           "ess": ess, "warning": ess < cal.ESS_WARNING or ess < 0.1 * len(w)}
        posteriors["tilt"] = (worlds, w)

    step("writing the calibrated priors file")
    calibrated = toml = None
    apply = ("update" if "reweight" in results or ("nuts" in results and converged) else
             "tilt" if "tilt" in results else None)
    if apply is not None:
        lam = results["tilt"]["lambda"] if apply == "tilt" else None
        weighting = ("update", market.trust, market.target) if apply == "update" else ("tilt", lam)
        folder = Path(out_dir) / "priors" if out_dir is not None else Path(priors.path).parent
        source = "nuts" if "nuts" in results and converged else next(
            (m for m in ("reweight", "tilt", "nuts") if m in results))
        refit_from = posteriors[source]
        toml = calibrated_file(priors, market, apply, lam, folder, refit_from, results[source])
        check = simulate(priors, samples=200_000, seed=seed, workers=workers, horizon=market.horizon,
                         target=market.target, weighting=weighting)
        calibrated = {"path": f"priors/{priors.path.stem}.calibrated.toml", "apply": apply,
                      "tilt_lambda": lam, "base": _relative(priors.path, folder),
                      "run_check": {"samples": 200_000,
                                    "success_within_horizon": check.estimates["success_within_horizon"].as_dict(),
                                    "ess": check.ess},
                      "posterior_success_within_horizon": results[
                          "reweight" if apply == "update" and "reweight" in results else source][
                          "success_within_horizon"]}
    summary = build(priors, market, mc.samples, mc.seed, prior, results, calibrated)
    step("drawing figures")
    figures = {"outcomes.png": outcome_figure(summary),
               "cruxes.png": crux_figure(priors, worlds, posteriors),
               "success_h.png": success_h_figure(worlds, posteriors, market.target)}
    if idata is not None:
        figures["ranks.png"] = rank_figure(idata)
    return summary, files(summary, figures, idata, toml, priors.path.stem), converged


def _relative(target, folder) -> str:
    """``target`` as a path from ``folder`` (how the calibrated file names its base)."""
    return Path(os.path.relpath(Path(target).resolve(), Path(folder).resolve())).as_posix()
