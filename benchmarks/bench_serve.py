"""Live preview (issue 12): time from saving a priors file to the page showing new numbers,
measured in headless Chromium (best of several saves), and the quick estimate's model time.

    python benchmarks/bench_serve.py

Goals: save -> page < 1 s; 10^5 worlds of model time < 150 ms on 2 cores.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import tempfile
import time
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


def main() -> None:
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
        proc = subprocess.Popen([sys.executable, "-m", "model", "serve", str(folder / "mine.toml"), "--port",
                                 str(port), "--no-browser"], cwd=ROOT, stderr=subprocess.DEVNULL)
        try:
            _wait_listening(port)
            times = save_to_page(folder, f"http://127.0.0.1:{port}/")
        finally:
            proc.terminate()
            proc.wait(10)
    print(f"save -> page (Chromium): best {min(times):.2f} s, median {sorted(times)[len(times) // 2]:.2f} s "
          f"of {len(times)} saves (goal < 1 s)")


if __name__ == "__main__":
    main()
