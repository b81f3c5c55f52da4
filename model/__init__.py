"""aar-cruxes: personal priors on the cruxes of the automated alignment researcher plan,
turned into calibrated probabilities of its four outcomes.

The Python API (docs/api.md)::

    import model
    run = model.simulate(model.load_priors("priors/author.toml"), samples=200_000, seed=1)
    run.summary()                      # summary.json, as `aar-risk run` writes it

``import model`` is light: the API loads on first use, and PyMC, PyTensor, ArviZ,
matplotlib and SALib only in the functions that need them.
"""

from model.core.version import __version__

_API = (
    "load_priors",
    "simulate",
    "report_run",
    "sensitivity",
    "calibrate",
    "compare",
    "survey_cruxes",
    "cruxes",
    "Run",
    "RunReport",
    "Sensitivity",
    "Calibration",
    "Comparison",
    "SurveyCruxes",
    "PeopleCruxes",
    "OUTCOMES",
    "Progress",
)
__all__ = ["__version__", "PriorsError", "SurveyError", *_API]


def __getattr__(name: str):
    if name in _API:
        from model import api

        return getattr(api, name)
    if name in ("PriorsError", "SurveyError"):
        from model.core import errors

        return getattr(errors, name)
    raise AttributeError(f"module 'model' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
