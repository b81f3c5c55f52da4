"""A calibrated priors file's weighting of worlds (``[calibration] apply``): each world's
importance weight, computed as it streams."""

from __future__ import annotations

import numpy as np

from model.core.structure import S_FLOOR, market_log_likelihood, market_log_likelihood_max
from model.priors.beliefs import Priors


def log_weights(weighting: tuple, success_h: np.ndarray) -> np.ndarray:
    """Each world's log importance weight under a calibration, at most 0.

    "update": the market likelihood trust·(y·ln s + (1 − y)·ln(1 − s)) less its maximum
    (at s = y); "tilt": λ·s less max(λ, 0). Neither needs a second pass over the worlds.
    """
    if weighting[0] == "update":
        trust, y = weighting[1], weighting[2]
        return market_log_likelihood(success_h, trust, y) - market_log_likelihood_max(trust, y)
    lam = weighting[1]
    return lam * np.clip(success_h, S_FLOOR, 1 - S_FLOOR) - max(lam, 0.0)


def priors_weighting(priors: Priors) -> tuple | None:
    """The weighting a calibrated priors file asks for (``[calibration] apply``), or None."""
    c = priors.calibration
    apply = getattr(c, "apply", None)
    if apply == "update":
        return ("update", float(c.trust), float(c.target))
    if apply == "tilt":
        assert c.tilt_lambda is not None  # the loader checks that a tilt has its λ
        return ("tilt", float(c.tilt_lambda))
    return None
