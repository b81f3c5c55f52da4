"""Issue 20 item 2: the calibration explains its result. Which beliefs moved most (sorted by
|shift|, the shifts those of ``variable_shift``), which beliefs the update and the tilt move in
opposite directions, which outcomes moved against success within the horizon, and the
calibrated numbers inline in the run report. Identities and wording, not today's values."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import model
from model.analyses.calibration import methods as cal
from model.core.quantities import OUTCOMES, SHORT, Q
from model.core.variables import CRUXES
from model.report.render import num, pp_change

from .conftest import ROOT


@pytest.fixture(scope="module")
def calibrated():
    c = model.calibrate(ROOT / "priors/openai.toml", methods=("reweight", "tilt"), samples=40_000, seed=3, workers=1)
    return c, c.summary()


def test_moved_most_is_sorted_by_shift_and_its_shifts_are_variable_shift(calibrated):
    c, s = calibrated
    run, w = c.computed, c.computed.posteriors["tilt"][1]
    for method, rows in s["explains"]["moved_most"].items():
        shifts = [abs(r["shift_sd"]) for r in rows]
        assert shifts == sorted(shifts, reverse=True), method
        assert {r["variable"] for r in rows} == set(s["methods"][method]["variables"])
        for r in rows:
            v = s["methods"][method]["variables"][r["variable"]]
            assert (r["shift_sd"], r["prior_median"], r["posterior_median"]) == (
                v["shift_sd"],
                v["prior_median"],
                v["posterior_median"],
            )
            assert r["crux"] == (r["variable"] in CRUXES)
    # and those are variable_shift's, recomputed from the tilt's weights
    for r in s["explains"]["moved_most"]["tilt"]:
        n = r["variable"]
        again = cal.variable_shift(
            run.priors.variables[n].marginal, run.worlds[n], w, run.worlds.get(f"u:{n}"), float(np.std(run.worlds[n]))
        )
        assert r["shift_sd"] == pytest.approx(again["shift_sd"], rel=1e-12, abs=1e-15)


def test_opposite_directions_are_flagged_exactly_when_the_signs_differ(calibrated):
    _, s = calibrated
    x = s["explains"]
    assert x["update"] == "reweight" and x["tilt"] == "tilt"
    up, tilt = s["methods"]["reweight"]["variables"], s["methods"]["tilt"]["variables"]
    want = {n for n in up if np.sign(up[n]["shift_sd"]) * np.sign(tilt[n]["shift_sd"]) == -1}
    assert set(x["opposite"]) == want
    assert set(x["opposite_cruxes"]) == want & set(CRUXES)
    for rows in x["moved_most"].values():
        assert {r["variable"] for r in rows if r["opposite"]} == want
    md = c_report(calibrated)
    if want:
        assert f"**{len(want)} of {len(up)} beliefs**" in md
        for n in want:
            assert f"`{n}`" in md.split("So the two can move a belief in opposite directions")[1].split("\n\n")[0]
        assert md.count("| opposite to the tilt") == len(want) and md.count("| opposite to the update") == len(want)
    else:
        assert "move every belief in the same direction" in md


def c_report(calibrated, name: str = "report.md") -> str:
    c, _ = calibrated
    files = c.files(ROOT / "reports" / "never-written")
    text = files[name]
    assert isinstance(text, str)
    return text


def test_the_explanation_names_the_outcomes_that_moved_against_success_within_the_horizon(calibrated):
    _, s = calibrated
    md = c_report(calibrated)
    start = s["prior"]["outcomes"]
    for method, m in s["methods"].items():
        moved = np.sign(m["outcomes"][Q.success_within_horizon]["mean"] - start[Q.success_within_horizon]["mean"])
        want = [
            q
            for q in OUTCOMES
            if np.sign(m["outcomes"][q]["mean"] - start[q]["mean"]) == (-moved if q == Q.success else moved) != 0
        ]
        assert [a["outcome"] for a in s["explains"]["outcomes"][method]["against"]] == want, method
        lines = md.splitlines()
        at = next(i for i, ln in enumerate(lines) if ln.startswith(f"- **{method}**: success within the horizon"))
        line = lines[at] + " " + lines[at + 1]  # the item and its continuation line
        if want:
            named = line.split("against it: ")[1]
            for q in want:
                assert f"{SHORT[q]} {pp_change(m['outcomes'][q], start[q])}" in named
            assert all(SHORT[q] not in named for q in OUTCOMES if q not in want)
        else:
            assert "no outcome moved against it" in line
    assert "removes worlds on *both*" in md and "sides: those far above the market and those far below it" in md
    x = s["explains"]
    for k in ("reweight", "tilt"):  # the effective sample sizes and KLs, stated
        assert "{:,.0f}".format(x["ess"][k]) in md
        assert x["kl"][k] == s["methods"][k]["kl"] and f"{num(x['kl'][k], 3)} nats" in md


@pytest.mark.slow  # a whole CLI run or calibration: the full suite runs it
def test_the_run_report_shows_the_calibrated_numbers_when_current_and_not_when_stale(tmp_path):
    from .conftest import aar_in_process

    mine = tmp_path / "mine.toml"
    shutil.copy(ROOT / "priors/author.toml", mine)
    assert aar_in_process("calibrate", mine, "--method", "reweight", "-n", 20_000, "-q", cwd=tmp_path).returncode == 0
    assert aar_in_process("run", mine, "-n", 20_000, "-q", "--workers", "1", cwd=tmp_path).returncode == 0
    folder = tmp_path / "reports" / "mine"
    made = json.loads((folder / "calibration" / "calibration.json").read_text())
    md, html = (folder / "report.md").read_text(), (folder / "report.html").read_text()
    start, update = made["prior"]["outcomes"], made["methods"]["reweight"]["outcomes"]
    assert "| outcome | your priors | update (reweight) |" in md and "<th>update (reweight)</th>" in html
    for q in (Q.success_within_horizon, *OUTCOMES):
        assert f"| {SHORT[q]} |" in md
        assert f"({pp_change(update[q], start[q])})" in md
    summary = json.loads((folder / "summary.json").read_text())
    assert "reweight" not in json.dumps(summary)  # summary.json: the priors, samples and seed only
    mine.write_text(mine.read_text().replace("trust = 20", "trust = 21"))
    assert aar_in_process("run", mine, "-n", 20_000, "-q", "--workers", "1", cwd=tmp_path).returncode == 0
    md, html = (folder / "report.md").read_text(), (folder / "report.html").read_text()
    assert "| outcome | your priors |" not in md and "update (reweight)" not in html
    assert "made from other priors" in md
