"""Comparing views: why two people's forecasts differ, and their crux maps side by side.

- :mod:`.players`: the differences between two files (the players) and which files compare;
- :mod:`.tracing`: the outcome equations traced into a graph of array operations;
- :mod:`.coalitions`: each hybrid view's outcome sums on common random numbers;
- :mod:`.shapley`: the attribution (exact or over sampled orderings);
- :mod:`.maps`: every view's crux map on common cells.
"""

from model.analyses.compare.maps import CruxMaps, common_edges, crux_maps
from model.analyses.compare.players import (
    COMPARED,
    CORRELATIONS,
    SETTINGS,
    check_comparable,
    players,
)
from model.analyses.compare.shapley import ORDERINGS, SAMPLES, Attribution, attribute

__all__ = [
    "COMPARED",
    "CORRELATIONS",
    "ORDERINGS",
    "SAMPLES",
    "SETTINGS",
    "Attribution",
    "CruxMaps",
    "attribute",
    "check_comparable",
    "common_edges",
    "crux_maps",
    "players",
]
