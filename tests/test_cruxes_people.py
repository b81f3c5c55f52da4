"""aar-risk cruxes PRIORS… (MODEL.md §7, issue 21): each person's outcomes, the pools, the
between-person variance attributed by Shapley values, and the binary cruxes from each
person's own worlds. Small files (two or three differing variables) and few worlds."""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest

from model.analyses.cruxes.metrics import vod, voi
from model.analyses.cruxes.pools import extremizing_factor
from model.api.people import cruxes
from model.core.quantities import HEADLINE, OUTCOMES, Q
from model.priors.priors import load

from .conftest import MIDDLE_WORLD, ROOT, aar_in_process, write_priors

N = 4_000


def person(folder, name, c=(0.5, 1.5), r=(0.4, 1.2), h=None, extra=""):
    """A file with point priors but for C, R (and H when given), which differ between people."""
    values = dict(MIDDLE_WORLD)
    values["capability_needed"] = f'{{ dist = "lognormal", ci90 = [{c[0]}, {c[1]}] }}'
    values["relative_difficulty"] = f'{{ dist = "lognormal", ci90 = [{r[0]}, {r[1]}] }}'
    values["containment"] = '{ dist = "beta", ci90 = [0.2, 0.6] }'
    if h is not None:
        values["alignment_difficulty"] = f'{{ dist = "normal", ci90 = [{h[0]}, {h[1]}] }}'
    return write_priors(folder, name, values, extra)


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    folder = tmp_path_factory.mktemp("people")
    files = [
        person(folder, "ann", (0.4, 1.1), (0.3, 0.9), (4, 7)),
        person(folder, "bob", (0.8, 2.0), (0.6, 1.4), (5, 9)),
        person(
            folder,
            "cy",
            (0.3, 0.9),
            (0.2, 0.8),
            (4, 7),
            extra='\n[correlations]\n"capability_needed, relative_difficulty" = 0.4\n',
        ),
    ]
    return files, cruxes(files, samples=N, seed=7, workers=1)


def test_json_shape(three):
    _, c = three
    s = c.summary()
    assert json.loads(json.dumps(s)) == s
    assert [p["name"] for p in s["people"]] == ["ann", "bob", "cy"]
    assert set(s["people"][0]) >= {"name", "file", "camp", "outcomes"}
    assert set(s["people"][0]["outcomes"]) == set(HEADLINE)
    assert set(s["people"][0]["outcomes"][Q.success]) == {"mean", "mcse"}
    assert set(s["pools"]) == {"linear", "geometric_mean_of_odds", "extremized"}
    assert set(s["attribution"]) == set(HEADLINE)
    assert set(s["attribution"][Q.success]) == {"total", "residual", "players"}
    assert set(s["attribution"][Q.success]["players"]) == {
        "capability_needed",
        "relative_difficulty",
        "alignment_difficulty",
        "correlations",
    }
    crux = s["binary_cruxes"][0]
    assert {"crux", "pairs", "vod_median", "vod_share_median", "voi_median", "voi_share_median", "people"} <= set(crux)
    assert {c["crux"] for c in s["binary_cruxes"]} == {"capability_needed>=1", "relative_difficulty>=1"}
    assert set(crux["people"][0]) == {"person", "p_u", "p_c", "p_u_given_c"}


def test_pools_against_closed_forms(three):
    s = three[1].summary()
    n = len(s["people"])
    d = extremizing_factor(n)
    for q in (*OUTCOMES, Q.success_within_horizon):
        p = np.array([x["outcomes"][q]["mean"] for x in s["people"]])
        logit = np.log(p / (1 - p))
        assert s["pools"]["linear"][q]["mean"] == pytest.approx(p.mean(), rel=1e-12)
        assert s["pools"]["geometric_mean_of_odds"][q]["mean"] == pytest.approx(
            1 / (1 + np.exp(-logit.mean())), rel=1e-12
        )
        assert s["pools"]["extremized"][q]["mean"] == pytest.approx(1 / (1 + np.exp(-d * logit.mean())), rel=1e-12)
    assert Q.plan_minus_baseline not in s["pools"]["geometric_mean_of_odds"]


def test_attribution_sums_to_the_variance_of_the_people(three):
    s = three[1].summary()
    for q in HEADLINE:
        a = s["attribution"][q]
        p = np.array([x["outcomes"][q]["mean"] for x in s["people"]])
        assert a["total"] == pytest.approx(np.var(p), rel=1e-9, abs=1e-15)
        parts = sum(v["value"] for v in a["players"].values())
        assert abs(a["residual"]) <= 1e-12 * max(a["total"], 1e-12)
        assert parts + a["residual"] == pytest.approx(a["total"], rel=1e-12, abs=1e-16)


def test_attribution_does_not_depend_on_the_order_of_files(three):
    files, c = three
    again = cruxes(files[::-1], samples=N, seed=7, workers=1).summary()
    for q in HEADLINE:
        a, b = c.summary()["attribution"][q], again["attribution"][q]
        assert b["total"] == pytest.approx(a["total"], rel=1e-9, abs=1e-15)
        for player, v in a["players"].items():
            assert b["players"][player]["value"] == pytest.approx(v["value"], rel=1e-9, abs=1e-15)


def test_identical_people_give_zero_attribution(tmp_path):
    a = person(tmp_path, "a")
    b = tmp_path / "b.toml"
    b.write_text(a.read_text().replace('name = "a"', 'name = "b"'))
    s = cruxes([a, b], samples=2_000, seed=3, workers=1).summary()
    for q in HEADLINE:
        assert s["attribution"][q] == {"total": 0.0, "residual": 0.0, "players": {}}
        assert s["people"][0]["outcomes"][q] == s["people"][1]["outcomes"][q]


def test_binary_cruxes_equal_the_survey_functions_on_the_same_triples(three):
    s = three[1].summary()
    for crux in s["binary_cruxes"]:
        t = {x["person"]: (x["p_u"], x["p_c"], x["p_u_given_c"]) for x in crux["people"]}
        vods = [float(vod(t[p["a"]], t[p["b"]])) for p in crux["vod_pairs"]]
        for p, v in zip(crux["vod_pairs"], vods, strict=True):
            assert p["vod"] == pytest.approx(v, rel=1e-12)
        assert crux["pairs"] == 3
        assert crux["vod_median"] == pytest.approx(float(np.median(vods)), rel=1e-12)
        assert crux["voi_median"]["all"] == pytest.approx(float(np.median([voi(*x) for x in t.values()])), rel=1e-12)


def test_p_c_and_p_u_given_c_from_the_worlds(three):
    s = three[1].summary()
    for crux in s["binary_cruxes"]:
        for x in crux["people"]:
            assert 0 < x["p_c"] < 1
            assert x["p_u_given_c"] * x["p_c"] <= x["p_u"] + 1e-12  # coherent: P(U|¬c) ≥ 0


def test_a_camp_of_one(three):
    files, _ = three
    s = cruxes(files, camps={"solo": [files[0]], "rest": files[1:]}, samples=N, seed=7, workers=1).summary()
    assert [p["camp"] for p in s["people"]] == ["solo", "rest", "rest"]
    for crux in s["binary_cruxes"]:
        ann = next(x for x in crux["people"] if x["person"] == "ann")
        assert crux["voi_median"]["solo"] == pytest.approx(float(voi(ann["p_u"], ann["p_c"], ann["p_u_given_c"])))
        assert crux["pairs"] == 2  # ann with each of the other camp; bob and cy share a camp
        assert sum(p["cross"] for p in crux["vod_pairs"]) == 2


def test_camps_must_cover_every_file(three):
    files, _ = three
    with pytest.raises(ValueError, match="in none"):
        cruxes(files, camps={"solo": [files[0]]}, samples=100, workers=1)


def test_refuses_files_that_differ_in_horizon_evidence_or_apply(tmp_path):
    a = person(tmp_path, "a")
    later = person(tmp_path, "later", extra="\n[calibration]\nhorizon_years = 6\n")
    with pytest.raises(ValueError, match="differ in horizon"):
        cruxes([a, later], samples=100, workers=1)
    with pytest.raises(ValueError, match="differ in evidence"):
        cruxes([ROOT / "priors" / "author.toml", ROOT / "priors" / "author-2026.toml"], samples=100, workers=1)
    view = load(a)
    applied = dataclasses.replace(view, calibration=view.calibration.model_copy(update={"apply": "tilt"}))
    with pytest.raises(ValueError, match="differ in calibration"):
        cruxes([view, applied], samples=100, workers=1)


def test_cli_end_to_end(tmp_path, three):
    files, _ = three
    out = tmp_path / "report"
    r = aar_in_process(
        "cruxes",
        *files,
        "-n",
        "2000",
        "-s",
        "5",
        "-w",
        "1",
        "--crux",
        "alignment_difficulty>=6",
        "-o",
        out,
        "--json",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert {c["crux"] for c in s["binary_cruxes"]} == {
        "capability_needed>=1",
        "relative_difficulty>=1",
        "alignment_difficulty>=6",
    }
    assert json.loads((out / "cruxes.json").read_text()) == s
    for name in ("report.md", "report.html", "figures/people.png", "figures/attribution.png", "figures/vod.png"):
        assert (out / name).is_file()
    assert "data:image/png;base64," in (out / "report.html").read_text()
    assert str(out) in r.stderr


def test_cli_refuses_with_one_message_and_exit_2(tmp_path):
    a = person(tmp_path, "a")
    later = person(tmp_path, "later", extra="\n[calibration]\nhorizon_years = 6\n")
    r = aar_in_process("cruxes", a, later, "-n", "100", cwd=tmp_path)
    assert r.returncode == 2 and "differ in horizon" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "reports").exists()
    bad = aar_in_process("cruxes", a, a, "--crux", "capabilty_needed>=1", cwd=tmp_path)
    assert bad.returncode == 2 and "did you mean capability_needed" in bad.stderr


def test_cli_folder(tmp_path):
    folder = tmp_path / "panel"
    folder.mkdir()
    person(folder, "a", (0.4, 1.0))
    person(folder, "b", (0.8, 1.8))
    r = aar_in_process("cruxes", folder, "-n", "1000", "-w", "1", "--json", "-o", tmp_path / "out", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert [p["name"] for p in json.loads(r.stdout)["people"]] == ["a", "b"]


def test_local_pool_equals_inline(three):
    files, c = three
    pooled = cruxes(files, samples=N, seed=7, workers=2).summary()
    assert pooled == c.summary()


def test_dask_local_cluster_is_bit_identical(three):
    distributed = pytest.importorskip("distributed", reason="dask.distributed is the optional extra aar-cruxes[dask]")
    files, c = three
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        on_dask = cruxes(files, samples=N, seed=7, scheduler=cluster.scheduler_address).summary()
    assert on_dask == c.summary()
    assert math.isfinite(on_dask["attribution"][Q.success]["total"])


def test_api_is_exported_documented_and_its_example_true(monkeypatch):
    import doctest

    import model
    import model.api.people

    assert model.cruxes is model.api.people.cruxes and "cruxes" in model.__all__
    assert "model.cruxes(" in (ROOT / "docs" / "api.md").read_text()
    monkeypatch.chdir(ROOT)
    failed, attempted = doctest.testmod(model.api.people, optionflags=doctest.ELLIPSIS)
    assert attempted >= 2 and failed == 0


def test_binary_cruxes_equal_the_survey_of_the_same_answers(three, tmp_path):
    """The crux objects are those `cruxes --survey` gives on a table of the people's own triples."""
    import csv

    import model

    files, _ = three
    s = cruxes(files, camps={"low": files[:1], "high": files[1:]}, samples=N, seed=7, workers=1).summary()
    table = tmp_path / "answers.csv"
    camp = {p["name"]: p["camp"] for p in s["people"]}
    with table.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["person", "camp", "crux", "p_u", "p_c", "p_u_given_c"])
        for c in s["binary_cruxes"]:
            for x in c["people"]:
                w.writerow(
                    [x["person"], camp[x["person"]], c["crux"], repr(x["p_u"]), repr(x["p_c"]), repr(x["p_u_given_c"])]
                )
    survey = model.survey_cruxes(table).summary()["survey"]
    ours = [{k: v for k, v in c.items() if k not in ("people", "vod_pairs")} for c in s["binary_cruxes"]]
    assert ours == survey["cruxes"]


def test_cli_camps(tmp_path, three):
    files, _ = three
    camp = f"solo={files[0]}"
    rest = f"rest={files[1]},{files[2]}"
    r = aar_in_process(
        "cruxes",
        *files,
        "--camp",
        camp,
        "--camp",
        rest,
        "-n",
        "1000",
        "-w",
        "1",
        "--json",
        "-o",
        tmp_path / "o",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    s = json.loads(r.stdout)
    assert s["camps"] == ["rest", "solo"] and [p["camp"] for p in s["people"]] == ["solo", "rest", "rest"]
    short = aar_in_process("cruxes", *files, "--camp", camp, "-n", "1000", cwd=tmp_path)
    assert short.returncode == 2 and "in none" in short.stderr and not (tmp_path / "reports").exists()
