from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"

#: A world that sits in the middle of every range, for closed-form checks.
MIDDLE_WORLD = {
    "capability_needed": 0.9, "relative_difficulty": 0.7, "alignment_difficulty": 6.0,
    "technique_strength": 4.5, "loop_hazard": 0.2, "hazard_growth": 1.2,
    "danger_threshold": 1.1, "containment": 0.4, "automation_fraction": 0.95,
    "field_years": 12.0, "years_to_build": 3.0, "years_to_agi": 9.0, "skill_overlap": 0.5,
    "leakage": 0.3, "timing_noise": 0.6, "sharpness": 0.5,
}


@pytest.fixture
def rng():
    return np.random.default_rng(20230801)


def write_priors(folder: Path, name: str, values: dict, extra: str = "") -> Path:
    """A complete priors file (no base) with ``values`` as point priors or TOML strings."""
    from model.core.variables import CRUXES

    def line(k, v):
        return f"{k} = {v}" if isinstance(v, str) else f"{k} = {float(v)!r}"

    body = ["[meta]", f'name = "{name}"', "", "[cruxes]"]
    body += [line(k, v) for k, v in values.items() if k in CRUXES]
    body += ["", "[parameters]"]
    body += [line(k, v) for k, v in values.items() if k not in CRUXES]
    path = folder / f"{name}.toml"
    path.write_text("\n".join(body) + "\n" + extra)
    return path


# Property tests draw the same examples on every run, so CI is reproducible.
from hypothesis import settings as _settings  # noqa: E402

_settings.register_profile("repro", derandomize=True, deadline=None)
_settings.load_profile("repro")


def chromium() -> str:
    """Debian's chromium for Playwright: skipped where it is missing, unless AAR_REQUIRE_BROWSER
    is set (as .ci/run sets it), then a failure."""
    import os
    import shutil

    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        if os.environ.get("AAR_REQUIRE_BROWSER"):
            pytest.fail("chromium is required (AAR_REQUIRE_BROWSER is set) but not installed")
        pytest.skip("chromium not installed")
    pytest.importorskip("playwright")
    return exe
