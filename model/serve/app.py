"""The live page (Panel/Bokeh): one :class:`Page` per browser tab, all served by :func:`serve`.

Panel ships its JavaScript and Bokeh's inside the Python packages; the server hands them
out itself, so the page needs no network beyond 127.0.0.1 (see :func:`_local_stylesheets`,
:func:`_local_resources` and :func:`_local_only` for how that is made to hold).

Threads: the page's widgets and Bokeh models are touched only on the server's event loop
(Panel callbacks, the periodic poll, next-tick callbacks). A lane's worker thread hands its
result to :meth:`Page._later`, which only stores it and asks the event loop (Tornado's
``IOLoop.add_callback``, documented as safe from any thread) to show it.

When: a result is shown only once Panel says the browser has the page (its
``document_ready``, :meth:`Page._on_ready`); one that came earlier is kept until then. Panel
drops the model changes made after the browser pulled the document but before that event
(``panel.io.document._drain_unconnected_events``: "the Document is serialized in full once
the session connects", which under load it already was), so a first result that came in
that window never reached the browser: no sliders, ever. And every update of the page is
one batch (:meth:`Page._batch`): all its changes reach the browser together, in order.
"""

from __future__ import annotations

import contextlib
import hmac
import html
import logging
import os
import secrets
import stat
import threading
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import panel as pn
from bokeh.models.annotations.labels import Title

from model.core.errors import Problem
from model.core.quantities import OUTCOMES, PARTS
from model.serve import cards, charts
from model.serve.compute import Lane, Snapshot
from model.serve.sliders import Sliders
from model.serve.whatif import Changed, write

if TYPE_CHECKING:
    from param.parameterized import Watcher

    from model.api import Run
    from model.priors.priors import Priors

#: How often the files are looked at (ms).
POLL_MS = 120
#: A session no browser is connected to is dropped after this long (ms; Bokeh's default),
#: looked for this often (ms): a page load whose browser never connects costs memory for
#: at most about 20 s.
UNUSED_SESSION_MS = 15_000
CHECK_UNUSED_MS = 5_000
_DIM = {"opacity": "0.45", "filter": "grayscale(0.6)"}


#: The presets this package ships (priors/ in the repository; a wheel carries them in the package).
BUNDLED = ("author.toml", "author-2026.toml", "openai.toml", "pessimist.toml")


def bundled_preset(path: Path) -> bool:
    """Whether ``path`` is one of the presets shipped with aar-risk (never written to)."""
    from model.priors.presets import _PACKAGED_PRESETS, PRESETS_DIR

    try:
        real = Path(os.path.realpath(path))
    except (OSError, ValueError):
        return False
    return real.name in BUNDLED and any(
        real.parent == Path(os.path.realpath(d)) for d in (PRESETS_DIR, _PACKAGED_PRESETS)
    )


def read_only(path: Path) -> str | None:
    """Why the page must not write to ``path`` (None: it may). A file without its owner's
    write permission counts as read-only even for root, who may write anything."""
    if bundled_preset(path):
        return (
            f"{path.name} is a preset that comes with aar-risk, shown read-only. To try and keep "
            "your own priors: aar-risk init NAME (writes priors/NAME.toml, inheriting this one), "
            "then aar-risk serve priors/NAME.toml"
        )
    try:
        st = os.stat(os.path.realpath(path))
    except (OSError, ValueError):
        return None  # missing or unreadable: the loader says so; write refuses it then
    if not stat.S_ISREG(st.st_mode):
        return None
    if not st.st_mode & stat.S_IWUSR or not os.access(path, os.W_OK):
        return f"{path.name} is read-only: the page will not write to it (what-ifs still work)"
    return None


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

    _watchers: list[tuple[pn.widgets.Widget, Watcher]]  # our watchers of the widgets: see _build

    def __init__(self, path: Path):
        from tornado.ioloop import IOLoop

        self.path = path
        doc = pn.state.curdoc
        assert doc is not None  # made within a session (or a test's document)
        self.doc = doc
        self.loop = IOLoop.current()  # the event loop that owns ``doc``
        self.closed = False
        self._ready = False  # the browser has the page (Panel's document_ready): see _on_ready
        self._was_connected = self._paused = False
        self.main: Snapshot | None = None  # the last good result
        self.other: Snapshot | None = None
        self._pending: dict[str, tuple[Lane | None, Snapshot]] = {}
        self._pending_lock = threading.Lock()
        self.lane = Lane(path, partial(self._later, "main"))
        self.other_lane: Lane | None = None
        self._build()
        self.doc.on_session_destroyed(_Destroyed(self))
        pn.state.onload(self._on_ready)  # at once where there is no session (a test's document)

    def _destroyed(self, session_context=None) -> None:
        """The tab's session ended (closed, or never connected and expired): stop the lanes
        and let everything the page made be freed (sliders out of Panel's registry, watchers
        removed, results dropped)."""
        self._stop()
        with self._pending_lock:
            self._pending.clear()
        self.sliders.release()
        for w, watcher in getattr(self, "_watchers", ()):
            with contextlib.suppress(Exception):  # already gone
                w.param.unwatch(watcher)
        self._watchers = []
        self.lane.show = _nothing
        if self.other_lane is not None:
            self.other_lane.show = _nothing
        self.main = self.other = self.other_lane = None

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

    def _on_ready(self) -> None:
        """Panel's onload: the browser has the page and Panel sends it changes from now on.
        Whatever result came meanwhile is shown now (through the event loop, as any other:
        Panel may call this from its thread pool where one is configured)."""
        self._ready = True
        with self._pending_lock:
            waiting = list(self._pending)
        for which in waiting:
            try:
                self.loop.add_callback(self._schedule, which)
            except RuntimeError:  # the event loop is closed: the server is stopping
                self._stop()
                return

    def _flush(self, which: str) -> None:
        if self.closed or not self._ready:
            return  # not ready: kept in _pending, and shown by _on_ready
        with self._pending_lock:
            lane, snap = self._pending.pop(which, (None, None))
        if snap is None or (which == "other" and lane is not self.other_lane):
            return  # nothing new, or a file no longer compared
        with self._batch():
            self._show(which, snap)

    @contextlib.contextmanager
    def _batch(self):
        """The block's changes to the page (Panel's widgets and panes, the Bokeh charts) reach
        the browser together and in order, as one message (Panel's ``hold``), rather than as
        one message per change down two paths that can overtake each other: Panel writes a
        change to its own objects at once (or queues it, serialized, while the socket is
        busy), Bokeh's session writes a change to a Bokeh model after the callback. A message
        naming a model the browser was to get in one that had not arrived yet is what makes
        BokehJS fail with "reference pXXXX isn't known" (seen intermittently; this is the
        likely path, not one reproduced on demand)."""
        from panel.io import hold
        from panel.io.state import set_curdoc

        with set_curdoc(self.doc), hold(self.doc):
            yield

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
        self.compare = pn.widgets.Select(label="compare with", options=_choices(self.path), width=260)
        self._watchers = [(self.compare, self.compare.param.watch(self._compare_changed, "value"))]
        self.write_button = pn.widgets.Button(label="write to file", color="primary", disabled=True)
        self.reset_button = pn.widgets.Button(label="reset", disabled=True)
        self.reload_button = pn.widgets.Button(label="reload the file", visible=False)
        self._watchers += [
            (self.write_button, self.write_button.on_click(self._write)),
            (self.reset_button, self.reset_button.on_click(self._reset)),
            (self.reload_button, self.reload_button.on_click(self._reload)),
        ]
        self._evidence_widgets()
        self.message = pn.pane.HTML("", sizing_mode="stretch_width")
        why = read_only(self.path)
        self.read_only_note = pn.pane.HTML(
            f"<div data-testid='read-only' style='color:#8a5a00'>{html.escape(why)}</div>" if why else "",
            sizing_mode="stretch_width",
        )

    def _evidence_widgets(self) -> None:
        """A file with evidence: a checkbox per entry (switching one off weighs the evidence
        without it, on this page only) and the entries' table."""
        self._following = False  # the page itself is setting the checkboxes: not the user's click
        self.evidence_head = pn.pane.HTML(
            "<h3>The evidence since 2023: untick an entry to weigh the evidence without it</h3>",
            sizing_mode="stretch_width",
        )
        self.entries = pn.widgets.CheckBoxGroup(options={}, value=[], inline=False)
        self._watchers.append((self.entries, self.entries.param.watch(self._entries_changed, "value")))
        self.evidence_table = pn.pane.HTML("", sizing_mode="stretch_width")
        self.evidence_box = pn.Column(
            self.evidence_head, self.entries, self.evidence_table, visible=False, sizing_mode="stretch_width"
        )

    def view(self) -> pn.viewable.Viewable:
        figs = {
            k: pn.pane.Bokeh(v, sizing_mode="stretch_width")
            for k, v in (
                ("bars", self.bars),
                ("parts", self.parts),
                ("horizon", self.horizon),
                ("plan", self.plan),
                ("map", self.map),
            )
        }
        self.results = pn.Column(
            self.cards,
            self.evidence_box,
            pn.Row(figs["bars"], figs["parts"], sizing_mode="stretch_width"),
            pn.Row(figs["horizon"], figs["plan"], sizing_mode="stretch_width"),
            figs["map"],
            pn.pane.HTML("<h3>Every quantity</h3>"),
            self.table,
            sizing_mode="stretch_width",
        )
        controls = pn.Row(self.compare, self.write_button, self.reset_button, self.reload_button, align="end")
        return pn.Column(
            self.title,
            self.status,
            self.error,
            self.results,
            pn.pane.HTML(
                "<h3>Your priors: drag a 5th/95th percentile (or type it) to try a "
                "what-if; the file is untouched until you write it</h3>"
            ),
            controls,
            self.read_only_note,
            self.message,
            self.sliders.view(),
            sizing_mode="stretch_width",
            styles={"max-width": "1300px", "margin": "0 auto", "font-family": "sans-serif"},
        )

    def start(self) -> None:
        self.title.object = (
            f"<h2 style='margin:4px 0'>aar-risk live: {html.escape(self.path.name)}</h2>"
            f"<div style='color:#666;font-size:12px'>{html.escape(str(self.path.absolute()))}"
            " — save the file in your editor and this page follows it</div>"
        )
        self.callback = pn.state.add_periodic_callback(self._poll, period=POLL_MS)
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
            assert snap.file_priors is not None  # a snapshot with a run has its priors
            self.sliders.follow(snap.file_priors, snap.whatif)
            self._follow_entries(snap.file_priors)
        self._render()

    def _follow_entries(self, priors: Priors) -> None:
        """One checkbox per evidence entry of the file (its words and date), ticked unless the
        page switched it off (the newest choice: ``lane.off``, not that of an older result)."""
        options: dict[str, str] = {}
        for i, e in enumerate(priors.evidence, 1):
            label = cards.entry_label(e)
            options[f"{label} #{i}" if label in options else label] = e.ident
        self.lane.off &= frozenset(options.values())  # an entry no longer in the files is not "off"
        self._tick(options, [v for v in options.values() if v not in self.lane.off])
        self.evidence_box.visible = bool(options)

    def _tick(self, options: dict[str, str], on: list[str]) -> None:
        """Set the checkboxes without taking it for the user's choice."""
        self._following = True
        try:
            if options != self.entries.options:
                self.entries.options = options
            if on != list(self.entries.value):
                self.entries.value = on
        finally:
            self._following = False

    def _entries_changed(self, event) -> None:
        """The user ticked or unticked an entry: weigh the evidence without those unticked."""
        if self._following:
            return
        off = frozenset(set(self.entries.options.values()) - set(event.new))
        if off != self.lane.off:
            self.reset_button.disabled = False
            self.lane.set_off(off)

    def _problem_title(self) -> str:
        if self.lane.changes:
            return (
                "The file with your what-ifs has problems; the last good results are shown dimmed "
                "below. Change the what-if, press reset, or fix the file and save."
            )
        return (
            "This file has problems; the last good results are shown dimmed below. "
            "Fix it and save: the page recovers by itself."
        )

    def _render(self) -> None:
        if self.main is None:
            return
        run, snap = self.main.run, self.main
        assert run is not None and snap.priors is not None  # main: only a snapshot with a run
        other: Run | None = None
        name, other_priors = "", None
        if self.other is not None and self.other.run is not None:
            other = self.other.run
            assert self.other.priors is not None  # a snapshot with a run has its priors
            name, other_priors = self.other.priors.name, self.other.file_priors
        note = f"; what-ifs on {', '.join(snap.whatif)} (not in the file)" if snap.whatif else ""
        self.status.object = cards.status(run, snap.refined, self.path, note, tuple(snap.whatif))
        self.cards.object = cards.outcome_cards(run, other, name)
        self.table.object = cards.quantity_table(run, other, name)
        for f, src, names in (
            (self.bars, self.bars_src, OUTCOMES),
            (self.parts, self.parts_src, PARTS),
            (self.horizon, self.horizon_src, (charts.HORIZON,)),
            (self.plan, self.plan_src, charts.PLAN),
        ):
            charts.feed_bars(f, src, names, run, snap.priors.name, other, name)
        self.market.location = run.result.target
        title = self.horizon.title
        assert isinstance(title, Title)  # the figure makes one of the str it was given
        title.text = (
            f"{charts.LABELS[charts.HORIZON]}: the market's {100 * run.result.target:g}% "
            f"is above {100 * run.result.target_percentile:.0f}% of your worlds"
        )
        charts.feed_crux_map(self.map_src, run)
        self.sliders.densities(snap.priors, other_priors, snap.file_priors)
        assert snap.file_priors is not None  # main: only a snapshot with a run
        if snap.file_priors.evidence:
            self.evidence_table.object = cards.evidence(run, snap.file_priors, snap.off)
        self.reset_button.disabled = not snap.whatif and not self.lane.off
        self.write_button.disabled = not snap.whatif or read_only(self.path) is not None

    # -- controls --------------------------------------------------------------------------
    def _whatif_changed(self, changes: dict) -> None:
        self.reset_button.disabled = not changes and not self.lane.off
        self.write_button.disabled = not changes or read_only(self.path) is not None
        self.lane.set_changes(changes)

    def _compare_changed(self, event) -> None:
        with self._batch():
            self._compare(event)

    def _compare(self, event) -> None:
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
        with self._batch():
            self._write_now()

    def _write_now(self) -> None:
        """Save the what-ifs into the file (comments and layout kept); the watcher reloads it.

        Only if the file is still the one the page's results came from: an editor saving it
        meanwhile (or a half-written file) is never overwritten."""
        snap = self.main
        if snap is None or not snap.whatif or self.error.object:
            return
        why = read_only(self.path)
        if why is not None:
            self.write_button.disabled = True
            self.message.object = cards.problems([Problem(self.path, "", why)], "Nothing was written")
            return
        try:
            added = write(self.path, snap.whatif, expected=snap.file_digest)
        except Changed as exc:  # an editor saved it meanwhile: keep the what-ifs, offer to reload
            self.message.object = cards.problems(
                [
                    Problem(
                        self.path,
                        "",
                        f"{exc} Your what-ifs are kept: press 'reload the file' to see them "
                        "on the file as it is now, then write again.",
                    )
                ],
                "Nothing was written: the file changed",
            )
            self.reload_button.visible = True
            return
        except Exception as exc:  # noqa: BLE001 - say why, keep serving
            self.message.object = cards.problems([Problem(self.path, "", str(exc))], "Could not write the file")
            return
        self.reload_button.visible = False
        note = (
            f"; {', '.join(added)} came from a base file and now {'is' if len(added) == 1 else 'are'} "
            f"set in {self.path.name} itself"
            if added
            else ""
        )
        if self.lane.off:
            note += "; the evidence entries switched off are not written (they are this page's only)"
        self.message.object = (
            f"<div data-testid='write-message'>Wrote {html.escape(', '.join(snap.whatif))} "
            f"to {html.escape(self.path.name)}{html.escape(note)}.</div>"
        )
        self.sliders.clear()
        self.lane.changes = {}
        self.write_button.disabled = self.reset_button.disabled = True

    def _reload(self, event) -> None:
        """Read the file again now (what-ifs kept): after a refused write."""
        with self._batch():
            self.reload_button.visible = False
            self.message.object = ""
        self.lane.watcher.forget()
        self.lane.restart()

    def _reset(self, event) -> None:
        with self._batch():
            self.sliders.clear()
            self.message.object = ""
            self.lane.off = frozenset()  # every evidence entry back on (the restart below takes it)
            self._tick(dict(self.entries.options), list(self.entries.options.values()))
            self._whatif_changed({})
            if self.main is not None:
                assert self.main.file_priors is not None  # main: only a snapshot with a run
                self.sliders.follow(self.main.file_priors, {})


def _nothing(*args, **kwargs) -> None:
    pass


class _Destroyed:
    """A document's session-destroyed callback: cleans its page up once, then forgets it
    (Bokeh keeps the callbacks of a destroyed document's set until the document goes)."""

    def __init__(self, page: Page):
        self.page: Page | None = page

    def __call__(self, session_context) -> None:
        page, self.page = self.page, None
        if page is not None:
            page._destroyed(session_context)


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
    return (
        "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval' blob:; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
        f"connect-src 'self' {ws}; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'self'"
    )


def _local_only(tornado_app, port: int, guard: Guard) -> None:
    """Every response says: load nothing from anywhere but this server (a second guard: should
    Panel or Bokeh ever write a CDN URL again, the browser refuses it instead of fetching it).
    A request that came with the right token in its URL also gets the token as a cookie, so
    the page's own requests (scripts, stylesheets, its websocket) carry it."""
    from tornado.web import OutputTransform

    policy = _policy(port)

    class LocalOnly(OutputTransform):
        def __init__(self, request):
            super().__init__(request)
            self.request = request

        def transform_first_chunk(self, status_code, headers, chunk, finishing):
            headers["Content-Security-Policy"] = policy
            if guard.token_in_url(self.request) and not guard.token_in_cookie(self.request):
                headers.add("Set-Cookie", guard.cookie())
            return status_code, headers, chunk

    tornado_app.transforms.append(LocalOnly)


class Guard:
    """Who may use the page: requests to this server by its own name (Host 127.0.0.1:P or
    localhost:P), not sent from another site's page (Origin and Referer, where given, are
    this server's), with the page's secret token (in the URL, as ``serve`` prints and opens
    it, or in the cookie the page got with it). Anything else gets 403 before Bokeh or Panel
    see it: no session is made, no code of the page runs.

    The token keeps other local users (who can reach 127.0.0.1 too) off the page and its
    "write to file"; the Host check keeps a web page that rebinds its own name to 127.0.0.1
    off; Origin and Referer keep another site's page from making the browser open (and
    compute) sessions here."""

    def __init__(self, port: int, token: str):
        self.port, self.token = port, token
        self.hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}
        self.name = f"aar-risk-token-{port}"  # cookies are shared across ports: one per server

    def cookie(self) -> str:
        return f"{self.name}={self.token}; Path=/; HttpOnly; SameSite=Strict"

    def _same(self, given: str | None) -> bool:
        if not given:
            return False
        return hmac.compare_digest(given.encode("utf-8", "replace"), self.token.encode())

    def token_in_url(self, request) -> bool:
        values = request.query_arguments.get("token") or [b""]
        return self._same(values[-1].decode("utf-8", "replace"))

    def token_in_cookie(self, request) -> bool:
        try:
            morsel = request.cookies.get(self.name)
        except Exception:  # noqa: BLE001 - a malformed Cookie header: no cookie
            return False
        return morsel is not None and self._same(morsel.value)

    def _ours(self, url: str) -> bool:
        from urllib.parse import urlsplit

        try:
            parts = urlsplit(url)
            return parts.scheme in ("http", "ws") and parts.netloc.lower() in self.hosts
        except ValueError:
            return False

    def allows(self, request) -> bool:
        host = request.headers.get("Host", "").lower()
        if host not in self.hosts:
            return False
        origin, referer = request.headers.get("Origin"), request.headers.get("Referer")
        if origin is not None and not self._ours(origin):
            return False
        if referer is not None and not self._ours(referer):
            return False
        return self.token_in_url(request) or self.token_in_cookie(request)


def _guarded(tornado_app, guard: Guard) -> None:
    """Every request (the page, its files, its websocket) is checked by ``guard`` before the
    application routes it: a refused one is answered 403 by :class:`_Refused`."""
    route = tornado_app.find_handler

    def find_handler(request, **kwargs):
        if not guard.allows(request):
            return tornado_app.get_handler_delegate(request, _refused_handler())
        return route(request, **kwargs)

    tornado_app.find_handler = find_handler


def _refused_handler():
    from tornado.web import RequestHandler

    class Refused(RequestHandler):
        def prepare(self):
            self.set_status(403)
            self.set_header("Content-Type", "text/plain; charset=utf-8")
            self.finish("403: open the page at the address aar-risk serve printed (with its token)\n")

    return Refused


#: Loggers that report a browser tab that went away in the middle of an update.
_CLOSED_LOGGERS = (
    "tornado.application",
    "tornado.general",
    "asyncio",
    "bokeh.server.views.ws",
    "bokeh.server.protocol_handler",
    "bokeh.server.session",
    "bokeh.server.tornado",
    "panel.io.document",
)


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
        return not (
            message.startswith("Failed sending message")
            and ("connection was closed" in message or "Stream is closed" in message)
        )


_CLOSED_FILTER = _ClosedConnection()


def quiet_closed_connections() -> None:
    """Install :class:`_ClosedConnection` on the loggers that report closed connections."""
    for name in _CLOSED_LOGGERS:
        logger = logging.getLogger(name)
        if _CLOSED_FILTER not in logger.filters:
            logger.addFilter(_CLOSED_FILTER)


def serve(
    path: Path, port: int | None = None, open_browser: bool = True, ready: Callable[[str], object] | None = None
) -> None:
    """Serve the live page of ``path`` on 127.0.0.1 until the process is stopped.

    ``ready(url)`` is called once the server listens, with the page's address and its token
    (the one address that opens it).
    """
    port = free_port(port)
    origins = [f"127.0.0.1:{port}", f"localhost:{port}"]

    def app() -> pn.viewable.Viewable:  # Panel calls a plain function once per tab
        return page(Path(path))

    quiet_closed_connections()
    token = secrets.token_urlsafe(32)
    guard = Guard(port, token)
    server = pn.serve(
        {"/": app},
        port=port,
        address="127.0.0.1",
        websocket_origin=origins,
        show=False,
        start=False,
        verbose=False,
        title=f"aar-risk live: {Path(path).name}",
        unused_session_lifetime_milliseconds=UNUSED_SESSION_MS,
        check_unused_sessions_milliseconds=CHECK_UNUSED_MS,
    )
    _local_resources(server._tornado, port)
    _local_only(server._tornado, port, guard)
    _guarded(server._tornado, guard)
    url = f"http://127.0.0.1:{port}/?token={token}"
    if ready is not None:
        ready(url)
    if open_browser:
        import webbrowser

        server.io_loop.add_callback(partial(webbrowser.open, url))
    server.start()
    server.io_loop.start()
