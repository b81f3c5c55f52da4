"""The run report's figures drawn in worker processes while the run simulates: one drawing
process that imports matplotlib as soon as it starts, and a helper forked from it once it
has (docs/reports.md, "Child processes and waits")."""

from __future__ import annotations

import os
from types import SimpleNamespace
from typing import TYPE_CHECKING

from model.report.figures import FROM_PRIORS, draw, wanted
from model.report.plotting import new_figure, png

if TYPE_CHECKING:
    from multiprocessing import Process

    from model.montecarlo.engine import Result
    from model.priors.priors import Priors


#: Up to this many worlds (a few seconds), the priors' figures are drawn in worker processes
#: while the simulation runs; a longer run draws them after it, so that its processes never
#: outnumber the cores for long.
DRAW_WHILE_SIMULATING = 10**7

#: Rough CPU seconds of each figure, to share them between two drawing processes.
COST = {
    "priors.png": 0.36,
    "ambition.png": 0.26,
    "amdahl.png": 0.24,
    "horizon.png": 0.18,
    "crux_map.png": 0.14,
    "outcomes.png": 0.1,
    "plan_vs_baseline.png": 0.06,
}


def marginals(priors: Priors) -> SimpleNamespace:
    """What the figures use of the priors (each variable's marginal), in a form that pickles."""
    return SimpleNamespace(
        variables={name: SimpleNamespace(marginal=v.marginal, unused=v.unused) for name, v in priors.variables.items()}
    )


def _draw_some(names, priors, result) -> dict:
    """Some figures as PNG bytes, or the exception that stopped them."""
    try:
        return {name: draw(name, priors, result) for name in names}
    except Exception as e:  # noqa: BLE001 - handed to the parent, which raises it
        return {"": e}


#: Which drawing process draws each figure of the priors while the simulation runs.
_PRIORS_ROLE = {"priors.png": 0, "amdahl.png": 1}


def _warm() -> None:
    """Import matplotlib and draw a small figure (fonts, log-axis mathtext), so that a helper
    forked afterwards shares what that loads."""
    fig = new_figure(figsize=(1, 1))
    ax = fig.subplots()
    ax.set_title("warm")
    ax.set_xscale("logit")
    ax.set_yscale("log")
    ax.set_ylim(1, 1000)
    png(fig)


def _draw_loop(conn, role: int, processes: int, taken, parent: int) -> dict:
    """Draw this process's figures as the priors, then the result, come through ``conn``;
    return them as PNG bytes. The result's figures are taken one at a time, the costliest
    first, from a counter shared with the other drawing process (``taken``), so that
    whichever is free draws the next. Every wait watches ``parent`` (it raises
    :class:`~model.montecarlo.workers.ChildDied` once the parent is gone)."""
    from model.montecarlo import workers

    def alive() -> bool:
        return workers.parent_alive(parent)

    pngs: dict = {}
    priors = None
    while True:
        kind, payload = workers.receive(conn, alive=alive)
        if kind == "priors":
            priors = payload
            pngs.update(_draw_some([n for n in FROM_PRIORS if _PRIORS_ROLE[n] % processes == role], priors, None))
            continue
        given, result = payload
        if given is not None:  # a long run: the priors' figures come with the result's
            priors = given
        todo = sorted(
            (n for n in wanted(result) if given is not None or n not in FROM_PRIORS), key=lambda n: -COST.get(n, 0.2)
        )
        while True:
            k = _take(taken, alive)
            if k >= len(todo):
                return pngs
            pngs.update(_draw_some([todo[k]], priors, result))


def _take(taken, alive) -> int:
    """The next figure's number from the shared counter (its lock waited for in steps)."""
    from model.montecarlo import workers

    lock = taken.get_lock()
    while not lock.acquire(timeout=workers.STEP):
        if not alive():
            raise workers.ChildDied("the parent process is gone")
    try:
        k = taken.value
        taken.value += 1
    finally:
        lock.release()
    return k


def _helper(conn, parent: int, taken) -> None:
    """The drawing process's helper, forked once matplotlib is imported."""
    from model.montecarlo import workers

    try:
        conn.send(_draw_loop(conn, 1, 2, taken, parent))
    except workers.ChildDied:
        return
    conn.close()


def _drawer(conn, helper_conn, parent: int, taken) -> None:
    """The drawing process of :class:`Drawing`: imports matplotlib at once, forks its helper
    (which talks to the parent through ``helper_conn``), and draws its own share."""
    from model.montecarlo import workers

    _warm()  # import matplotlib while the parent simulates
    helper = None
    if helper_conn is not None:
        helper = workers.start(_helper, (helper_conn, os.getpid(), taken), name="aar-drawing-helper")
        helper_conn.close()
    try:
        conn.send(_draw_loop(conn, 0, 2 if helper else 1, taken, parent))
    except workers.ChildDied:
        return
    conn.close()
    while helper is not None and helper.exitcode is None and workers.parent_alive(parent):
        helper.join(workers.STEP)  # until it has sent its share (else leaving would kill it)


class Drawing:
    """The figures of one run, drawn in a worker process that imports matplotlib as soon as
    it starts, and a helper forked from it: those of the priors once given (:meth:`start`,
    with ``now``: while the simulation runs), those of the result once it is in
    (:meth:`finish`), each taken by whichever process is free.

    Start it once the inputs are checked, so that the import overlaps the simulation. Use
    as a context manager: leaving it (Ctrl-C included) stops the processes within a second
    (:func:`model.montecarlo.workers.stop`). Each draws whole figures with matplotlib's
    object-oriented API, so the PNGs are byte-identical to :func:`render_all`'s.
    """

    def __init__(self, priors: Priors | None = None, now: bool = True, processes: int | None = None):
        from model.montecarlo import workers

        self._processes = processes or min(2, workers.usable_cores())
        self._process: Process | None = None
        self._conns: list = []
        self._priors_sent = False
        if now:
            self._launch()
        if priors is not None:
            self.start(priors, now)

    def _launch(self) -> None:
        from model.montecarlo import workers

        ctx = workers.context()
        pipes = [ctx.Pipe() for _ in range(2 if self._processes > 1 and ctx.get_start_method() == "fork" else 1)]
        self._conns = [mine for mine, _ in pipes]
        theirs = [t for _, t in pipes]
        self._process = workers.start(
            _drawer,
            (theirs[0], theirs[1] if len(theirs) > 1 else None, os.getpid(), ctx.Value("i", 0)),
            name="aar-drawing",
            daemon=False,
        )
        for t in theirs:
            t.close()

    def _send(self, message) -> None:
        # the helper first: a send waits until the other side reads, and the drawing process
        # draws the costlier figure of the priors
        from model.montecarlo import workers

        for conn in reversed(self._conns):
            try:
                conn.send(message)
            except OSError:  # a broken pipe: every reader is gone
                code = None if self._process is None else self._process.exitcode
                raise workers.ChildDied(f"the figure-drawing process stopped unexpectedly (exit code {code})") from None

    def start(self, priors: Priors, now: bool = True) -> None:
        """Give the priors; with ``now`` their figures are drawn at once, else with the result's."""
        self._priors = priors
        if now:
            if self._process is None:
                self._launch()
            self._send(("priors", marginals(priors)))
            self._priors_sent = True

    def finish(self, result: Result) -> dict[str, bytes]:
        """Every figure as PNG bytes, keyed by file name, in the order of :func:`wanted`."""
        if self._process is None:  # not started with the simulation: start now
            self._launch()
        assert self._process is not None  # set by _launch
        self._send(("result", (None if self._priors_sent else marginals(self._priors), result)))
        from model.montecarlo import workers

        pngs: dict = {}
        for conn in self._conns:
            try:
                pngs.update(workers.receive(conn, watch=[self._process]))
            except workers.ChildDied as exc:
                raise workers.ChildDied(f"the figure-drawing process stopped unexpectedly ({exc})") from None
        if "" in pngs:
            raise pngs[""]
        return {name: pngs[name] for name in wanted(result)}

    def __enter__(self) -> Drawing:
        return self

    def __exit__(self, *exc) -> None:
        from model.montecarlo import workers

        if self._process is None:
            return
        workers.stop(self._process)
        for conn in self._conns:
            conn.close()
        self._process = None
