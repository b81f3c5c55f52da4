"""A run with evidence against the same run without, side by side on this machine.

    python benchmarks/bench_evidence.py [--runs 5] [--samples 1e6]

``priors/author-2026.toml`` (the author's priors and the four entries of
``priors/evidence/since-2023.toml``) against ``priors/author.toml``, alternately, each run a
fresh process timing ``model.simulate`` alone (the import and the figures excluded), same seed
and workers. Prints each median and the ratio. Issue 19's target: a run with evidence within
1.1× a plain run at 10⁶ worlds (median of 5 alternating runs, figures excluded).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TIMED = (
    "import sys, time, model\n"
    "t = time.perf_counter()\n"
    "model.simulate(sys.argv[1], samples=int(float(sys.argv[2])), seed=2023, workers=2)\n"
    "print(time.perf_counter() - t)\n"
)


def timed(priors: str, samples: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", TIMED, str(ROOT / "priors" / priors), samples],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> None:
    runs = int(argv[argv.index("--runs") + 1]) if "--runs" in argv else 5
    samples = argv[argv.index("--samples") + 1] if "--samples" in argv else "1e6"
    times: dict[str, list[float]] = {"author.toml": [], "author-2026.toml": []}
    for _ in range(runs):  # alternating, so a change of load hits both alike
        for name in times:
            times[name].append(timed(name, samples))
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in times.items():
        print(f"{k:>17}: median {med[k]:.2f} s of {', '.join(f'{x:.2f}' for x in v)}")
    ratio = med["author-2026.toml"] / med["author.toml"]
    print(f"ratio with evidence / without: {ratio:.3f} (target <= 1.1; {samples} worlds, figures excluded)")


if __name__ == "__main__":
    main(sys.argv[1:])
