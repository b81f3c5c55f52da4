"""Live preview (issue 12): time from saving a priors file to the page showing new numbers,
measured in headless Chromium (best of several saves), and the quick estimate's model time;
and (issue 22) the server's memory over many page loads and saves.

    python benchmarks/bench_serve.py            # times, then memory (200 loads, 300 saves)
    python benchmarks/bench_serve.py --memory   # memory only
    python benchmarks/bench_serve.py --memory --root OTHER_CHECKOUT   # the same, of another checkout

Goals: save -> page < 1 s; 10^5 worlds of model time < 150 ms on 2 cores; the server's
resident memory after 200 page loads, and after 300 saves followed by an open tab, at most
1.2x what it was after warm-up (the ratios are measured in one run, one server).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SAVES = ["0.3 to 1.2", "0.35 to 1.2", "0.4 to 1.25", "0.3 to 1.3", "0.45 to 1.1", "0.5 to 1.4"]


def model_time(repeats: int = 5) -> dict[int, float]:
    """Best wall time of model.simulate at 10^5 worlds, with 1 and 2 workers (after a warm-up)."""
    from model import api

    priors = api.load_priors(ROOT / "priors" / "openai.toml")
    best = {}
    for workers in (1, 2):
        api.simulate(priors, samples=100_000, seed=1, workers=workers)
        times = []
        for _ in range(repeats):
            t = time.perf_counter()
            api.simulate(priors, samples=100_000, seed=1, workers=workers)
            times.append(time.perf_counter() - t)
        best[workers] = min(times)
    return best


def _text(tab) -> str:
    return tab.get_by_test_id("outcome-success").inner_text()


def save_to_page(folder: Path, url: str) -> list[float]:
    """Seconds from each save to the new number on the page (Playwright polls every 10 ms)."""
    from playwright.sync_api import sync_playwright

    mine = folder / "mine.toml"
    times = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"])
        tab = browser.new_page(viewport={"width": 1300, "height": 900})
        tab.goto(url)
        tab.wait_for_selector('[data-testid="status"][data-stage="refined"]', timeout=60_000)
        for interval in SAVES[1:]:
            before = _text(tab)
            time.sleep(0.3)  # the watcher's poll falls anywhere in its period
            mine.write_text(_file(interval))
            t = time.perf_counter()
            while _text(tab) == before:
                time.sleep(0.01)
            times.append(time.perf_counter() - t)
            tab.wait_for_selector('[data-testid="status"][data-stage="refined"]', timeout=60_000)
        browser.close()
    return times


def _wait_listening(port: int, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError("the server did not start")


def _file(interval: str) -> str:
    return (f'[meta]\nbase = "{ROOT / "priors" / "author.toml"}"\n\n'
            f'[cruxes]\ncapability_needed = "{interval}"\n')


# -- memory ------------------------------------------------------------------------------

#: Long enough for the server to drop every session no browser is connected to (its unused
#: session lifetime, 15 s, plus one check, 5 s, plus slack).
SETTLE = 24


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def start_server(root: Path, file: Path, port: int) -> tuple[subprocess.Popen, str]:
    """``aar-risk serve FILE`` of the checkout ``root``, and the URL it printed (with its token)."""
    proc = subprocess.Popen([sys.executable, "-m", "model", "serve", str(file), "--port", str(port), "--no-browser"],
                            cwd=root, env={**os.environ, "PYTHONPATH": str(root)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = proc.stdout.readline()
    found = re.search(r"(http://127\.0\.0\.1:\d+/\S*)", line)
    if not found:
        proc.kill()
        raise RuntimeError(f"the server said: {line}{proc.communicate()[0]}")
    _wait_listening(port, 60)
    return proc, found.group(1)


def _load(url: str) -> None:
    """One page load as the browser's first request makes it: the server builds the tab's
    session and runs the page for it (the browser's websocket would come next)."""
    with urllib.request.urlopen(url, timeout=120) as r:
        r.read()


def memory(root: Path, loads: int = 200, saves: int = 300, settle: float = SETTLE,
           say=print) -> dict[str, float]:
    """The server's resident memory (MB): after warm-up, after ``loads`` page loads, after
    ``saves`` saves of the file with a Chromium tab open on it; each once the sessions made
    for the loads have expired (``settle`` s). Also the highest seen."""
    from playwright.sync_api import sync_playwright

    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        mine = folder / "mine.toml"
        mine.write_text(_file(SAVES[0]))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc, url = start_server(root, mine, port)
        out: dict[str, float] = {}
        try:
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=exe, args=[
                    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"])
                tab = browser.new_page(viewport={"width": 1300, "height": 900})
                tab.goto(url, timeout=120_000)
                tab.wait_for_selector('[data-testid="status"][data-stage="refined"]', timeout=120_000)

                def save(i: int) -> None:
                    lo, hi = 0.2 + (i % 17) / 100, 1.1 + (i % 13) / 50
                    mine.write_text(_file(f"{lo:.2f} to {hi:.2f}"))
                    time.sleep(0.15)

                for i in range(10):  # warm-up: every code path once, caches filled
                    _load(url)
                    save(i)
                time.sleep(settle)
                out["warm"] = peak = rss_mb(proc.pid)
                say(f"after warm-up: {out['warm']:.0f} MB")
                start = time.monotonic()
                for i in range(loads):
                    _load(url)
                    peak = max(peak, rss_mb(proc.pid))
                say(f"{loads} loads in {time.monotonic() - start:.0f} s (highest {peak:.0f} MB)")
                time.sleep(settle)
                out["loads"] = rss_mb(proc.pid)
                start = time.monotonic()
                for i in range(saves):
                    save(i)
                    peak = max(peak, rss_mb(proc.pid))
                tab.wait_for_selector('[data-testid="status"][data-stage="refined"]', timeout=120_000)
                say(f"{saves} saves in {time.monotonic() - start:.0f} s")
                time.sleep(settle)
                out["saves"] = rss_mb(proc.pid)
                out["peak"] = peak
                browser.close()
        finally:
            proc.terminate()
            proc.communicate(timeout=30)
    return out


def memory_report(root: Path, loads: int, saves: int) -> dict[str, float]:
    m = memory(root, loads, saves)
    print(f"server memory ({root}): warm {m['warm']:.0f} MB; after {loads} loads {m['loads']:.0f} MB "
          f"({m['loads'] / m['warm']:.2f}x); after {saves} saves {m['saves']:.0f} MB "
          f"({m['saves'] / m['warm']:.2f}x); highest {m['peak']:.0f} MB (goal: both ratios <= 1.2)")
    return m


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--memory", action="store_true", help="only the memory measurement")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose server is measured")
    parser.add_argument("--loads", type=int, default=200)
    parser.add_argument("--saves", type=int, default=300)
    args = parser.parse_args()
    if args.memory:
        memory_report(args.root, args.loads, args.saves)
        return
    best = model_time()
    print(f"quick estimate, model time at 10^5 worlds: {1000 * best[1]:.0f} ms with 1 worker, "
          f"{1000 * best[2]:.0f} ms with 2 (goal < 150 ms on 2 cores; serve uses 1 worker in a thread)")
    if shutil.which("chromium") is None:
        print("save -> page: skipped (no chromium)")
        return
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "mine.toml").write_text(_file(SAVES[0]))
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        proc, url = start_server(args.root, folder / "mine.toml", port)
        try:
            times = save_to_page(folder, url)
        finally:
            proc.terminate()
            proc.communicate(timeout=10)
    print(f"save -> page (Chromium): best {min(times):.2f} s, median {sorted(times)[len(times) // 2]:.2f} s "
          f"of {len(times)} saves (goal < 1 s)")
    memory_report(args.root, args.loads, args.saves)


if __name__ == "__main__":
    main()
