"""How long a run will take, from timing a few small trial blocks here."""

from __future__ import annotations

from model.montecarlo import workers as procs
from model.montecarlo.blocks import run_block
from model.montecarlo.sampler import BLOCK, Sampler
from model.priors.beliefs import Priors

usable_cores = procs.usable_cores


#: A trial block of estimate_seconds that takes this long is enough to time.
TRIAL_SECONDS = 0.05


def estimate_seconds(priors: Priors, samples: int, workers: int | None = None) -> float:
    """Rough wall time of ``simulate``, from timing trial blocks here.

    A first block of 16 worlds pays for caches and imports (a mixture's, for instance); then
    64, 256, ... worlds until a block takes TRIAL_SECONDS or has 16,384 worlds (about 20 ms for
    the presets). A block costs a + b·n for n worlds: the last two blocks give a and b, and a
    run of ``samples`` worlds costs a per BLOCK plus b per world. A file whose first timed block
    already takes TRIAL_SECONDS stops there (b = 0: a lower bound), so the estimate costs the
    first two small blocks, well under a second for any file the loader accepts.
    """
    import time

    def timed(n: int) -> float:
        start = time.perf_counter()
        run_block(sampler, 0, 0, n)
        return time.perf_counter() - start

    sampler = Sampler.from_priors(priors)
    timed(16)
    points = [(64, timed(64))]
    while points[-1][1] < TRIAL_SECONDS and points[-1][0] < 16_384:
        points.append((4 * points[-1][0], timed(4 * points[-1][0])))
    if len(points) < 2:
        a, b = points[-1][1], 0.0
    else:
        (n1, t1), (n2, t2) = points[-2:]
        b = max(t2 - t1, 0.0) / (n2 - n1)
        a = max(t1 - b * n1, 0.0)
    workers = max(1, min(workers or usable_cores(), usable_cores()))
    return (-(-samples // BLOCK) * a + samples * b) / workers
