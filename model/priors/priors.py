"""The priors package's face: read a priors file with :func:`load` into :class:`Priors`.

The work is done in the modules beside this one (model/priors/load.py and what it uses);
the limits a file must keep are in model/core/limits.py.
"""

from model.core.limits import MAX_BASE_DEPTH, MAX_BYTES, VALUE_LIMIT
from model.priors.beliefs import Prior, Priors
from model.priors.load import load
from model.priors.presets import PRESET_NAME, PRESETS_DIR, preset_path

__all__ = [
    "MAX_BASE_DEPTH",
    "MAX_BYTES",
    "PRESETS_DIR",
    "PRESET_NAME",
    "VALUE_LIMIT",
    "Prior",
    "Priors",
    "load",
    "preset_path",
]
