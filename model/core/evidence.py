"""Per-world log-likelihoods of dated evidence (docs/model.md, MODEL.md §5.v3 "Evidence").

Pure functions of arrays over a leading world axis, for numpy (Monte Carlo, reweighting) and
PyTensor (NUTS) through the ``xp`` namespaces of :mod:`model.core.backend`. Every likelihood is
smooth in the world variables. ``strength`` is an exponent on the likelihood, so it multiplies
the log-likelihood: 0 ignores an entry, 1 takes it as stated. The market entry uses
:func:`model.core.structure.market_log_likelihood`, whose ``trust`` is already such an exponent:
pass ``trust·strength``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np
from scipy import special

from model.core.backend import SQRT2, Array, Ops, numpy_ops
from model.core.structure import MIN_YEARS, Outcomes, market_log_likelihood

#: The time origin of every ``years_*`` variable and every evidence ``date``: the Superalignment
#: announcement (MODEL.md §5.v3).
ORIGIN = date(2023, 7, 5)
#: Days in a year, for converting dates to years since ORIGIN.
DAYS_PER_YEAR = 365.25
#: The events a ``not_by``/``by`` entry can name, and the world time each stands for.
EVENTS = ("aar", "agi", "field")
#: The kinds of evidence (MODEL.md §5.v3, the table).
KINDS = ("market", "not_by", "by", "measurement")
#: What a market entry can be about: success within its horizon, or the AAR-first term alone.
MARKET_QUANTITIES = ("success_within_horizon", "aar_success_within_horizon")
#: An event in words, for labels: aar → "a useful AAR", …
EVENT_WORDS = {
    "aar": "a useful automated alignment researcher (T_b)",
    "agi": "AGI (T_g)",
    "field": "the field alone solving alignment (T_a)",
}
#: Below this argument log Φ uses the asymptotic form through erfcx (PyTensor only).
_TAIL = -1.0
_LOG_SQRT_2PI = 0.5 * math.log(2.0 * math.pi)


def years_since_origin(day: date) -> float:
    """Years from ORIGIN (2023-07-05) to ``day``, counted as days/365.25 (MODEL.md §5.v3)."""
    if isinstance(day, datetime):
        day = day.date()
    return (day - ORIGIN).days / DAYS_PER_YEAR


def log_normal_cdf(x: Array, xp: Ops = numpy_ops) -> Array:
    """log Φ(x), finite wherever Φ(x) > 0 in exact arithmetic, with finite gradients.

    numpy: :func:`scipy.special.log_ndtr`. PyTensor: log(erfcx(−x/√2)/2) − x²/2 below x = −1
    (where Φ underflows), log1p(−erfc(x/√2)/2) above; each branch gets harmless inputs where it
    is not taken, so the gradient of the switch stays finite.
    """
    if xp.name != "pytensor":
        return special.log_ndtr(x)
    import pytensor.tensor as pt

    tail = x < _TAIL
    low = xp.where(tail, x, _TAIL)
    high = xp.where(tail, _TAIL, x)
    return xp.where(
        tail,
        xp.log(pt.erfcx(-low / SQRT2) / 2.0) - low * low / 2.0,
        xp.log1p(-pt.erfc(high / SQRT2) / 2.0),
    )


def _log_ratio(t_event: Array, t: Array, sigma: Array, xp: Ops) -> Array:
    """(ln T − ln t)/σ_t, with T and t kept at least MIN_YEARS (a date at or before ORIGIN
    counts as MIN_YEARS: nothing can have happened by then)."""
    return (xp.log(xp.maximum(t_event, MIN_YEARS)) - xp.log(xp.maximum(t, MIN_YEARS))) / sigma


def not_by_log_likelihood(t_event: Array, t: Array, sigma: Array, xp: Ops = numpy_ops, strength: float = 1.0) -> Array:
    """Evidence that the event had not happened by t: strength · log Φ((ln T − ln t)/σ_t), σ_t the world's
    own timing noise (MODEL.md §5.v3)."""
    return strength * log_normal_cdf(_log_ratio(t_event, t, sigma, xp), xp)


def by_log_likelihood(t_event: Array, t: Array, sigma: Array, xp: Ops = numpy_ops, strength: float = 1.0) -> Array:
    """Evidence that the event had happened by t: strength · log(1 − Φ((ln T − ln t)/σ_t)) = strength · log Φ(−…)
    (MODEL.md §5.v3)."""
    return strength * log_normal_cdf(-_log_ratio(t_event, t, sigma, xp), xp)


def measurement_log_likelihood(
    quantity: Array, value: float, sd: float, xp: Ops = numpy_ops, strength: float = 1.0
) -> Array:
    """A measurement ``value`` ± ``sd`` of the world's ``quantity``: strength · log Normal(value;
    quantity, sd) (MODEL.md §5.v3)."""
    z = (quantity - value) / sd
    return strength * (-0.5 * z * z - math.log(sd) - _LOG_SQRT_2PI)


def capability_at(t: Array, t_g: Array) -> Array:
    """The capability c(t) = t/T_g at t years after ORIGIN (MODEL.md §3.v3 C)."""
    return t / t_g


def event_time(event: str, w: Mapping[str, Array], out: Outcomes) -> Array:
    """The world's time of ``event``: aar → T_b, agi → T_g, field → T_a (MODEL.md §5.v3)."""
    if event == "aar":
        return out.t_build
    if event == "agi":
        return w["years_to_agi"]
    if event == "field":
        return w["field_years"]
    raise ValueError(f"unknown event {event!r}: expected one of {', '.join(EVENTS)}")


def max_log_likelihood(
    kind: str,
    *,
    value: float | None = None,
    sd: float | None = None,
    trust: float | None = None,
    strength: float = 1.0,
) -> float:
    """The largest value an entry's log-likelihood can take (MODEL.md §5.v3, the Bayes factor):
    market at s = y (``value``; pass the ``trust`` before multiplying by strength), measurement
    at quantity = value, −log(sd·√(2π)), not_by and by 0. Times ``strength``."""
    if kind in ("not_by", "by"):
        return 0.0
    if kind == "market":
        if value is None or trust is None:
            raise ValueError("a market entry needs value and trust")
        # At s = y, through the function itself, so its clipping of s is included.
        return strength * float(market_log_likelihood(np.float64(value), trust, value))
    if kind == "measurement":
        if sd is None:
            raise ValueError("a measurement entry needs sd")
        return strength * (-math.log(sd) - _LOG_SQRT_2PI)
    raise ValueError(f"unknown evidence kind {kind!r}: expected one of {', '.join(KINDS)}")


def bayes_factor(ll: Array, max_ll: float, weights: Array | None = None) -> tuple[float, float]:
    """An entry's Bayes factor, the mean over the prior's worlds of exp(ll − max_ll), and its
    Monte Carlo standard error (MODEL.md §5.v3; 1: the prior already expected it). With
    ``weights`` (e.g. a calibration's), the self-normalised weighted mean and its error."""
    ratio = np.exp(np.asarray(ll, dtype=float) - max_ll)
    n = ratio.size
    if weights is None:
        mean = float(ratio.mean())
        return mean, float(ratio.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    p = np.asarray(weights, dtype=float)
    p = p / p.sum()
    mean = float(np.sum(p * ratio))
    return mean, float(np.sqrt(np.sum(p * p * (ratio - mean) ** 2)))


@dataclass(frozen=True)
class Entry:
    """One dated observation (MODEL.md §5.v3), validated: a likelihood over worlds.

    ``kind`` decides which of the optional fields are set: market (``quantity``, ``horizon``,
    ``value`` y, ``trust``), not_by/by (``event``), measurement (``variable`` or
    ``capability_at``, ``value``, ``sd``). ``origin`` names the file it was written in, for the
    reader; ``strength`` is an exponent on the likelihood.
    """

    kind: str
    date: date
    source: str
    strength: float = 1.0
    label: str = ""
    event: str | None = None
    quantity: str | None = None
    horizon: float | None = None
    value: float | None = None
    trust: float | None = None
    sd: float | None = None
    variable: str | None = None
    capability_at: dt.date | None = None
    origin: str = ""
    #: Which file and entry it is (resolved path and index): an entry met twice, through a base and
    #: an included file, applies once.
    ident: str = field(default="", repr=False, compare=False)

    @property
    def t(self) -> float:
        """Years from ORIGIN to the entry's date."""
        return years_since_origin(self.date)

    def max_log_likelihood(self) -> float:
        """The largest value of :meth:`log_likelihood` (its Bayes factor's denominator)."""
        return max_log_likelihood(self.kind, value=self.value, sd=self.sd, trust=self.trust, strength=self.strength)

    def log_likelihood(
        self,
        w: Mapping[str, Array],
        out: Outcomes,
        xp: Ops = numpy_ops,
        at: Callable[[float], Outcomes] | None = None,
    ) -> Array:
        """Each world's log-likelihood (MODEL.md §5.v3, the table). ``out`` are the worlds'
        outcomes at the run's horizon; ``at(h)`` gives them at another horizon (a market entry
        whose horizon differs)."""
        if self.kind in ("not_by", "by"):
            assert self.event is not None  # the loader checks every kind's keys
            f = not_by_log_likelihood if self.kind == "not_by" else by_log_likelihood
            return f(event_time(self.event, w, out), self.t, w["timing_noise"], xp, self.strength)
        if self.kind == "measurement":
            assert self.value is not None and self.sd is not None
            if self.capability_at is not None:
                quantity = capability_at(years_since_origin(self.capability_at), w["years_to_agi"])
            else:
                assert self.variable is not None
                quantity = w[self.variable]
            return measurement_log_likelihood(quantity, self.value, self.sd, xp, self.strength)
        assert self.kind == "market" and self.trust is not None and self.value is not None
        there = out if at is None or self.horizon is None else at(self.horizon)
        s = getattr(there, self.quantity or MARKET_QUANTITIES[0])
        return market_log_likelihood(s, self.trust * self.strength, self.value, xp)

    def ratio(self, w: Mapping[str, Array], out: Outcomes, at: Callable[[float], Outcomes] | None = None) -> np.ndarray:
        """exp(log_likelihood − max_log_likelihood) in numpy, without the logarithms where the
        likelihood is a probability (not_by, by: Φ(x)^strength), which is what a weight needs
        and costs half as much; equal to the exponential of :meth:`log_likelihood` less its maximum."""
        if self.kind in ("not_by", "by"):
            assert self.event is not None  # the loader checks every kind's keys
            x = _log_ratio(event_time(self.event, w, out), self.t, w["timing_noise"], numpy_ops)
            p = special.ndtr(x if self.kind == "not_by" else -x)
            return p if self.strength == 1.0 else p**self.strength
        return np.exp(np.minimum(self.log_likelihood(w, out, at=at) - self.max_log_likelihood(), 0.0))

    def words(self) -> str:
        """The entry in a few words, for tables and figure marks (its ``label`` if it has one)."""
        if self.label:
            return self.label
        day = self.date.isoformat()
        if self.kind == "not_by":
            return f"no {_short(self.event)} by {day}"
        if self.kind == "by":
            return f"{_short(self.event)} by {day}"
        if self.kind == "measurement":
            what = f"capability on {self.capability_at.isoformat()}" if self.capability_at else self.variable
            return f"{what} = {self.value:g} ± {self.sd:g} ({day})"
        who = "AAR-first " if self.quantity == MARKET_QUANTITIES[1] else ""
        return f"market: {who}success within {self.horizon:g} years at {self.value:.0%} ({day})"


def _short(event: str | None) -> str:
    return {"aar": "useful AAR", "agi": "AGI", "field": "solution by the field alone"}.get(event or "", str(event))
