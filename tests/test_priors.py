"""The priors format (MODEL.md §4): presets, inheritance, and one fixture per bad input."""

from __future__ import annotations

import math

import pytest

from model.core.copula import correlated, pearson_matrix
from model.core.errors import PriorsError
from model.core.variables import CRUXES, NAMES
from model.priors.priors import load

from .conftest import FIXTURES, MIDDLE_WORLD, ROOT, write_priors

PRESETS = ["author", "openai", "pessimist"]


@pytest.mark.parametrize("name", PRESETS)
def test_presets_load_completely(name):
    p = load(ROOT / "priors" / f"{name}.toml")
    assert tuple(p.variables) == NAMES
    assert p.calibration.target == 0.14 and p.calibration.horizon_years == 4


def test_author_cites_a_source_for_every_value():
    p = load(ROOT / "priors" / "author.toml")
    assert all(p.variables[n].source for n in NAMES)


def test_inheritance_from_base():
    author, openai = load(ROOT / "priors/author.toml"), load(ROOT / "priors/openai.toml")
    assert openai.inherited("field_years") and not openai.inherited("capability_needed")
    assert openai.variables["field_years"].marginal == author.variables["field_years"].marginal
    assert openai.variables["capability_needed"].marginal != author.variables["capability_needed"].marginal
    pair = ("capability_needed", "automation_fraction")  # the one correlation openai sets itself
    assert openai.correlations[pair] < author.correlations[pair]
    assert {k: v for k, v in openai.correlations.items() if k != pair} == {
        k: v for k, v in author.correlations.items() if k != pair
    }
    assert openai.simulation == author.simulation


@pytest.mark.parametrize("name", ["author", "openai", "pessimist"])
def test_presets_couple_automation_to_capability_and_difficulty(name):
    """v2: C is the capability at which the AAR reaches p; more automation is harder to align."""
    p = load(ROOT / f"priors/{name}.toml")
    assert p.correlations[("capability_needed", "automation_fraction")] > 0
    assert p.correlations[("relative_difficulty", "automation_fraction")] > 0


def test_pessimist_says_no_easier():
    p = load(ROOT / "priors/pessimist.toml")
    r = p.variables["relative_difficulty"].marginal
    assert r.ppf(0.5) >= 1.0 and r.support[0] == 0.9


def test_copula_uses_the_sine_conversion():
    p = load(ROOT / "priors/author.toml")
    names = correlated(NAMES, p.correlations)
    m = pearson_matrix(names, p.correlations)
    i, j = names.index("relative_difficulty"), names.index("automation_fraction")
    assert m[i, j] == pytest.approx(2 * math.sin(math.pi * 0.4 / 6))


def test_base_by_relative_path(tmp_path):
    (tmp_path / "mine.toml").write_text(
        f'[meta]\nbase = "{(ROOT / "priors/author.toml").as_posix()}"\n[parameters]\ncontainment = 0.9\n'
    )
    p = load(tmp_path / "mine.toml")
    assert p.variables["containment"].marginal.value == 0.9
    assert p.name == "mine"


def test_point_priors_without_base(tmp_path):
    p = load(write_priors(tmp_path, "points", MIDDLE_WORLD))
    assert all(p.variables[n].marginal.family == "point" for n in NAMES)
    assert set(CRUXES) <= set(p.variables)


# fixture file -> (key named in the message, what the message says)
BAD = {
    "syntax": ("", "TOML syntax error"),
    "unknown_table": ("paramters", 'did you mean "parameters"'),
    "unknown_family_key": ("parameters.hazard_growth.sdd", "unknown key"),
    "unknown_meta_key": ("meta.nam", "unknown key"),
    "unknown_variable": ("cruxes.capability_neded", 'did you mean "capability_needed"'),
    "wrong_table": ("cruxes.containment", "belongs in [parameters]"),
    "missing_variables": ("", "missing variables: alignment_difficulty"),
    "sd_nonpositive": ("parameters.hazard_growth.sd", "greater than 0"),
    "to_reversed": ("cruxes.capability_needed", "first value below its second"),
    "bad_string": ("cruxes.capability_needed", 'expected "a to b"'),
    "ci90_reversed": ("parameters.field_years", "first value below its second"),
    "support": ("parameters.containment", "must lie in [0, 1]"),
    "nan": ("parameters.hazard_growth.mean", "finite number"),
    "infinity": ("parameters.field_years", "finite number"),
    "wrong_type": ("parameters.hazard_growth.sd", "expected a number (got '1')"),
    "bool_value": ("parameters.containment", "got bool True"),
    "correlation_range": ('correlations."capability_needed, danger_threshold"', "[-1, 1]"),
    "correlation_unknown": ('correlations."capability_needed, danger_treshold"', 'did you mean "danger_threshold"'),
    "correlation_not_pd": ("correlations", "positive definite"),
    "weights": ("cruxes.capability_needed", "weights must sum to 1"),
    "automation_one": ("parameters.automation_fraction", "cannot be exactly 1"),
    "unknown_dist": ("parameters.field_years.dist", 'did you mean "lognormal"'),
    "two_forms": ("parameters.hazard_growth", "give exactly one of: mean + sd or ci90"),
    "truncation_bounds": ("parameters.hazard_growth", "must be below upper"),
    "truncation_no_mass": ("parameters.hazard_growth", "keeps no probability mass"),
    "pert_order": ("parameters.alignment_difficulty", "min <= mode <= max"),
    "beta_outside": ("parameters.leakage", "inside (0, 1)"),
    "base_missing": ("meta.base", 'base "no_such_preset" not found'),
    "cycle_a": ("meta.base", "form a cycle"),
    "samples": ("simulation.samples", "must be at least 1"),
    "calibration_target": ("calibration.target", "less than 1"),
    "decision_negative": ("decision.cost_of_catastrophe", "must be at least 0"),
    # hostile files (tests/test_hostile_priors.py tries many more of each kind)
    "point_truncated": ("parameters.containment", "point value cannot be truncated"),
    "duplicate_key": ("parameters.containment", "set twice: first at line 6, again at line 8"),
    "duplicate_table": ("parameters", "declared twice: first at line 5, again at line 8"),
    "base_traversal": ("meta.base", "neither a preset name"),
    "beta_too_narrow": ("parameters.leakage", "too narrow for a beta"),
    "value_too_large": ("parameters.field_years", "values must lie within"),
    "name_control": ("meta.name", "one line"),
    "samples_too_many": ("simulation.samples", "at most 100,000,000,000 worlds"),
    "seed_too_large": ("simulation.seed", "2**63 - 1"),
    "nesting": ("parameters.containment", "nested too deeply"),
    "not_utf8": ("", "not UTF-8 text"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_is_one_clear_problem(name):
    key, message = BAD[name]
    with pytest.raises(PriorsError) as err:
        load(FIXTURES / "bad" / f"{name}.toml")
    problems = err.value.problems
    assert len(problems) == 1, [str(p) for p in problems]
    p = problems[0]
    assert p.key == key
    assert message in p.message
    assert p.file.name.endswith(".toml") and str(p.file) in str(p)


def test_every_bad_fixture_is_checked():
    on_disk = {f.stem for f in (FIXTURES / "bad").glob("*.toml")} - {"cycle_b", "multiple"}
    assert on_disk == set(BAD)


def test_syntax_error_gives_line_and_column():
    with pytest.raises(PriorsError) as err:
        load(FIXTURES / "bad" / "syntax.toml")
    p = err.value.problems[0]
    assert (p.line, p.column) == (3, 21)
    assert str(p).startswith(f"{FIXTURES / 'bad' / 'syntax.toml'}:3:21:")


def test_semantic_errors_give_the_line():
    with pytest.raises(PriorsError) as err:
        load(FIXTURES / "bad" / "sd_nonpositive.toml")
    assert err.value.problems[0].line == 5


def test_all_problems_at_once():
    with pytest.raises(PriorsError) as err:
        load(FIXTURES / "bad" / "multiple.toml")
    keys = [p.key for p in err.value.problems]
    assert keys == ["cruxes.capability_needed", "parameters.containment", "parameters.leakage.alpha"]
    assert [p.line for p in err.value.problems] == [5, 8, 9]


def test_missing_file():
    with pytest.raises(PriorsError, match="no such priors file"):
        load(FIXTURES / "bad" / "does_not_exist.toml")


def test_priors_are_frozen():
    p = load(ROOT / "priors/author.toml")
    with pytest.raises(Exception):
        p.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        p.variables["containment"] = None  # type: ignore[index]


def test_messages_are_in_our_words_not_pydantics(tmp_path):
    """Issue 20 item 5: no "Field required" or "Input should be" reaches the user."""
    f = tmp_path / "words.toml"
    f.write_text(
        '[meta]\nbase = "author"\n[simulation]\nsamples = 0\nseed = "x"\n[calibration]\ntarget = 2\n'
        '[[evidence]]\nkind = "not_by"\nevent = "aar"\ndate = 2026-01-01\n'
    )
    with pytest.raises(PriorsError) as info:
        load(f)
    text = str(info.value)
    assert "Field required" not in text and "Input should be" not in text, text
    assert "simulation.samples" in text and "must be at least 1" in text
    assert "simulation.seed" in text and "expected a whole number" in text
    assert "calibration.target" in text and "must be less than 1" in text
    assert "evidence[0].source" in text and "required: this key must be set" in text
