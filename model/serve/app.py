"""The live page (Panel/Bokeh): one :class:`Page` per browser tab, all served by :func:`serve`.

Panel ships its JavaScript and Bokeh's inside the Python packages; the server hands them
out itself, so the page needs no network beyond 127.0.0.1.
"""

from __future__ import annotations

import html
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
    from model.spec.priors import PRESETS_DIR

    found, seen = {"(nothing)": ""}, {path.resolve()}
    for folder, tag in ((PRESETS_DIR, "preset"), (path.parent, "beside it")):
        for f in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
            if f.resolve() not in seen:
                seen.add(f.resolve())
                found[f"{f.name} ({tag})"] = str(f)
    return found


class Page:
    """What one browser tab shows of the followed file, and its what-ifs."""

    def __init__(self, path: Path):
        self.path = path
        self.doc = pn.state.curdoc
        self.main: Snapshot | None = None  # the last good result
        self.other: Snapshot | None = None
        self._pending: dict[str, Snapshot] = {}
        self.lane = Lane(path, partial(self._later, "main"))
        self.other_lane: Lane | None = None
        self._build()

    def _later(self, which: str, snap: Snapshot) -> None:
        """From a worker thread: show ``snap`` on the page's own thread (only the newest of
        those that arrived meanwhile, so a quick estimate never overwrites a refined one)."""
        self._pending[which] = snap
        try:
            self.doc.add_next_tick_callback(partial(self._flush, which))
        except Exception:  # noqa: BLE001 - the tab was closed meanwhile: nobody to show it to
            self._stop()

    def _flush(self, which: str) -> None:
        snap = self._pending.pop(which, None)
        if snap is not None:
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
        self._poll()

    def _poll(self) -> None:
        self.lane.poll()
        if self.other_lane is not None:
            self.other_lane.poll()

    def _stop(self) -> None:
        self.lane.stop()
        if self.other_lane is not None:
            self.other_lane.stop()

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
        self.status.object = cards.status(run, snap.refined, self.path, note)
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
        self.other, self.other_lane, self.message.object = None, None, ""
        if event.new:
            self.other_lane = Lane(Path(event.new), partial(self._later, "other"))
            self.other_lane.poll()
        else:
            self._render()

    def _write(self, event) -> None:
        """Save the what-ifs into the file (comments and layout kept); the watcher reloads it."""
        snap = self.main
        if snap is None or not snap.whatif or self.error.object:
            return
        try:
            added = write(self.path, snap.whatif)
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


def page(path: Path) -> pn.viewable.Viewable:
    """A new tab's page."""
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


def serve(path: Path, port: int | None = None, open_browser: bool = True,
          ready: "callable | None" = None) -> None:
    """Serve the live page of ``path`` on 127.0.0.1 until the process is stopped.

    ``ready(url)`` is called once the server listens.
    """
    port = free_port(port)
    origins = [f"127.0.0.1:{port}", f"localhost:{port}"]
    def app() -> pn.viewable.Viewable:  # Panel calls a plain function once per tab
        return page(Path(path))

    server = pn.serve({"/": app}, port=port, address="127.0.0.1",
                      websocket_origin=origins, show=False, start=False, verbose=False,
                      title=f"aar-risk live: {Path(path).name}")
    url = f"http://127.0.0.1:{port}/"
    if ready is not None:
        ready(url)
    if open_browser:
        import webbrowser

        server.io_loop.add_callback(partial(webbrowser.open, url))
    server.start()
    server.io_loop.start()
