"""One what-if control per variable: its 5th and 95th percentiles (or a point's value), its density.

A slider follows the file until the user moves it; from then on it is a what-if until
"write to file" or "reset".
"""

from __future__ import annotations

import contextlib
import html
import math
from collections.abc import Callable, Iterable
from functools import partial

import panel as pn

from model.core.variables import BY_NAME, NAMES
from model.priors.priors import Prior, Priors
from model.serve import charts, whatif
from model.serve.whatif import Change, interval

#: Hard limits of a slider by the variable's support.
_LIMITS = {"probability": (0.0, 1.0), "positive": (0.0, None), "nonnegative": (0.0, None), "real": (None, None)}


def _bounds(value: Change, support: str) -> tuple[float, float]:
    """A slider's soft range around ``value``: wide enough to move either end a long way."""
    lo, hi = value if isinstance(value, tuple) else (value, value)
    width = max(hi - lo, abs(hi) * 0.5, 1e-9)
    start, end = lo - width, hi + width
    floor, ceiling = _LIMITS[support]
    if floor is not None:
        start = max(start, floor)
    if ceiling is not None:
        end = min(end, ceiling)
    return start, end


def _widget(name: str, value: Change) -> pn.widgets.Widget:
    """The control: dragged within the variable's limits (a probability's within [0, 1]); a typed
    value is not held back by the browser (Panel's ``fixed_start``/``fixed_end`` left a refused
    number in the box, silently) but checked by :meth:`Sliders._moved`, which says why it refuses."""
    support = BY_NAME[name].support
    start, end = _bounds(value, support)
    step = (end - start) / 400 if end > start else 0.001
    common = dict(
        label="5th – 95th percentile" if isinstance(value, tuple) else "value",
        start=start,
        end=end,
        step=step,
        format="0.[00000]",
        sizing_mode="stretch_width",
    )
    if isinstance(value, tuple):
        return pn.widgets.EditableRangeSlider(value=value, **common)
    return pn.widgets.EditableFloatSlider(value=value, **common)


def _ignore(changes) -> None:
    pass


def _release(widget: pn.widgets.Widget, watcher) -> None:
    """Let ``widget`` (replaced, or of a closed tab) be freed.

    Panel's editable sliders link their text inputs to their slider with ``jscallback``,
    which files a ``panel.links.Callback`` under the input in the process-wide
    ``Callback.registry`` (a WeakKeyDictionary); the callback holds the slider, whose
    watcher holds the editable widget, which holds the input: the weak key is kept alive
    by its own value, so no editable slider was ever freed, nor (through our watcher) the
    whole page of its tab: about 6 MB per page load and per saved interval. Here: our
    watcher is removed, and the widget and all its parts leave the registry."""
    from panel.links import Callback

    if watcher is not None:
        with contextlib.suppress(Exception):  # already gone
            widget.param.unwatch(watcher)
    composite = getattr(widget, "_composite", None)
    parts = [widget, *(composite.select() if composite is not None else ())]
    parts += [
        getattr(widget, a)
        for a in ("_slider", "_value_edit", "_start_edit", "_end_edit")
        if getattr(widget, a, None) is not None
    ]
    for part in parts:
        with contextlib.suppress(TypeError):  # not weakly referenceable: never a key
            Callback.registry.pop(part, None)


def _same(a: Change, b: Change) -> bool:
    pairs: Iterable[tuple[float, float]]
    if isinstance(a, tuple) and isinstance(b, tuple):
        pairs = zip(a, b, strict=False)
    elif not isinstance(a, tuple) and not isinstance(b, tuple):
        pairs = [(a, b)]
    else:
        return False
    return all(math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-12) for x, y in pairs)


def _about(prior: Prior, changed: bool) -> str:
    v = BY_NAME[prior.name]
    written = html.escape(prior.written if len(prior.written) < 140 else prior.written[:137] + "…")
    mark = " <b style='color:#e76f51'>what-if</b>" if changed else ""
    return (
        f"<div style='font-size:13px'><b>{v.name}</b> ({html.escape(v.symbol)}){mark}: {html.escape(v.meaning)}"
        f"<br><span style='color:#666;font-size:11px'>{html.escape(v.scale)}; file: "
        f"<code>{written}</code> from {html.escape(prior.origin.name)}</span></div>"
    )


def _note(text: str, refused: bool = False) -> str:
    """A message beside a control (``data-testid="whatif-note"``, ``data-refused``)."""
    color = "#b00020" if refused else "#555"
    return (
        f'<div data-testid="whatif-note" data-refused="{str(refused).lower()}" '
        f'style="color:{color};font-size:12px">{html.escape(text)}</div>'
    )


class Sliders:
    """Every variable's control and density; ``on_change(changes)`` gets the what-ifs."""

    def __init__(self, on_change: Callable[[dict[str, Change]], None]):
        self.on_change = on_change
        self.changes: dict[str, Change] = {}
        self.widgets: dict[str, pn.widgets.Widget] = {}
        self.about = {n: pn.pane.HTML("", sizing_mode="stretch_width") for n in NAMES}
        self.charts = {n: pn.pane.HTML("", sizing_mode="stretch_width") for n in NAMES}
        #: beside each control: why a typed value was refused, or what a what-if became
        self.notes = {n: pn.pane.HTML("", sizing_mode="stretch_width", margin=(0, 5)) for n in NAMES}
        self.file_priors: Priors | None = None
        self.boxes = {
            n: pn.Column(
                self.about[n],
                self.charts[n],
                width=400,
                styles={"border": "1px solid #eee", "padding": "4px"},
                css_classes=[f"aar-variable-{n}"],
            )
            for n in NAMES
        }
        self._syncing = False
        self._watchers: dict[str, object] = {}

    def view(self) -> pn.layout.FlexBox:
        return pn.FlexBox(*self.boxes.values(), sizing_mode="stretch_width")

    def clear(self) -> None:
        self.changes = {}
        for note in self.notes.values():
            note.object = ""

    def follow(self, priors: Priors, whatif) -> None:
        """Show the file's values on every slider the user has not moved."""
        self._syncing = True
        self.file_priors = priors
        try:
            for name in NAMES:
                prior = priors.variables[name]
                # v3: build_lag or years_to_build, whichever T_b does not use, has no slider
                self.boxes[name].visible = prior.unused is None
                if prior.unused is not None:
                    continue
                value = self.changes.get(name, interval(prior))
                self._set(name, value)
                self.about[name].object = _about(prior, name in self.changes)
        finally:
            self._syncing = False

    def _set(self, name: str, value: Change) -> None:
        w = self.widgets.get(name)
        if w is not None and isinstance(w.value, tuple) == isinstance(value, tuple) and _same(w.value, value):
            return
        # a new widget, never a moved one: the browser's range slider keeps its handles in order
        # while it applies a new value, and would send back a mix of old and new ends (e.g. the
        # old upper end as the new lower one), which would read as the user's what-if
        w = _widget(name, value)
        watcher = w.param.watch(partial(self._moved, name), "value")
        old = self.widgets.get(name)
        if old is not None:
            _release(old, self._watchers.get(name))
        # the box's children replaced in one change (they were popped, then appended: two
        # changes, the first leaving the box without a slider and Panel's link processing
        # run on it in between)
        self.boxes[name].objects = [self.about[name], self.charts[name], w, self.notes[name]]
        self.widgets[name], self._watchers[name] = w, watcher

    def release(self) -> None:
        """The tab is gone: every slider unwatched and out of Panel's registry (see :func:`_release`)."""
        for name, w in self.widgets.items():
            _release(w, self._watchers.get(name))
        self.widgets, self._watchers = {}, {}
        self.on_change = _ignore

    def _moved(self, name: str, event) -> None:
        if self._syncing:
            return
        new = event.new  # a range slider's two ends, or a value
        value: Change = (float(new[0]), float(new[1])) if isinstance(new, tuple) else float(new)
        priors = self.file_priors
        why, note = whatif.check(priors, name, value) if priors is not None else (None, "")
        if why is not None:  # refused: said beside the control, which shows the values in force again
            self.notes[name].object = _note(why, refused=True)
            assert priors is not None  # a refusal needs the priors
            self._set(name, self.changes.get(name, interval(priors.variables[name])))
            return
        self.notes[name].object = _note(note) if note else ""
        self.changes[name] = value
        self.on_change(dict(self.changes))

    def densities(self, priors: Priors, other: Priors | None, file_priors: Priors | None = None) -> None:
        """Each prior's density: the file's, the what-if's (where one is set), the compared file's."""
        for name in NAMES:
            if priors.variables[name].unused is not None:
                continue
            self.charts[name].object = charts.density_svg(
                (file_priors or priors).variables[name],
                priors.variables[name] if name in self.changes else None,
                other.variables[name] if other is not None else None,
            )
