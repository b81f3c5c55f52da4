"""Input-drawing benchmark: the sampler against bare numpy, side by side in one run.

    python benchmarks/bench_inputs.py [--worlds N]

Target (issue 11): drawing the inputs of 10⁶ worlds of priors/author.toml with
``Sampler.draw`` (correlated normals through each marginal's ``from_z``, in the
engine's fixed blocks) costs at most 1.3× the bare numpy script
``benchmarks/bare_inputs.py``, which draws sixteen inputs of the same families
without correlations (``rng.lognormal``, ``rng.beta`` ... directly, in one go).
Best of 3 for each, in one process; the ratio is to the faster of the bare
script in one go and in the engine's blocks of worlds.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from bare_inputs import draw as bare  # noqa: E402 - the bare baseline bench_mc.py also times
from bench_mc import best  # noqa: E402
from model.montecarlo.engine import BLOCK, Sampler, block_rng  # noqa: E402
from model.priors.priors import load  # noqa: E402

PRIORS = ROOT / "priors" / "author.toml"
TARGET = 1.3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", type=int, default=10**6)
    worlds = parser.parse_args().worlds
    sampler = Sampler.from_priors(load(PRIORS))
    blocks = [(b, min(BLOCK, worlds - b * BLOCK)) for b in range(math.ceil(worlds / BLOCK))]
    sampler.draw(block_rng(1, 0), 16)  # build any lazily tabulated quantiles once
    t_model = best(lambda: [sampler.draw(block_rng(1, b), n) for b, n in blocks])
    t_whole = best(lambda: bare(worlds))
    t_blocks = best(lambda: [bare(n, seed=b) for b, n in blocks])
    t_bare = min(t_whole, t_blocks)  # the stricter baseline
    ratio = t_model / t_bare
    print(f"Sampler.draw, {worlds:,} worlds of {PRIORS.name}: {t_model:.3f} s")
    print(f"bare numpy, same families, no copula:        {t_whole:.3f} s in one go, "
          f"{t_blocks:.3f} s in the engine's blocks")
    print(f"ratio {ratio:.2f} (target <= {TARGET})  {'ok' if ratio <= TARGET else 'MISSED'}")


if __name__ == "__main__":
    main()
