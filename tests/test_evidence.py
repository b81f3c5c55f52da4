"""Evidence since 2023 applied by ``run`` (MODEL.md §5.v3; docs/model.md "Evidence since 2023"):
closed forms on point priors, invariances, and the located errors of bad entries."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest
from scipy import integrate, stats

from model.core.errors import PriorsError
from model.core.evidence import ORIGIN
from model.montecarlo.engine import simulate
from model.priors.priors import load

from .conftest import MIDDLE_WORLD, ROOT, write_priors

#: "no AAR by 3.42 years", as a date
DAY_342 = (ORIGIN + timedelta(days=round(3.42 * 365.25))).isoformat()
NOT_BY_AAR = f'\n[[evidence]]\nkind = "not_by"\nevent = "aar"\ndate = {DAY_342}\nsource = "test"\n'


def _lognormal_2_to_8():
    sigma = math.log(2) / stats.norm.ppf(0.95)  # 90% interval 2 to 8: median 4
    return stats.lognorm(s=sigma, scale=4.0)


def _one_time(tmp_path, noise: float, extra: str = NOT_BY_AAR, name: str = "one"):
    """Every variable a point but the build time, a lognormal 2 to 8 years (the override)."""
    values = {**MIDDLE_WORLD, "years_to_build": '"2 to 8"', "timing_noise": noise}
    return write_priors(tmp_path, name, values, extra)


def _t(day: str) -> float:
    from datetime import date

    from model.core.evidence import years_since_origin

    return years_since_origin(date.fromisoformat(day))


def test_not_by_is_the_one_dimensional_integral_of_section_5v3(tmp_path):
    """P(T_b < 4 | no AAR by t) and the Bayes factor, against quadrature over the lognormal."""
    noise, t = 0.3, _t(DAY_342)
    tb = _lognormal_2_to_8()

    def like(x):
        return stats.norm.cdf((math.log(x) - math.log(t)) / noise)

    evidence = integrate.quad(lambda x: tb.pdf(x) * like(x), 0, np.inf, limit=200)[0]
    below = integrate.quad(lambda x: tb.pdf(x) * like(x), 0, 4.0, limit=200)[0] / evidence
    r = simulate(load(_one_time(tmp_path, noise)), samples=400_000, seed=5)
    g = r.given
    p_after = g.timeline["given"]["aar"][47]  # the end of month 48: T_b < 4 years
    p_before = g.timeline["prior"]["aar"][47]
    assert p_before == pytest.approx(0.5, abs=4 * math.sqrt(0.25 / 400_000))
    assert p_after == pytest.approx(below, abs=4 * math.sqrt(below * (1 - below) / g.given.ess))
    (bf, err) = g.bayes_factors[0]
    assert bf == pytest.approx(evidence, abs=4 * err)


def test_the_hard_limit_takes_p_of_an_aar_within_4_years_from_half_to_0_225(tmp_path):
    r = simulate(load(_one_time(tmp_path, 1e-3)), samples=1_000_000, seed=11)
    tb = _lognormal_2_to_8()
    exact = (tb.cdf(4) - tb.cdf(_t(DAY_342))) / tb.sf(_t(DAY_342))
    assert exact == pytest.approx(0.225, abs=1e-3)
    assert r.given.timeline["given"]["aar"][47] == pytest.approx(0.225, abs=1e-3)


def test_strength_zero_changes_nothing(tmp_path):
    f = write_priors(
        tmp_path,
        "zero",
        MIDDLE_WORLD | {"capability_needed": '"0.3 to 1.5"'},
        NOT_BY_AAR.replace('source = "test"', 'source = "test"\nstrength = 0'),
    )
    r = simulate(load(f), samples=70_000, seed=3)
    g = r.given
    assert g.given.ess == pytest.approx(70_000, rel=1e-12)
    for q, e in r.estimates.items():
        assert g.given.means[q] == pytest.approx(e.mean, abs=1e-12)
    assert g.bayes_factors[0][0] == pytest.approx(1.0, abs=1e-12)


ENTRIES = [
    'kind = "not_by"\nevent = "agi"\ndate = 2026-12-01\nsource = "a"',
    'kind = "by"\nevent = "field"\ndate = 2025-06-01\nsource = "b"\nstrength = 0.3',
    'kind = "measurement"\nvariable = "automation_fraction"\nvalue = 0.6\nsd = 0.2\ndate = 2026-04-14\nsource = "c"',
    'kind = "measurement"\ncapability_at = 2026-04-14\nvalue = 0.4\nsd = 0.2\ndate = 2026-04-14\nsource = "d"',
    'kind = "market"\nvalue = 0.1\ntrust = 5\nhorizon_years = 6\ndate = 2024-01-01\nsource = "e"',
]
SPREAD = {
    **MIDDLE_WORLD,
    "capability_needed": '"0.3 to 1.5"',
    "years_to_agi": '"3 to 20"',
    "field_years": '"5 to 40"',
    "automation_fraction": '{ dist = "beta", alpha = 4, beta = 2 }',
}


def _inline(entries) -> str:
    return "".join(f"\n[[evidence]]\n{e}\n" for e in entries)


def _given(path, **kw):
    r = simulate(load(path), samples=kw.get("samples", 70_000), seed=7, workers=kw.get("workers"))
    return r.given


def test_an_included_file_equals_the_same_entries_inline(tmp_path):
    inline = write_priors(tmp_path, "inline", SPREAD, _inline(ENTRIES))
    (tmp_path / "ev").mkdir()
    (tmp_path / "ev" / "facts.toml").write_text('[meta]\nname = "facts"\n' + _inline(ENTRIES))
    listed = write_priors(tmp_path, "listed", SPREAD)
    listed.write_text(listed.read_text().replace("[meta]\n", '[meta]\nevidence = ["ev/facts.toml"]\n', 1))
    a, b = _given(inline), _given(listed)
    assert a.given.means == b.given.means and a.bayes_factors == b.bayes_factors
    assert [e.origin for e in b.entries] == ["ev/facts.toml"] * len(ENTRIES)


def test_the_order_of_entries_does_not_matter(tmp_path):
    a = _given(write_priors(tmp_path, "forward", SPREAD, _inline(ENTRIES)))
    b = _given(write_priors(tmp_path, "backward", SPREAD, _inline(ENTRIES[::-1])))
    for q in a.given.means:
        assert a.given.means[q] == pytest.approx(b.given.means[q], rel=1e-12, abs=1e-15)
    assert a.bayes_factors == b.bayes_factors[::-1]


def test_an_entry_reached_twice_applies_once(tmp_path):
    """A base lists the file and so does its child: the entries count once."""
    (tmp_path / "facts.toml").write_text(_inline(ENTRIES[:2]))
    base = write_priors(tmp_path, "base", SPREAD)
    base.write_text(base.read_text().replace("[meta]\n", '[meta]\nevidence = ["facts.toml"]\n', 1))
    child = tmp_path / "child.toml"
    child.write_text('[meta]\nbase = "base.toml"\nevidence = ["facts.toml"]\n')
    assert len(load(child).evidence) == 2


def test_same_seed_same_evidence_views_for_any_number_of_workers(tmp_path):
    f = write_priors(tmp_path, "w", SPREAD, _inline(ENTRIES))
    one = _given(f, samples=140_000, workers=1)
    two = _given(f, samples=140_000, workers=2)
    assert one.given.means == two.given.means and one.bayes_factors == two.bayes_factors
    assert all(np.array_equal(one.timeline["given"][e], two.timeline["given"][e]) for e in one.timeline["given"])


def test_a_market_entry_equals_calibrate_reweight_at_the_same_seed(tmp_path):
    from model.api import calibrate

    market = 'kind = "market"\nvalue = 0.14\ntrust = 20\nhorizon_years = 4\ndate = 2023-08-01\nsource = "m"'
    plain = write_priors(tmp_path, "plain", SPREAD)
    with_market = write_priors(tmp_path, "market", SPREAD, _inline([market]))
    g = simulate(load(with_market), samples=70_000, seed=7).given
    cal = calibrate(load(plain), methods=("reweight",), samples=70_000, seed=7).summary()
    got = cal["methods"]["reweight"]["outcomes"]
    for q, v in got.items():
        assert g.given.means[q] == pytest.approx(v["mean"], rel=1e-9, abs=1e-12), q


def test_the_shipped_preset_reports_both_views_as_of_its_latest_entry():
    p = load(ROOT / "priors" / "author-2026.toml")
    assert str(p.as_of) == "2026-12-01" and len(p.evidence) >= 4
    assert all(e.source and e.origin == "evidence/since-2023.toml" for e in p.evidence)
    g = simulate(p, samples=70_000, seed=1).given
    assert 0 < g.given.ess < 70_000
    # no AAR, AGI or solution by Dec 2026: each is less likely to have come by then
    month = 12 * 3 + 5  # the end of Nov 2026
    for e in ("aar", "agi", "field"):
        assert g.timeline["given"][e][month] < g.timeline["prior"][e][month]


# -- bad entries: one located message each --------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "key", "words"),
    [
        ('kind = "not_yet"\ndate = 2026-01-01\nsource = "x"', "evidence[0].kind", "not_by"),
        ('kind = "not_by"\nevent = "aar"\ndate = 2021-01-01\nsource = "x"', "evidence[0].date", "2023-07-05"),
        ('kind = "not_by"\nevent = "aar"\ndate = "soon"\nsource = "x"', "evidence[0].date", "a date such as"),
        ('kind = "not_by"\nevent = "agl"\ndate = 2026-01-01\nsource = "x"', "evidence[0].event", "aar"),
        ('kind = "not_by"\nevent = "aar"\ndate = 2026-01-01\nsource = "x"\nstrength = 1e9', "strength", "100"),
        ('kind = "not_by"\nevent = "aar"\ndate = 2026-01-01\nsource = "x"\nvalue = 3', "evidence[0].value", "unknown"),
        ('kind = "not_by"\nevent = "aar"\ndate = 2026-01-01', "evidence[0].source", "required"),
        (
            'kind = "measurement"\nvariable = "containmnt"\nvalue = 1\nsd = 1\ndate = 2026-01-01\nsource = "x"',
            "evidence[0].variable",
            "containment",
        ),
        ('kind = "measurement"\nvalue = 1\nsd = 1\ndate = 2026-01-01\nsource = "x"', "evidence[0]", "exactly one"),
        (
            'kind = "measurement"\nvariable = "containment"\nvalue = 1\nsd = -1\ndate = 2026-01-01\nsource = "x"',
            "evidence[0].sd",
            "greater than 0",
        ),
        ('kind = "market"\nvalue = 1.5\ndate = 2026-01-01\nsource = "x"', "evidence[0].value", "less than 1"),
        (
            'kind = "measurement"\nvariable = "years_to_build"\nvalue = 1\nsd = 1\ndate = 2026-01-01\nsource = "x"',
            "evidence",
            "unused",
        ),
    ],
)
def test_a_bad_entry_names_its_file_key_and_line(tmp_path, entry, key, words):
    f = write_priors(tmp_path, "bad", MIDDLE_WORLD, "\n[[evidence]]\n" + entry + "\n")
    with pytest.raises(PriorsError) as info:
        load(f)
    text = str(info.value)
    assert "bad.toml" in text and key in text and words in text, text
    first = next(p for p in info.value.problems if key in p.key)
    assert first.line is not None


def test_the_second_entry_is_located_on_its_own_lines(tmp_path):
    good = 'kind = "not_by"\nevent = "aar"\ndate = 2026-01-01\nsource = "x"'
    f = write_priors(tmp_path, "two", MIDDLE_WORLD, _inline([good, good.replace('"aar"', '"nope"')]))
    with pytest.raises(PriorsError) as info:
        load(f)
    (problem,) = info.value.problems
    lines = f.read_text().splitlines()
    assert problem.key == "evidence[1].event" and lines[problem.line - 1].startswith("event")
    assert problem.line > lines.index("[[evidence]]", lines.index("[[evidence]]") + 1)


@pytest.mark.parametrize(
    ("listed", "content", "words"),
    [
        ('["missing.toml"]', None, "not found"),
        ('["facts.txt"]', None, "ending in .toml"),
        ('["facts.toml"]', "[cruxes]\ncapability_needed = 1.0\n", "only [meta]"),
        ('["facts.toml"]', '[[evidence]]\nkind = "by"\n', "facts.toml"),
        ('"facts.toml"', None, "meta.evidence"),
    ],
)
def test_a_bad_evidence_file_is_named(tmp_path, listed, content, words):
    if content is not None:
        (tmp_path / "facts.toml").write_text(content)
    f = write_priors(tmp_path, "lists", MIDDLE_WORLD)
    f.write_text(f.read_text().replace("[meta]\n", f"[meta]\nevidence = {listed}\n", 1))
    with pytest.raises(PriorsError) as info:
        load(f)
    assert words in str(info.value), str(info.value)


def test_validate_shows_a_bad_entry_with_exit_2_and_no_traceback(tmp_path):
    import subprocess
    import sys

    f = write_priors(tmp_path, "bad", MIDDLE_WORLD, '\n[[evidence]]\nkind = "by"\ndate = 2026-01-01\nsource = "x"\n')
    done = subprocess.run([sys.executable, "-m", "model", "validate", str(f)], capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "bad.toml" in done.stderr and "evidence[0].event" in done.stderr


def test_evidence_multiplies_on_top_of_a_calibrated_files_own_weights(tmp_path):
    """A file with [calibration] apply weights its worlds (the top level), and the evidence multiplies
    on top: the given view is Σ w0·r·x / Σ w0·r over the kept worlds, by hand."""
    from model.core.structure import outcomes
    from model.montecarlo.weighting import log_weights, priors_weighting

    f = write_priors(
        tmp_path,
        "applied",
        SPREAD,
        '\n[calibration]\napply = "update"\ntrust = 5\ntarget = 0.14\n' + _inline(ENTRIES[:3]),
    )
    p = load(f)
    r = simulate(p, samples=20_000, seed=9, workers=1, keep_worlds=True)
    w = r.worlds
    assert w is not None
    out = outcomes(w, p.calibration.horizon_years)
    w0 = np.exp(log_weights(priors_weighting(p), w["success_within_horizon"]))
    ratio = np.prod([e.ratio(w, out) for e in p.evidence], axis=0)
    for q in ("success", "x_risk", "success_within_horizon"):
        assert r.estimates[q].mean == pytest.approx(np.sum(w0 * w[q]) / np.sum(w0), rel=1e-9)
        assert r.given.given.means[q] == pytest.approx(np.sum(w0 * ratio * w[q]) / np.sum(w0 * ratio), rel=1e-9)


def test_an_entrys_ratio_is_the_exponential_of_its_log_likelihood_less_its_maximum(tmp_path):
    """The weight the run uses (no logarithm for not_by and by) against the PyTensor-shared log form."""
    from model.core.structure import outcomes

    f = write_priors(tmp_path, "r", SPREAD, _inline([*ENTRIES, ENTRIES[0].replace("1.0", "1") + "\nstrength = 0.4"]))
    p = load(f)
    r = simulate(p, samples=5_000, seed=2, workers=1, keep_worlds=True)
    out = outcomes(r.worlds, 4.0)
    for e in p.evidence:
        at = lambda h: outcomes(r.worlds, h)  # noqa: E731
        log_form = np.exp(e.log_likelihood(r.worlds, out, at=at) - e.max_log_likelihood())
        assert np.allclose(e.ratio(r.worlds, out, at=at), log_form, rtol=1e-12, atol=1e-300), e.words()


def test_validate_lists_the_evidence_it_will_apply():
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "model", "validate", str(ROOT / "priors" / "author-2026.toml")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0
    assert "evidence applied by run, as of 2026-12-01" in done.stdout
    assert "no useful AAR by Dec 2026" in done.stdout and "evidence/since-2023.toml" in done.stdout


@pytest.mark.slow  # a whole CLI run or calibration: the full suite runs it
def test_evidence_that_rules_out_every_world_is_said_not_crashed(tmp_path):
    """A measurement no world can match (sd 1e-300): every weight underflows to 0. The run still
    writes its report, says so, and its JSON has no NaN."""
    import json
    import subprocess
    import sys

    entry = (
        'kind = "measurement"\nvariable = "containment"\nvalue = 0.1234\nsd = 1e-300\ndate = 2025-01-01\nsource = "x"'
    )
    f = write_priors(tmp_path, "ruled", SPREAD | {"containment": '{ dist = "beta", alpha = 3, beta = 3 }'}, _inline([entry]))
    done = subprocess.run(
        [sys.executable, "-m", "model", "run", str(f), "-n", "5000", "-o", str(tmp_path / "r")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "rules out every world" in done.stdout and "Traceback" not in done.stderr
    md = (tmp_path / "r" / "report.md").read_text()
    assert "The evidence rules out every world drawn" in md
    text = (tmp_path / "r" / "summary.json").read_text()
    s = json.loads(text, parse_constant=lambda c: pytest.fail(f"{c} in summary.json"))
    assert s["given_evidence"]["effective_sample_size"] == 0
    assert s["given_evidence"]["outcomes"]["success"]["mean"] is None
