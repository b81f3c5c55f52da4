"""The crux metrics of a survey table, per crux (docs/model.md, "Binary cruxes on a survey").

For each crux: the median VOI and VOI share of each camp's members, and the median VoD and
VoD share over every cross-camp pair (every pair when the table gives no camps; none, so
null, when it gives one camp). An incoherent row, or one with a probability of exactly 0 or 1
(given or implied, up to float rounding: its divergences are undefined), is left out of every median and listed
with the reason; so is a pair's VoD share when the two give the same P(U) (0 to explain).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from model.analyses.cruxes.metrics import ROUNDING, p_u_not_c, vod, vod_share, voi, voi_share
from model.analyses.cruxes.table import LABELS, Answer, Survey, read_survey

__all__ = ["NO_CAMP", "CruxScore", "LeftOut", "SurveyScores", "read_survey", "score"]

#: The key of ``voi_median`` when the table gives no camps.
NO_CAMP = "all"


@dataclass(frozen=True)
class LeftOut:
    """A row (or a pair, ``"a vs b"``) left out of a median, and why."""

    person: str
    crux: str
    why: str


@dataclass(frozen=True)
class CruxScore:
    """One crux's medians; None where nothing was left to take a median of."""

    crux: str
    pairs: int
    vod_median: float | None
    vod_share_median: float | None
    voi_median: Mapping[str, float | None]
    voi_share_median: Mapping[str, float | None]


@dataclass(frozen=True)
class SurveyScores:
    """Every crux, by descending ``vod_median`` (null last), and every row or pair left out."""

    cruxes: tuple[CruxScore, ...]
    incoherent: tuple[LeftOut, ...]

    def as_dict(self) -> dict:
        return {
            "cruxes": [
                {
                    "crux": c.crux,
                    "pairs": c.pairs,
                    "vod_median": c.vod_median,
                    "vod_share_median": c.vod_share_median,
                    "voi_median": dict(c.voi_median),
                    "voi_share_median": dict(c.voi_share_median),
                }
                for c in self.cruxes
            ],
            "incoherent": [{"person": o.person, "crux": o.crux, "why": o.why} for o in self.incoherent],
        }


def why_left_out(a: Answer) -> str | None:
    """Why a row cannot enter the metrics, or None: P(c) = 1, incoherence (FRI: P(U|c)·P(c) >
    P(U), or P(U|¬c) above 1), or a probability of exactly 0 or 1."""
    if a.p_c == 1:
        return "P(c) = 1, so P(U|¬c) is undefined"
    x = float(p_u_not_c(a.p_u, a.p_c, a.p_u_given_c))
    if x < -ROUNDING:
        return f"incoherent: P(U|c)·P(c) = {a.p_u_given_c * a.p_c:.4g} > P(U) = {a.p_u:g}, so P(U|¬c) = {x:.4g} < 0"
    if x > 1 + ROUNDING:
        return f"incoherent: P(U|¬c) = (P(U) − P(c)·P(U|c)) / (1 − P(c)) = {x:.4g} > 1"
    for field, label in LABELS.items():
        v = getattr(a, field)
        if v in (0, 1):
            return f"{label} = {v:g}: a divergence with a probability of 0 or 1 is undefined"
    if x <= ROUNDING or x >= 1 - ROUNDING:
        return f"P(U|¬c) = {round(x):g}: a divergence with a probability of 0 or 1 is undefined"
    return None


def _median(values: Sequence[float]) -> float | None:
    return float(np.median(values)) if values else None


def _triple(a: Answer) -> tuple[float, float, float]:
    return a.p_u, a.p_c, a.p_u_given_c


def _camp(a: Answer) -> str:
    return a.camp or NO_CAMP


def _pairs(kept: list[Answer], camps: tuple[str, ...]) -> list[tuple[Answer, Answer]]:
    """Cross-camp pairs, each once with its persons in name order (every pair without camps)."""
    ordered = sorted(kept, key=lambda a: a.person)
    return [(a, b) for a, b in itertools.combinations(ordered, 2) if not camps or a.camp != b.camp]


def _score_crux(crux: str, answers: list[Answer], camps: tuple[str, ...]) -> tuple[CruxScore, list[LeftOut]]:
    left = [LeftOut(a.person, crux, why) for a in answers if (why := why_left_out(a))]
    gone = {o.person for o in left}
    kept = [a for a in answers if a.person not in gone]
    vods, shares = [], []
    for a, b in _pairs(kept, camps):
        vods.append(float(vod(_triple(a), _triple(b))))
        if a.p_u == b.p_u:
            why = f"same P(U) = {a.p_u:g}: no disagreement about U, so no VoD share (its VoD is in vod_median)"
            left.append(LeftOut(f"{a.person} vs {b.person}", crux, why))
        else:
            shares.append(float(vod_share(_triple(a), _triple(b))))
    by_camp = {c: [a for a in kept if _camp(a) == c] for c in camps or (NO_CAMP,)}
    score = CruxScore(
        crux,
        len(vods),
        _median(vods),
        _median(shares),
        {c: _median([float(voi(*_triple(a))) for a in members]) for c, members in by_camp.items()},
        {c: _median([float(voi_share(*_triple(a))) for a in members]) for c, members in by_camp.items()},
    )
    return score, left


def score(survey: Survey) -> SurveyScores:
    """The metrics of every crux of a checked survey; the rows' order does not matter."""
    by_crux: dict[str, list[Answer]] = {}
    for a in survey.answers:
        by_crux.setdefault(a.crux, []).append(a)
    scores, left = [], []
    for crux in sorted(by_crux):
        s, out = _score_crux(crux, by_crux[crux], survey.camps)
        scores.append(s)
        left += out
    scores.sort(key=lambda s: (s.vod_median is None, -(s.vod_median or 0.0), s.crux))
    left.sort(key=lambda o: (o.crux, o.person, o.why))
    return SurveyScores(tuple(scores), tuple(left))
