"""`aar-risk serve` in real Chromium: the page follows the priors file on disk.

One server (a subprocess on a free port, --no-browser) serves a temporary priors file that
inherits a temporary copy of the author's priors; each test opens the page, edits files
and reads the numbers through the page's test hooks (``data-testid``). No request may
leave 127.0.0.1.
"""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from model.core.quantities import OUTCOMES

from .conftest import ROOT, chromium

SEED, SAMPLES = 7, 200_000
MINE = """# my priors: this comment must survive "write to file"
[meta]
name = "serve test"
base = "base.toml"

[cruxes]
# why I believe this
capability_needed = "{interval}"   # my interval

[simulation]
samples = {samples}
seed = {seed}
"""


def _chromium() -> str:
    exe = chromium()
    pytest.importorskip("panel")
    return exe


def _mine(interval: str = "0.3 to 1.2") -> str:
    return MINE.format(interval=interval, samples=f"{SAMPLES:_}", seed=SEED)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(url, folder): the server of folder/"my view ü.toml", which inherits folder/base.toml."""
    exe = _chromium()
    folder = tmp_path_factory.mktemp("serve")
    shutil.copy(ROOT / "priors" / "author.toml", folder / "base.toml")
    (folder / "my view ü.toml").write_text(_mine(), encoding="utf-8")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "model", "serve", str(folder / "my view ü.toml"),
                             "--port", str(port), "--no-browser"], cwd=folder,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_listening(port, proc)
        yield url, folder, exe
    finally:
        alive = proc.poll() is None  # the server never dies on bad input
        proc.terminate()
        out = proc.communicate(timeout=10)[0]
    assert alive and proc.returncode == 143, out
    # none of our code failed (Tornado may log a tab closed in the middle of an update)
    assert not re.search(r'File "[^"]*/model/', out), out


def _wait_listening(port: int, proc, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        assert proc.poll() is None, proc.communicate()[0]
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail("the server did not listen")


@pytest.fixture
def page(server):
    """A fresh tab on the page, with every request beyond 127.0.0.1 refused and recorded."""
    from playwright.sync_api import sync_playwright

    url, folder, exe = server
    (folder / "my view ü.toml").write_text(_mine(), encoding="utf-8")
    shutil.copy(ROOT / "priors" / "author.toml", folder / "base.toml")
    outside, errors = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        tab = browser.new_page(viewport={"width": 1300, "height": 900})
        tab.route("**/*", lambda route: route.continue_() if route.request.url.startswith(url)
                  else (outside.append(route.request.url), route.abort()))
        tab.on("pageerror", lambda e: errors.append(str(e)))
        tab.goto(url)
        _refined(tab)
        yield tab, folder
        browser.close()
    assert outside == [], f"the page reached beyond 127.0.0.1: {outside}"
    assert errors == [], errors


def _refined(tab, timeout: float = 40_000) -> None:
    tab.wait_for_selector('[data-testid="status"][data-stage="refined"]', timeout=timeout)


def _numbers(tab) -> dict[str, str]:
    return {q: tab.get_by_test_id(f"outcome-{q}").inner_text() for q in OUTCOMES}


def _changed(tab, before: dict[str, str], timeout: float = 20) -> dict[str, str]:
    """The four numbers once they differ from ``before`` (and the estimate is refined)."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            now = _numbers(tab)
        except Exception:  # noqa: BLE001 - the element is being replaced
            now = before
        if now != before:
            _refined(tab)
            return _numbers(tab)
        time.sleep(0.05)
    pytest.fail(f"the numbers did not change from {before}")


def test_numbers_follow_the_file_and_its_base_and_agree_with_run(page):
    tab, folder = page
    first = _numbers(tab)
    assert all(re.fullmatch(r"\d+(\.\d+)?%", v) for v in first.values()), first
    mine = folder / "my view ü.toml"
    mine.write_text(_mine("0.6 to 1.5"), encoding="utf-8")
    edited = _changed(tab, first)
    status = tab.get_by_test_id("status")
    assert (status.get_attribute("data-samples"), status.get_attribute("data-seed")) == (str(SAMPLES), str(SEED))
    _agrees_with_run(edited, mine, folder)
    # a change in the file it inherits from is followed too
    base = folder / "base.toml"
    base.write_text(base.read_text().replace("containment = { dist = \"beta\", alpha = 3, beta = 3",
                                             "containment = { dist = \"beta\", alpha = 9, beta = 1"))
    edited = _changed(tab, edited)
    _agrees_with_run(edited, mine, folder)
    # the same variable saved again, to an interval past the old one: the slider that showed the
    # old interval must not turn into a what-if (the browser's range slider once sent back a mix
    # of old and new ends, and the page kept that instead of the file)
    for interval in ("1.6 to 2.4", "0.1 to 0.3"):
        mine.write_text(_mine(interval), encoding="utf-8")
        edited = _changed(tab, edited)
        _agrees_with_run(edited, mine, folder)
        assert tab.get_by_role("button", name="reset").is_disabled()


def _agrees_with_run(shown: dict[str, str], mine: Path, folder: Path) -> None:
    """The page's four numbers are ``aar-risk run``'s at the page's samples and seed, to the digit shown."""
    out = subprocess.run([sys.executable, "-m", "model", "run", str(mine), "-n", str(SAMPLES), "-s", str(SEED),
                          "--json", "-o", str(folder / "report")], capture_output=True, text=True, check=True)
    summary = json.loads(out.stdout)
    for q in OUTCOMES:
        text = shown[q].rstrip("%")
        half_digit = 0.5 * 10 ** -len(text.partition(".")[2])
        assert abs(float(text) - 100 * summary["outcomes"][q]["mean"]) <= half_digit + 1e-9, (q, text)


def test_a_broken_file_shows_its_line_and_the_page_recovers(page):
    tab, folder = page
    mine = folder / "my view ü.toml"
    good = _numbers(tab)
    lines = _mine().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("capability_needed")) + 1
    lines[at - 1] = "capability_needed = { dist = \"lognormal\", ci90 = [0.3, 1.2] "  # unclosed
    mine.write_text("\n".join(lines) + "\n", encoding="utf-8")
    error = tab.get_by_test_id("priors-error")
    error.wait_for(timeout=10_000)
    assert f"my view ü.toml:{at}" in error.inner_text()
    assert _numbers(tab) == good  # the last good results stay (dimmed)
    # a value out of its support names the key
    mine.write_text(_mine().replace("[simulation]", "[parameters]\ncontainment = 1.5\n\n[simulation]"),
                    encoding="utf-8")
    end = time.monotonic() + 10
    while "parameters.containment" not in error.inner_text() and time.monotonic() < end:
        time.sleep(0.05)
    assert "parameters.containment" in error.inner_text()
    mine.unlink()  # deleted (an editor's rename), then back
    time.sleep(0.5)
    mine.write_text(_mine(), encoding="utf-8")
    error.wait_for(state="detached", timeout=15_000)
    _refined(tab)
    assert _numbers(tab) == good


def test_what_if_then_write_to_file_keeps_the_comments(page):
    tab, folder = page
    mine = folder / "my view ü.toml"
    before = _numbers(tab)
    upper = tab.locator(".aar-variable-containment input").nth(1)  # its 95th percentile
    upper.fill("0.99")
    upper.press("Enter")
    after = _changed(tab, before)
    assert float(after[OUTCOMES[-1]].rstrip("%")) < float(before[OUTCOMES[-1]].rstrip("%"))
    assert "containment" not in mine.read_text(encoding="utf-8")  # a what-if leaves the file alone
    tab.get_by_role("button", name="write to file").click()
    tab.get_by_test_id("write-message").wait_for(timeout=10_000)
    text = mine.read_text(encoding="utf-8")
    for comment in ("# my priors: this comment must survive", "# why I believe this", "# my interval"):
        assert comment in text
    assert re.search(r"containment = \{ dist = \"beta\", ci90 = \[0\.1\d+, 0\.99\]", text), text
    time.sleep(1)
    _refined(tab)
    now = _numbers(tab)  # the file now says what the what-if said
    assert all(abs(float(now[q].rstrip("%")) - float(after[q].rstrip("%"))) < 0.05 for q in OUTCOMES), (now, after)
