"""Binary cruxes on a survey table (docs/model.md, "Binary cruxes"): the FRI metrics against hand
computations and FRI's worked example, the pools against closed forms, reading and checking
tables, and ``aar-risk cruxes --survey`` end to end."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from model.analyses.cruxes import read_survey, score
from model.analyses.cruxes.metrics import (
    coherent,
    kl,
    odds_mean,
    p_u_not_c,
    skl,
    vod,
    vod_share,
    voi,
    voi_max,
    voi_share,
)
from model.analyses.cruxes.pools import extremized, extremizing_factor, geometric_mean_of_odds, linear_pool
from model.core.errors import SurveyError

from .conftest import FIXTURES, ROOT, aar_in_process

SURVEY = FIXTURES / "survey"
FRI_STYLE = SURVEY / "fri-style.csv"
PLAIN = SURVEY / "plain.csv"
L = math.log10

# --- the metrics ---------------------------------------------------------------------------


def test_fri_worked_example():
    """FRI's example: P(U) 0.09, P(c) 0.75, P(U|c) 0.10 give P(U|¬c) = (0.09 − 0.075)/0.25 = 0.06."""
    assert p_u_not_c(0.09, 0.75, 0.10) == pytest.approx(0.06, abs=1e-15)
    assert coherent(0.09, 0.75, 0.10)


def test_incoherent_answers():
    # P(U|c)·P(c) = 0.3 × 0.5 = 0.15 > P(U) = 0.1, so P(U|¬c) = (0.1 − 0.15)/0.5 = −0.1
    assert p_u_not_c(0.1, 0.5, 0.3) == pytest.approx(-0.1)
    assert not coherent(0.1, 0.5, 0.3)
    # P(U|¬c) = (0.9 − 0.5 × 0.1)/0.5 = 1.7 > 1
    assert not coherent(0.9, 0.5, 0.1)
    assert not coherent(0.5, 1.0, 0.5)  # P(c) = 1: P(U|¬c) undefined
    assert coherent(0.075, 0.75, 0.1)  # P(U|¬c) is 0 up to float rounding (−1.4e-17)


def test_kl_by_hand():
    # KL(0.9‖0.5) = 0.9 log10(1.8) + 0.1 log10(0.2) = 0.22974525 − 0.06989700 = 0.15984825
    assert kl(0.9, 0.5) == pytest.approx(0.9 * L(1.8) + 0.1 * L(0.2))
    assert kl(0.9, 0.5) == pytest.approx(0.15984825, abs=1e-8)
    assert kl(0.3, 0.3) == 0
    assert skl(0.2, 0.5) == skl(0.5, 0.2) == pytest.approx(kl(0.2, 0.5) + kl(0.5, 0.2))
    # a probability of 0 or 1 makes the divergence undefined, as in FRI's code (0 × log 0)
    assert all(math.isnan(v) for v in (kl(0.0, 0.5), kl(0.5, 1.0), kl(1.0, 1.0), skl(0.0, 0.2)))


def test_voi_by_hand():
    """P(U) 0.5, P(c) 0.5, P(U|c) 0.9: P(U|¬c) = (0.5 − 0.45)/0.5 = 0.1, and
    VOI = 0.5·KL(0.9‖0.5) + 0.5·KL(0.1‖0.5) = KL(0.9‖0.5) = 0.15984825 (the two are mirror
    images); the most a question can give at P(U) = 0.5 is H₁₀(0.5) = log10 2 = 0.30103, so
    the share is 0.15984825 / 0.30103 = 0.53100."""
    assert voi(0.5, 0.5, 0.9) == pytest.approx(0.15984825, abs=1e-8)
    assert voi_max(0.5) == pytest.approx(L(2), abs=1e-12)
    assert voi_share(0.5, 0.5, 0.9) == pytest.approx(0.53100, abs=1e-5)
    # a crux that does not move the forecast is worth nothing
    assert voi(0.3, 0.4, 0.3) == pytest.approx(0, abs=1e-15)


@pytest.mark.parametrize("p", [0.01, 0.09, 0.3, 0.5, 0.8])
def test_voi_max_is_the_binary_entropy(p):
    """VOI(P(U) → P(U|c) = 1 − 1e-16, P(c) = P(U)) = −p log10 p − (1 − p) log10(1 − p)."""
    assert voi_max(p) == pytest.approx(-p * L(p) - (1 - p) * L(1 - p), rel=1e-9)


def test_odds_mean():
    # odds 1 and 1/9: geometric mean 1/3, back to a probability 1/4
    assert odds_mean(0.5, 0.1) == pytest.approx(0.25)
    assert odds_mean(0.5, 0.5) == pytest.approx(0.5)
    assert odds_mean(1 - 0.5, 1 - 0.1) == pytest.approx(1 - odds_mean(0.5, 0.1))


def test_vod_where_the_crux_explains_everything():
    """a: (0.5, 0.5, 0.9), P(U|¬c) = 0.1; b: (0.18, 0.1, 0.9), P(U|¬c) = (0.18 − 0.09)/0.9 = 0.1.
    Given c both say 0.9, given ¬c both 0.1: every bit of SKL(0.5, 0.18) goes, share 1.
    KL(0.5‖0.18) = 0.5 log10(0.5/0.18) + 0.5 log10(0.5/0.82) = 0.2218487 − 0.1074219 = 0.1144269;
    KL(0.18‖0.5) = 0.18 log10(0.36) + 0.82 log10(1.64) = −0.0798656 + 0.1761719 = 0.0963063;
    VoD = 0.1144269 + 0.0963063 = 0.2107332."""
    a, b = (0.5, 0.5, 0.9), (0.18, 0.1, 0.9)
    assert vod(a, b) == pytest.approx(0.2107332, abs=1e-7)
    assert vod_share(a, b) == pytest.approx(1.0)


def test_vod_by_hand():
    """a: (0.5, 0.5, 0.9), P(U|¬c) = 0.1; b: (0.12, 0.1, 0.3), P(U|¬c) = (0.12 − 0.03)/0.9 = 0.1.
    SKL(0.5, 0.12): KL(0.5‖0.12) = 0.3098944 − 0.1227564 = 0.1871380,
                    KL(0.12‖0.5) = −0.0743747 + 0.2160512 = 0.1416765, sum 0.3288145;
    SKL(0.9, 0.3):  KL(0.9‖0.3) = 0.4294092 − 0.0845098 = 0.3448994,
                    KL(0.3‖0.9) = −0.1431364 + 0.5915686 = 0.4484322, sum 0.7933316;
    G(0.5, 0.1) = 0.25 (odds 1 and 1/9); SKL(0.1, 0.1) = 0 under ¬c.
    VoD = 0.3288145 − 0.7933316 × 0.25 = 0.1304816; share 0.1304816 / 0.3288145 = 0.39682."""
    a, b = (0.5, 0.5, 0.9), (0.12, 0.1, 0.3)
    assert vod(a, b) == pytest.approx(0.1304816, abs=1e-6)
    assert vod(b, a) == vod(a, b)
    assert vod_share(a, b) == pytest.approx(0.39682, abs=1e-5)


def test_vod_can_be_negative_and_its_share_needs_a_disagreement():
    """a: (0.5, 0.5, 0.9), b: (0.2, 0.5, 0.3), both P(U|¬c) = 0.1: SKL(0.5, 0.2) = 0.0969100 +
    0.0837080 = 0.1806180 before, SKL(0.9, 0.3) × G(0.5, 0.5) = 0.7933316 × 0.5 = 0.3966658
    after: VoD = −0.2160478 (learning c sets them further apart)."""
    assert vod((0.5, 0.5, 0.9), (0.2, 0.5, 0.3)) == pytest.approx(-0.2160478, abs=1e-6)
    assert math.isnan(vod_share((0.3, 0.5, 0.4), (0.3, 0.2, 0.5)))  # same P(U): nothing to explain


def test_metrics_broadcast():
    p_u = np.array([0.5, 0.3, 0.2])
    out = voi(p_u, 0.5, np.array([0.9, 0.5, 0.3]))
    assert out.shape == (3,) and out[0] == pytest.approx(voi(0.5, 0.5, 0.9))


# --- the pools -----------------------------------------------------------------------------


def test_linear_pool():
    assert linear_pool([0.1, 0.3]) == pytest.approx(0.2)
    assert linear_pool([0.1, 0.3], weights=[3, 1]) == pytest.approx(0.15)
    # people on the first axis, outcomes after it
    assert linear_pool([[0.1, 0.5], [0.3, 0.7]]) == pytest.approx([0.2, 0.6])


def test_geometric_mean_of_odds():
    assert geometric_mean_of_odds([0.2, 0.8]).p == pytest.approx(0.5)  # odds 1/4 and 4
    assert geometric_mean_of_odds([0.1, 0.5]).p == pytest.approx(0.25)  # odds 1/9 and 1: 1/3
    # weights weight the mean of log-odds: odds (1/9)^(3/4) · 1^(1/4) = 9^(−3/4)
    g = 9**-0.75
    assert geometric_mean_of_odds([0.1, 0.5], weights=[3, 1]).p == pytest.approx(g / (1 + g))


def test_delta_method_error():
    """se(logit p) = se / (p(1 − p)); mean of two: √(¼ se₁'² + ¼ se₂'²); back: × g(1 − g)."""
    pooled = geometric_mean_of_odds([0.1, 0.5], se=[0.01, 0.02])
    s1, s2 = 0.01 / (0.1 * 0.9), 0.02 / 0.25
    assert pooled.se == pytest.approx(0.25 * 0.75 * math.sqrt(s1**2 / 4 + s2**2 / 4))
    assert geometric_mean_of_odds([0.1, 0.5]).se is None


def test_extremizing_factor():
    """d = n(√(3n² − 3n + 1) − 2)/(n² − n − 1): 1 for one person, 2(√7 − 2) for two, 3(√19 − 2)/5 for three."""
    assert extremizing_factor(1) == pytest.approx(1.0)
    assert extremizing_factor(2) == pytest.approx(2 * (math.sqrt(7) - 2))
    assert extremizing_factor(3) == pytest.approx(3 * (math.sqrt(19) - 2) / 5)
    # two people with odds 1/9 and 1: mean log-odds −ln 3, extremized to −d ln 3
    d = 2 * (math.sqrt(7) - 2)
    assert extremized([0.1, 0.5]).p == pytest.approx(1 / (1 + 3**d))
    assert extremized([0.3]).p == pytest.approx(0.3)


def test_bad_weights_are_refused():
    with pytest.raises(ValueError, match="weights"):
        linear_pool([0.1, 0.2], weights=[1, -1])
    with pytest.raises(ValueError, match="weights"):
        geometric_mean_of_odds([0.1, 0.2], weights=[1, 2, 3])


# --- the survey ----------------------------------------------------------------------------

FRI_JSON = {
    "survey": {
        "cruxes": [
            {
                "crux": "agi_complete",
                "pairs": 6,
                "vod_median": 0.1322759567640247,
                "vod_share_median": 0.6267094778965899,
                "voi_median": {"concerned": 0.027485552916597315, "skeptical": 0.0067394747481940446},
                "voi_share_median": {"concerned": 0.11254467202358004, "skeptical": 0.10550352051456999},
            },
            {
                "crux": "aar_as_hard",
                "pairs": 9,
                "vod_median": 0.0890801430581158,
                "vod_share_median": 0.3332535457601686,
                "voi_median": {"concerned": 0.044189126989827104, "skeptical": 0.0010287098355273327},
                "voi_share_median": {"concerned": 0.16834399014711324, "skeptical": 0.034679529769205325},
            },
            {
                "crux": "early_warning",
                "pairs": 6,
                "vod_median": -0.008633257062989924,
                "vod_share_median": -0.044607833773412424,
                "voi_median": {"concerned": 0.0029105468643303573, "skeptical": 0.0009198207366414861},
                "voi_share_median": {"concerned": 0.011917771610754694, "skeptical": 0.013877685578556342},
            },
        ],
        "incoherent": [
            {
                "person": "fay",
                "crux": "agi_complete",
                "why": "incoherent: P(U|c)·P(c) = 0.015 > P(U) = 0.01, so P(U|¬c) = -0.005263 < 0",
            },
            {
                "person": "fay",
                "crux": "early_warning",
                "why": "P(U|c) = 0: a divergence with a probability of 0 or 1 is undefined",
            },
        ],
    }
}


def _close(a, b) -> bool:
    """Equal JSON, floats to 12 significant digits (another numpy may round a log10 otherwise)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and list(a) == list(b) and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(map(_close, a, b))
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-12)
    return type(a) is type(b) and a == b


def test_the_fri_style_fixture_gives_this_json():
    import model

    assert _close(model.survey_cruxes(FRI_STYLE).summary(), FRI_JSON)
    assert json.dumps(model.survey_cruxes(FRI_STYLE).summary())  # plain JSON: no NaN, no numpy


def test_the_json_has_exactly_these_keys():
    import model

    s = model.survey_cruxes(FRI_STYLE).summary()
    assert list(s) == ["survey"] and list(s["survey"]) == ["cruxes", "incoherent"]
    for c in s["survey"]["cruxes"]:
        assert list(c) == ["crux", "pairs", "vod_median", "vod_share_median", "voi_median", "voi_share_median"]
        assert type(c["pairs"]) is int
    for o in s["survey"]["incoherent"]:
        assert list(o) == ["person", "crux", "why"]


def test_the_medians_by_hand():
    """agi_complete: fay is incoherent, so 3 × 2 cross-camp pairs; the concerned camp's VOI
    median is the middle one of ada's, bo's and cy's."""
    survey = read_survey(FRI_STYLE)
    rows = {(a.person, a.crux): (a.p_u, a.p_c, a.p_u_given_c) for a in survey.answers}
    crux = score(survey).cruxes[0]
    concerned = sorted(voi(*rows[p, "agi_complete"]) for p in ("ada", "bo", "cy"))
    assert crux.voi_median["concerned"] == pytest.approx(concerned[1])
    vods = sorted(
        vod(rows[a, "agi_complete"], rows[b, "agi_complete"]) for a in ("ada", "bo", "cy") for b in ("dee", "eli")
    )
    assert crux.pairs == 6 and crux.vod_median == pytest.approx((vods[2] + vods[3]) / 2)


def test_incoherent_and_zero_rows_are_listed_and_left_out():
    s = score(read_survey(FRI_STYLE))
    assert {(o.person, o.crux) for o in s.incoherent} == {("fay", "agi_complete"), ("fay", "early_warning")}
    by = {c.crux: c for c in s.cruxes}
    assert by["aar_as_hard"].pairs == 9  # fay's coherent row counts there
    assert by["agi_complete"].pairs == by["early_warning"].pairs == 6  # and not where it is left out


def test_the_two_header_forms_give_the_same_result():
    import model

    assert model.survey_cruxes(PLAIN).summary() == model.survey_cruxes(FRI_STYLE).summary()


def test_order_of_rows_does_not_matter():
    import pandas as pd

    import model

    df = pd.read_csv(FRI_STYLE)
    first = model.survey_cruxes(df).summary()
    for seed in range(3):
        shuffled = df.sample(frac=1, random_state=seed).reset_index(drop=True)
        assert model.survey_cruxes(shuffled).summary() == first
    assert first == model.survey_cruxes(FRI_STYLE).summary()


def test_a_camp_of_one_and_one_camp_and_no_camp():
    import pandas as pd

    import model

    rows = [("ada", "a", 0.3, 0.6, 0.45), ("bo", "a", 0.2, 0.7, 0.25), ("dee", "b", 0.02, 0.1, 0.1)]
    df = pd.DataFrame(rows, columns=["person", "camp", "p_u", "p_c", "p_u_given_c"]).assign(crux="x")
    c = model.survey_cruxes(df).summary()["survey"]["cruxes"][0]
    assert c["pairs"] == 2 and c["voi_median"]["b"] == pytest.approx(voi(0.02, 0.1, 0.1))
    # one camp: no cross-camp pair, so no VoD (docs/model.md); VOI per that camp
    one = model.survey_cruxes(df.assign(camp="a")).summary()["survey"]["cruxes"][0]
    assert one["pairs"] == 0 and one["vod_median"] is None and one["vod_share_median"] is None
    assert list(one["voi_median"]) == ["a"]
    # no camps (column absent, or empty everywhere): every pair, VOI over everyone
    for table in (df.drop(columns="camp"), df.assign(camp="")):
        none = model.survey_cruxes(table).summary()["survey"]["cruxes"][0]
        assert none["pairs"] == 3 and list(none["voi_median"]) == ["all"]


def test_a_pair_with_the_same_p_u_has_a_vod_but_no_share():
    import pandas as pd

    import model

    df = pd.DataFrame(
        [("ada", "a", "x", 0.3, 0.5, 0.4), ("bo", "b", "x", 0.3, 0.2, 0.5)],
        columns=["person", "camp", "crux", "p_u", "p_c", "p_u_given_c"],
    )
    s = model.survey_cruxes(df).summary()["survey"]
    assert s["cruxes"][0]["pairs"] == 1 and s["cruxes"][0]["vod_median"] is not None
    assert s["cruxes"][0]["vod_share_median"] is None
    assert [o["person"] for o in s["incoherent"]] == ["ada vs bo"]


def test_cruxes_without_pairs_sort_last():
    import pandas as pd

    import model

    df = pd.DataFrame(
        [("ada", "a", "lonely", 0.3, 0.5, 0.4), ("ada", "a", "z", 0.3, 0.5, 0.4), ("bo", "b", "z", 0.1, 0.5, 0.1)],
        columns=["person", "camp", "crux", "p_u", "p_c", "p_u_given_c"],
    )
    assert [c["crux"] for c in model.survey_cruxes(df).summary()["survey"]["cruxes"]] == ["z", "lonely"]


# --- bad tables ----------------------------------------------------------------------------

BAD = [
    ("missing_column.csv", 1, None, "p_c: missing column"),
    ("not_a_number.csv", 3, 5, "'abc' is not a number"),
    ("outside.csv", 3, 4, "P(U) = 30 is outside [0, 1]"),
    ("duplicate.csv", 4, 3, "already answered crux 'x' on line 2"),
    ("empty.csv", 2, None, "no answers"),
    ("no_header.csv", 1, None, "empty"),
    ("unknown_column.csv", 1, 7, "unknown column"),
    ("short_row.csv", 3, 6, "5 cells where the header has 6"),
    ("camp_missing.csv", 3, 2, "no camp for person 'bo'"),
    ("two_camps.csv", 3, 2, "is in camp 'a' on line 2"),
    ("empty_cell.csv", 3, 6, "empty: give P(U|c)"),
    ("not_utf8.csv", 3, None, "not UTF-8"),
]


@pytest.mark.parametrize(("name", "line", "column", "says"), BAD, ids=[b[0] for b in BAD])
def test_bad_tables_are_located(name, line, column, says):
    path = SURVEY / "bad" / name
    with pytest.raises(SurveyError) as info:
        read_survey(path)
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.column) == (path, line, column)
    where = f"{path}:{line}" + (f":{column}" if column else "") + ":"
    assert str(problem).startswith(where) and says in str(problem)


def test_a_bad_dataframe_is_located_as_its_csv_would_be():
    import pandas as pd

    df = pd.DataFrame(
        [("ada", "a", "x", 0.3, 1.5, 0.4)], columns=["person", "camp", "crux", "p_u", "p_c", "p_u_given_c"]
    )
    with pytest.raises(SurveyError, match=r"<DataFrame>:2:5: p_c: P\(c\) = 1.5 is outside"):
        read_survey(df)


def test_every_problem_is_listed_at_once(tmp_path):
    path = tmp_path / "many.csv"
    path.write_text("person,camp,crux,p_u,p_c,p_u_given_c\n" + "".join(f"p{i},a,x,2,0.5,0.1\n" for i in range(40)))
    with pytest.raises(SurveyError) as info:
        read_survey(path)
    assert len(info.value.problems) == 25 and "16 more problems" in str(info.value.problems[-1])


# --- the command line ----------------------------------------------------------------------


def test_cli_json_and_report_folder(tmp_path):
    r = aar_in_process("cruxes", "--survey", FRI_STYLE, "--json", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert _close(json.loads(r.stdout), FRI_JSON)
    out = tmp_path / "reports" / "survey-fri-style"
    assert "reports/survey-fri-style/" in r.stderr
    assert json.loads((out / "survey.json").read_text()) == json.loads(r.stdout)
    assert {p.name for p in out.iterdir()} >= {"report.md", "report.html", "survey.json", "figures", ".aar-report"}
    assert (out / "figures" / "vod.png").read_bytes()[:4] == b"\x89PNG"
    html = (out / "report.html").read_text()
    assert "data:image/png;base64," in html and "http" not in html.replace("http-equiv", "")
    assert "agi_complete" in (out / "report.md").read_text()


def test_cli_table_quiet_and_out(tmp_path):
    r = aar_in_process("cruxes", "--survey", PLAIN, "-o", "mine", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "agi_complete" in r.stdout and "left out: fay" in r.stdout
    assert (tmp_path / "mine" / "survey.json").is_file() and "mine/" in r.stderr
    q = aar_in_process("cruxes", "--survey", PLAIN, "-o", "mine", "-q", cwd=tmp_path)  # replaces its own report
    assert q.returncode == 0 and q.stdout == ""


def test_cli_refuses_a_folder_it_did_not_write(tmp_path):
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "mine.txt").write_text("keep me")
    r = aar_in_process("cruxes", "--survey", PLAIN, "-o", "notes", "-q", cwd=tmp_path)
    assert r.returncode == 1 and (tmp_path / "notes" / "mine.txt").read_text() == "keep me"


@pytest.mark.parametrize(("name", "line", "column", "says"), BAD[:4], ids=[b[0] for b in BAD[:4]])
def test_cli_bad_table_exits_2_with_a_located_message(tmp_path, name, line, column, says):
    path = SURVEY / "bad" / name
    r = aar_in_process("cruxes", "--survey", path, cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    assert f"{path}:{line}" + (f":{column}" if column else "") in r.stderr and says in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "reports").exists()


def test_cli_without_files_or_survey_says_what_it_needs(tmp_path):
    r = aar_in_process("cruxes", cwd=tmp_path)
    assert r.returncode == 2 and "two or more PRIORS files" in r.stderr and "--survey" in r.stderr
    both = aar_in_process("cruxes", ROOT / "priors" / "author.toml", "--survey", PLAIN, cwd=tmp_path)
    assert both.returncode == 2 and "not both" in both.stderr
    missing = aar_in_process("cruxes", "--survey", tmp_path / "nope.csv", cwd=tmp_path)
    assert missing.returncode == 2 and "nope.csv" in missing.stderr


def test_cli_in_a_real_process(tmp_path):
    """The entry point itself: exit status 2 and one located message, no traceback."""
    r = subprocess.run(
        [sys.executable, "-m", "model", "cruxes", "--survey", str(SURVEY / "bad" / "outside.csv")],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    assert r.returncode == 2 and "outside.csv:3:4: PU:" in r.stderr and "Traceback" not in r.stderr


def test_api_function_is_documented_and_exported():
    import model

    assert model.survey_cruxes.__module__ == "model.api" and ">>>" in (model.survey_cruxes.__doc__ or "")
    assert model.SurveyError is SurveyError and issubclass(SurveyError, model.PriorsError)
    with pytest.raises(AttributeError):
        model.survey_cruxes(FRI_STYLE).cruxes[0].crux = "x"  # type: ignore[misc]


def test_user_text_is_shown_not_read_as_markup(tmp_path):
    """Names, camps and cruxes reach report.md through the Markdown filters, report.html
    through autoescape, the terminal as plain text."""
    table = tmp_path / "hostile.csv"
    table.write_text(
        "person,camp,crux,p_u,p_c,p_u_given_c\n"
        '"<b>ada</b>",*c1*,"x|`y`",0.3,0.5,0.4\n'
        'bo,"<i>c2</i>","x|`y`",0.1,0.5,0.1\n'
        '"<b>ada</b>",*c1*,z,0.3,0.5,0.9\n'
    )
    r = aar_in_process("cruxes", "--survey", table, "-o", "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    md = (tmp_path / "out" / "report.md").read_text()
    html = (tmp_path / "out" / "report.html").read_text()
    assert "<b>" not in md and "<i>" not in md and "\\*c1\\*" in md
    assert "<b>ada" not in html and "&lt;i&gt;c2&lt;/i&gt;" in html
    assert "x|`y`" in r.stdout
