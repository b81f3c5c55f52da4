"""``aar-risk run`` of a file with evidence at the terminal (issue 19): the outcomes under your
priors and given the evidence side by side with the change in pp, the effective sample size,
each entry's Bayes factor; piped, at 80 columns, and with --quiet and --json as before."""

from __future__ import annotations

import io
import json
import re

import pytest

from model.cli import terminal
from model.report.render import LABELS, pct_pm, quantity_pm, ratio_pm

from .conftest import ROOT, aar_in_process

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
BOX = re.compile("[\u2500-\u257f]")
RAW_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
PRIORS = ROOT / "priors" / "author-2026.toml"


def aar(*args, cwd, columns=80):
    env = {"FORCE_COLOR": None, "TTY_COMPATIBLE": None, "COLUMNS": str(columns)}
    return aar_in_process(*args, cwd=cwd, env=env)


def _on_a_line(out: str, *parts: str) -> bool:
    return any(all(p in line for p in parts) for line in out.splitlines())


@pytest.fixture(scope="module")
def ran(tmp_path_factory):
    """stdout of ``aar-risk run author-2026`` piped at 80 columns, and its summary.json."""
    folder = tmp_path_factory.mktemp("run")
    r = aar("run", PRIORS, "-n", 20_000, "-o", folder / "r", cwd=folder)
    assert r.returncode == 0, r.stderr
    return r.stdout, json.loads((folder / "r" / "summary.json").read_text())


def test_run_piped_shows_both_views_the_change_the_ess_and_the_entries(ran):
    out, s = ran
    assert not ANSI.search(out) and not BOX.search(out) and not RAW_CONTROL.search(out), out
    g = s["given_evidence"]
    assert "given the evidence (as of 2026-12-01)" in out and "your priors (as written)" in out
    for q in (*s["outcomes"], "success_within_horizon", "plan_minus_baseline"):
        a, b = s["outcomes"].get(q) or s[q], g["outcomes"].get(q) or g[q]
        assert _on_a_line(out, LABELS[q], quantity_pm(a, q), quantity_pm(b, q), terminal._change(b, a)), q
        assert terminal._change(b, a).endswith(" pp")
    assert f"effective sample size {g['effective_sample_size']:,.0f} of 20,000 worlds" in out
    for i, e in enumerate(g["entries"], 1):
        bf = re.escape(ratio_pm(e["bayes_factor"]))
        assert re.search(rf"^{i}\s+{re.escape(e['words'])}\s+{e['date']}\s+{bf}", out, re.M), out


@pytest.mark.slow  # a whole CLI run or calibration: the full suite runs it
def test_quiet_and_json_are_unchanged(tmp_path):
    quiet = aar("run", PRIORS, "-n", 5_000, "-q", "-o", tmp_path / "q", cwd=tmp_path)
    assert quiet.returncode == 0 and quiet.stdout == "", quiet.stdout
    js = aar("run", PRIORS, "-n", 5_000, "--json", "-o", tmp_path / "j", cwd=tmp_path)
    assert js.returncode == 0
    summary = json.loads(js.stdout)  # nothing but the JSON on stdout
    assert summary["given_evidence"]["as_of"] == "2026-12-01"


@pytest.mark.parametrize("width", [80, 100, 160])
def test_at_a_terminal_every_line_fits_and_numbers_stay_whole(ran, width):
    _, s = ran
    buf = io.StringIO()
    terminal.outcomes(s, file=buf, terminal=True, width=width)
    out = ANSI.sub("", buf.getvalue())
    assert BOX.search(out) and all(len(line) <= width for line in out.splitlines()), out
    g = s["given_evidence"]
    for q, a in s["outcomes"].items():
        assert _on_a_line(out, pct_pm(a), pct_pm(g["outcomes"][q])), (q, out)
    for e in g["entries"]:
        assert _on_a_line(out, e["date"], ratio_pm(e["bayes_factor"])), out
        assert e["words"] in out  # cut in the table at 80 columns, then in full below it


def test_entry_words_are_text_never_markup_or_controls(ran):
    _, s = ran
    s = json.loads(json.dumps(s))
    s["given_evidence"]["entries"][0]["words"] = "[bold]no[/] AAR \x1b[31m\u202e"
    for term in (False, True):
        buf = io.StringIO()
        terminal.outcomes(s, file=buf, terminal=term, width=100)
        out = ANSI.sub("", buf.getvalue()) if term else buf.getvalue()
        assert "[bold]no[/] AAR \\x1b[31m\\u202e" in out and not RAW_CONTROL.search(out.replace("\n", "")), out


def test_ruled_out_every_world_shows_a_dash():
    assert terminal._weighted({"mean": None, "mcse": None}, "success") == "—"
    assert terminal._change({"mean": None, "mcse": None}, {"mean": 0.2, "mcse": 0.01}) == "—"
    assert terminal._change({"mean": 0.25, "mcse": 0.001}, {"mean": 0.2, "mcse": 0.001}) == "+5 pp"
