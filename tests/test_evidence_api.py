"""The API's two views of a file with evidence (issue 19): ``Run.estimates`` is the priors as
written, ``Run.given`` the same worlds given the evidence, as summary.json says them."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

import model
from model.api import Given

from .conftest import ROOT

N, SEED = 20_000, 3


@pytest.fixture(scope="module")
def view():
    return model.load_priors(ROOT / "priors" / "author-2026.toml")


@pytest.fixture(scope="module")
def run(view):
    return model.simulate(view, samples=N, seed=SEED, keep=200)


def test_load_priors_reads_the_included_evidence(view):
    assert [e.words() for e in view.evidence][:2] == ["no useful AAR by Dec 2026", "no AGI by Dec 2026"]
    assert len(view.evidence) == 4 and view.as_of == date(2026, 12, 1)
    assert len({e.ident for e in view.evidence}) == 4
    assert all(e.origin.endswith("since-2023.toml") for e in view.evidence)


def test_estimates_stay_the_priors_as_written_and_given_is_the_summary(view, run):
    without = model.simulate(replace(view, evidence=()), samples=N, seed=SEED, keep=200)
    assert without.given is None and "given_evidence" not in without.summary()
    assert run.estimates == without.estimates  # the same worlds, unweighted
    assert run.to_dataframe().equals(without.to_dataframe())  # no weight column: the priors' worlds
    g = run.given
    assert isinstance(g, Given) and g.as_of == date(2026, 12, 1)
    s = run.summary()["given_evidence"]
    assert s["as_of"] == "2026-12-01" and g.effective_sample_size == s["effective_sample_size"]
    assert 0.1 * N < g.effective_sample_size < N
    for q in model.OUTCOMES:
        assert g.estimates[q].as_dict() == s["outcomes"][q]
        assert g.change(q, run.estimates[q].mean) == pytest.approx(s["outcomes"][q]["mean"] - run.estimates[q].mean)
    assert g.estimates["success_within_horizon"].mean == s["success_within_horizon"]["mean"]
    assert g.estimates["success"].mean != run.estimates["success"].mean
    assert [e.words for e in g.entries] == [e["words"] for e in s["entries"]]
    for effect, entry in zip(g.entries, s["entries"], strict=True):
        assert effect.bayes_factor.as_dict() == entry["bayes_factor"]
        assert 0 < effect.bayes_factor.mean < 1 and effect.bayes_factor.mcse > 0
        assert effect.alone["success"].as_dict() == entry["alone"]["outcomes"]["success"]
        assert effect.crux_medians == entry["alone"]["crux_medians"]
        assert effect.date == date.fromisoformat(entry["date"])
    assert {n: list(v) for n, v in g.crux_medians.items()} == {
        n: [m["prior"], m["given"]] for n, m in s["crux_medians"].items()
    }
    assert run.given is g  # computed once


def test_an_entry_at_strength_zero_moves_nothing(view):
    weak = replace(view, evidence=(replace(view.evidence[0], strength=0.0),))
    run = model.simulate(weak, samples=5_000, seed=SEED)
    (effect,) = run.given.entries
    assert effect.bayes_factor.mean == pytest.approx(1.0)
    for q in model.OUTCOMES:
        assert run.given.estimates[q].mean == pytest.approx(run.estimates[q].mean, abs=1e-12)
        assert effect.alone[q].mean == pytest.approx(run.estimates[q].mean, abs=1e-12)
    assert run.given.effective_sample_size == pytest.approx(5_000)


def test_a_file_without_evidence_has_no_given_view():
    run = model.simulate(ROOT / "priors" / "author.toml", samples=2_000, seed=1)
    assert run.given is None and "given_evidence" not in run.summary()
