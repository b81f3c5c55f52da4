"""A few NUTS divergences at model v3's kinks are reported, not fatal, only when NUTS agrees with
reweighting (docs/model.md, "NUTS under v3"; MODEL.md §3.v3 B: "NUTS reports its divergences")."""

from __future__ import annotations

import pytest

from model.analyses.calibration.pipeline import AGREEMENT_Z, DIVERGENCE_SHARE, cross_checked


def _nuts(divergences: int, failed: list[str], mean: float = 0.30) -> dict:
    return {
        "draws": 1000,
        "chains": 4,
        "converged": not failed,
        "failed": failed,
        "diagnostics": {"divergences": divergences},
        "outcomes": {"success": {"mean": mean, "mcse": 0.004}, "x_risk": {"mean": 0.05, "mcse": 0.001}},
    }


REWEIGHT = {"outcomes": {"success": {"mean": 0.301, "mcse": 0.001}, "x_risk": {"mean": 0.0502, "mcse": 0.0003}}}


def test_one_divergence_with_agreement_is_reported_not_fatal():
    out = cross_checked(_nuts(1, ["divergences = 1 (needs <= 0)"]), REWEIGHT)
    assert out["converged"] and out["failed"] == []
    (note,) = out["warnings"]
    assert "1 divergent transition (" in note and "agrees with reweighting" in note


@pytest.mark.parametrize(
    ("nuts", "why"),
    [
        (_nuts(1, ["divergences = 1 (needs <= 0)"], mean=0.30 + (AGREEMENT_Z + 1) * 0.0042), "disagrees"),
        (_nuts(int(DIVERGENCE_SHARE * 4000) + 1, ["divergences = 11 (needs <= 0)"]), "too many"),
        (_nuts(1, ["divergences = 1 (needs <= 0)", "r_hat_max = 1.05 (needs <= 1.01)"]), "another gate"),
        (_nuts(0, []), "nothing failed"),
    ],
)
def test_otherwise_the_verdict_is_unchanged(nuts, why):
    assert cross_checked(nuts, REWEIGHT) == nuts, why
