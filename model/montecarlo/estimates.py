"""What a run returns: each quantity's estimate with its Monte Carlo error and spread, the
crux map, the ambition curve and the sensitivity bins (:class:`Result`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, is_dataclass
from typing import TYPE_CHECKING

import numpy as np

from model.core.quantities import SIGNED
from model.montecarlo.cells import Ambition, CruxMap
from model.montecarlo.histograms import percentile
from model.montecarlo.stats import QUANTITIES, Stats

if TYPE_CHECKING:
    from model.montecarlo.binned import SensitivitySums
    from model.montecarlo.given import GivenEvidence


@dataclass(frozen=True)
class Estimate:
    """Mean of a per-world probability with its Monte Carlo error, and its spread."""

    mean: float
    mcse: float | None  # None where it cannot be estimated (a single world)
    p5: float
    p50: float
    p95: float

    def as_dict(self) -> dict[str, float | None]:
        return {"mean": self.mean, "mcse": self.mcse, "p5": self.p5, "p50": self.p50, "p95": self.p95}


@dataclass(frozen=True, eq=False)  # eq=False: else its __hash__ from the fields would replace Python's None
class Result:
    samples: int
    seed: int
    horizon: float
    target: float
    estimates: Mapping[str, Estimate]
    target_percentile: float  # share of worlds whose success within the horizon is <= target
    histograms: np.ndarray = field(repr=False, compare=False)  # QUANTITIES × logit-grid bins
    crux_map: CruxMap = field(repr=False, compare=False)
    ambition: Ambition = field(repr=False, compare=False)
    sensitivity: SensitivitySums | None = field(default=None, repr=False, compare=False)  # merged bins
    worlds: Mapping[str, np.ndarray] | None = field(default=None, repr=False, compare=False)
    weighting: tuple | None = None  # a calibrated file's weighting, as applied
    ess: float | None = None  # Kish's effective sample size (the sample size when unweighted)
    #: the run given its evidence (MODEL.md §5.v3); None without evidence
    given: GivenEvidence | None = field(default=None, compare=False)

    def __eq__(self, other: object) -> bool:
        """Bit-identical: every estimate, histogram, crux-map and ambition cell, sensitivity
        bin and kept world (NaN equal to NaN), so "same seed, same result" means all of it."""
        if not isinstance(other, Result):
            return NotImplemented
        return all(same(getattr(self, f.name), getattr(other, f.name)) for f in fields(Result))

    # no __hash__ (Python sets it to None beside this __eq__): mutable arrays inside


def same(a: object, b: object) -> bool:
    """Exact equality through arrays, mappings, tuples and dataclasses (NaN equal to NaN)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        nan = a.dtype.kind in "fc" and b.dtype.kind in "fc"
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=nan))
    if is_dataclass(a) and not isinstance(a, type):
        return type(a) is type(b) and all(same(getattr(a, f.name), getattr(b, f.name)) for f in fields(a))
    if isinstance(a, Mapping):
        return isinstance(b, Mapping) and a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, (tuple, list)):
        return isinstance(b, (tuple, list)) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, float) and isinstance(b, float) and a != a and b != b:
        return True
    return a == b


def estimates_of(total: Stats, hist: np.ndarray) -> tuple[dict[str, Estimate], float, float]:
    """Each quantity's estimate; the share of worlds at or below the target; the effective
    sample size (Kish's, in a weighted run: there ``hist`` holds weighted histograms)."""
    wt = total.weighted
    if wt is None:
        sd = np.sqrt(total.m2 / max(total.n - 1, 1))
        means = total.mean
        errors = [float(sd[i] / math.sqrt(total.n)) if total.n > 1 else None for i in range(len(QUANTITIES))]
        below, ess = total.below_target / total.n, float(total.n)
    else:
        means = wt.mean()
        # fewer than two effective worlds: the error cannot be estimated (not zero)
        errors = [float(e) if total.n > 1 and wt.ess() >= 2 else None for e in wt.mcse()]
        below, ess = wt.below / wt.w, wt.ess()
    estimates = {}
    for i, q in enumerate(QUANTITIES):
        p5, p50, p95 = (
            percentile(hist[i], f, float(total.low[i]), float(total.high[i]), q in SIGNED) for f in (0.05, 0.5, 0.95)
        )
        estimates[q] = Estimate(float(means[i]), errors[i], p5, p50, p95)  # one world: no error
    return estimates, below, ess
