"""The live page (Panel/Bokeh): one :class:`Page` per browser tab, all served by :func:`serve`.

Panel ships its JavaScript and Bokeh's inside the Python packages; the server hands them
out itself, so the page needs no network beyond 127.0.0.1 (see :func:`_local_stylesheets`,
:func:`_local_resources` and :func:`_local_only` for how that is made to hold).

Threads: the page's widgets and Bokeh models are touched only on the server's event loop
(Panel callbacks, the periodic poll, next-tick callbacks). A lane's worker thread hands its
result to :meth:`Page._later`, which only stores it and asks the event loop (Tornado's
``IOLoop.add_callback``, documented as safe from any thread) to show it.
"""

from __future__ import annotations

import html
import logging
import threading
from functools import partial
from pathlib import Path

import panel as pn

from model.core.errors import Problem
from model.core.quantities import OUTCOMES, PARTS
from model.serve import cards, charts
from model.serve.compute import Lane, Snapshot
from model.serve.sliders import Sliders
from model.serve.whatif import write

#: How often the files are looked at (ms).
POLL_MS = 120
_DIM = {"opacity": "0.45", "filter": "grayscale(0.6)"}


def _choices(path: Path) -> dict[str, str]:
    """Files to compare with: the presets, then the priors files beside ``path``."""
    from model.priors.priors import PRESETS_DIR

    def real(f: Path) -> Path:
        try:
            return f.resolve()
        except (OSError, RuntimeError, ValueError):  # a symlink loop, a name too long
            return f.absolute()

    found, seen = {"(nothing)": ""}, {real(path)}
    for folder, tag in ((PRESETS_DIR, "preset"), (path.parent, "beside it")):
        try:
            files = sorted(folder.glob("*.toml")) if folder.is_dir() else []
        except OSError:
            files = []
        for f in files:
            if real(f) not in seen:
                seen.add(real(f))
                found[f"{f.name} ({tag})"] = str(f)
    return found


class Page:
    """What one browser tab shows of the followed file, and its what-ifs.

    Made on the server's event loop (Panel calls :func:`page` there for each session).
    """

    def __init__(self, path: Path):
        from tornado.ioloop import IOLoop

        self.path = path
        self.doc = pn.state.curdoc
        self.loop = IOLoop.current()  # the event loop that owns ``doc``
        self.closed = False
        self._was_connected = self._paused = False
        self.main: Snapshot | None = None  # the last good result
        self.other: Snapshot | None = None
        self._pending: dict[str, tuple[Lane | None, Snapshot]] = {}
        self._pending_lock = threading.Lock()
        self.lane = Lane(path, partial(self._later, "main"))
        self.other_lane: Lane | None = None
        self._build()

    def _later(self, which: str, snap: Snapshot, lane: Lane | None = None) -> None:
        """From a lane's worker thread: keep ``snap`` and ask the event loop to show it (only
        the newest of those that arrived meanwhile, so a quick estimate never overwrites a
        refined one). Nothing of Panel or Bokeh is touched here: ``IOLoop.add_callback`` is
        the one call Tornado documents as safe from another thread. ``lane``: the compared
        file's lane it came from (a lane replaced meanwhile may still deliver one result)."""
        with self._pending_lock:
            self._pending[which] = (lane, snap)
        try:
            self.loop.add_callback(self._schedule, which)
        except RuntimeError:  # the event loop is closed: the server is stopping, nobody to show it to
            self._stop()  # only marks the lanes stopped (a lock and a counter), safe from this thread

    def _schedule(self, which: str) -> None:
        """On the event loop: show the pending result within the document's lock."""
        if self.closed:
            return
        try:
            self.doc.add_next_tick_callback(partial(self._flush, which))
        except Exception:  # noqa: BLE001 - the session went away meanwhile: nobody to show it to
            self._stop()

    def _flush(self, which: str) -> None:
        with self._pending_lock:
            lane, snap = self._pending.pop(which, (None, None))
        if snap is None or self.closed or (which == "other" and lane is not self.other_lane):
            return  # nothing new, nobody to show it to, or a file no longer compared
        self._show(which, snap)

    def _build(self) -> None:
        self.title = pn.pane.HTML("", sizing_mode="stretch_width")
        self.status = pn.pane.HTML("waiting for the first estimate…", sizing_mode="stretch_width")
        self.error = pn.pane.HTML("", sizing_mode="stretch_width")
        self.cards = pn.pane.HTML("", sizing_mode="stretch_width")
        self.table = pn.pane.HTML("", sizing_mode="stretch_width")
        self.bars, self.bars_src = charts.bars(OUTCOMES, "The four outcomes")
        self.parts, self.parts_src = charts.bars(PARTS, "The two parts of kicking the can")
        self.horizon, self.horizon_src, self.market = charts.horizon()
        self.plan, self.plan_src = charts.bars(charts.PLAN, "The plan against no AAR")
        self.map, self.map_src = charts.crux_map()
        self.sliders = Sliders(self._whatif_changed)
        self.compare = pn.widgets.Select(name="compare with", options=_choices(self.path), width=260)
        self.compare.param.watch(self._compare_changed, "value")
        self.write_button = pn.widgets.Button(name="write to file", button_type="primary", disabled=True)
        self.reset_button = pn.widgets.Button(name="reset", disabled=True)
        self.write_button.on_click(self._write)
        self.reset_button.on_click(self._reset)
        self.message = pn.pane.HTML("", sizing_mode="stretch_width")

    def view(self) -> pn.viewable.Viewable:
        figs = {k: pn.pane.Bokeh(v, sizing_mode="stretch_width") for k, v in (
            ("bars", self.bars), ("parts", self.parts), ("horizon", self.horizon), ("plan", self.plan),
            ("map", self.map))}
        self.results = pn.Column(
            self.cards, pn.Row(figs["bars"], figs["parts"], sizing_mode="stretch_width"),
            pn.Row(figs["horizon"], figs["plan"], sizing_mode="stretch_width"), figs["map"],
            pn.pane.HTML("<h3>Every quantity</h3>"), self.table, sizing_mode="stretch_width")
        controls = pn.Row(self.compare, self.write_button, self.reset_button, align="end")
        return pn.Column(self.title, self.status, self.error, self.results,
                         pn.pane.HTML("<h3>Your priors: drag a 5th/95th percentile (or type it) to try a "
                                      "what-if; the file is untouched until you write it</h3>"),
                         controls, self.message, self.sliders.view(), sizing_mode="stretch_width",
                         styles={"max-width": "1300px", "margin": "0 auto", "font-family": "sans-serif"})

    def start(self) -> None:
        self.title.object = (f"<h2 style='margin:4px 0'>aar-risk live: {html.escape(self.path.name)}</h2>"
                             f"<div style='color:#666;font-size:12px'>{html.escape(str(self.path.absolute()))}"
                             " — save the file in your editor and this page follows it</div>")
        self.callback = pn.state.add_periodic_callback(self._poll, period=POLL_MS)
        pn.state.on_session_destroyed(lambda ctx: self._stop())
        self.lane.poll()  # the first results, before the browser connects

    def _poll(self) -> None:
        """On the event loop: a few ``stat`` calls; a change only wakes the lane's worker.

        Only while a browser is connected: a session made for a GET whose browser has not
        connected yet computes the file's first results (so they are ready, and cached for
        other tabs) but follows no saves, so a flood of GETs costs one run; a tab that was
        connected and is not any more (closed, or its connection lost) pauses its lanes at
        once, rather than computing every save until Bokeh drops its session 15-30 s later.
        It resumes when the browser (re)connects (BokehJS tries)."""
        if self.closed:
            return
        connections = self._connections()
        lanes = [lane for lane in (self.lane, self.other_lane) if lane is not None]
        if connections == 0:
            if self._was_connected and not self._paused:
                self._paused = True
                for lane in lanes:
                    lane.pause()
            return
        if connections:
            self._was_connected = True
        if self._paused:
            self._paused = False
            for lane in lanes:
                lane.resume()
        for lane in lanes:
            lane.poll()

    def _connections(self) -> int | None:
        """How many browser connections the tab's session has (None: not known). Bokeh's
        ``ServerSession.connection_count``, reached through the session context's ``_session``
        (no public way); should that change, the page simply never pauses."""
        session = getattr(getattr(self.doc, "session_context", None), "_session", None)
        count = getattr(session, "connection_count", None)
        return count if isinstance(count, int) else None

    def _stop(self) -> None:
        """The tab is gone (or the server stops): stop the lanes' work. Called on the event
        loop, or from a worker thread by :meth:`_later`; it touches no widget, so either is safe
        (the periodic callback is Panel's to end with the session)."""
        self.closed = True
        self.lane.stop()
        other = self.other_lane
        if other is not None:
            other.stop()

    # -- results ---------------------------------------------------------------------------
    def _show(self, which: str, snap: Snapshot) -> None:
        """A new result (or problem) of the followed file (``main``) or the compared one."""
        if which == "other":
            self.other = snap if snap.run is not None else None
            if snap.problems:
                self.message.object = cards.problems(snap.problems, "The compared file has problems")
        elif snap.run is None:
            self.error.object = cards.problems(snap.problems, self._problem_title())
            self.results.styles = _DIM
            self.write_button.disabled = True
            return
        else:
            self.main = snap
            self.error.object = ""
            self.results.styles = {}
            self.sliders.follow(snap.file_priors, snap.whatif)
        self._render()

    def _problem_title(self) -> str:
        if self.lane.changes:
            return ("The file with your what-ifs has problems; the last good results are shown dimmed "
                    "below. Change the what-if, press reset, or fix the file and save.")
        return ("This file has problems; the last good results are shown dimmed below. "
                "Fix it and save: the page recovers by itself.")

    def _render(self) -> None:
        if self.main is None:
            return
        run, snap = self.main.run, self.main
        other = self.other.run if self.other is not None else None
        name = self.other.priors.name if other is not None else ""
        note = f"; what-ifs on {', '.join(snap.whatif)} (not in the file)" if snap.whatif else ""
        self.status.object = cards.status(run, snap.refined, self.path, note, tuple(snap.whatif))
        self.cards.object = cards.outcome_cards(run, other, name)
        self.table.object = cards.quantity_table(run, other, name)
        for f, src, names in ((self.bars, self.bars_src, OUTCOMES), (self.parts, self.parts_src, PARTS),
                              (self.horizon, self.horizon_src, (charts.HORIZON,)),
                              (self.plan, self.plan_src, charts.PLAN)):
            charts.feed_bars(f, src, names, run, snap.priors.name, other, name)
        self.market.location = run.result.target
        self.horizon.title.text = (f"{charts.LABELS[charts.HORIZON]}: the market's {100 * run.result.target:g}% "
                                   f"is above {100 * run.result.target_percentile:.0f}% of your worlds")
        charts.feed_crux_map(self.map_src, run)
        self.sliders.densities(snap.priors, self.other.file_priors if other is not None else None,
                               snap.file_priors)
        self.write_button.disabled = self.reset_button.disabled = not snap.whatif

    # -- controls --------------------------------------------------------------------------
    def _whatif_changed(self, changes: dict) -> None:
        self.write_button.disabled = self.reset_button.disabled = not changes
        self.lane.set_changes(changes)

    def _compare_changed(self, event) -> None:
        if self.other_lane is not None:
            self.other_lane.stop()
        with self._pending_lock:
            self._pending.pop("other", None)  # a result of the file compared before
        self.other, self.other_lane, self.message.object = None, None, ""
        if event.new and event.new in self.compare.options.values():  # only a file the page offered
            # whatever the file is (binary, huge, a folder, a named pipe), the lane reads it in its
            # worker without blocking, and the loader says what is wrong with it
            lane = Lane(Path(event.new), lambda snap: None)
            lane.show = partial(self._later, "other", lane=lane)
            self.other_lane = lane
            lane.poll()
        else:
            self._render()

    def _write(self, event) -> None:
        """Save the what-ifs into the file (comments and layout kept); the watcher reloads it.

        Only if the file is still the one the page's results came from: an editor saving it
        meanwhile (or a half-written file) is never overwritten."""
        snap = self.main
        if snap is None or not snap.whatif or self.error.object:
            return
        try:
            added = write(self.path, snap.whatif, expected=snap.file_digest)
        except Exception as exc:  # noqa: BLE001 - say why, keep serving
            self.message.object = cards.problems([Problem(self.path, "", str(exc))], "Could not write the file")
            return
        note = (f"; {', '.join(added)} came from a base file and now {'is' if len(added) == 1 else 'are'} "
                f"set in {self.path.name} itself" if added else "")
        self.message.object = (f"<div data-testid='write-message'>Wrote {html.escape(', '.join(snap.whatif))} "
                               f"to {html.escape(self.path.name)}{html.escape(note)}.</div>")
        self.sliders.clear()
        self.lane.changes = {}
        self.write_button.disabled = self.reset_button.disabled = True

    def _reset(self, event) -> None:
        self.sliders.clear()
        self.message.object = ""
        self._whatif_changed({})
        if self.main is not None:
            self.sliders.follow(self.main.file_priors, {})


def _local_stylesheets(doc) -> None:
    """Panel's stylesheets of every model of ``doc`` from this server, never from its CDN.

    Panel writes its components' stylesheets as CDN URLs and rewrites them to the server's
    copy only when the document says where that is: ``doc._template_variables["dist_url"]``
    (panel/reactive.py ``_get_properties`` and ``_update_model``, panel/theme/base.py
    ``_apply_params``: without it they keep ``CDN_DIST``). Panel sets it only while it renders
    the HTML page of a GET (panel/io/server.py ``server_html_page_for_session``), and there
    only when the Bokeh resources' mode -- read from Bokeh's process-wide
    ``settings.resources`` -- is "server". A session Bokeh builds again because the browser's
    websocket came after the GET's session expired (bokeh/server/views/ws.py, under load)
    never goes through that page, so every stylesheet pointed at cdn.holoviz.org.

    Set here, on the document itself, before any of its models exists, for every session
    (Panel calls :func:`page` for each, rebuilt ones included): a per-document value that no
    other code path or thread changes, unlike the process-wide setting that
    ``set_resource_mode`` flips.
    """
    from panel.io.resources import LOCAL_DIST

    doc._template_variables["dist_url"] = LOCAL_DIST


def page(path: Path) -> pn.viewable.Viewable:
    """A new tab's page (also a session Bokeh rebuilt for a tab that connected late)."""
    _local_stylesheets(pn.state.curdoc)
    p = Page(path)
    view = p.view()
    p.start()
    return view


def free_port(preferred: int | None) -> int:
    """``preferred`` if given; else 5006 (Panel's) when free, else any free port."""
    import socket

    if preferred:
        return preferred
    for candidate in (5006, 0):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", candidate))
            except OSError:
                continue
            return s.getsockname()[1]
    raise OSError("no free port")


def _local_resources(tornado_app, port: int) -> None:
    """Bokeh's and Panel's JavaScript and CSS of the HTML page from this server, always.

    Bokeh's ``BokehTornado.resources()`` (bokeh/server/tornado.py) picks the mode from the
    process-wide ``bokeh.settings.settings.resources`` at every GET: the ``BOKEH_RESOURCES``
    environment variable, or whatever ``panel.io.resources.set_resource_mode`` set meanwhile
    ("cdn" in ``Viewable._repr_mimebundle_``, ``save``, notebooks). This server's own method,
    on this server's application object, answers "server" whatever that setting says.
    """
    from bokeh.resources import Resources
    from bokeh.server.views.static_handler import StaticHandler

    def resources(absolute_url: str | bool | None = None) -> Resources:
        root = f"http://127.0.0.1:{port}/" if absolute_url is True else (absolute_url or "/")
        return Resources(mode="server", root_url=root, path_versioner=StaticHandler.append_version)

    tornado_app.resources = resources


def _policy(port: int) -> str:
    """The page's Content-Security-Policy: the browser loads and connects to this server only
    (Bokeh and Panel need inline and ``blob:`` scripts, inline styles, ``eval``, ``data:`` images)."""
    ws = f"ws://127.0.0.1:{port} ws://localhost:{port}"
    return ("default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
            f"connect-src 'self' {ws}; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
            "form-action 'self'; frame-ancestors 'self'")


def _local_only(tornado_app, port: int) -> None:
    """Every response says: load nothing from anywhere but this server (a second guard: should
    Panel or Bokeh ever write a CDN URL again, the browser refuses it instead of fetching it)."""
    from tornado.web import OutputTransform

    policy = _policy(port)

    class LocalOnly(OutputTransform):
        def transform_first_chunk(self, status_code, headers, chunk, finishing):
            headers["Content-Security-Policy"] = policy
            return status_code, headers, chunk

    tornado_app.transforms.append(LocalOnly)


#: Loggers that report a browser tab that went away in the middle of an update.
_CLOSED_LOGGERS = ("tornado.application", "tornado.general", "asyncio", "bokeh.server.views.ws",
                   "bokeh.server.protocol_handler", "bokeh.server.session", "bokeh.server.tornado",
                   "panel.io.document")


class _ClosedConnection(logging.Filter):
    """Drops the records of a closed connection (a tab closed or reloaded mid-update), which
    are no news to the user; every other record, errors included, passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        from tornado.iostream import StreamClosedError
        from tornado.websocket import WebSocketClosedError

        exc, seen = record.exc_info[1] if record.exc_info else None, 0
        while exc is not None and seen < 20:  # the exception or one it came from
            if isinstance(exc, (WebSocketClosedError, StreamClosedError)):
                return False
            exc, seen = exc.__cause__ or exc.__context__, seen + 1
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is not ours to drop
            return True
        return not (message.startswith("Failed sending message") and (
            "connection was closed" in message or "Stream is closed" in message))


_CLOSED_FILTER = _ClosedConnection()


def quiet_closed_connections() -> None:
    """Install :class:`_ClosedConnection` on the loggers that report closed connections."""
    for name in _CLOSED_LOGGERS:
        logger = logging.getLogger(name)
        if _CLOSED_FILTER not in logger.filters:
            logger.addFilter(_CLOSED_FILTER)


def serve(path: Path, port: int | None = None, open_browser: bool = True,
          ready: "callable | None" = None) -> None:
    """Serve the live page of ``path`` on 127.0.0.1 until the process is stopped.

    ``ready(url)`` is called once the server listens.
    """
    port = free_port(port)
    origins = [f"127.0.0.1:{port}", f"localhost:{port}"]
    def app() -> pn.viewable.Viewable:  # Panel calls a plain function once per tab
        return page(Path(path))

    quiet_closed_connections()
    server = pn.serve({"/": app}, port=port, address="127.0.0.1",
                      websocket_origin=origins, show=False, start=False, verbose=False,
                      title=f"aar-risk live: {Path(path).name}")
    _local_resources(server._tornado, port)
    _local_only(server._tornado, port)
    url = f"http://127.0.0.1:{port}/"
    if ready is not None:
        ready(url)
    if open_browser:
        import webbrowser

        server.io_loop.add_callback(partial(webbrowser.open, url))
    server.start()
    server.io_loop.start()
