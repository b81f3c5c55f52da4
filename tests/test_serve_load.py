"""`aar-risk serve` beside two CPU-burning processes, as on a busy two-core machine: the page
loads five times with every number shown and not one request beyond 127.0.0.1.

Under load the browser is slow to open the page's websocket, Bokeh may have to build the
tab's session again, and the stylesheets of such a session once came from cdn.holoviz.org;
the Content-Security-Policy would now refuse such a request, and the page reports it.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from .conftest import ROOT
from .test_serve import CLOSED_NOISE, _chromium, _free_port, _mine, _numbers, _printed_url, _refined, _start, browse

pytestmark = [pytest.mark.browser, pytest.mark.load, pytest.mark.slow]


@pytest.fixture
def burners():
    """Two processes that keep a core busy each, for the length of the test."""
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        yield procs
    finally:
        for p in procs:
            p.kill()
        for p in procs:
            p.wait(timeout=10)


def test_the_page_under_load_shows_the_numbers_and_reaches_nothing_beyond_127_0_0_1(tmp_path, burners):
    from playwright.sync_api import sync_playwright

    exe = _chromium()
    shutil.copy(ROOT / "priors" / "author.toml", tmp_path / "base.toml")
    mine = tmp_path / "my view ü.toml"
    mine.write_text(_mine(), encoding="utf-8")
    port = _free_port()
    proc = _start(tmp_path, mine, port)
    requests, errors = [], []
    try:
        url, _ = _printed_url(proc, port, timeout=60)
        with sync_playwright() as pw:
            for _ in range(5):
                outside = []
                browser, tab = browse(pw, exe, url, outside, errors)
                tab.on("request", lambda r: requests.append(r.url))
                tab.goto(url, timeout=120_000)
                _refined(tab, timeout=120_000)
                shown = _numbers(tab)
                assert all(re.fullmatch(r"\d+(\.\d+)?%", v) for v in shown.values()), shown
                browser.close()
                assert outside == [], f"the page reached beyond 127.0.0.1: {outside}"
    finally:
        alive = proc.poll() is None
        proc.terminate()
        out = proc.communicate(timeout=30)[0]
    elsewhere = [u for u in requests if urlsplit(u).hostname != "127.0.0.1" and not u.startswith(("data:", "blob:"))]
    assert elsewhere == [], elsewhere
    assert errors == [], errors  # page errors, and requests the Content-Security-Policy refused
    assert alive and proc.returncode == 143, out
    assert "Traceback" not in out and not CLOSED_NOISE.search(out), out
