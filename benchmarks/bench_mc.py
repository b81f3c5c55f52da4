"""Monte Carlo engine benchmark: ratios measured side by side in one run.

    python benchmarks/bench_mc.py [--quick]

Targets: the full model ≤ 2× drawing the same inputs alone; peak memory at 10⁷
worlds ≤ 1.3× that at 10⁶; `aar-risk run` with 10⁶ worlds, every figure and both
formats < 5 s on a 2-core machine (issue 2 asked < 5 s without figures, issue 3
< 10 s with them); `aar-risk --help` well under 0.5 s. The figure-drawing time is
shown against the simulation it draws, and the sensitivity section against the plain
report (issue 5); the 3× limits on those two are ours, not an issue's target.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from model.engine import BLOCK, Sampler, block_rng, run_block  # noqa: E402
from model.priors import load  # noqa: E402

PRIORS = ROOT / "priors" / "author.toml"


def best(f, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def model_vs_inputs(samples: int) -> tuple[float, float]:
    sampler = Sampler.from_priors(load(PRIORS))
    blocks = [(b, min(BLOCK, samples - b * BLOCK)) for b in range(math.ceil(samples / BLOCK))]
    inputs = best(lambda: [sampler.draw(block_rng(1, b), n) for b, n in blocks])
    full = best(lambda: [run_block(sampler, 1, b, n) for b, n in blocks])
    return inputs, full


def figures_vs_simulation(samples: int) -> tuple[float, float]:
    from model.engine import simulate
    from model.figures import render_all

    priors = load(PRIORS)
    result = simulate(priors, samples=samples)
    render_all(priors, result)  # warm matplotlib's font cache
    return (best(lambda: simulate(priors, samples=samples), 2),
            best(lambda: render_all(priors, result), 2))


def sensitivity_vs_plain(samples: int) -> tuple[float, float]:
    """The report's work without and with its sensitivity section (simulation, analysis, figures)."""
    from model.engine import simulate
    from model.figures import render_all
    from model.sensitivity import analyse
    from model.sensitivity_figures import render

    priors = load(PRIORS)

    def plain():
        render_all(priors, simulate(priors, samples=samples))

    def with_sensitivity():
        result = simulate(priors, samples=samples, utilities=priors.decision.utilities)
        render_all(priors, result)
        sens = analyse(priors, result)
        render(sens, {q: e.mean for q, e in result.estimates.items()})

    return best(plain, 2), best(with_sensitivity, 2)


PEAK = """
import json, resource, sys
from model.engine import simulate
from model.priors import load
simulate(load(sys.argv[1]), samples=int(sys.argv[2]), workers=int(sys.argv[3]))
print(json.dumps([resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss]))
"""


def peak_mib(samples: int, workers: int) -> float:
    out = subprocess.run([sys.executable, "-c", PEAK, str(PRIORS), str(samples), str(workers)],
                         capture_output=True, text=True, check=True, cwd=ROOT).stdout
    main, child = json.loads(out)
    return (main + child) / 1024  # the main process plus its largest worker


def wall(args, repeat=3, cwd=None) -> float:
    return best(lambda: subprocess.run(args, check=True, capture_output=True, cwd=cwd), repeat)


def main(quick: bool = False) -> None:
    cli = [sys.executable, "-m", "model"]
    rows = []
    n = 200_000 if quick else 1_000_000
    inputs, full = model_vs_inputs(n)
    rows.append((f"full model / inputs alone ({n:,} worlds, 1 process)",
                 f"{full:.3f} s / {inputs:.3f} s", full / inputs, 2.0))
    sim, draw = figures_vs_simulation(n)
    rows.append((f"all figures / simulation ({n:,} worlds, all cores)",
                 f"{draw:.2f} s / {sim:.2f} s", draw / sim, 3.0))
    plain, with_sens = sensitivity_vs_plain(n)
    rows.append((f"run with sensitivity / plain run ({n:,} worlds, in process)",
                 f"{with_sens:.2f} s / {plain:.2f} s", with_sens / plain, 3.0))
    for workers in (1, os.cpu_count() or 1):
        small, big = peak_mib(1_000_000, workers), peak_mib(10_000_000 if not quick else 3_000_000, workers)
        rows.append((f"peak memory {'10⁷' if not quick else '3·10⁶'} / 10⁶ worlds ({workers} worker{'s' * (workers > 1)})",
                     f"{big:.0f} MiB / {small:.0f} MiB", big / small, 1.3))
    with tempfile.TemporaryDirectory() as tmp:
        run = wall([*cli, "run", str(PRIORS), "-n", "1000000", "-o", str(Path(tmp) / "r"), "-q"], cwd=ROOT)
        helps = wall([*cli, "--help"], repeat=5, cwd=tmp)
    rows.append(("aar-risk run, 10⁶ worlds, figures, HTML + md (wall)", f"{run:.2f} s", run / 5.0, 1.0))
    rows.append(("aar-risk --help (wall)", f"{helps * 1000:.0f} ms", helps / 0.5, 1.0))

    print(f"aar-cruxes Monte Carlo benchmark · {os.cpu_count()} cores · Python {sys.version.split()[0]}")
    width = max(len(r[0]) for r in rows)
    for name, measured, ratio, limit in rows:
        verdict = "ok" if ratio <= limit else "MISSED"
        print(f"  {name:<{width}}  {measured:>22}  ratio {ratio:6.2f}  target ≤ {limit:<4}  {verdict}")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
