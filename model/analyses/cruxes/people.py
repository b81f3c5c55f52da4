"""Cruxes on many people's priors files (MODEL.md §7): each person's outcomes and the pools,
the between-person variance attributed to the players, and the binary cruxes scored from
each person's own worlds with the survey's metrics (:mod:`.survey`).

The work is cut into tasks, one per (person, block of worlds), each evaluating every
coalition of the attribution on its worlds (:func:`.worlds.evaluate`); they run on the
project's worker processes or on a Dask cluster and are combined in task order, so the
result does not depend on where they ran.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from model.analyses.compare.coalitions import chunk_ranges
from model.analyses.cruxes import pools
from model.analyses.cruxes.metrics import vod, vod_share
from model.analyses.cruxes.panel import COMPARED, EVENTS, Panel
from model.analyses.cruxes.spread import Attribution, Plan, attribute, plan
from model.analyses.cruxes.survey import SurveyScores, score
from model.analyses.cruxes.table import Answer, Survey
from model.analyses.cruxes.worlds import Piece, evaluate
from model.montecarlo.cluster import run_tasks

#: Batches of worlds: the linear pool's error (batch means) and the attribution's jackknife.
BATCHES = 16


@dataclass(frozen=True)
class Crossed:
    """Each person's P(U), P(c), P(U|c) on one binary crux (P(U|c) NaN where c never holds)."""

    crux: str
    p_u: np.ndarray
    p_c: np.ndarray
    p_u_given_c: np.ndarray


@dataclass(frozen=True)
class PeopleResult:
    """Everything the many-people analysis computed, as arrays over (people, COMPARED)."""

    panel: Panel
    samples: int
    mean: np.ndarray  # (people, COMPARED)
    mcse: np.ndarray  # (people, COMPARED)
    linear: np.ndarray  # (COMPARED,) the linear pool of worlds
    linear_mcse: np.ndarray  # (COMPARED,) from batch means (common random numbers correlate people)
    attribution: Attribution
    crossed: tuple[Crossed, ...]
    scores: SurveyScores


def _tasks(panel: Panel, the_plan: Plan, samples: int) -> tuple[list[tuple], np.ndarray]:
    """(person, coalitions, block, pieces) for every person and block; and the batch sizes."""
    batches = max(1, min(BATCHES, samples))
    chunks, sizes = chunk_ranges(samples, batches)
    by_block: dict[int, list[tuple[int, int, int]]] = {}
    for batch, block, start, stop in chunks:
        by_block.setdefault(block, []).append((batch, start, stop))
    tasks = [
        (i, the_plan.coalitions, block, tuple(pieces))
        for i in range(len(panel.people))
        for block, pieces in sorted(by_block.items())
    ]
    return tasks, sizes


def _gather(panel: Panel, the_plan: Plan, tasks, results: list[list[Piece]], batches: int):
    n, k, q = len(panel.people), len(the_plan.coalitions), len(COMPARED)
    sums = np.zeros((n, k, batches, q))
    own = np.zeros((n, batches, q))
    squares = np.zeros((n, q))
    crux = np.zeros((n, len(panel.cruxes), 2))
    for (person, *_), pieces in zip(tasks, results, strict=True):
        for p in pieces:
            sums[person, :, p.batch] += p.coalitions
            own[person, p.batch] += p.sums
            squares[person] += p.squares
            crux[person] += p.crux
    return sums, own, squares, crux


def _crossed(panel: Panel, mean: np.ndarray, crux: np.ndarray, samples: int) -> tuple[Crossed, ...]:
    u = mean[:, COMPARED.index(panel.outcome)]
    out = []
    for k, c in enumerate(panel.cruxes):
        holds, u_sum = crux[:, k, 0], crux[:, k, 1]
        with np.errstate(divide="ignore", invalid="ignore"):
            given = np.where(holds > 0, u_sum / holds, np.nan)
        out.append(Crossed(c.label, u, holds / samples, given))
    return tuple(out)


def _scores(panel: Panel, crossed: tuple[Crossed, ...]) -> SurveyScores:
    """The survey's metrics (VOI per camp, VoD over cross-camp pairs) on the people's triples."""
    answers = [
        Answer(p.name, p.camp, x.crux, float(x.p_u[i]), float(x.p_c[i]), float(x.p_u_given_c[i]), 0)
        for x in crossed
        for i, p in enumerate(panel.people)
    ]
    camps = tuple(sorted({p.camp for p in panel.people if p.camp}))
    return score(Survey("<people>", tuple(answers), camps))


def analyse(
    panel: Panel,
    samples: int,
    orderings: int | None = None,
    workers: int | None = None,
    scheduler=None,
    progress: Callable[[int, int], None] | None = None,
) -> PeopleResult:
    """The whole analysis of ``panel`` on ``samples`` worlds per person."""
    the_plan = plan(panel.players, panel.seed, orderings)
    tasks, sizes = _tasks(panel, the_plan, samples)
    panel.prepare()
    tick = None if progress is None else (lambda done: progress(done, len(tasks)))
    results = run_tasks(evaluate, panel, tasks, workers=workers, scheduler=scheduler, progress=tick)
    sums, own, squares, crux = _gather(panel, the_plan, tasks, results, len(sizes))
    mean = own.sum(axis=1) / samples
    var = np.maximum(squares - samples * mean * mean, 0.0) / max(samples - 1, 1)
    batch_means = (own / sizes[None, :, None]).mean(axis=0)  # (batches, COMPARED): the pool's
    if len(sizes) > 1:
        linear_mcse = batch_means.std(axis=0, ddof=1) / math.sqrt(len(sizes))
    else:
        linear_mcse = np.sqrt((var / samples).sum(axis=0)) / len(panel.people)
    crossed = _crossed(panel, mean, crux, samples)
    return PeopleResult(
        panel,
        samples,
        mean,
        np.sqrt(var / samples),
        mean.mean(axis=0),
        linear_mcse,
        attribute(the_plan, sums, sizes),
        crossed,
        _scores(panel, crossed),
    )


def _num(x) -> float | None:
    x = float(x)
    return x if math.isfinite(x) else None


def _pools(r: PeopleResult) -> dict:
    linear = {q: {"mean": _num(r.linear[k]), "mcse": _num(r.linear_mcse[k])} for k, q in enumerate(COMPARED)}
    out: dict = {"linear": linear, "geometric_mean_of_odds": {}, "extremized": {}}
    for q in EVENTS:
        k = COMPARED.index(q)
        for key, pool in (("geometric_mean_of_odds", pools.geometric_mean_of_odds), ("extremized", pools.extremized)):
            pooled = pool(r.mean[:, k], se=r.mcse[:, k])
            out[key][q] = {"mean": _num(pooled.p), "mcse": _num(pooled.se)}
    return out


def _attribution(r: PeopleResult) -> dict:
    a = r.attribution
    return {
        q: {
            "total": _num(a.total[k]),
            "residual": _num(a.residual[k]),
            "players": {
                p: {"value": _num(a.value[j, k]), "error": _num(a.error[j, k])} for j, p in enumerate(a.players)
            },
        }
        for k, q in enumerate(COMPARED)
    }


def _pairs(r: PeopleResult, x: Crossed) -> list[dict]:
    """VoD and its share for every pair of people (cross-camp or not: ``cross`` says)."""
    people = r.panel.people
    out = []
    for i, j in itertools.combinations(range(len(people)), 2):
        a = (x.p_u[i], x.p_c[i], x.p_u_given_c[i])
        b = (x.p_u[j], x.p_c[j], x.p_u_given_c[j])
        cross = people[i].camp is None or people[i].camp != people[j].camp
        out.append(
            {
                "a": people[i].name,
                "b": people[j].name,
                "cross": cross,
                "vod": _num(vod(a, b)),
                "vod_share": _num(vod_share(a, b)),
            }
        )
    return out


def summary(r: PeopleResult) -> dict:
    """cruxes.json: people, pools, attribution and binary cruxes (MODEL.md §7)."""
    p = r.panel
    people = [
        {
            "name": x.name,
            "file": x.file,
            "camp": x.camp,
            "outcomes": {q: {"mean": _num(r.mean[i, k]), "mcse": _num(r.mcse[i, k])} for k, q in enumerate(COMPARED)},
        }
        for i, x in enumerate(p.people)
    ]
    by_label = {x.crux: x for x in r.crossed}
    scores = r.scores.as_dict()
    binary = []
    for c in scores["cruxes"]:
        x = by_label[c["crux"]]
        triples = [
            {"person": q.name, "p_u": _num(x.p_u[i]), "p_c": _num(x.p_c[i]), "p_u_given_c": _num(x.p_u_given_c[i])}
            for i, q in enumerate(p.people)
        ]
        binary.append({**c, "people": triples, "vod_pairs": _pairs(r, x)})
    return {
        "samples": r.samples,
        "seed": p.seed,
        "outcome": p.outcome,
        "camps": sorted({x.camp for x in p.people if x.camp}),
        "people": people,
        "pools": _pools(r),
        "attribution_method": r.attribution.method,
        "orderings": r.attribution.orderings,
        "attribution": _attribution(r),
        "binary_cruxes": binary,
        "left_out": scores["incoherent"],
    }
