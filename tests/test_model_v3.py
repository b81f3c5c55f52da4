"""Model v3 in priors files (docs/model.md, "Model v3"): T_b derived as C·T_g + build_lag, or
overridden by years_to_build; the unused one is marked, the user told, correlations checked."""

from __future__ import annotations

import numpy as np
import pytest

from model.core.errors import PriorsError
from model.priors.priors import load

from .conftest import MIDDLE_WORLD, ROOT, write_priors


@pytest.mark.parametrize("stem", ["author", "openai", "pessimist"])
def test_presets_derive_the_build_time_and_say_nothing(stem):
    p = load(ROOT / "priors" / f"{stem}.toml")
    assert not p.build_override and not p.used("years_to_build") and p.used("build_lag")
    assert p.notices == () and p.warnings == ()
    assert p.variables["build_lag"].source  # each preset's build_lag carries its reason


def _child(tmp_path, body: str):
    (tmp_path / "author.toml").write_text((ROOT / "priors" / "author.toml").read_text())
    f = tmp_path / "mine.toml"
    f.write_text('[meta]\nbase = "author.toml"\n' + body)
    return f


def test_setting_years_to_build_overrides_and_says_what_it_switches_off(tmp_path):
    p = load(_child(tmp_path, '[parameters]\nyears_to_build = "2 to 8"\n'))
    assert p.build_override and not p.used("build_lag")
    (note,) = p.notices
    assert "years_to_build is set (in mine.toml)" in note and "cannot reach T_b" in note
    assert "build_lag (set in author.toml) is unused" in note


def test_a_child_that_sets_neither_is_told_the_build_time_is_derived(tmp_path):
    p = load(_child(tmp_path, '[cruxes]\ncapability_needed = "0.5 to 1.5"\n'))
    assert not p.build_override
    (note,) = p.notices
    assert "T_b is derived" in note and "build_lag from author.toml" in note


def test_a_child_that_sets_build_lag_is_not_told(tmp_path):
    assert load(_child(tmp_path, '[parameters]\nbuild_lag = "0.5 to 3"\n')).notices == ()


def test_an_override_in_the_base_is_undone_by_nothing_but_stays_visible(tmp_path):
    """A child of an overriding file inherits the override (and its notice names where)."""
    base = _child(tmp_path, '[parameters]\nyears_to_build = "2 to 8"\n')
    child = tmp_path / "grandchild.toml"
    child.write_text(f'[meta]\nbase = "{base.name}"\n')
    p = load(child)
    assert p.build_override and "in mine.toml" in p.notices[0]


@pytest.mark.parametrize(
    "body, key",
    [
        ('[correlations]\n"years_to_build, years_to_agi" = 0.3\n', 'correlations."years_to_build, years_to_agi"'),
        (
            '[parameters]\nyears_to_build = 3.0\n[correlations]\n"build_lag, years_to_agi" = 0.3\n',
            'correlations."build_lag, years_to_agi"',
        ),
    ],
)
def test_a_correlation_of_the_unused_variable_is_refused_with_its_key(tmp_path, body, key):
    with pytest.raises(PriorsError) as e:
        load(_child(tmp_path, body))
    text = str(e.value)
    assert key in text and "unused" in text and "mine.toml" in text


def test_a_complete_file_needs_build_lag_unless_it_overrides(tmp_path):
    world = {k: v for k, v in MIDDLE_WORLD.items() if k != "build_lag"}
    with pytest.raises(PriorsError, match="missing variables: build_lag"):
        load(write_priors(tmp_path, "nolag", world))
    p = load(write_priors(tmp_path, "override", {**world, "years_to_build": 3.0}))
    assert p.build_override and p.notices and not p.used("build_lag")
    assert not load(write_priors(tmp_path, "derived", MIDDLE_WORLD)).build_override


def test_build_lag_must_not_be_negative(tmp_path):
    with pytest.raises(PriorsError, match="build_lag"):
        load(_child(tmp_path, "[parameters]\nbuild_lag = -0.5\n"))


def test_the_engine_uses_the_derived_date(tmp_path):
    """With point priors T_b = C·T_g + L exactly; with the override, the drawn years_to_build."""
    from model.montecarlo.engine import block_rng
    from model.montecarlo.sampler import Sampler
    from model.core.structure import outcomes

    for extra, want in (({}, 0.9 * 9.0 + 0.5), ({"years_to_build": 2.5}, 2.5)):
        p = load(write_priors(tmp_path, f"w{len(extra)}", {**MIDDLE_WORLD, **extra}))
        w = Sampler.from_priors(p).draw(block_rng(1, 0), 10)
        assert np.all(np.asarray(outcomes(w, 4.0).t_build) == want)


def test_the_report_marks_the_unused_variable_and_carries_the_notice(tmp_path):
    import model

    p = _child(tmp_path, '[parameters]\nyears_to_build = "2 to 8"\n')
    s = model.simulate(p, samples=2000, seed=1, workers=1).summary()
    assert s["variables"]["build_lag"]["unused"].startswith("years_to_build is set")
    assert "unused" not in s["variables"]["years_to_build"]
    assert s["notices"] and "cannot reach T_b" in s["notices"][0]


def test_an_inherited_correlation_of_the_now_unused_variable_is_dropped_with_a_note(tmp_path):
    (tmp_path / "author.toml").write_text((ROOT / "priors" / "author.toml").read_text())
    (tmp_path / "lag.toml").write_text(
        '[meta]\nbase = "author.toml"\n[correlations]\n"build_lag, years_to_agi" = -0.3\n'
    )
    child = tmp_path / "child.toml"
    child.write_text('[meta]\nbase = "lag.toml"\n[parameters]\nyears_to_build = "2 to 8"\n')
    p = load(child)
    assert ("build_lag", "years_to_agi") not in p.correlations and p.build_override
    assert any("build_lag, years_to_agi = -0.3 from a base file is dropped" in n for n in p.notices)
    zero = tmp_path / "zero.toml"  # the child may also say 0 for it
    zero.write_text(child.read_text() + '[correlations]\n"years_to_agi, build_lag" = 0\n')
    assert ("build_lag", "years_to_agi") not in load(zero).correlations


def test_the_error_for_an_own_correlation_names_its_line_and_key_as_written(tmp_path):
    f = _child(tmp_path, '[correlations]\n"years_to_build, capability_needed" = 0.3\n')
    with pytest.raises(PriorsError) as e:
        load(f)
    (problem,) = e.value.problems
    assert problem.line == 4 and problem.key == 'correlations."years_to_build, capability_needed"'


def test_the_unused_variable_is_no_belief_in_the_decision_or_the_dataframe(tmp_path):
    import model

    for path, unused in (
        (ROOT / "priors" / "author.toml", "years_to_build"),
        (_child(tmp_path, '[parameters]\nyears_to_build = "2 to 8"\n'), "build_lag"),
    ):
        run = model.simulate(path, samples=4000, seed=2, workers=1, keep=100)
        assert unused not in run.to_dataframe().columns
        d = model.sensitivity(path, samples=4000, seed=2, workers=1).summary()["decision"]
        assert unused not in d["evppi"] and unused not in d["flip_probability"]


def test_switching_from_derived_to_overridden_build_time_is_one_player(tmp_path):
    """author (T_b derived) against the same with years_to_build: one player, years_to_build, that
    swaps both variables together (no placeholder build_lag = 0 treated as a belief)."""
    from model.analyses.compare import attribute, players

    a = load(ROOT / "priors" / "author.toml")
    b = load(_child(tmp_path, '[parameters]\nyears_to_build = "2 to 8"\n'))
    assert players(a, b) == ("years_to_build",)
    at = attribute(a, b, samples=16_384, seed=1)
    for q, total in at.total.items():
        assert at.by_variable[q]["years_to_build"] == pytest.approx(total, abs=1e-12)
    import model

    for q in ("success", "x_risk"):  # the total is the difference of the two views on common worlds
        diff = (
            model.simulate(b, samples=16_384, seed=1).estimates[q].mean
            - model.simulate(a, samples=16_384, seed=1).estimates[q].mean
        )
        assert at.total[q] == pytest.approx(diff, abs=0.02)
