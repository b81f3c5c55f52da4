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


#: What a tab closed in the middle of an update makes Tornado or Bokeh log: the server keeps it
#: off the terminal.
CLOSED_NOISE = re.compile(r"WebSocketClosedError|StreamClosedError|Failed sending message")


def _start(folder: Path, file: Path, port: int, **env) -> subprocess.Popen:
    import os

    return subprocess.Popen([sys.executable, "-m", "model", "serve", str(file), "--port", str(port),
                             "--no-browser"], cwd=folder, env={**os.environ, **env},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """(url, folder, chromium, server process): the server of folder/"my view ü.toml", which
    inherits folder/base.toml."""
    exe = _chromium()
    folder = tmp_path_factory.mktemp("serve")
    shutil.copy(ROOT / "priors" / "author.toml", folder / "base.toml")
    (folder / "my view ü.toml").write_text(_mine(), encoding="utf-8")
    port = _free_port()
    proc = _start(folder, folder / "my view ü.toml", port)
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_listening(port, proc)
        yield url, folder, exe, proc
    finally:
        alive = proc.poll() is None  # the server never dies on bad input
        proc.terminate()
        out = proc.communicate(timeout=10)[0]
    assert alive and proc.returncode == 143, out
    assert not re.search(r'File "[^"]*/model/', out), out  # none of our code failed
    assert not CLOSED_NOISE.search(out), out  # a tab closed mid-update is no news on the terminal


def _wait_listening(port: int, proc, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        assert proc.poll() is None, proc.communicate()[0]
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    pytest.fail("the server did not listen")


#: Chromium's switches: no request of its own beyond the page's.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def browse(pw, exe: str, url: str, outside: list, errors: list, hold=None):
    """A headless Chromium tab on ``url``'s server: every request beyond it is refused and put
    in ``outside``; page errors, and whatever the page's Content-Security-Policy refused (it
    would have been a request beyond 127.0.0.1), in ``errors``. ``hold(request_url)`` is
    called before each of the server's requests is let through."""
    browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
    tab = browser.new_page(viewport={"width": 1300, "height": 900})

    def route(r):
        if not r.request.url.startswith(url):
            outside.append(r.request.url)
            r.abort()
            return
        if hold is not None:
            hold(r.request.url)
        r.continue_()

    tab.route("**/*", route)
    tab.on("pageerror", lambda e: errors.append(str(e)))
    tab.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
    return browser, tab


@pytest.fixture
def page(server):
    """A fresh tab on the page, with every request beyond 127.0.0.1 refused and recorded."""
    from playwright.sync_api import sync_playwright

    url, folder, exe, _ = server
    (folder / "my view ü.toml").write_text(_mine(), encoding="utf-8")
    shutil.copy(ROOT / "priors" / "author.toml", folder / "base.toml")
    outside, errors = [], []
    with sync_playwright() as pw:
        browser, tab = browse(pw, exe, url, outside, errors)
        tab.goto(url, timeout=120_000)  # Bokeh's and Panel's JavaScript: slow under load
        _refined(tab, timeout=90_000)
        yield tab, folder
        browser.close()
    assert outside == [], f"the page reached beyond 127.0.0.1: {outside}"
    assert errors == [], errors


def _refined(tab, timeout: float = 40_000) -> None:
    tab.wait_for_selector('[data-testid="status"][data-stage="refined"]', timeout=timeout)


def _containment_upper(tab):
    """The input of containment's 95th percentile, once the browser has drawn the sliders
    (they come with the first results; under load drawing all of them takes a while)."""
    upper = tab.locator(".aar-variable-containment input").nth(1)
    upper.wait_for(timeout=90_000)
    return upper


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
    upper = _containment_upper(tab)  # its 95th percentile
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
    # the file's own results (no what-if left), refined: the page followed the written file
    tab.wait_for_selector('[data-testid="status"][data-stage="refined"][data-whatif=""]', timeout=40_000)
    now = _numbers(tab)  # the file now says what the what-if said
    assert all(abs(float(now[q].rstrip("%")) - float(after[q].rstrip("%"))) < 0.05 for q in OUTCOMES), (now, after)


# -- the server's parts, without a browser ------------------------------------------------

def _priors_pair(folder: Path, samples: int = 200_000) -> Path:
    shutil.copy(ROOT / "priors" / "author.toml", folder / "base.toml")
    mine = folder / "mine.toml"
    mine.write_text(MINE.format(interval="0.3 to 1.2", samples=f"{samples:_}", seed=SEED), encoding="utf-8")
    return mine


def _until(condition, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            pytest.fail(f"not within {timeout} s: {what}")
        time.sleep(0.02)


def test_hundreds_of_saves_keep_one_worker_per_lane_and_end_on_the_last_save(tmp_path):
    import threading

    pytest.importorskip("panel")
    from model.serve.compute import Lane

    mine = _priors_pair(tmp_path)
    shown = []
    lane = Lane(mine, shown.append)
    workers = 0
    for i in range(300):
        interval = f"0.{3 + i % 5} to 1.{2 + i % 7}"
        mine.write_text(_mine(interval), encoding="utf-8")
        lane.set_changes({"containment": (0.1, 0.5 + (i % 40) / 100)})  # a what-if each time too
        workers = max(workers, sum(t.name.startswith("aar-serve") for t in threading.enumerate()))
    last = lane.generation
    try:
        _until(lambda: shown and shown[-1].refined and lane.generation == last and
               not any(t.name.startswith("aar-serve") for t in threading.enumerate()), 60,
               "the last save's refined result, and no worker left")
    finally:
        lane.stop()
    assert workers == 1, f"{workers} worker threads for one lane"
    assert f'"{interval}"' in shown[-1].file_priors.variables["capability_needed"].written


def _unblock(fifo: Path) -> None:
    """Let a reader blocked on ``fifo`` go (a writer opens it and closes it: end of file)."""
    import os

    try:
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
    except OSError:
        pass


def _hostile(folder: Path) -> dict[str, Path]:
    """Files named like priors files that are not: a named pipe, a folder, binary, huge."""
    import os

    files = {"pipe": folder / "a pipe.toml", "folder": folder / "a folder.toml",
             "binary": folder / "binary.toml", "huge": folder / "huge.toml"}
    os.mkfifo(files["pipe"])
    files["folder"].mkdir()
    files["binary"].write_bytes(bytes(range(256)) * 64)
    files["huge"].write_text("[meta]\nname = 'huge'\n" + "# padding\n" * 300_000)
    return files


@pytest.mark.parametrize("kind", ["pipe", "folder", "binary", "huge"])
def test_a_file_that_is_not_priors_never_blocks_and_says_why(tmp_path, kind):
    import threading

    pytest.importorskip("panel")
    from model.serve import watch
    from model.serve.compute import Lane

    path = _hostile(tmp_path)[kind]
    done = {}
    reader = threading.Thread(target=lambda: done.update(chain=watch.chain(path),
                                                         digest=watch.digest([path])), daemon=True)
    reader.start()
    reader.join(timeout=5)
    if reader.is_alive():
        _unblock(path)
        pytest.fail(f"reading {kind} blocked")
    assert done["chain"] == [path]
    shown = []
    lane = Lane(path, shown.append)
    lane.poll()
    try:
        _until(lambda: shown, 15, f"a problem shown for {kind}")
    finally:
        lane.stop()
        _unblock(path)
    assert shown[0].run is None and shown[0].problems, shown


def test_a_what_if_leaves_nothing_in_tmpdir(tmp_path, monkeypatch):
    import os
    import tempfile

    pytest.importorskip("panel")
    from model.serve import whatif
    from model.priors.priors import load

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    seen = []

    def loading(path):  # what is in $TMPDIR while the what-if is loaded
        seen.extend(os.listdir(tmp))
        return load(path)

    monkeypatch.setattr(whatif, "load", loading)
    priors = load(_priors_pair(tmp_path))
    applied = whatif.apply(priors, {"containment": (0.2, 0.9), "capability_needed": (0.5, 1.5)})
    assert set(applied.values) == {"containment", "capability_needed"}
    assert seen == [] and os.listdir(tmp) == [], seen  # SIGKILL at any moment leaves nothing
    with pytest.raises(Exception) as problem:  # a what-if the loader refuses is named as one
        whatif.apply(priors, {"containment": 1.5})
    assert "what-if on mine.toml" in str(problem.value.problems[0].file)


def test_write_to_file_never_overwrites_a_file_being_edited(tmp_path):
    pytest.importorskip("panel")
    from model.serve import whatif
    from model.priors.priors import load

    mine = _priors_pair(tmp_path)
    seen = whatif.digest_of(mine.read_bytes())
    value = whatif.candidates(load(mine).variables["containment"], (0.2, 0.9))[0]
    # the editor saved meanwhile, or is half-way through writing (truncated)
    for edited in (_mine("0.5 to 1.5"), _mine()[: len(_mine()) // 2], ""):
        mine.write_text(edited, encoding="utf-8")
        with pytest.raises(whatif.Changed):
            whatif.write(mine, {"containment": value}, expected=seen)
        assert mine.read_text(encoding="utf-8") == edited
    mine.write_text(_mine(), encoding="utf-8")
    assert whatif.write(mine, {"containment": value}, expected=seen) == ["containment"]
    assert "containment = { dist" in mine.read_text(encoding="utf-8")
    assert not [f for f in tmp_path.iterdir() if f.name.endswith(".tmp")]


def test_closed_connections_are_not_logged_but_errors_are():
    import logging

    pytest.importorskip("panel")
    from tornado.iostream import StreamClosedError
    from tornado.websocket import WebSocketClosedError

    from model.serve.app import _ClosedConnection

    keep = _ClosedConnection().filter

    def record(msg, exc=None, name="tornado.application"):
        info = (type(exc), exc, None) if exc is not None else None
        return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, (), info)

    assert not keep(record("Exception in callback", WebSocketClosedError()))
    try:
        try:
            raise StreamClosedError()
        except StreamClosedError as inner:
            raise WebSocketClosedError() from inner
    except WebSocketClosedError as exc:
        assert not keep(record("Task exception was never retrieved", exc, "asyncio"))
    assert not keep(record("Failed sending message as connection was closed", name="bokeh.server.views.ws"))
    assert not keep(record("Failed sending message due to following error: Stream is closed",
                           name="panel.io.document"))
    assert keep(record("Exception in callback", ValueError("a real error")))
    assert keep(record("Bokeh Server internal error: boom, closing connection"))


# -- the page as a stranger would try it ----------------------------------------------------

def _handshake(port: int, origin: str) -> str:
    """The status line of a websocket handshake with ``origin``."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall((f"GET /ws HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   f"Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n").encode())
        return s.recv(4096).decode("latin-1").split("\r\n")[0]


def test_another_origin_cannot_open_the_websocket(server):
    url = server[0]
    port = int(url.rstrip("/").rsplit(":", 1)[1])
    for origin in ("http://evil.example", "http://127.0.0.1.evil.example", f"http://127.0.0.1:{port + 1}", "null"):
        assert " 403 " in _handshake(port, origin), origin
    assert " 403 " not in _handshake(port, f"http://127.0.0.1:{port}")  # (no session token: refused later)


def test_every_response_forbids_loading_from_elsewhere(server):
    import urllib.request

    with urllib.request.urlopen(server[0], timeout=30) as r:
        policy = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "http" not in policy.replace("http://", "ws://"), policy


def test_compare_with_files_that_are_not_priors_says_so_and_never_hangs(page, server):
    import urllib.request

    tab, folder = page
    files = _hostile(folder)
    try:
        tab.reload()
        _refined(tab)
        good = _numbers(tab)
        select = tab.locator("select")
        for kind, path in files.items():
            select.select_option(label=f"{path.name} (beside it)")
            message = tab.get_by_text("The compared file has problems")
            message.wait_for(timeout=20_000)
            assert path.name in message.locator("xpath=..").inner_text(), kind
            with urllib.request.urlopen(server[0], timeout=20) as r:  # the server still answers
                assert r.status == 200
            select.select_option(label="(nothing)")
            message.wait_for(state="detached", timeout=20_000)
        assert _numbers(tab) == good
    finally:
        _unblock(files["pipe"])
        files["pipe"].unlink()
        files["folder"].rmdir()
        files["binary"].unlink()
        files["huge"].unlink()


def _threads(pid: int) -> int:
    import os

    return len(os.listdir(f"/proc/{pid}/task"))


def test_hundreds_of_saves_in_a_row_the_server_keeps_up(page, server):
    import urllib.request

    tab, folder = page
    proc = server[3]
    mine = folder / "my view ü.toml"
    before, threads = _numbers(tab), _threads(proc.pid)
    most, slowest = threads, 0.0
    for i in range(300):
        mine.write_text(_mine(f"0.{2 + i % 7} to 1.{1 + i % 9}"), encoding="utf-8")
        if i % 30 == 0:
            start = time.monotonic()
            with urllib.request.urlopen(server[0] + "static/js/bokeh.min.js", timeout=20) as r:
                r.read()
            slowest = max(slowest, time.monotonic() - start)
        most = max(most, _threads(proc.pid))
        time.sleep(0.003)
    last = _mine(f"0.{2 + 299 % 7} to 1.{1 + 299 % 9}")
    assert mine.read_text(encoding="utf-8") == last
    assert slowest < 10, f"the server took {slowest:.1f} s to answer during the saves"
    assert most <= threads + 2, f"threads piled up: {threads} -> {most}"
    _agrees_with_run(_changed(tab, before, timeout=60), mine, folder)


def _serve_and_stop(tmp_path, signum) -> tuple[int, str, list[str]]:
    """A server under what-ifs and saves, stopped by ``signum`` in the middle of an update:
    (its exit code, its output, what it left in its $TMPDIR)."""
    import os
    import signal as _signal

    from playwright.sync_api import sync_playwright

    exe = _chromium()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    shutil.copy(ROOT / "priors" / "author.toml", tmp_path / "base.toml")
    mine = tmp_path / "my view ü.toml"
    mine.write_text(_mine(), encoding="utf-8")
    port = _free_port()
    proc = _start(tmp_path, mine, port, TMPDIR=str(tmp))
    url = f"http://127.0.0.1:{port}/"
    try:
        _wait_listening(port, proc)
        with sync_playwright() as pw:
            browser, tab = browse(pw, exe, url, [], [])
            tab.goto(url)
            _refined(tab)
            upper = _containment_upper(tab)
            for i in range(6):  # what-ifs and saves, each starting an update
                upper.fill(f"0.9{i}")
                upper.press("Enter")
                mine.write_text(_mine(f"0.{3 + i} to 1.5"), encoding="utf-8")
                time.sleep(0.15)
            os.kill(proc.pid, signum)
            out = proc.communicate(timeout=20)[0]
            browser.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
    assert signum != _signal.SIGKILL or proc.returncode == -9
    return proc.returncode, out, os.listdir(tmp)


def test_ctrl_c_mid_update_exits_130_quietly_and_leaves_nothing(tmp_path):
    import signal as _signal

    code, out, left = _serve_and_stop(tmp_path, _signal.SIGINT)
    assert code == 130, out
    assert "Traceback" not in out and not CLOSED_NOISE.search(out), out
    assert left == [], left
    assert not [f for f in tmp_path.iterdir() if f.name.endswith(".tmp")]


def test_sigkill_mid_update_leaves_nothing_in_tmpdir(tmp_path):
    import signal as _signal

    _, _, left = _serve_and_stop(tmp_path, _signal.SIGKILL)
    assert left == [], left


@pytest.mark.slow
def test_a_tab_that_connects_late_still_loads_nothing_from_elsewhere(server):
    """The browser's websocket comes after the session made for its GET expired (Bokeh drops
    an unused session after 15-30 s; under load a tab can be that slow): Bokeh builds the
    session again, and its stylesheets must still come from this server (they came from
    cdn.holoviz.org: panel only says where its files are while rendering a GET)."""
    from playwright.sync_api import sync_playwright

    url, folder, exe, _ = server
    outside, errors, held = [], [], []

    def hold(request_url):  # the page's first script arrives 40 s late
        if ".js" in request_url and not held:
            held.append(request_url)
            time.sleep(40)

    with sync_playwright() as pw:
        browser, tab = browse(pw, exe, url, outside, errors, hold)
        tab.goto(url, timeout=120_000)
        _refined(tab, timeout=60_000)
        before = _numbers(tab)
        assert all(re.fullmatch(r"\d+(\.\d+)?%", v) for v in before.values())
        upper = _containment_upper(tab)  # the page works: a what-if
        upper.fill("0.99")
        upper.press("Enter")
        _changed(tab, before, timeout=60)
        browser.close()
    assert outside == [] and errors == [], (outside, errors)


def test_the_page_stays_local_whatever_bokeh_resources_says(tmp_path):
    """Bokeh's process-wide resource setting (here from BOKEH_RESOURCES, as Panel's own
    ``set_resource_mode`` flips it) does not decide where this server's page loads from."""
    from playwright.sync_api import sync_playwright

    exe = _chromium()
    shutil.copy(ROOT / "priors" / "author.toml", tmp_path / "base.toml")
    mine = tmp_path / "my view ü.toml"
    mine.write_text(_mine(), encoding="utf-8")
    port = _free_port()
    proc = _start(tmp_path, mine, port, BOKEH_RESOURCES="cdn")
    url = f"http://127.0.0.1:{port}/"
    outside, errors = [], []
    try:
        _wait_listening(port, proc)
        with sync_playwright() as pw:
            browser, tab = browse(pw, exe, url, outside, errors)
            tab.goto(url)
            _refined(tab)
            browser.close()
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert outside == [] and errors == [], (outside, errors)
