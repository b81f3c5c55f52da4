"""``model.cruxes``: many people's priors files side by side (MODEL.md §7), as
``aar-risk cruxes PRIORS… | FOLDER`` computes them."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from model.api.arguments import checked_workers, count, plain
from model.core.limits import MAX_SAMPLES, MAX_SEED
from model.core.quantities import Q
from model.priors.priors import Priors

#: Worlds per person unless asked otherwise: one engine block (every coalition of the
#: attribution is a full evaluation of these).
SAMPLES = 65_536

Source = Priors | str | Path


@dataclass(frozen=True)
class PeopleCruxes:
    """Each person's outcomes, the pools, the attribution of the between-person variance and
    the binary cruxes (``.summary()`` is cruxes.json; ``.files()`` the report folder)."""

    result: Any = field(repr=False)  # model.analyses.cruxes.people.PeopleResult

    def __repr__(self) -> str:
        r = self.result
        return f"PeopleCruxes(people={len(r.panel.people)}, players={len(r.panel.players)}, samples={r.samples})"

    @cached_property
    def _summary(self) -> dict:
        from model.analyses.cruxes.people import summary

        return plain(summary(self.result))

    def summary(self) -> dict:
        """cruxes.json, as ``aar-risk cruxes PRIORS… --json`` prints it."""
        return plain(self._summary)

    def files(self) -> dict[str, str | bytes]:
        """Every file of the report folder (cruxes.json, report.md/.html, figures/), by relative path."""
        from model.report.people import files

        return files(self._summary)


def _expand(sources: Source | Sequence[Source]) -> list[Source]:
    """A folder becomes its priors files (``*.toml``, sorted); a list stays as it is."""
    if isinstance(sources, (str, Path)) and Path(sources).is_dir():
        found = sorted(Path(sources).glob("*.toml"))
        if not found:
            raise ValueError(f"{sources} holds no priors file (*.toml)")
        return list(found)
    if isinstance(sources, (str, Path, Priors)):
        return [sources]
    return list(sources)


def _key(source: Source) -> str:
    return str(Path(source.path if isinstance(source, Priors) else source).resolve())


def _camps(sources: list[Source], camps: Mapping[str, Sequence[Source]] | None) -> list[str | None]:
    """Each file's camp (None without camps); every file in exactly one camp when camps are given."""
    if not camps:
        return [None] * len(sources)
    camp_of: dict[str, str] = {}
    for name, members in camps.items():
        for m in members:
            key = _key(m)
            if key in camp_of and camp_of[key] != name:
                raise ValueError(f"{m} is in two camps, {camp_of[key]} and {name}")
            camp_of[key] = name
    keys = [_key(s) for s in sources]
    missing = [str(s) for s, k in zip(sources, keys, strict=True) if k not in camp_of]
    if missing:
        raise ValueError(f"with camps, every file is in one: {', '.join(missing)} in none")
    extra = set(camp_of) - set(keys)
    if extra:
        raise ValueError(f"a camp names a file that is not compared: {', '.join(sorted(extra))}")
    return [camp_of[k] for k in keys]


def _names(views: list[Priors]) -> list[str]:
    """Each person's name: the file's [meta] name, with the file's stem where names repeat."""
    names = [v.name for v in views]
    return [f"{n} ({v.path.stem})" if names.count(n) > 1 else n for n, v in zip(names, views, strict=True)]


def cruxes(
    files_or_priors: Source | Sequence[Source],
    camps: Mapping[str, Sequence[Source]] | None = None,
    samples: int | None = None,
    seed: int | None = None,
    cruxes: Sequence[str] = (),
    outcome: str = Q.success,
    orderings: int | None = None,
    workers: int | None = None,
    scheduler: Any = None,
    progress: Callable[[str, int, int | None], None] | None = None,
) -> PeopleCruxes:
    """Many people's priors (a folder or a list of files) side by side: each person's outcomes
    and the pools; the between-person variance of each outcome attributed to what they
    disagree on (Shapley values, common random numbers); and the binary cruxes
    (``capability_needed>=1``, ``relative_difficulty>=1`` and each of ``cruxes``) scored from
    each person's own worlds, with U the outcome ``outcome``. ``camps`` maps a camp's name to
    its files. ``scheduler``: a Dask scheduler's address or ``distributed.Client`` (the same
    numbers as the local run). Files that differ in horizon, evidence or calibration are
    refused (ValueError).

    >>> c = cruxes(["priors/author.toml", "priors/openai.toml"], samples=2_000, seed=1, workers=1)
    >>> [p["name"] for p in c.summary()["people"]]
    ['Essay author', 'OpenAI plan (as the essay reads it)']
    """
    from model.analyses.cruxes.panel import MODEL_CRUXES, panel, parse_crux
    from model.analyses.cruxes.people import analyse
    from model.report.summary import display_path

    sources = _expand(files_or_priors)
    if len(sources) < 2:
        raise ValueError("cruxes needs at least two people's priors files")
    views = [s if isinstance(s, Priors) else _load(s) for s in sources]
    camp_of = _camps(sources, camps)
    samples = count(samples, "samples", 1, MAX_SAMPLES, SAMPLES)
    seed = count(seed, "seed", 0, MAX_SEED, views[0].simulation.seed)
    labels = list(dict.fromkeys([*MODEL_CRUXES, *cruxes]))
    parsed = [parse_crux(c) for c in labels]
    the_panel = panel(views, _names(views), [display_path(v.path) for v in views], camp_of, seed, outcome, parsed)
    tick = None if progress is None else (lambda done, total: progress("people × blocks", done, total))
    result = analyse(the_panel, samples, orderings, checked_workers(workers), scheduler, tick)
    return PeopleCruxes(result)


def _load(path: str | Path) -> Priors:
    from model.api import load_priors

    return load_priors(path)
