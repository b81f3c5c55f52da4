"""The Monte Carlo run now against an earlier commit, side by side on this machine.

    python benchmarks/bench_versions.py [REV] [--runs 5] [--samples 1e6]

REV (default: the last commit before model v3, ``8e28f71``) is checked out into a temporary
git worktree. The two trees then simulate the author's priors alternately, each run a fresh
process timing ``model.simulate`` alone (the import and the figures excluded), every run with
the same seed and workers. Prints each tree's median and the ratio now / REV. Issue 18's
target: ``aar-risk run`` of 10⁶ worlds within 1.1× of the time before model v3.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEFORE_V3 = "8e28f71"
TIMED = (
    "import sys, time, model\n"
    "t = time.perf_counter()\n"
    "model.simulate(sys.argv[1], samples=int(float(sys.argv[2])), seed=2023, workers=2)\n"
    "print(time.perf_counter() - t)\n"
)


def timed(tree: Path, samples: str) -> float:
    env = {"PYTHONPATH": str(tree), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", TIMED, str(tree / "priors" / "author.toml"), samples],
                         cwd=tree, env=env, capture_output=True, text=True, check=True)
    return float(out.stdout.strip().splitlines()[-1])


def main(argv: list[str]) -> None:
    rev = next((a for a in argv if not a.startswith("-") and not a[0].isdigit()), BEFORE_V3)
    runs = int(argv[argv.index("--runs") + 1]) if "--runs" in argv else 5
    samples = argv[argv.index("--samples") + 1] if "--samples" in argv else "1e6"
    with tempfile.TemporaryDirectory() as tmp:
        old = Path(tmp) / "old"
        subprocess.run(["git", "worktree", "add", "--detach", "-q", str(old), rev], cwd=ROOT, check=True)
        try:
            times: dict[str, list[float]] = {"now": [], rev: []}
            for _ in range(runs):  # alternating, so a change of load hits both alike
                times[rev].append(timed(old, samples))
                times["now"].append(timed(ROOT, samples))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, check=False)
    med = {k: statistics.median(v) for k, v in times.items()}
    for k, v in times.items():
        print(f"{k:>8}: median {med[k]:.2f} s of {', '.join(f'{x:.2f}' for x in v)}")
    print(f"ratio now / {rev}: {med['now'] / med[rev]:.3f} (target <= 1.1; {samples} worlds, figures excluded)")


if __name__ == "__main__":
    main(sys.argv[1:])
