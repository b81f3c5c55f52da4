"""aar-cruxes: personal priors on the cruxes of the automated alignment researcher plan,
turned into calibrated probabilities of its four outcomes.

Kept free of heavy imports so that ``aar-risk --help`` answers at once.
"""

__version__ = "0.1.0"
