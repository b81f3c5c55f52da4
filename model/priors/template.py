"""The commented priors template written by ``aar-risk init``."""

from __future__ import annotations

from model.core.variables import VARIABLES
from model.priors.beliefs import Priors


def template(name: str, base: Priors) -> str:
    """A priors file that inherits ``base`` and lists every variable, commented out."""
    lines = [
        f"# {name}: my view of the automated alignment researcher (AAR) plan.",
        "#",
        f"# Every variable is inherited from the default priors ({base.path.name}) until you",
        "# uncomment its line and state your own belief. Families: see README.md,",
        '# "Writing your priors". Run:  aar-risk run ' + f"priors/{name}.toml",
        "",
        "[meta]",
        f'name = "{name}"',
        'description = ""',
        f'base = "{base.path.stem}"',
    ]
    for table, crux in (("cruxes", True), ("parameters", False)):
        lines += ["", f"[{table}]"]
        for v in VARIABLES:
            if v.crux != crux:
                continue
            prior = base.variables[v.name]
            lines += ["", f"# {v.name} ({v.symbol}): {v.meaning}.", f"#   scale: {v.scale}"]
            if prior.unused is not None:  # v3: the override left unset by the default priors
                lines += [
                    f"#   default: not set ({prior.unused})",
                    f'#   to set it instead, write in [{table}]: {v.name} = "2 to 8"',
                ]
            else:
                lines += [f"#   default: {prior.written}", f"# {v.name} = {prior.written}"]
    d = base.decision
    lines += [
        "",
        "# Rank correlations between beliefs (Spearman, Gaussian copula):",
        "# [correlations]",
        '# "capability_needed, relative_difficulty" = 0.3',
        "",
        "# Utilities for the decision 'build the AAR or not' (sensitivity section):",
        "# [decision]",
        f"# value_of_success = {d.value_of_success!r}",
        f"# cost_of_catastrophe = {d.cost_of_catastrophe!r}",
        f"# cost_of_capability_externalities = {d.cost_of_capability_externalities!r}",
        "",
    ]
    return "\n".join(lines)
