"""Running many pure tasks ``fn(shared, *args)``: inline, on the project's worker processes
(:class:`model.montecarlo.workers.Pool`), or on a Dask cluster (``dask.distributed``, an
optional extra, imported only when a scheduler is given).

The results come back in the order of the tasks whatever ran them, so a caller that
combines them in that order gets the same bits everywhere.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from model.montecarlo import workers as procs

#: The function and shared data of a worker process, set once by ``_init``.
_SHARED: tuple[Callable, Any] | None = None


def _init(fn: Callable, shared: Any) -> None:
    global _SHARED
    _SHARED = (fn, shared)


def _call(*args: Any) -> Any:
    assert _SHARED is not None, "the worker was started without _init"
    fn, shared = _SHARED
    return fn(shared, *args)


def run_tasks(
    fn: Callable,
    shared: Any,
    tasks: Sequence[tuple],
    workers: int | None = None,
    scheduler: Any = None,
    progress: Callable[[int], None] | None = None,
) -> list:
    """``[fn(shared, *t) for t in tasks]``, in that order.

    ``scheduler``: a Dask scheduler's address (``tcp://host:8786``) or a
    ``distributed.Client``; ``shared`` is then scattered to every worker once. Otherwise
    ``workers`` processes (default: the usable cores; 1 runs inline)."""
    if scheduler is not None:
        return _on_dask(fn, shared, tasks, scheduler, progress)
    n = procs.usable_cores() if workers is None else max(1, int(workers))
    n = min(n, len(tasks))
    out = []
    if n <= 1:
        for t in tasks:
            out.append(fn(shared, *t))
            if progress is not None:
                progress(len(out))
        return out
    with procs.Pool(n, _call, _init, (fn, shared)) as pool:
        for r in pool.results(tasks, window=2 * n):
            out.append(r)
            if progress is not None:
                progress(len(out))
    return out


def _on_dask(fn: Callable, shared: Any, tasks: Sequence[tuple], scheduler: Any, progress) -> list:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise RuntimeError(
            "--scheduler needs dask.distributed: pip install 'aar-cruxes[dask]' (or 'dask[distributed]')"
        ) from None
    own = not isinstance(scheduler, Client)
    client = Client(scheduler) if own else scheduler
    try:
        data = client.scatter(shared, broadcast=True)
        futures = [client.submit(fn, data, *t, pure=False) for t in tasks]
        for done, _ in enumerate(as_completed(futures), start=1):
            if progress is not None:
                progress(done)
        return client.gather(futures)
    finally:
        if own:
            client.close()
