"""Calibration against the market (docs/model.md, "Calibration against the market"): NUTS, importance
reweighting, entropic tilting.

The market is evidence worth ``trust`` resolved questions that came out at rate y = target:
log L(s_h) = trust·(y·ln s_h + (1 − y)·ln(1 − s_h)) (:func:`model.core.structure.market_log_likelihood`),
which peaks at s_h = y and is flat at trust 0. Three ways to condition on it:

* ``nuts``: the world variables are latent (a Gaussian copula in z-space, each
  marginal its quantile transform in PyTensor, :mod:`model.families.tensor`) and PyMC's
  NUTS samples the posterior;
* ``reweight``: the same likelihood as importance weights on the Monte Carlo
  worlds (no compilation);
* ``tilt``: the distribution closest to the prior in KL divergence whose mean
  success within the horizon equals the target exactly (entropic tilting;
  Robertson, Tallman & Whiteman 2005, J. Forecasting 24:383).

Given evidence (``[[evidence]]``, MODEL.md §5.v3) every method conditions on it as well
(docs/model.md, "Calibration given the evidence"): NUTS adds one potential per entry, reweighting
multiplies the market's likelihood by every entry's, and the tilt is taken relative to the
prior given the evidence (weights ∝ evidence likelihood · exp(λ·s_h)).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special

from model.core.evidence import Entry
from model.core.quantities import OUTCOMES, Q
from model.core.structure import (
    market_log_likelihood,
    market_log_likelihood_max,
    outcomes,
)
from model.core.variables import NAMES
from model.core.weights import kish_ess, normalise_log
from model.families.point import Point
from model.montecarlo import workers
from model.montecarlo.engine import Sampler
from model.priors.beliefs import Priors

#: PyMC's and ArviZ's own thresholds (Vehtari et al. 2021; Betancourt 2016).
GATES = {
    "r_hat_max": ("<=", 1.01),
    "ess_bulk_min": (">=", 400.0),
    "ess_tail_min": (">=", 400.0),
    "divergences": ("<=", 0),
    "bfmi_min": (">=", 0.3),
}
REPORTED = (*OUTCOMES, Q.success_within_horizon, Q.baseline_success, Q.plan_minus_baseline)
KL_BINS = 20
ESS_WARNING = 1000


@dataclass(frozen=True)
class Market:
    target: float
    horizon: float
    trust: float

    @classmethod
    def from_priors(cls, priors: Priors, target=None, horizon=None, trust=None) -> Market:
        c = priors.calibration
        return cls(
            c.target if target is None else float(target),
            c.horizon_years if horizon is None else float(horizon),
            c.trust if trust is None else float(trust),
        )


def log_likelihood(success_h, market: Market, xp=None):
    """:func:`model.core.structure.market_log_likelihood` of the market ``market`` (numpy by default)."""
    return market_log_likelihood(success_h, market.trust, market.target, *(() if xp is None else (xp,)))


def log_likelihood_max(market: Market) -> float:
    """The largest value of :func:`log_likelihood` (at s_h = y)."""
    return market_log_likelihood_max(market.trust, market.target)


class CalibrationInterrupted(KeyboardInterrupt):
    """NUTS returned fewer draws than asked (PyMC stops quietly on Ctrl-C): write nothing."""


def check_nuts(priors: Priors) -> None:
    """Raise CalibrationError if NUTS cannot use some prior (see model.families.tensor.check)."""
    ensure_compiledir()
    from model.families.tensor import check

    for n in priors.random_names():
        check(n, priors.variables[n].marginal)


# -- weighted Monte Carlo -------------------------------------------------------------------


def evidence_log_likelihood(entries: tuple[Entry, ...], worlds: Mapping[str, np.ndarray], horizon: float):
    """Each world's log-likelihood of all the evidence, Σ over entries of each less its largest
    value (:meth:`model.core.evidence.Entry.log_likelihood`), on kept worlds; None without evidence."""
    if not entries:
        return None
    out = outcomes(worlds, horizon)
    at: dict[float, object] = {horizon: out}

    def at_horizon(h: float):
        if h not in at:
            at[h] = outcomes(worlds, h)
        return at[h]

    n = len(worlds["success_within_horizon"])
    return sum(
        np.broadcast_to(np.minimum(e.log_likelihood(worlds, out, at=at_horizon) - e.max_log_likelihood(), 0.0), (n,))
        for e in entries
    )


def reweight(worlds: Mapping[str, np.ndarray], market: Market, log_evidence: np.ndarray | None = None) -> np.ndarray:
    """Normalised importance weights: the market likelihood of each prior world, times the
    evidence's (``log_evidence``, :func:`evidence_log_likelihood`) when given."""
    log_w = log_likelihood(worlds["success_within_horizon"], market)
    return normalise_log(log_w if log_evidence is None else log_w + log_evidence)


def tilt(success_h: np.ndarray, target: float, log_base: np.ndarray | None = None) -> tuple[np.ndarray, float, float]:
    """Entropic tilting: weights ∝ q·exp(λ·s_h) with Σ w·s_h = target, q the base weights
    (∝ exp(``log_base``): the prior given the evidence; uniform without).

    Returns the weights, λ and KL(tilted ‖ q) = λ·target − log E_q[exp(λ·s_h)] in nats.
    """
    s = np.asarray(success_h, dtype=float)
    log_q = np.full(s.size, -math.log(s.size)) if log_base is None else log_base - special.logsumexp(log_base)
    held = s[log_q > -np.inf]
    if not held.size or not held.min() < target < held.max():
        lo, hi = (held.min(), held.max()) if held.size else (math.nan, math.nan)
        raise ValueError(
            f"no tilt of the prior{'' if log_base is None else ' given the evidence'} reaches {target}: "
            f"per-world success within the horizon spans only [{lo:.3g}, {hi:.3g}]"
        )

    def gap(lam):
        w = normalise_log(log_q + lam * s)
        return float(w @ s) - target

    lo, hi = -1.0, 1.0
    while gap(lo) > 0:
        lo *= 2
    while gap(hi) < 0:
        hi *= 2
    lam = optimize.brentq(gap, lo, hi, xtol=1e-14, rtol=1e-15, maxiter=500)
    w = normalise_log(log_q + lam * s)
    log_mean = special.logsumexp(log_q + lam * s)
    return w, float(lam), float(lam * target - log_mean)


def variable_shift(
    marginal,
    post_x: np.ndarray,
    post_w: np.ndarray | None = None,
    post_u: np.ndarray | None = None,
    prior_sd: float | None = None,
    ess: float | None = None,
) -> dict[str, float]:
    """Median shift in prior standard deviations, and KL(posterior ‖ prior) per variable.

    Both are read on the prior's quantile scale u = F(x), where the prior is uniform
    (``post_u``, the worlds' copula coordinates, or F of the draws): the posterior
    median is F⁻¹ of the weighted median of u (a 2¹⁶-bin histogram, so no sort), and
    the KL uses KL_BINS equal bins less the plug-in bias (B − 1)/(2·n), n the Kish
    effective sample size (Miller 1955), floored at 0.
    """
    w = np.full(post_x.size, 1 / post_x.size) if post_w is None else post_w
    u = np.clip(marginal.cdf(post_x) if post_u is None else post_u, 0, 1 - 1e-15)
    fine = 2**16
    cum = np.cumsum(np.bincount((u * fine).astype(np.intp), weights=w, minlength=fine)[:fine])
    k = int(np.searchsorted(cum, 0.5 * cum[-1]))
    below = cum[k - 1] if k else 0.0
    u_median = (k + (0.5 * cum[-1] - below) / max(cum[k] - below, 1e-300)) / fine
    prior_median = float(marginal.ppf(np.array([0.5]))[0])
    post_median = float(marginal.ppf(np.array([u_median]))[0])
    p = np.bincount((u * KL_BINS).astype(np.intp), weights=w, minlength=KL_BINS)[:KL_BINS]
    p = p / p.sum()
    kl = float(np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1) * KL_BINS), 0.0)))
    n_eff = kish_ess(w) if ess is None else ess
    kl = max(kl - (KL_BINS - 1) / (2 * n_eff), 0.0)
    sd = float(prior_sd if prior_sd is not None else np.std(post_x))
    post_mean = float(w @ post_x)
    return {
        "prior_median": prior_median,
        "posterior_median": post_median,
        "shift_sd": (post_median - prior_median) / sd if sd > 0 else 0.0,
        "posterior_mean": post_mean,
        "prior_sd": sd,
        "kl": kl,
        # the plug-in KL's own noise, about sqrt((B − 1)/2)/n_eff: shown to this precision
        "kl_resolution": float(math.sqrt((KL_BINS - 1) / 2) / n_eff),
        "ess": float(n_eff),
        "mcse": float(np.sqrt(np.sum(w**2 * (post_x - post_mean) ** 2))),
    }


def weighted_summary(worlds, w, priors: Priors) -> dict:
    """Calibrated outcome probabilities and variable shifts under weights ``w``."""
    out = {q: float(w @ worlds[q]) for q in REPORTED}
    # importance-sampling MC error of each weighted mean: sqrt(Σ w² (x − μ)²)
    # fewer than two effective worlds: the error cannot be estimated (None, as the engine says)
    estimable = len(w) > 1 and kish_ess(w) >= 2
    mcse = {q: float(np.sqrt(np.sum(w**2 * (worlds[q] - out[q]) ** 2))) if estimable else None for q in REPORTED}
    variables = {
        n: variable_shift(priors.variables[n].marginal, worlds[n], w, worlds.get(f"u:{n}"), float(np.std(worlds[n])))
        for n in priors.random_names()
    }
    return {
        "success_within_horizon": {"mean": out["success_within_horizon"], "mcse": mcse["success_within_horizon"]},
        "outcomes": {q: {"mean": out[q], "mcse": mcse[q]} for q in REPORTED},
        "variables": variables,
    }


# -- NUTS -----------------------------------------------------------------------------------


def build_model(priors: Priors, market: Market, settable_target: bool = False):
    """The PyMC model: latent copula normals, quantile transforms, the core's equations, the
    market's potential and one potential per evidence entry (``evidence_0``, … in order).

    With ``settable_target`` the market reading is ``pm.Data("market_target")``, so one
    compiled model can be conditioned on many readings (simulation-based calibration).
    """
    import pymc as pm
    import pytensor.tensor as pt

    from model.core.backend import pytensor_ops
    from model.families.tensor import from_z_tensor

    check_nuts(priors)
    random = list(priors.random_names())
    sampler = Sampler.from_priors(priors)
    chol = sampler.copula.dense_factor()
    with pm.Model(coords={"variable": random}) as model:
        z = pm.Normal("z", 0.0, 1.0, dims="variable")
        zc = pt.dot(chol, z) if sampler.copula.index else z
        worlds = {}
        for n in NAMES:
            m = priors.variables[n].marginal
            if isinstance(m, Point):
                worlds[n] = pt.constant(m.value, dtype="float64")
            else:
                worlds[n] = pm.Deterministic(n, from_z_tensor(m, zc[random.index(n)]))
        o = outcomes(worlds, market.horizon, xp=pytensor_ops())
        for q in REPORTED:
            pm.Deterministic(q, getattr(o, q))
        s = pt.clip(o.success_within_horizon, 0.0, 1.0)
        observed = pm.Data("market_target", market.target) if settable_target else market.target
        # with settable_target the reading is data: one compiled model serves every SBC replicate
        pm.Potential("market", market_log_likelihood(s, market.trust, observed, xp=pytensor_ops()))
        _evidence_potentials(priors.evidence, worlds, o, market.horizon)
    return model


def _evidence_potentials(entries: tuple[Entry, ...], worlds, out, horizon: float) -> None:
    """One ``pm.Potential`` per entry, its log-likelihood in PyTensor (MODEL.md §5.v3: every
    term is smooth); a market entry at another horizon gets the outcomes at that horizon. A
    measurement of a point prior is a constant: harmless."""
    import pymc as pm

    from model.core.backend import pytensor_ops

    xp = pytensor_ops()
    at = {horizon: out}

    def at_horizon(h: float):
        if h not in at:
            at[h] = outcomes(worlds, h, xp=xp)
        return at[h]

    for i, e in enumerate(entries):
        pm.Potential(f"evidence_{i}", e.log_likelihood(worlds, out, xp=xp, at=at_horizon))


def ensure_compiledir() -> None:
    """Point PyTensor at a private temporary compile folder when its usual one
    (``PYTENSOR_FLAGS`` compiledir / base_compiledir, else ``~/.pytensor``) cannot be
    written, e.g. a read-only HOME. Must run before PyTensor is first imported."""
    import os
    import sys
    import tempfile

    if "pytensor" in sys.modules:
        return
    flags = [f for f in os.environ.get("PYTENSOR_FLAGS", "").split(",") if f.strip()]
    given = dict(f.split("=", 1) for f in flags if "=" in f)
    folder = (
        given.get("compiledir") or given.get("base_compiledir") or os.path.join(os.path.expanduser("~"), ".pytensor")
    )
    if _writable(folder):
        return
    private = tempfile.mkdtemp(prefix="aar-pytensor-")
    kept = [f for f in flags if f.split("=", 1)[0].strip() not in ("compiledir", "base_compiledir")]
    os.environ["PYTENSOR_FLAGS"] = ",".join([*kept, f"base_compiledir={private}"])


def _writable(folder: str) -> bool:
    """Whether PyTensor could use ``folder``: create it (as PyTensor would) and write a file."""
    import os
    import tempfile

    try:
        os.makedirs(folder, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=folder, prefix=".aar-probe-")  # access() is fooled by read-only mounts
        os.close(fd)
        os.unlink(name)
        return True
    except OSError:
        return False


@contextmanager
def _pymc_quiet() -> Iterator[None]:
    """PyMC's sampling without its chatter, and every setting put back afterwards (no global
    change: the logger's level, the warning filters and PYTHONWARNINGS are restored)."""
    import logging
    import os
    import warnings

    env = os.environ.get("PYTHONWARNINGS")
    # PyMC's chain processes do not inherit this process's warning filters: NaN probes while
    # tuning would print NumPy RuntimeWarnings from PyTensor's C-less dot fallback
    os.environ["PYTHONWARNINGS"] = env or "ignore::RuntimeWarning:pytensor.tensor.blas"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # ArviZ's notice of its 1.0 refactor
            warnings.filterwarnings("ignore", message=".*BLAS.*")
            warnings.filterwarnings("ignore", category=RuntimeWarning, module="pytensor.*")  # NaN probes
            warnings.filterwarnings("ignore", message=".*Potentials on other parameters.*")  # prior draws need none
            import pymc  # noqa: F401 - first: importing it sets its logger to INFO

            logger = logging.getLogger("pymc")
            level = logger.level
            logger.setLevel(logging.WARNING)
            try:
                yield
            finally:
                logger.setLevel(level)
    finally:
        if env is None:
            os.environ.pop("PYTHONWARNINGS", None)
        else:
            os.environ["PYTHONWARNINGS"] = env


def _chain_context():
    """The start method of PyMC's chain processes: forkserver (they must not inherit a forked
    PyTensor/BLAS state), with a preloaded module that keeps the forkserver and its chains quiet
    once this process is gone (a SIGKILL of ``aar-risk calibrate`` left their tracebacks on the
    terminal)."""
    import multiprocessing as mp

    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(["model.montecarlo.quiet_orphans"])
    return ctx


#: NUTS's target acceptance: 0.95, not PyMC's 0.8 or v2's 0.9. Under v3 the AAR-first race is
#: steep near T_b = T_g (docs/model.md, v3 B) and the author's calibration had 2 divergences at
#: 0.9 (seed 11), none at 0.95, for about 15% more time.
TARGET_ACCEPT = 0.95


def nuts(
    priors: Priors,
    market: Market,
    draws: int = 1000,
    tune: int = 1000,
    chains: int = 4,
    cores: int | None = None,
    seed: int = 2023,
    progressbar: bool = False,
    prior_draws: int = 1000,
    target_accept: float = TARGET_ACCEPT,
    progress=None,
):
    """Sample the posterior with NUTS; returns ArviZ InferenceData (prior, posterior, sample_stats).

    ``progress(done, total)`` is called as draws (tuning included) arrive, from every chain.
    """
    import os

    ensure_compiledir()
    with _pymc_quiet():
        import pymc as pm

        model = build_model(priors, market)
        cores = min(chains, cores or os.cpu_count() or 1)
        # forkserver: PyMC's workers must not inherit a forked PyTensor/BLAS state
        total, done = chains * (tune + draws), [0]

        def callback(trace, draw):
            done[0] += 1
            if progress is not None and (done[0] % 50 == 0 or done[0] == total):
                progress(done[0], total)

        try:
            idata = pm.sample(
                model=model,
                draws=draws,
                tune=tune,
                chains=chains,
                cores=cores,
                random_seed=seed,
                progressbar=progressbar,
                target_accept=target_accept,
                callback=callback,
                mp_ctx=_chain_context() if cores > 1 else None,
                compute_convergence_checks=False,
            )
        except (EOFError, OSError):  # a chain process died as it started
            hint = workers.script_without_guard_hint()
            if hint is None:
                raise
            raise workers.ReimportedMain(hint) from None
        got = idata.posterior.sizes
        if got.get("chain") != chains or got.get("draw") != draws:  # a sampler stopped early
            raise CalibrationInterrupted(f"NUTS stopped after {got.get('draw')} of {draws} draws")
        if prior_draws:
            idata.extend(pm.sample_prior_predictive(draws=prior_draws, model=model, random_seed=seed + 1))
    return idata


def diagnostics(idata) -> dict:
    """r̂, bulk and tail ESS over every latent and outcome, divergences, E-BFMI."""
    import arviz as az

    names = ["z", *[v for v in idata.posterior.data_vars if v in REPORTED]]
    rhat = az.rhat(idata, var_names=names)
    bulk = az.ess(idata, var_names=names, method="bulk")
    tail = az.ess(idata, var_names=names, method="tail")

    def flat(ds):
        return np.concatenate([np.ravel(ds[v].values) for v in ds.data_vars])

    return {
        "r_hat_max": float(np.nanmax(flat(rhat))),
        "ess_bulk_min": float(np.nanmin(flat(bulk))),
        "ess_tail_min": float(np.nanmin(flat(tail))),
        "divergences": int(idata.sample_stats["diverging"].values.sum()),
        "bfmi_min": float(np.min(az.bfmi(idata))),
    }


def failed_gates(diag: dict) -> list[str]:
    failed = []
    for key, (op, limit) in GATES.items():
        ok = diag[key] <= limit if op == "<=" else diag[key] >= limit
        if not ok:
            failed.append(f"{key} = {diag[key]:.4g} (needs {op} {limit})")
    return failed


def nuts_summary(idata, priors: Priors, prior_worlds) -> dict:
    import arviz as az

    post = idata.posterior
    out = {q: float(post[q].mean()) for q in REPORTED}
    mcse = {q: float(az.mcse(idata, var_names=[q], method="mean")[q]) for q in REPORTED}
    variables = {}
    for n in priors.random_names():
        x = post[n].values.ravel()
        ess = float(az.ess(idata, var_names=[n], method="bulk")[n])
        # equal weights, but the KL's bias correction uses the chains' effective sample size
        v = variable_shift(priors.variables[n].marginal, x, prior_sd=float(np.std(prior_worlds[n])), ess=ess)
        v["mcse"] = float(az.mcse(idata, var_names=[n], method="mean")[n])  # autocorrelation-aware
        variables[n] = v
    return {
        "success_within_horizon": {"mean": out["success_within_horizon"], "mcse": mcse["success_within_horizon"]},
        "outcomes": {q: {"mean": out[q], "mcse": mcse[q]} for q in REPORTED},
        "variables": variables,
    }


def prior_summary(worlds) -> dict:
    n = len(worlds[Q.success])
    out = {
        q: {"mean": float(np.mean(worlds[q])), "mcse": float(np.std(worlds[q]) / math.sqrt(n)) if n > 1 else None}
        for q in REPORTED
    }
    return {"success_within_horizon": out["success_within_horizon"], "outcomes": out}
