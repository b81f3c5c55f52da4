"""The bare baseline of issue 11: sixteen inputs of the presets' families, 10⁶ worlds.

    python benchmarks/bare_inputs.py [worlds]

numpy only, no correlations, no model: each input drawn with ``rng.<family>`` directly,
in the families priors/*.toml use (lognormal, a two-lognormal mixture, beta, PERT as a
scaled beta, normal, logit-normal, a point mass). ``bench_mc.py`` times this script
and ``aar-risk run`` as whole processes (interpreter start-up included) side by side.
"""

from __future__ import annotations

import sys

import numpy as np


def draw(n: int, seed: int = 2023) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)

    def pert(lo, mode, hi):
        a = 1 + 4 * (mode - lo) / (hi - lo)
        b = 1 + 4 * (hi - mode) / (hi - lo)
        return lo + (hi - lo) * rng.beta(a, b, n)

    mixture = np.where(rng.random(n) < 0.7, rng.lognormal(0.06, 0.17, n), rng.lognormal(-0.93, 0.40, n))
    return {
        "capability_needed": mixture,
        "relative_difficulty": rng.beta(8.0, 2.5, n),
        "alignment_difficulty": pert(3, 7, 10),
        "technique_strength": pert(2, 4.5, 7),
        "loop_hazard": rng.lognormal(-2.3, 0.77, n),
        "hazard_growth": rng.normal(1.4, 0.67, n),
        "danger_threshold": rng.lognormal(0.13, 0.21, n),
        "containment": rng.beta(3.0, 3.0, n),
        "automation_fraction": 1 / (1 + np.exp(-rng.normal(2.5, 1.7, n))),
        "field_years": rng.lognormal(2.65, 0.63, n),
        "build_lag": rng.lognormal(-0.35, 0.63, n),  # v3: T_b = C·T_g + L
        "years_to_agi": rng.lognormal(2.30, 0.56, n),
        "skill_overlap": rng.beta(5.0, 4.0, n),
        "leakage": rng.beta(1.6, 5.0, n),
        "timing_noise": rng.lognormal(-0.63, 0.37, n),
        "sharpness": np.full(n, 0.5),
    }


if __name__ == "__main__":
    worlds = int(float(sys.argv[1])) if len(sys.argv) > 1 else 1_000_000
    inputs = draw(worlds)
    print(f"{len(inputs)} inputs × {worlds:,} worlds, mean of means {np.mean([x.mean() for x in inputs.values()]):.4f}")
