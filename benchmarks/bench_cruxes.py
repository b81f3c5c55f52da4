"""``cruxes`` on ten people: the local process pool against a Dask LocalCluster, side by side.

    python benchmarks/bench_cruxes.py [--samples N] [--workers W]

Ten variants of the author's priors (``base = "author"``) in a temporary folder, 10⁴ worlds
per person:

- *exact*: the ten differ in three variables (capability_needed, relative_difficulty,
  loop_hazard), so the attribution is exact over the 2³ coalitions;
- *sampled*: they differ in fourteen variables and the correlations (15 players > 12), so the
  attribution takes 64 sampled orderings (``orderings=64``).

Each is run on the project's worker pool (``workers`` processes) and on a
``distributed.LocalCluster`` with as many worker processes; the two results must be equal
to the last bit. Prints both times and their ratio (Dask ÷ local).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.api.people import cruxes  # noqa: E402

#: Per variable: (family table with {lo} {hi} placeholders, lo, hi): each person scales the interval.
MANY = {
    "capability_needed": ('{{ dist = "lognormal", ci90 = [{lo}, {hi}] }}', 0.4, 1.4),
    "relative_difficulty": ('{{ dist = "lognormal", ci90 = [{lo}, {hi}] }}', 0.3, 1.1),
    "loop_hazard": ('{{ dist = "lognormal", ci90 = [{lo}, {hi}] }}', 0.03, 0.4),
    "alignment_difficulty": ('{{ dist = "normal", ci90 = [{lo}, {hi}] }}', 4, 9),
    "technique_strength": ('{{ dist = "normal", ci90 = [{lo}, {hi}] }}', 3, 6),
    "hazard_growth": ('{{ dist = "normal", ci90 = [{lo}, {hi}] }}', 0.3, 2.5),
    "danger_threshold": ('{{ dist = "lognormal", ci90 = [{lo}, {hi}] }}', 0.8, 1.6),
    "containment": ('{{ dist = "beta", ci90 = [{lo}, {hi}] }}', 0.2, 0.7),
    "automation_fraction": ('{{ dist = "logitnormal", ci90 = [{lo}, {hi}] }}', 0.15, 0.95),
    "field_years": ('{{ dist = "lognormal", ci90 = [{lo}, {hi}] }}', 5, 40),
    "build_lag": ('{{ dist = "lognormal", ci90 = [{lo}, {hi}] }}', 0.25, 2),
    "years_to_agi": ('{{ dist = "lognormal", ci90 = [{lo}, {hi}] }}', 4, 25),
    "skill_overlap": ('{{ dist = "beta", ci90 = [{lo}, {hi}] }}', 0.3, 0.8),
    "leakage": ('{{ dist = "beta", ci90 = [{lo}, {hi}] }}', 0.05, 0.5),
}
CRUXES = ("capability_needed", "relative_difficulty")


def variants(folder: Path, names: tuple[str, ...], people: int = 10) -> list[Path]:
    """``people`` files on the author's base, each with the intervals of ``names`` moved."""
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for i in range(people):
        f = 0.8 + 0.04 * i  # 0.80 … 1.16: every person's intervals differ from everyone else's
        lines = ["[meta]", f'name = "person {i}"', 'base = "author"', "", "[cruxes]"]
        rest = ["", "[parameters]"]
        for n in names:
            table, lo, hi = MANY[n]
            lo2, hi2 = (lo * f, hi * f) if n not in ("containment", "automation_fraction") else (lo, min(hi * f, 0.97))
            (lines if n in CRUXES else rest).append(f"{n} = " + table.format(lo=round(lo2, 4), hi=round(hi2, 4)))
        if len(names) > 3:  # the correlations differ too
            rest += ["", "[correlations]", f'"capability_needed, automation_fraction" = {0.3 + 0.04 * i:.2f}']
        path = folder / f"person-{i}.toml"
        path.write_text("\n".join(lines + rest) + "\n")
        files.append(path)
    return files


def timed(f):
    t = time.perf_counter()
    out = f()
    return time.perf_counter() - t, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    from distributed import LocalCluster

    with tempfile.TemporaryDirectory() as tmp:
        cases = {
            "exact (3 players)": (variants(Path(tmp) / "exact", tuple(MANY)[:3]), None),
            "sampled (15 players, 64 orderings)": (variants(Path(tmp) / "sampled", tuple(MANY)), 64),
        }
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
            print(f"{'case':36} {'players':>7} {'local (s)':>10} {'dask (s)':>10} {'dask/local':>10}  equal")
            for name, (files, orderings) in cases.items():
                kw = {"samples": args.samples, "seed": 2023, "orderings": orderings}
                t_local, local = timed(lambda: cruxes(files, workers=args.workers, **kw).summary())  # noqa: B023
                t_dask, dask = timed(lambda: cruxes(files, scheduler=lc.scheduler_address, **kw).summary())  # noqa: B023
                players = len(local["attribution"]["success"]["players"])
                same = "yes" if local == dask else "NO"
                print(f"{name:36} {players:>7} {t_local:>10.2f} {t_dask:>10.2f} {t_dask / t_local:>10.2f}  {same}")


if __name__ == "__main__":
    main()
