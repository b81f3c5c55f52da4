"""The run given its evidence, for the API (:attr:`model.api.Run.given`): typed views of
:class:`model.montecarlo.given.GivenEvidence`, named as summary.json's ``given_evidence``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from model.core.evidence import Entry
from model.montecarlo.given import GivenEvidence, Moved


@dataclass(frozen=True)
class Weighted:
    """A weighted mean over the worlds with its Monte Carlo error (None: too few effective
    worlds to estimate one), as :class:`model.montecarlo.engine.Estimate` without its
    percentiles (a weighted view has no histograms). ``mean`` is None when the evidence
    rules out every world drawn."""

    mean: float | None
    mcse: float | None

    def as_dict(self) -> dict[str, float | None]:
        return {"mean": self.mean, "mcse": self.mcse}


def _estimates(view: Moved) -> dict[str, Weighted]:
    return {q: Weighted(view.means[q], view.mcse[q]) for q in view.means}


@dataclass(frozen=True)
class EntryEffect:
    """One evidence entry: its Bayes factor (the mean over your prior's worlds of its likelihood
    over its largest value; 1: expected, near 0: a surprise) and your priors given it alone."""

    entry: Entry = field(repr=False)
    bayes_factor: Weighted
    #: every reported quantity given this entry alone
    alone: Mapping[str, Weighted] = field(repr=False)
    crux_medians: Mapping[str, float] = field(repr=False)
    effective_sample_size: float = field(repr=False)

    @property
    def words(self) -> str:
        """The entry in a few words (its ``label`` if it has one)."""
        return self.entry.words()

    @property
    def date(self) -> date:
        return self.entry.date


@dataclass(frozen=True)
class Given:
    """The run given its evidence (MODEL.md §5.v3): every quantity's weighted mean and Monte
    Carlo error, the effective sample size (Kish's), the cruxes' medians before and after, and
    each entry's effect. The same worlds as :attr:`model.api.Run.estimates`, weighted."""

    as_of: date
    estimates: Mapping[str, Weighted] = field(repr=False)
    effective_sample_size: float
    entries: tuple[EntryEffect, ...] = field(repr=False)
    #: each crux's median: (under your priors as written, given the evidence)
    crux_medians: Mapping[str, tuple[float, float]] = field(repr=False)
    #: P(event by the end of month m), m = 1..180 from 2023-07-05, for "prior" and "given"
    timeline: Mapping[str, Mapping[str, object]] = field(repr=False)

    def change(self, quantity: str, before: float) -> float | None:
        """This view's mean of ``quantity`` less ``before`` (your priors' mean), None where undefined."""
        mean = self.estimates[quantity].mean
        return None if mean is None else mean - before


def given_view(g: GivenEvidence) -> Given:
    """The typed view of a run's :class:`GivenEvidence`."""
    entries = tuple(
        EntryEffect(e, Weighted(bf, err), _estimates(alone), dict(alone.crux_medians), alone.ess)
        for e, (bf, err), alone in zip(g.entries, g.bayes_factors, g.alone, strict=True)
    )
    return Given(
        as_of=g.as_of,
        estimates=_estimates(g.given),
        effective_sample_size=g.given.ess,
        entries=entries,
        crux_medians={n: (g.prior.crux_medians[n], g.given.crux_medians[n]) for n in g.given.crux_medians},
        timeline=g.timeline,
    )
