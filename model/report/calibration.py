"""The calibration report: calibration.json, report.md/.html, figures, InferenceData, priors file."""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from model.analyses.calibration.methods import GATES, REPORTED
from model.analyses.calibration.pipeline import CalibrationRun
from model.core.quantities import OUTCOMES, Q
from model.core.variables import CRUXES, NAMES
from model.priors.priors import Priors
from model.priors.refit import market_source
from model.report.plotting import styled
from model.report.render import _env
from model.report.summary import display_path, versions

#: The prior given the evidence: the starting point of a calibration given evidence.
GIVEN = "prior given evidence"
METHOD_COLORS = {"prior": "#8d99ae", GIVEN: "#b56576", "nuts": "#264653", "reweight": "#2a9d8f", "tilt": "#e9c46a"}


def build(run: CalibrationRun, calibrated: dict | None) -> dict[str, Any]:
    """calibration.json: the market, the prior, the evidence every method was given (with the
    prior given it), each method's summary (variables in crux-first order), why it came out so
    (``explains``: beliefs that moved most, outcomes against s_h, update against tilt), the convergence
    gates, the calibrated priors file and every version."""
    from model.report.summary import priors_digest

    priors, market = run.priors, run.market
    methods = {k: _crux_first(m) for k, m in run.methods.items()}
    nuts = methods.get("nuts")
    return {
        "priors": display_path(priors.path),
        "priors_digest": priors_digest(priors),
        "name": priors.name,
        "target": market.target,
        "horizon_years": market.horizon,
        "trust": market.trust,
        "samples": run.samples,
        "seed": run.seed,
        "source": market_source(priors, market),
        "prior": run.prior,
        "evidence": _evidence(run),
        "methods": methods,
        "explains": run.explained,
        "gates": {k: {"op": op, "limit": v} for k, (op, v) in GATES.items()},
        "calibrated_priors": calibrated,
        "versions": {**versions(), **_pymc_versions(methods)},
        "nuts": {k: nuts[k] for k in ("draws", "chains", "tune")} if nuts else None,
    }


def _crux_first(summary: dict) -> dict:
    order = [*CRUXES, *(n for n in NAMES if n not in CRUXES)]
    return {**summary, "variables": {n: summary["variables"][n] for n in order if n in summary["variables"]}}


def _evidence(run: CalibrationRun) -> dict | None:
    """The evidence every method was given (each entry as written, in words and with its date)
    and the prior given it, the calibration's starting point; None without evidence. Every
    method's numbers are given the evidence: the calibrated file's ``given_evidence`` view."""
    from model.priors.evidence import as_written

    if not run.evidence:
        return None
    assert run.prior_given is not None  # computed whenever there is evidence (pipeline.run)
    return {
        "as_of": max(e.date for e in run.evidence).isoformat(),
        "entries": [{**as_written(e), "words": e.words()} for e in run.evidence],
        "prior_given_evidence": _crux_first(run.prior_given),
        "calibrated_view": "given_evidence",
    }


def _pymc_versions(methods) -> dict:
    if "nuts" not in methods:
        return {}
    import arviz
    import pymc
    import pytensor

    return {"pymc": pymc.__version__, "pytensor": pytensor.__version__, "arviz": arviz.__version__}


def _png(fig) -> bytes:
    from model.report.plotting import png

    return png(fig)


@styled
def crux_figure(priors: Priors, prior_worlds, posteriors: Mapping[str, tuple]) -> bytes:
    """Prior against posterior density of the two cruxes, one curve per method."""
    from model.report.plotting import pyplot, text

    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.4))
    for ax, name in zip(axes, CRUXES, strict=True):
        x0 = prior_worlds[name]
        if np.ptp(x0) == 0:
            ax.set_title(f"{text(name)}: a point prior")
            continue
        lo, hi = np.quantile(x0, [0.002, 0.998])
        bins = np.linspace(lo, hi, 60)
        ax.hist(
            x0, bins=bins, density=True, histtype="stepfilled", alpha=0.35, color=METHOD_COLORS["prior"], label="prior"
        )
        for method, (x, w) in posteriors.items():
            ax.hist(
                x[name],
                bins=bins,
                weights=w,
                density=True,
                histtype="step",
                lw=1.6,
                color=METHOD_COLORS[method],
                label=method,
            )
        ax.set_title(text(name))
        ax.set_yticks([])
    axes[0].legend(frameon=False, fontsize=8)
    fig.suptitle("The two cruxes: prior against calibrated")
    fig.tight_layout()
    return _png(fig)


@styled
def outcome_figure(summary: dict) -> bytes:
    from model.core.quantities import SHORT
    from model.report.plotting import pyplot

    plt = pyplot()
    keys = [*OUTCOMES, Q.success_within_horizon]
    given = [(GIVEN, summary["evidence"]["prior_given_evidence"])] if summary.get("evidence") else []
    cols = [("prior", summary["prior"]), *given, *summary["methods"].items()]
    fig, ax = plt.subplots(figsize=(8, 3.4))
    width = 0.8 / len(cols)
    for i, (name, block) in enumerate(cols):
        ax.bar(
            [k + i * width for k in range(len(keys))],
            [100 * block["outcomes"][q]["mean"] for q in keys],
            width,
            label=name,
            color=METHOD_COLORS[name],
            alpha=0.9,
        )
    ax.axhline(100 * summary["target"], color="#e76f51", lw=1, ls="--", label=f"market {100 * summary['target']:.0f}%")
    ax.set_xticks([k + 0.4 - width / 2 for k in range(len(keys))], [SHORT[q] for q in keys], fontsize=7)
    ax.set_ylabel("percent")
    ax.legend(frameon=False, fontsize=8)
    ax.set_title("Prior against calibrated probabilities")
    fig.tight_layout()
    return _png(fig)


@styled
def success_h_figure(worlds, posteriors: Mapping[str, tuple], target: float) -> bytes:
    """The distribution of s_h across worlds: prior, and calibrated by each method, market marked."""
    from model.report.plotting import pyplot

    plt = pyplot()
    s = np.asarray(worlds["success_within_horizon"])
    edges = np.linspace(0, 1, 81)
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.hist(s, bins=edges, density=True, color=METHOD_COLORS["prior"], alpha=0.5, label="prior")
    for name, (draws, w) in posteriors.items():
        x = np.asarray(draws["success_within_horizon"]) if "success_within_horizon" in draws else None
        if x is None:
            continue
        ax.hist(
            x,
            bins=edges,
            weights=None if w is None else w,
            density=True,
            histtype="step",
            lw=1.6,
            color=METHOD_COLORS[name],
            label=name,
        )
    ax.axvline(target, color="#e76f51", lw=1.2, ls="--", label=f"market {100 * target:.0f}%")
    ax.set_xlabel("a world's chance of success within the horizon, s_h")
    ax.set_ylabel("density across worlds")
    ax.set_xlim(0, max(float(np.quantile(s, 0.995)), 1.5 * target))
    ax.legend(frameon=False, fontsize=8)
    ax.set_title("What the calibration did to your worlds")
    fig.tight_layout()
    return _png(fig)


@styled
def rank_figure(idata) -> bytes:
    import arviz as az

    from model.report.plotting import pyplot

    plt = pyplot()
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


def files(
    summary: dict, figures: dict[str, bytes], idata=None, calibrated_toml: str | None = None, stem: str = "priors"
) -> dict[str, str | bytes]:
    env = _env()
    encoded = {k: base64.b64encode(v).decode("ascii") for k, v in figures.items()}
    ctx = {"s": summary, "reported": REPORTED, "figures": figures, "crux_names": CRUXES, "given_label": GIVEN}
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


def calibrated(run: CalibrationRun, folder: str | Path | None = None) -> tuple[dict | None, str | None]:
    """calibration.json's ``calibrated_priors`` entry and the calibrated priors file, written to
    be saved in ``folder`` (its ``base`` is a path from there; default: beside the priors)."""
    from model.priors.refit import calibrated_file

    if run.apply is None:
        return None, None
    assert run.source is not None and run.run_check is not None  # set with apply (calibration/pipeline.py)
    priors = run.priors
    folder = Path(folder) if folder is not None else Path(priors.path).parent
    toml = calibrated_file(
        priors, run.market, run.apply, run.tilt_lambda, folder, run.posteriors[run.source], run.methods[run.source]
    )
    shown = "reweight" if run.apply == "update" and "reweight" in run.methods else run.source
    entry = {
        "path": f"priors/{priors.path.stem}.calibrated.toml",
        "apply": run.apply,
        "tilt_lambda": run.tilt_lambda,
        "base": _relative(priors.path, folder),
        "run_check": _run_check(run.run_check),
        "posterior_success_within_horizon": run.methods[shown]["success_within_horizon"],
    }
    return entry, toml


def _run_check(check) -> dict:
    """The calibrated file, run: the view that reproduces the calibration (``view``): its
    ``given_evidence`` view when it has evidence (the evidence multiplies on top of its weighting,
    MODEL.md §5.v3), else its top-level numbers; with evidence, those top-level numbers as well
    (``as_written``: the priors as written with the calibration's weighting alone)."""
    top = {"success_within_horizon": check.estimates["success_within_horizon"].as_dict(), "ess": check.ess}
    if check.given is None:
        return {"samples": check.samples, "view": "as_written", **top}
    g = check.given.given
    s_h = "success_within_horizon"
    return {
        "samples": check.samples,
        "view": "given_evidence",
        "success_within_horizon": {"mean": g.means[s_h], "mcse": g.mcse[s_h]},
        "ess": g.ess,
        "as_written": top,
    }


def make(run: CalibrationRun, out_dir: Path | None = None) -> tuple[dict, dict[str, str | bytes]]:
    """calibration.json's dict and the report folder's files (calibrated file in out_dir/priors/)."""
    entry, toml = calibrated(run, Path(out_dir) / "priors" if out_dir is not None else None)
    summary = build(run, entry)
    # with evidence the figures draw the prior given it too: the calibration's starting point
    drawn = (
        run.posteriors
        if run.evidence_weights is None
        else {GIVEN: (run.worlds, run.evidence_weights), **run.posteriors}
    )
    figures = {
        "outcomes.png": outcome_figure(summary),
        "cruxes.png": crux_figure(run.priors, run.worlds, drawn),
        "success_h.png": success_h_figure(run.worlds, drawn, run.market.target),
    }
    if run.idata is not None:
        figures["ranks.png"] = rank_figure(run.idata)
    return summary, files(summary, figures, run.idata, toml, run.priors.path.stem)


#: The rows of the run report's inline table of calibrated numbers.
INLINE = (Q.success_within_horizon, *OUTCOMES, Q.plan_minus_baseline)


def inline_numbers(made: Mapping[str, Any]) -> dict | None:
    """The calibrated numbers the run report shows inline, read from calibration.json (``made``):
    the market, the starting point (your priors, or given the evidence) and per method (the update,
    NUTS if it converged else reweighting, then the tilt) each quantity of :data:`INLINE` with its
    error; None when the file holds none of them (an old or damaged calibration.json)."""
    try:
        methods = made["methods"]
        evidence = made.get("evidence")
        start = evidence["prior_given_evidence"] if evidence else made["prior"]
        update = next((m for m in ("nuts", "reweight") if m in methods and methods[m].get("converged", True)), None)
        shown = [(m, role) for m, role in ((update, "update"), ("tilt", "tilt")) if m in methods]
        if not shown:
            return None
        return {
            "target": float(made["target"]),
            "horizon_years": float(made["horizon_years"]),
            "trust": float(made["trust"]),
            "given_evidence": bool(evidence),
            "columns": [{"method": m, "role": role} for m, role in shown],
            "rows": [
                {"quantity": q, "start": start["outcomes"][q], "cells": [methods[m]["outcomes"][q] for m, _ in shown]}
                for q in INLINE
            ],
        }
    except (KeyError, TypeError, ValueError, AttributeError):
        return None


def _relative(target, folder) -> str:
    """``target`` as a path from ``folder`` (how the calibrated file names its base)."""
    return Path(os.path.relpath(Path(target).resolve(), Path(folder).resolve())).as_posix()
