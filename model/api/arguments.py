"""The API's arguments, checked as the command line checks them: whole numbers in their
ranges (numpy's integers count, bools and silent truncation do not) and the worker count."""

from __future__ import annotations

import json
import math
import numbers
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, SupportsInt, cast

if TYPE_CHECKING:
    from model.analyses.calibration.methods import Market
    from model.priors.priors import Priors


def count(value: Any, name: str, least: int, most: int | None = None, default: int | None = None) -> int:
    """An integer argument, checked as the command line checks it (no silent truncation)."""
    if value is None and default is not None:
        return default
    # numpy's integers and floats count (np.int64(1000) is a whole number); bools do not. The cast:
    # typeshed's numbers.Real declares no __int__, but Python's and numpy's numbers have it.
    if (
        isinstance(value, bool)
        or type(value).__name__ == "bool_"
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value != (whole := int(cast(SupportsInt, value)))
    ):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    value = whole
    if value < least or (most is not None and value > most):
        raise ValueError(f"{name} must be in [{least}, {most if most is not None else '∞'}], got {value}")
    return value


def checked_workers(value: Any) -> int | None:
    """Worker processes: None (all usable cores) or a whole number ≥ 1, capped at the usable
    cores (as ``--workers`` is; results do not depend on it)."""
    if value is None:
        return None
    from model.montecarlo.workers import usable_cores

    return min(count(value, "workers", 1), usable_cores())


def plain(data: Any) -> Any:
    """``data`` as JSON reads it back (tuples as lists, keys as strings): what the files hold."""
    return json.loads(json.dumps(data))


def tell(
    progress: Callable[[str, int, int | None], None] | None, label: str, total: int
) -> Callable[[int], None] | None:
    """The engine's ``progress(done)`` as a call of the API's ``progress(label, done, total)``."""
    return None if progress is None else (lambda done: progress(label, done, total))


def calibration_methods(view: Priors, methods: tuple[str, ...] | str) -> tuple[str, ...]:
    """The calibration methods asked for, in their order (an already calibrated file is refused)."""
    from model.analyses.calibration.pipeline import METHODS

    if view.calibration.apply is not None:
        raise ValueError(f"{view.path} is already calibrated; calibrate the file it inherits from")
    methods = (methods,) if isinstance(methods, str) else tuple(methods)
    if not methods or set(methods) - set(METHODS):
        raise ValueError(f"methods must be one or more of {METHODS}, got {methods}")
    return tuple(m for m in METHODS if m in methods)


def checked_market(view: Priors, target: float | None, horizon: float | None, trust: float | None) -> Market:
    """The market, checked as the command line checks it: 0 < target < 1, horizon > 0, 0 ≤ trust ≤ 1e6."""
    from model.analyses.calibration.methods import Market

    market = Market.from_priors(view, target, horizon, trust)
    for name, value, ok in (
        ("target", market.target, 0 < market.target < 1),
        ("horizon", market.horizon, 0 < market.horizon < math.inf),
        ("trust", market.trust, 0 <= market.trust <= 1e6),
    ):
        if not ok:  # NaN fails every comparison
            raise ValueError(
                f"{name} = {value!r} is outside its range (0 < target < 1, horizon > 0, 0 <= trust <= 1e6)"
            )
    return market
