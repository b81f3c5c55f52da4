"""Every limit on what a user may ask for, in one table: name, value, and why.

Priors files, the API and the command line all check against these; change one here
and every check (and every message that quotes it) changes with it.
"""

from __future__ import annotations

# -- a run ------------------------------------------------------------------------------
#: Most worlds a run may ask for (10^11 take about a day on a laptop).
MAX_SAMPLES = 10**11
#: Largest seed: NumPy's SeedSequence takes any whole number, the priors file's an int64.
MAX_SEED = 2**63 - 1
#: Fewest NUTS draws per chain: fewer cannot pass ArviZ's convergence checks.
MIN_DRAWS = 100
#: Fewest worlds for the sensitivity section: fewer leave the given-data indices' bias correction
#: larger than the signal (at n <= BINS it divides by zero); 100 worlds in each of the 40 bins of
#: a variable's prior (BINS in model/montecarlo/binned.py).
MIN_SENSITIVITY_SAMPLES = 4_000

# -- a priors file ----------------------------------------------------------------------
#: Largest priors file read (a priors file is a few kilobytes).
MAX_BYTES = 1_000_000
#: Deepest nesting of arrays and inline tables (a mixture needs 4).
MAX_NESTING = 50
#: Most parts of one dotted key or table header (a priors file needs 3, as in
#: ``containment.dist`` under [parameters]): tomllib takes time quadratic in a dotted key's parts.
MAX_KEY_PARTS = 10
#: Most mixture components in a file with its bases, all mixtures together. Each process that
#: samples a mixture first tabulates its quantile by root finding over every component's CDF
#: (about 12 ms per beta component, 1 ms per normal one): 50 keep that, and the run-time note's
#: trial, under a second, and are far beyond the beliefs people write (the presets use 2).
MAX_COMPONENTS = 50
#: Longest chain of base files (a file, its base, that file's base, ...).
MAX_BASE_DEPTH = 32
#: Longest ``base`` path, in characters (a path of 400 is already past any sensible layout).
MAX_BASE_CHARS = 400
#: Longest ``[meta] name``: names become folder names and titles.
MAX_NAME = 200
#: Largest magnitude of a utility, horizon or trust (beyond it sums overflow).
MAX_SETTING = 1e100
#: Every variable's values must lie within ±VALUE_LIMIT, and those the model divides by (DIVISORS)
#: above POSITIVE_FLOOR, so that no product or quotient in the model overflows.
VALUE_LIMIT = 1e100
POSITIVE_FLOOR = 1e-100
#: Smallest probability mass a truncation may keep.
MIN_KEPT_MASS = 1e-9
#: Most evidence entries a priors file may apply, with its bases and included files together.
MAX_EVIDENCE = 64
#: Most evidence files one priors file may list in ``[meta] evidence``.
MAX_EVIDENCE_FILES = 16
#: Largest ``strength`` of an evidence entry (an exponent on its likelihood).
MAX_STRENGTH = 100.0
