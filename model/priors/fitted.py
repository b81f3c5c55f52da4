"""What a calibrated priors file was fitted to, and whether it still is (docs/model.md, Calibration).

``aar-risk calibrate`` writes ``[calibration] fitted_to``: the digest of what the calibrated
file says (its base files' beliefs, correlations and evidence, and its own ``[calibration]``:
target, horizon, trust, apply, tilt_lambda). A tilt's λ is fitted to that distribution of s_h
(given the evidence): after an edit of the base, its evidence or λ it no longer hits the
target, so such a file is refused. An
update weights by the market likelihood, right for any base: a stale one is run, with a warning.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from model.core.errors import Problem
from model.priors.beliefs import Priors


def content_digest(priors: Priors) -> str:
    """A fingerprint of what a priors file (with its bases) says: its variables as written,
    its correlations, its [calibration] but for ``source`` and ``fitted_to`` (summary.json's
    ``priors_digest``), and its evidence if it has any (what each entry says, in order: a tilt is
    fitted given the evidence); comments, sources, labels, [simulation] and [decision] do not count."""
    data = {
        "variables": {n: [p.written, p.marginal.family] for n, p in priors.variables.items()},
        "correlations": sorted([f"{a}, {b}", rho] for (a, b), rho in priors.correlations.items()),
        "calibration": priors.calibration.model_dump(exclude={"source", "fitted_to"}),
    }
    if priors.evidence:  # only then: the digests of files without evidence stay as they were
        data["evidence"] = [_said(e) for e in priors.evidence]
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]


def _said(entry) -> list:
    """What an evidence entry says, for the digest: its kind, date, strength and keys."""
    keys = ("event", "quantity", "horizon", "value", "trust", "sd", "variable", "capability_at")
    return [entry.kind, entry.date.isoformat(), entry.strength, *(str(getattr(entry, k)) for k in keys)]


def check(priors: Priors, where: Path, base: Path | None, line: int | None) -> tuple[Problem | None, str | None]:
    """A stale tilt (a problem at ``where``, the file that sets ``apply``, ``line`` its
    ``fitted_to``) or a stale or unchecked update (a warning); (None, None) when current."""
    c = priors.calibration
    if c.apply is None:
        return None, None
    again = f"re-run aar-risk calibrate on {base if base is not None else 'the file it inherits from'}"
    if c.fitted_to is None:
        return None, (
            f"{where}: calibration: written by an older aar-risk calibrate, without fitted_to, so "
            f"whether its base{' or its tilt_lambda' if c.apply == 'tilt' else ''} changed since "
            f"cannot be checked; {again} to be sure of its numbers"
        )
    now = content_digest(priors)
    if now == c.fitted_to:
        return None, None
    if c.apply == "tilt":
        return Problem(
            where,
            "calibration.fitted_to",
            (
                f"this tilt (tilt_lambda = {c.tilt_lambda:g}) was fitted to priors with digest {c.fitted_to}, but "
                f"this file and its base files now say something else (digest {now}): the base's beliefs, "
                "correlations or evidence, or this file's tilt_lambda, target or horizon, were edited, so the tilt "
                f"no longer makes the mean success within the horizon {c.target:g}. {again} (or delete [calibration] "
                "apply, tilt_lambda and fitted_to to run the priors unweighted)"
            ),
            line,
        ), None
    return None, (
        f"{where}: calibration.fitted_to: the calibration was made for other priors (digest "
        f"{c.fitted_to}, now {now}: the base or this file's market was edited). Its worlds are still "
        "weighted by the market's likelihood, so the numbers are the update of the priors as they are "
        f"now, not those the calibration reported; {again} to refresh it"
    )
