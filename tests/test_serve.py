"""`aar-risk serve` in real Chromium: the page follows the priors file on disk.

One server (a subprocess on a free port, --no-browser) serves a temporary priors file that
inherits a temporary copy of the author's priors; each test opens the page at the address
the server printed (with its token), edits files and reads the numbers through the page's
test hooks (``data-testid``). No request may leave 127.0.0.1.
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

    return subprocess.Popen(
        [sys.executable, "-m", "model", "serve", str(file), "--port", str(port), "--no-browser"],
        cwd=folder,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


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
    try:
        url, said = _printed_url(proc, port)
        yield url, folder, exe, proc
    finally:
        alive = proc.poll() is None  # the server never dies on bad input
        proc.terminate()
        out = proc.communicate(timeout=10)[0]
    assert alive and proc.returncode == 143, out
    assert not re.search(r'File "[^"]*/model/', out), out  # none of our code failed
    assert not CLOSED_NOISE.search(out), out  # a tab closed mid-update is no news on the terminal


def _printed_url(proc, port: int, timeout: float = 60) -> tuple[str, str]:
    """The page's address as ``serve`` printed it (with its token), once it listens; and the line."""
    line = proc.stdout.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+)/\?token=([A-Za-z0-9_-]+)", line)
    assert found and int(found.group(1)) == port and len(found.group(2)) >= 32, line
    _wait_listening(port, proc, timeout)
    return found.group(0), line


def _origin(url: str) -> str:
    """``http://127.0.0.1:P/`` of a page's address."""
    return url.split("?", 1)[0]


def _with_token(url: str, path: str) -> str:
    """``path`` on the server of the page ``url``, with the page's token."""
    return f"{_origin(url)}{path}?{url.split('?', 1)[1]}"


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
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def browse(pw, exe: str, url: str, outside: list, errors: list, hold=None):
    """A headless Chromium tab on ``url``'s server: every request beyond it is refused and put
    in ``outside``; page errors, and whatever the page's Content-Security-Policy refused (it
    would have been a request beyond 127.0.0.1), in ``errors``. ``hold(request_url)`` is
    called before each of the server's requests is let through."""
    browser = pw.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
    tab = browser.new_page(viewport={"width": 1300, "height": 900})
    mine = _origin(url)

    def route(r):
        if not r.request.url.startswith(mine):
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


@pytest.mark.browser
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
    base.write_text(
        base.read_text().replace(
            'containment = { dist = "beta", alpha = 3, beta = 3', 'containment = { dist = "beta", alpha = 9, beta = 1'
        )
    )
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
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "model",
            "run",
            str(mine),
            "-n",
            str(SAMPLES),
            "-s",
            str(SEED),
            "--json",
            "-o",
            str(folder / "report"),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    summary = json.loads(out.stdout)
    for q in OUTCOMES:
        text = shown[q].rstrip("%")
        half_digit = 0.5 * 10 ** -len(text.partition(".")[2])
        assert abs(float(text) - 100 * summary["outcomes"][q]["mean"]) <= half_digit + 1e-9, (q, text)


@pytest.mark.browser
def test_a_broken_file_shows_its_line_and_the_page_recovers(page):
    tab, folder = page
    mine = folder / "my view ü.toml"
    good = _numbers(tab)
    lines = _mine().splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("capability_needed")) + 1
    lines[at - 1] = 'capability_needed = { dist = "lognormal", ci90 = [0.3, 1.2] '  # unclosed
    mine.write_text("\n".join(lines) + "\n", encoding="utf-8")
    error = tab.get_by_test_id("priors-error")
    error.wait_for(timeout=10_000)
    assert f"my view ü.toml:{at}" in error.inner_text()
    assert _numbers(tab) == good  # the last good results stay (dimmed)
    # a value out of its support names the key
    mine.write_text(
        _mine().replace("[simulation]", "[parameters]\ncontainment = 1.5\n\n[simulation]"), encoding="utf-8"
    )
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


@pytest.mark.browser
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
        _until(
            lambda: (
                shown
                and shown[-1].refined
                and lane.generation == last
                and not any(t.name.startswith("aar-serve") for t in threading.enumerate())
            ),
            60,
            "the last save's refined result, and no worker left",
        )
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

    files = {
        "pipe": folder / "a pipe.toml",
        "folder": folder / "a folder.toml",
        "binary": folder / "binary.toml",
        "huge": folder / "huge.toml",
    }
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
    reader = threading.Thread(
        target=lambda: done.update(chain=watch.chain(path), digest=watch.digest([path])), daemon=True
    )
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
    assert not keep(record("Failed sending message due to following error: Stream is closed", name="panel.io.document"))
    assert keep(record("Exception in callback", ValueError("a real error")))
    assert keep(record("Bokeh Server internal error: boom, closing connection"))


# -- the page as a stranger would try it ----------------------------------------------------


def _port(url: str) -> int:
    return int(_origin(url).rstrip("/").rsplit(":", 1)[1])


def _token(url: str) -> str:
    return url.rsplit("token=", 1)[1]


def _request(port: int, target: str, headers: dict[str, str]) -> str:
    """The status line of a raw HTTP request (``headers`` as given: Host included)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(
            (
                f"GET {target} HTTP/1.1\r\n"
                + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                + "Connection: close\r\n\r\n"
            ).encode()
        )
        return s.recv(4096).decode("latin-1").split("\r\n")[0]


def _handshake(port: int, origin: str, cookie: str = "", target: str = "/ws") -> str:
    """The status line of a websocket handshake with ``origin`` (and ``cookie``)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(
            (
                f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                f"Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n"
                + (f"Cookie: {cookie}\r\n" if cookie else "")
                + "\r\n"
            ).encode()
        )
        return s.recv(4096).decode("latin-1").split("\r\n")[0]


@pytest.mark.browser
def test_another_origin_cannot_open_the_websocket(server):
    url = server[0]
    port = _port(url)
    cookie = f"aar-risk-token-{port}={_token(url)}"
    for origin in ("http://evil.example", "http://127.0.0.1.evil.example", f"http://127.0.0.1:{port + 1}", "null"):
        assert " 403 " in _handshake(port, origin, cookie), origin
    assert " 403 " not in _handshake(port, f"http://127.0.0.1:{port}", cookie)  # (no session token: refused later)


def _cpu_seconds(pid: int) -> float:
    import os

    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@pytest.mark.browser
def test_the_page_needs_its_token_and_its_own_name(server):
    """Issue 22, item 6 and item 1: another local user (no token), another site's page
    (Origin/Referer), a rebound name (Host) get 403 before any session is made or any of the
    page's code runs; the page's own address works and hands the token on as a cookie."""
    import urllib.error
    import urllib.request

    url, proc = server[0], server[3]
    port, token = _port(url), _token(url)
    me = f"127.0.0.1:{port}"
    refused = [
        ("/", {"Host": me}),
        (f"/?token={token[:-1]}x", {"Host": me}),
        (f"/?token={token}", {"Host": f"evil.example:{port}"}),
        (f"/?token={token}", {"Host": me, "Origin": "http://evil.example"}),
        (f"/?token={token}", {"Host": me, "Referer": "http://evil.example/page.html"}),
        (f"/?token={token}", {"Host": me, "Referer": f"http://127.0.0.1:{port + 1}/"}),
        ("/static/js/bokeh.min.js", {"Host": me}),
        ("/", {"Host": me, "Cookie": f"aar-risk-token-{port}=wrong"}),
    ]
    cpu = _cpu_seconds(proc.pid)
    for _ in range(5):
        for target, headers in refused:
            assert " 403 " in _request(port, target, headers), (target, headers)
    assert " 403 " in _handshake(port, f"http://{me}")  # the websocket without the token
    spent = _cpu_seconds(proc.pid) - cpu
    assert spent < 2.0, f"41 refused requests cost the server {spent:.1f} s of CPU: sessions were made"
    with pytest.raises(urllib.error.HTTPError) as no:
        urllib.request.urlopen(_origin(url), timeout=30)
    no.value.close()
    assert no.value.code == 403
    with urllib.request.urlopen(url, timeout=60) as r:
        assert r.status == 200
        assert f"aar-risk-token-{port}={token}" in r.headers["Set-Cookie"]
        assert "HttpOnly" in r.headers["Set-Cookie"] and "SameSite=Strict" in r.headers["Set-Cookie"]
    assert " 200 " in _request(
        port, "/static/js/bokeh.min.js", {"Host": f"localhost:{port}", "Cookie": f"aar-risk-token-{port}={token}"}
    )


@pytest.mark.browser
def test_every_response_forbids_loading_from_elsewhere(server):
    import urllib.request

    with urllib.request.urlopen(server[0], timeout=30) as r:
        policy = r.headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "http" not in policy.replace("http://", "ws://"), policy


@pytest.mark.browser
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


@pytest.mark.browser
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
            with urllib.request.urlopen(_with_token(server[0], "static/js/bokeh.min.js"), timeout=20) as r:
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
    try:
        url, said = _printed_url(proc, port)
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
            out = said + proc.communicate(timeout=20)[0]
            browser.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
    assert signum != _signal.SIGKILL or proc.returncode == -9
    return proc.returncode, out, os.listdir(tmp)


@pytest.mark.browser
def test_ctrl_c_mid_update_exits_130_quietly_and_leaves_nothing(tmp_path):
    import signal as _signal

    code, out, left = _serve_and_stop(tmp_path, _signal.SIGINT)
    assert code == 130, out
    assert "Traceback" not in out and not CLOSED_NOISE.search(out), out
    assert left == [], left
    assert not [f for f in tmp_path.iterdir() if f.name.endswith(".tmp")]


@pytest.mark.browser
def test_sigkill_mid_update_leaves_nothing_in_tmpdir(tmp_path):
    import signal as _signal

    _, _, left = _serve_and_stop(tmp_path, _signal.SIGKILL)
    assert left == [], left


@pytest.mark.browser
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


@pytest.mark.browser
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
    outside, errors = [], []
    try:
        url, _ = _printed_url(proc, port)
        with sync_playwright() as pw:
            browser, tab = browse(pw, exe, url, outside, errors)
            tab.goto(url)
            _refined(tab)
            browser.close()
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
    assert outside == [] and errors == [], (outside, errors)


# -- issue 22: hardening after an attack ------------------------------------------------------


@pytest.fixture
def make_page():
    """``make(path)``: a Page in its own Bokeh document, as Panel makes one for a tab (without a
    server); ``show(page, doc, path)`` shows ``path``'s results on it (a small run)."""
    import asyncio

    pytest.importorskip("panel")
    from bokeh.document import Document
    from panel.io.state import set_curdoc

    from model.serve.app import Page

    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    made = []

    def make(path: Path):
        doc = Document()
        with set_curdoc(doc):
            p = Page(path)
            p.view()
        made.append(p.lane)
        return p, doc

    try:
        yield make
    finally:
        for lane in made:
            lane.stop()
        made.clear()
        asyncio.set_event_loop(None)
        loop.close()


def _show(page, doc, path: Path, changes=None) -> None:
    from panel.io.state import set_curdoc

    from model.api import simulate
    from model.serve.compute import Snapshot, load
    from model.serve.whatif import digest_of

    file_priors, applied = load(path, changes or {})
    run = simulate(applied.priors, samples=2_000, seed=1, workers=1)
    with set_curdoc(doc):
        page._show(
            "main",
            Snapshot(
                path,
                applied.priors,
                file_priors,
                run,
                refined=True,
                whatif=applied.values,
                file_digest=digest_of(path.read_bytes()),
            ),
        )


def _freed(ref, what: str) -> None:
    import gc

    for _ in range(3):
        gc.collect()
    assert ref() is None, (
        f"{what} is still alive: "
        + ", ".join(type(r).__name__ for r in gc.get_referrers(ref()) if not isinstance(r, type(sys._getframe())))[:400]
    )


def test_a_slider_replaced_by_a_save_and_a_closed_tab_are_freed(tmp_path, make_page):
    """Issue 22, item 1: Panel's link registry kept every editable slider, and through its
    watcher the whole page (about 6 MB a page load, and a slider per saved interval)."""
    import gc
    import weakref

    mine = _priors_pair(tmp_path, samples=2_000)
    page, doc = make_page(mine)
    _show(page, doc, mine)
    old = weakref.ref(page.sliders.widgets["capability_needed"])
    mine.write_text(MINE.format(interval="0.6 to 1.9", samples="2_000", seed=SEED), encoding="utf-8")
    _show(page, doc, mine)  # the saved interval: a new slider
    assert page.sliders.widgets["capability_needed"] is not old()
    _freed(old, "the replaced slider")
    gone = weakref.ref(page)
    sliders = [weakref.ref(w) for w in page.sliders.widgets.values()]
    for callback in list(doc.session_destroyed_callbacks):  # as Bokeh does when the session ends
        callback(None)
    del page
    gc.collect()
    _freed(gone, "the page of a closed tab")
    assert all(s() is None for s in sliders)


def test_a_bundled_preset_or_a_read_only_file_is_never_written(tmp_path, make_page):
    """Issue 22, item 4: no write to a preset (`serve` with no file shows one) or a read-only
    file: the button stays off, the page says why (and how to make your own)."""
    import os

    from model.priors.presets import PRESETS_DIR
    from model.serve import whatif
    from model.serve.app import BUNDLED, read_only

    assert sorted(BUNDLED) == sorted(
        f.name
        for f in PRESETS_DIR.glob("*.toml")
        if subprocess.run(["git", "ls-files", "--error-unmatch", str(f)], cwd=ROOT, capture_output=True).returncode == 0
    )
    preset = PRESETS_DIR / "author.toml"
    before = preset.read_bytes()
    assert "aar-risk init NAME" in read_only(preset)
    mine = _priors_pair(tmp_path, samples=2_000)
    assert read_only(mine) is None
    own = tmp_path / "author.toml"  # a file of one's own that happens to be called author.toml
    shutil.copy(preset, own)
    assert read_only(own) is None
    for path in (preset, mine):
        if path == mine:
            os.chmod(mine, 0o444)
        page, doc = make_page(path)
        assert ("aar-risk init NAME" in page.read_only_note.object) == (path == preset)
        assert "read-only" in page.read_only_note.object
        _show(page, doc, path, {"containment": (0.2, 0.9)})
        assert page.main.whatif and page.write_button.disabled and not page.reset_button.disabled
        page._whatif_changed({"containment": (0.2, 0.9)})
        assert page.write_button.disabled
        page._write(None)  # a click that came anyway
        assert "Nothing was written" in page.message.object
    assert preset.read_bytes() == before
    assert "containment" not in mine.read_text(encoding="utf-8")
    value = whatif.candidates(whatif.load(mine).variables["containment"], (0.2, 0.9))[0]
    with pytest.raises(PermissionError):  # the writer itself refuses too
        whatif.write(mine, {"containment": value})
    assert "containment" not in mine.read_text(encoding="utf-8")


def test_a_refused_write_says_so_and_offers_to_reload(tmp_path, make_page):
    mine = _priors_pair(tmp_path, samples=2_000)
    page, doc = make_page(mine)
    page._whatif_changed({"containment": (0.2, 0.9)})
    _show(page, doc, mine, {"containment": (0.2, 0.9)})
    edited = MINE.format(interval="0.5 to 1.5", samples="2_000", seed=SEED)
    mine.write_text(edited, encoding="utf-8")  # an editor saved it after the results
    page._write(None)
    assert mine.read_text(encoding="utf-8") == edited
    assert "changed" in page.message.object and "reload the file" in page.message.object
    assert page.reload_button.visible
    page._reload(None)
    assert not page.reload_button.visible and page.lane.changes  # the what-ifs are kept


def test_write_keeps_crlf_and_the_byte_order_mark(tmp_path):
    from model.serve import whatif

    mine = _priors_pair(tmp_path)
    text = "\ufeff" + _mine().replace("\n", "\r\n")
    mine.write_bytes(text.encode("utf-8"))
    value = whatif.candidates(whatif.load(mine).variables["containment"], (0.2, 0.9))[0]
    whatif.write(mine, {"containment": value}, expected=whatif.digest_of(mine.read_bytes()))
    data = mine.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") and data.count(b"\xef\xbb\xbf") == 1
    assert b"\n" not in data.replace(b"\r\n", b""), data  # every line ends in CRLF
    assert b"containment = { dist" in data
    assert whatif.load(mine).variables["containment"].marginal.family == "beta"


def test_write_never_produces_invalid_toml(tmp_path):
    """An inline ``parameters = {…}`` table and a variable inherited from the base: the
    comment saying so went inside the inline table (invalid TOML)."""
    import tomllib

    from model.serve import whatif

    shutil.copy(ROOT / "priors" / "author.toml", tmp_path / "base.toml")
    mine = tmp_path / "inline.toml"
    mine.write_text(
        'parameters = { leakage = 0.3 }\n\n[meta]\nname = "inline"\nbase = "base.toml"\n\n'
        '[cruxes]\ncapability_needed = "0.3 to 1.2"\n',
        encoding="utf-8",
    )
    value = whatif.candidates(whatif.load(mine).variables["containment"], (0.2, 0.9))[0]
    assert whatif.write(mine, {"containment": value}) == ["containment"]
    data = tomllib.loads(mine.read_text(encoding="utf-8"))
    assert data["parameters"]["leakage"] == 0.3 and data["parameters"]["containment"]["ci90"] == [0.2, 0.9]
    assert whatif.load(mine).variables["containment"].marginal.family == "beta"


def test_what_ifs_keep_full_precision(tmp_path):
    """0.9999999 was written as 1 (six digits), which a probability's interval refused."""
    from model.serve import whatif

    priors = whatif.load(_priors_pair(tmp_path))
    applied = whatif.apply(priors, {"containment": (0.1, 0.9999999), "leakage": (0.123456789, 0.5)})
    assert applied.values["containment"]["ci90"] == [0.1, 0.9999999]
    assert applied.values["leakage"]["ci90"][0] == 0.123456789
    assert whatif._number(0.1 + 0.2) == 0.3  # a slider's float noise is not kept


def test_a_base_that_is_a_named_pipe_never_blocks(tmp_path):
    """Issue 22, item 5: ``base`` naming a named pipe froze the server."""
    import os

    pytest.importorskip("panel")
    from model.serve.compute import Lane

    os.mkfifo(tmp_path / "pipe.toml")
    mine = tmp_path / "mine.toml"
    mine.write_text('[meta]\nname = "piped"\nbase = "pipe.toml"\n', encoding="utf-8")
    shown = []
    lane = Lane(mine, shown.append)
    lane.poll()
    try:
        _until(lambda: shown, 15, "a problem shown for a base that is a named pipe")
    finally:
        lane.stop()
        _unblock(tmp_path / "pipe.toml")
    assert shown[0].run is None and "pipe.toml" in str(shown[0].problems)


def test_a_long_dotted_key_is_refused_quickly(tmp_path):
    """A 64 KB file of one long dotted key froze the server 15 s; the loader refuses keys of
    more than 10 parts, and the page says so at once."""
    pytest.importorskip("panel")
    from model.serve.compute import Lane

    mine = tmp_path / "dotted.toml"
    mine.write_text("[meta]\nname = 'dotted'\n" + "a." * 32_000 + "b = 1\n", encoding="utf-8")
    shown = []
    lane = Lane(mine, shown.append)
    start = time.monotonic()
    lane.poll()
    try:
        _until(lambda: shown, 15, "a problem shown for a long dotted key")
    finally:
        lane.stop()
    assert time.monotonic() - start < 5
    assert shown[0].run is None and "dotted key" in str(shown[0].problems)


def test_six_saves_of_a_slow_file_start_one_computation(tmp_path):
    """Each save of a slow file (10^6 worlds) started another compute thread: one per lane now."""
    import threading

    pytest.importorskip("panel")
    from model.serve.compute import Lane

    mine = _priors_pair(tmp_path, samples=1_000_000)
    mine = mine.rename(tmp_path / "slow.toml")
    shown = []
    lane = Lane(mine, shown.append)
    most = 0
    try:
        for i in range(6):
            mine.write_text(MINE.format(interval=f"0.{3 + i} to 1.5", samples="1_000_000", seed=SEED), encoding="utf-8")
            lane.poll()
            for _ in range(10):
                most = max(most, sum(t.name == f"aar-serve {mine.name}" for t in threading.enumerate()))
                time.sleep(0.02)
        last = lane.generation
        _until(lambda: shown and shown[-1].refined and lane.generation == last, 120, "the last save's results")
    finally:
        lane.stop()
    assert most == 1, f"{most} compute threads for one page"
    assert '"0.8 to 1.5"' in shown[-1].file_priors.variables["capability_needed"].written


@pytest.mark.browser
def test_many_tabs_opened_at_once_on_a_cached_file_all_show_numbers(server):
    """Issue 22, item 2: a new tab sometimes waited for ever ("waiting for the first
    estimate…", 5 of 43 opens) when the file's results were cached: a result handed over
    before the tab's session was ready must be shown once it is."""
    from playwright.sync_api import sync_playwright

    url, folder, exe, _ = server
    (folder / "my view ü.toml").write_text(_mine(), encoding="utf-8")
    shutil.copy(ROOT / "priors" / "author.toml", folder / "base.toml")
    outside, errors = [], []
    with sync_playwright() as pw:
        browser, first = browse(pw, exe, url, outside, errors)
        first.goto(url, timeout=120_000)
        _refined(first, timeout=90_000)  # the file's results are cached from here on
        shown = _numbers(first)
        tabs = []

        def route(r):
            if not r.request.url.startswith(_origin(url)):
                outside.append(r.request.url)
                r.abort()
            else:
                r.continue_()

        for _ in range(8):
            tab = first.context.browser.new_context().new_page()
            tab.route("**/*", route)
            tab.on("pageerror", lambda e: errors.append(str(e)))
            tab.goto(url, wait_until="commit", timeout=120_000)
            tabs.append(tab)
        for i, tab in enumerate(tabs):
            tab.wait_for_load_state("load", timeout=120_000)
            try:
                _refined(tab, timeout=90_000)
            except Exception:  # noqa: BLE001 - say which tab, and what it shows
                pytest.fail(
                    f"tab {i} shows: {tab.get_by_test_id('status').all_inner_texts() or tab.inner_text('body')[:300]}"
                )
            assert _numbers(tab) == shown, i
        browser.close()
    assert outside == [] and errors == [], (outside, errors)


def test_what_ifs_are_honest_refused_beside_the_control_family_and_bounds_kept(tmp_path, make_page):
    """Issue 20, item 4: an impossible what-if (a probability past 1, a reversed interval, a
    value outside a PERT's min and max) is refused with a message beside its control, which
    shows the values in force again; a what-if keeps the variable's family and bounds (a PERT on
    [3, 10] stays a PERT inside them, a truncated normal keeps its bound) and the percentiles
    asked; probability controls stay within [0, 1]; the crux map has a colour bar, the prior's
    contours and only the cells the run report shows; the bars speak in % as the cards do."""
    import numpy as np
    from bokeh.models import ColorBar, NumeralTickFormatter
    from panel.io.state import set_curdoc

    from model.core.variables import BY_NAME
    from model.priors.priors import load
    from model.serve import whatif

    for preset, name, asked in (
        ("author", "alignment_difficulty", (6.0, 8.0)),
        ("pessimist", "relative_difficulty", (0.95, 1.3)),
    ):
        priors = load(ROOT / "priors" / f"{preset}.toml")
        old = priors.variables[name].marginal
        new = whatif.apply(priors, {name: asked}).priors.variables[name].marginal
        assert new.family == old.family, (name, new)
        assert old.support[0] <= new.support[0] and new.support[1] <= old.support[1], (name, new.support)
        assert new.cdf(np.array(asked)) == pytest.approx([0.05, 0.95], abs=whatif.MASS_TOLERANCE)

    mine = _priors_pair(tmp_path, samples=2_000)
    page, doc = make_page(mine)
    _show(page, doc, mine)
    sliders = page.sliders

    def typed(name: str, value) -> str:
        with set_curdoc(doc):
            sliders.widgets[name].value = value
        return sliders.notes[name].object

    held = sliders.widgets["containment"].value
    refused = {
        "containment": [((held[0], 1.5), ("containment", "1.5", "[0, 1]")), ((0.5, 0.5), ("5th", "below the 95th"))],
        "alignment_difficulty": [((5.0, 11.0), ("alignment_difficulty", "pert", "11", "[3, 10]"))],
    }
    for name, cases in refused.items():
        before = sliders.widgets[name].value
        for value, words in cases:
            note = typed(name, value)
            assert 'data-refused="true"' in note and all(w in note for w in words), note
            assert name not in sliders.changes and sliders.widgets[name].value == pytest.approx(before)
    assert typed("containment", (0.2, 0.9)) == "" and sliders.changes["containment"] == (0.2, 0.9)
    for name, w in sliders.widgets.items():
        if BY_NAME[name].support == "probability":
            assert w.start >= 0 and w.end <= 1, (name, w.start, w.end)

    from model.report.plotting import crux_smooth  # the run report's masking of sparse cells

    assert any(isinstance(x, ColorBar) for x in page.map.right)
    cm = page.main.run.result.crux_map
    shown = np.isfinite(crux_smooth(cm.counts, {"p": cm.means["success"]})["p"])
    assert len(page.map_src.cells.data["x"]) == np.count_nonzero(shown) < np.count_nonzero(cm.counts)
    assert len(page.map_src.contours.data["xs"]) > 0
    formatter = page.bars.xaxis[0].formatter
    assert isinstance(formatter, NumeralTickFormatter) and "%" in formatter.format


# -- issue 19: evidence since 2023 on the live page -------------------------------------------

EVIDENT = """# my priors with the evidence since 2023
[meta]
name = "serve evidence test"
base = "base.toml"
evidence = ["evidence/since-2023.toml"]

[simulation]
samples = {samples}
seed = {seed}
"""


def _evident(folder: Path, samples: int = 20_000) -> Path:
    """folder/mine.toml: the author's priors (base.toml) and a copy of the evidence since 2023."""
    shutil.copy(ROOT / "priors" / "author.toml", folder / "base.toml")
    (folder / "evidence").mkdir()
    shutil.copy(ROOT / "priors" / "evidence" / "since-2023.toml", folder / "evidence" / "since-2023.toml")
    mine = folder / "mine.toml"
    mine.write_text(EVIDENT.format(samples=f"{samples:_}", seed=SEED), encoding="utf-8")
    return mine


def test_evidence_switched_off_recomputes_without_it_and_the_evidence_file_is_watched(tmp_path):
    from dataclasses import replace

    pytest.importorskip("panel")
    from model.api import simulate
    from model.serve import watch
    from model.serve.compute import Lane

    mine = _evident(tmp_path)
    evidence = tmp_path / "evidence" / "since-2023.toml"
    assert watch.chain(mine) == [mine, tmp_path / "base.toml", evidence]
    before = mine.read_bytes(), evidence.read_bytes()
    shown = []
    lane = Lane(mine, shown.append)
    try:
        lane.poll()
        _until(lambda: shown and shown[-1].refined, 60, "the first results")
        first = shown[-1]
        assert first.off == frozenset() and len(first.run.given.entries) == 4
        no_agi = first.file_priors.evidence[1]
        assert no_agi.words() == "no AGI by Dec 2026"
        lane.set_off({no_agi.ident})
        _until(lambda: shown[-1].off == {no_agi.ident}, 60, "the results without one entry")
        second = shown[-1]
        assert [x.words for x in second.run.given.entries] == [
            e.words() for e in first.file_priors.evidence if e is not no_agi
        ]
        assert second.run.estimates == first.run.estimates  # your priors as written: the same worlds
        expected = simulate(
            replace(first.file_priors, evidence=tuple(e for e in first.file_priors.evidence if e is not no_agi)),
            samples=20_000,
            seed=SEED,
            workers=1,
        ).given
        for q in OUTCOMES:
            assert second.run.given.estimates[q] == expected.estimates[q]
            assert second.run.given.estimates[q] != first.run.given.estimates[q]
        assert len(second.file_priors.evidence) == 4  # the file still has it
        # an edit of the evidence file is followed like the priors file; the switch holds
        evidence.write_text(evidence.read_text().replace("strength = 0.5", "strength = 0.25"), encoding="utf-8")
        before = before[0], evidence.read_bytes()
        lane.poll()
        _until(lambda: shown[-1].file_priors.evidence[3].strength == 0.25, 60, "the evidence file's edit")
        assert shown[-1].off == {no_agi.ident} and len(shown[-1].run.given.entries) == 3
        lane.set_off({e.ident for e in first.file_priors.evidence})  # every entry off: no given view
        _until(lambda: len(shown[-1].off) == 4, 60, "every entry off")
        assert shown[-1].run.given is None
    finally:
        lane.stop()
    assert (mine.read_bytes(), evidence.read_bytes()) == before  # switches never touch the files


def test_the_page_shows_both_views_a_checkbox_per_entry_and_never_writes_a_switch(tmp_path, make_page):
    from panel.io.state import set_curdoc

    from model.api import simulate
    from model.serve.compute import Snapshot, load, without
    from model.serve.whatif import digest_of

    mine = _evident(tmp_path)
    evidence_file = (tmp_path / "evidence" / "since-2023.toml").read_bytes()
    page, doc = make_page(mine)

    def show(changes=None, off=frozenset()):
        file_priors, applied = load(mine, changes or {})
        run = simulate(without(applied.priors, off), samples=5_000, seed=1, workers=1)
        snap = Snapshot(
            mine,
            applied.priors,
            file_priors,
            run,
            refined=True,
            whatif=applied.values,
            file_digest=digest_of(mine.read_bytes()),
            off=off,
        )
        with set_curdoc(doc):
            page._show("main", snap)
        return file_priors

    entries = show().evidence
    labels = list(page.entries.options)
    assert labels[:2] == ["no useful AAR by Dec 2026 (2026-12-01)", "no AGI by Dec 2026 (2026-12-01)"]
    assert len(labels) == 4 and page.entries.value == [e.ident for e in entries] and page.evidence_box.visible
    cards_html = page.cards.object
    assert "given the evidence, as of 2026-12-01" in cards_html and "your priors" in cards_html
    assert all(f'data-testid="{t}-{q}"' in cards_html for q in OUTCOMES for t in ("outcome", "given", "change"))
    assert page.evidence_table.object.count('data-testid="evidence-entry"') == 4
    assert "given the evidence" in page.table.object
    generation = page.lane.generation
    with set_curdoc(doc):  # the user unticks "no AGI by Dec 2026"
        page.entries.value = [e.ident for e in entries if e is not entries[1]]
    assert page.lane.off == {entries[1].ident} and page.lane.generation == generation + 1
    assert not page.reset_button.disabled
    page._whatif_changed({"containment": (0.2, 0.9)})
    show({"containment": (0.2, 0.9)}, page.lane.off)  # the result of both
    assert page.entries.value == [e.ident for e in entries if e is not entries[1]]  # kept as the user set it
    assert "switched off" in page.evidence_table.object
    page._write(None)
    text = mine.read_text(encoding="utf-8")
    assert "containment = { dist" in text and "strength" not in text
    assert 'evidence = ["evidence/since-2023.toml"]' in text
    assert "not written" in page.message.object
    assert (tmp_path / "evidence" / "since-2023.toml").read_bytes() == evidence_file
    page._reset(None)
    assert page.lane.off == frozenset() and page.entries.value == [e.ident for e in entries]


def _given(tab) -> dict[str, str]:
    return {q: tab.get_by_test_id(f"given-{q}").inner_text() for q in OUTCOMES}


def _until_given_changes(tab, before: dict[str, str], timeout: float = 120) -> dict[str, str]:
    """The given view's four numbers once they differ from ``before``, refined."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            now = _given(tab)
            refined = tab.locator('[data-testid="status"][data-stage="refined"]').count() == 1
        except Exception:  # noqa: BLE001 - the element is being replaced
            now, refined = before, False
        if now != before and refined:
            return _given(tab)  # read after the status said refined: the refined numbers
        time.sleep(0.1)
    pytest.fail(f"the given numbers did not change from {before}")


@pytest.mark.browser
@pytest.mark.slow
def test_switching_an_evidence_entry_off_changes_the_given_numbers(tmp_path):
    """Issue 19: author-2026 shows both views; unticking "no AGI by Dec 2026" weighs the evidence
    without it (the given numbers change, your priors' stay); ticking it again brings them back.
    The file is never written. A screenshot of the page is left in tmp_path."""
    from playwright.sync_api import sync_playwright

    exe = _chromium()
    for name in ("author.toml", "author-2026.toml"):
        shutil.copy(ROOT / "priors" / name, tmp_path / name)
    (tmp_path / "evidence").mkdir()
    shutil.copy(ROOT / "priors" / "evidence" / "since-2023.toml", tmp_path / "evidence" / "since-2023.toml")
    mine = tmp_path / "author-2026.toml"
    written = mine.read_bytes()
    port = _free_port()
    proc = _start(tmp_path, mine, port)
    outside, errors = [], []
    try:
        url, _ = _printed_url(proc, port)
        with sync_playwright() as pw:
            browser, tab = browse(pw, exe, url, outside, errors)
            tab.goto(url, timeout=120_000)
            _refined(tab, timeout=120_000)
            assert tab.get_by_text("given the evidence, as of 2026-12-01", exact=True).count() >= len(OUTCOMES)
            priors, given = _numbers(tab), _given(tab)
            assert priors != given
            box = tab.get_by_role("checkbox", name="no AGI by Dec 2026 (2026-12-01)")
            box.wait_for(timeout=60_000)
            tab.screenshot(path=str(tmp_path / "evidence-page.png"), full_page=True)
            box.uncheck()
            without = _until_given_changes(tab, given)
            assert _numbers(tab) == priors  # your priors as written do not move
            assert "switched off" in tab.get_by_test_id("evidence-entry").nth(1).inner_text()
            tab.screenshot(path=str(tmp_path / "evidence-page-one-off.png"), full_page=True)
            box.check()
            assert _until_given_changes(tab, without) == given
            browser.close()
    finally:
        proc.terminate()
        out = proc.communicate(timeout=10)[0]
    assert outside == [] and errors == [], (outside, errors)
    assert not re.search(r'File "[^"]*/model/', out), out
    assert mine.read_bytes() == written
