"""Monte Carlo engine benchmark: ratios measured side by side in one run.

    python benchmarks/bench_mc.py [--quick | --wall]

Targets: the full model ≤ 2× drawing the same inputs alone; peak memory (RSS and
PSS summed over the main process and its workers) of `aar-risk run` at 3·10⁷ worlds
≤ 1.3× that at 10⁶; Ctrl-C and SIGTERM stop a long run within 1 s with exit 130
and 143 and no worker left; `aar-risk run` with 10⁶ worlds, every figure and both
formats < 5 s on a 2-core machine (issue 2 asked < 5 s without figures, issue 3
< 10 s with them); `aar-risk --help` well under 0.5 s. The figure-drawing time is
shown against the simulation it draws, and the sensitivity section against the plain
report (issue 5); the 3× limits on those two are ours, not an issue's target. Issue 11:
that same run ≤ 3× ``benchmarks/bare_inputs.py`` (numpy drawing sixteen inputs of the
presets' families for 10⁶ worlds, no model), both timed as whole processes side by side.
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

from model.montecarlo.engine import BLOCK, Sampler, block_rng, run_block  # noqa: E402
from model.priors.priors import load  # noqa: E402

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
    from model.montecarlo.engine import simulate
    from model.report.figures import render_all

    priors = load(PRIORS)
    result = simulate(priors, samples=samples)
    render_all(priors, result)  # warm matplotlib's font cache
    return (best(lambda: simulate(priors, samples=samples), 2),
            best(lambda: render_all(priors, result), 2))


def sensitivity_vs_plain(samples: int) -> tuple[float, float]:
    """The report's work without and with its sensitivity section (simulation, analysis, figures)."""
    from model.montecarlo.engine import simulate
    from model.report.figures import render_all
    from model.analyses.sensitivity import analyse
    from model.report.sensitivity import render

    priors = load(PRIORS)

    def plain():
        render_all(priors, simulate(priors, samples=samples))

    def with_sensitivity():
        result = simulate(priors, samples=samples, utilities=priors.decision.utilities)
        render_all(priors, result)
        sens = analyse(priors, result)
        render(sens, {q: e.mean for q, e in result.estimates.items()})

    return best(plain, 2), best(with_sensitivity, 2)


def _tree(root: int) -> list[int]:
    """``root`` and every process below it (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                ppid = int(open(f"/proc/{entry}/stat").read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def _kib(pid: int, field: str) -> int:
    source = "smaps_rollup" if field == "Pss:" else "status"
    try:
        for line in open(f"/proc/{pid}/{source}"):
            if line.startswith(field):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def peak_tree(args: list[str], cwd=None) -> tuple[float, float]:
    """Peak over time of the summed RSS and PSS (MiB) of a command and all its processes."""
    proc = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rss = pss = 0
    while proc.poll() is None:
        pids = _tree(proc.pid)
        rss = max(rss, sum(_kib(p, "VmRSS:") for p in pids))
        pss = max(pss, sum(_kib(p, "Pss:") for p in pids))
        time.sleep(0.05)
    if proc.returncode:
        raise RuntimeError(f"{args} failed with {proc.returncode}")
    return rss / 1024, pss / 1024


def stop_latency(sig: int, samples: int, after: float = 3.0, cwd=None) -> tuple[float, int, int]:
    """Seconds from ``sig`` to exit of a long ``aar-risk run``; its exit code; workers left alive."""
    import signal

    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen([sys.executable, "-m", "model", "run", str(PRIORS), "-n", str(samples),
                                 "-o", str(Path(tmp) / "r"), "-q"], cwd=cwd,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(after)
        workers = _tree(proc.pid)[1:]
        start = time.perf_counter()
        proc.send_signal(sig)
        proc.wait()
        took = time.perf_counter() - start
        time.sleep(0.5)
        alive = [w for w in workers if _state(w) not in ("", "Z", "X")]
        return took, proc.returncode, len(alive)


def _state(pid: int) -> str:
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return ""


def wall(args, repeat=3, cwd=None) -> float:
    return best(lambda: subprocess.run(args, check=True, capture_output=True, cwd=cwd), repeat)


def run_vs_bare(repeat: int = 3, cwd=None) -> tuple[float, float]:
    """Best-of-``repeat`` wall times of ``aar-risk run`` (10⁶ worlds, every figure, HTML + md)
    and of the bare input-drawing script, both whole processes, alternated so that a noisy
    machine slows both alike."""
    bare = [sys.executable, str(ROOT / "benchmarks" / "bare_inputs.py"), "1000000"]
    runs, bares = [], []
    with tempfile.TemporaryDirectory() as tmp:
        run = [sys.executable, "-m", "model", "run", str(PRIORS), "-n", "1000000", "-o", str(Path(tmp) / "r"), "-q"]
        for _ in range(repeat):
            runs.append(wall(run, 1, cwd))
            bares.append(wall(bare, 1, cwd))
    return min(runs), min(bares)


def main(quick: bool = False, only_wall: bool = False) -> None:
    cli = [sys.executable, "-m", "model"]
    if only_wall:  # just issue 11's line: python benchmarks/bench_mc.py --wall
        run, bare = run_vs_bare(5, cwd=ROOT)
        print(f"aar-risk run 10⁶ worlds / bare_inputs.py: {run:.2f} s / {bare:.2f} s = {run / bare:.2f}×  "
              f"target ≤ 3×  {'ok' if run <= 3 * bare else 'MISSED'}")
        return
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
    big_n = 3_000_000 if quick else 30_000_000
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, os.cpu_count() or 1):
            small = peak_tree([*cli, "run", str(PRIORS), "-n", "1e6", "-w", str(workers), "-o",
                               str(Path(tmp) / "small"), "-q"], cwd=ROOT)
            big = peak_tree([*cli, "run", str(PRIORS), "-n", str(big_n), "-w", str(workers), "-o",
                             str(Path(tmp) / "big"), "-q"], cwd=ROOT)
            for k, kind in enumerate(("RSS", "PSS")):
                rows.append((f"peak {kind}, all processes, aar-risk run {big_n:.0e} / 1e6 worlds "
                             f"({workers} worker{'s' * (workers > 1)})",
                             f"{big[k]:.0f} MiB / {small[k]:.0f} MiB", big[k] / small[k], 1.3))
    import signal

    for name, sig, code in (("Ctrl-C", signal.SIGINT, 130), ("SIGTERM", signal.SIGTERM, 143)):
        took, rc, alive = stop_latency(sig, 10**9, cwd=ROOT)
        rows.append((f"{name} to exit, run of 1e9 worlds (exit {rc}, want {code}; {alive} workers left)",
                     f"{took * 1000:.0f} ms", took / 1.0 if rc == code and not alive else 99.0, 1.0))
    with tempfile.TemporaryDirectory() as tmp:
        run = wall([*cli, "run", str(PRIORS), "-n", "1000000", "-o", str(Path(tmp) / "r"), "-q"], cwd=ROOT)
        helps = wall([*cli, "--help"], repeat=5, cwd=tmp)
    rows.append(("aar-risk run, 10⁶ worlds, figures, HTML + md (wall)", f"{run:.2f} s", run / 5.0, 1.0))
    rows.append(("aar-risk --help (wall)", f"{helps * 1000:.0f} ms", helps / 0.5, 1.0))
    run, bare = run_vs_bare(3 if quick else 5, cwd=ROOT)
    rows.append(("aar-risk run 10⁶ worlds / bare_inputs.py 10⁶ worlds (wall, issue 11)",
                 f"{run:.2f} s / {bare:.2f} s", run / bare, 3.0))

    print(f"aar-cruxes Monte Carlo benchmark · {os.cpu_count()} cores · Python {sys.version.split()[0]}")
    width = max(len(r[0]) for r in rows)
    for name, measured, ratio, limit in rows:
        verdict = "ok" if ratio <= limit else "MISSED"
        print(f"  {name:<{width}}  {measured:>22}  ratio {ratio:6.2f}  target ≤ {limit:<4}  {verdict}")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv, only_wall="--wall" in sys.argv)
