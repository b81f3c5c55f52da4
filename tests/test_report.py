"""Reports people read: figures, self-contained HTML, compare attributions, template."""

from __future__ import annotations

import re

import numpy as np
import pytest

from model.analyses.compare import CORRELATIONS, attribute, players
from model.montecarlo.engine import simulate
from model.report.figures import FIGURES, render_all
from model.priors.priors import load
from model.report.render import files
from model.report.summary import build
from model.priors.template import template

from .conftest import MIDDLE_WORLD, ROOT, chromium, write_priors

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def author_report():
    p = load(ROOT / "priors" / "author.toml")
    r = simulate(p, samples=100_000, workers=1)
    figures = render_all(p, r)
    return p, r, figures, files(build(p, r), figures)


def _pixels(png: bytes) -> np.ndarray:
    import io

    import matplotlib.image

    return matplotlib.image.imread(io.BytesIO(png), format="png")[..., :3]


def _has_colour(pixels: np.ndarray, hex_colour: str, least: int = 50) -> bool:
    rgb = np.array([int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)])
    return int((np.abs(pixels - rgb).max(axis=-1) < 0.02).sum()) >= least


def test_every_figure_is_drawn(author_report):
    """Each figure decodes to a picture of a readable size that is not blank; the outcomes
    figure shows every outcome in its colour from the one table."""
    from model.core.quantities import COLORS, OUTCOMES

    _, result, figures, _ = author_report
    assert set(figures) == set(FIGURES)
    for name, png in figures.items():
        assert png.startswith(PNG), name
        pixels = _pixels(png)
        assert pixels.shape[0] >= 250 and pixels.shape[1] >= 400, (name, pixels.shape)
        ink = (pixels.max(axis=-1) - pixels.min(axis=-1) > 0.1) | (pixels.mean(axis=-1) < 0.5)
        assert ink.mean() > 0.02, name  # more than a frame and a title
    outcomes = _pixels(figures["outcomes.png"])
    shown = [q for q in OUTCOMES if result.estimates[q].mean > 0.01]  # a bar under 1% may be a hairline
    assert len(shown) >= 3 and all(_has_colour(outcomes, COLORS[q]) for q in shown)


def test_point_priors_draw_too(tmp_path):
    p = load(write_priors(tmp_path, "points", MIDDLE_WORLD))
    figures = render_all(p, simulate(p, samples=1000, workers=1))
    assert all(png.startswith(PNG) for png in figures.values())


def test_html_is_self_contained(author_report):
    html = author_report[3]["report.html"]
    assert html.count('src="data:image/png;base64,') == len(FIGURES)
    assert not re.search(r'src\s*=\s*["\'](?!data:)', html)  # every image embedded
    assert not re.search(r'(src|href)\s*=\s*["\'](https?:|//)', html)  # no network at all
    assert "url(" not in html and "<script" not in html and "<link" not in html and "@import" not in html


def test_markdown_links_every_figure(author_report):
    content = author_report[3]
    md = content["report.md"]
    for name in FIGURES:
        assert f"(figures/{name})" in md and f"figures/{name}" in content


def test_html_escapes_user_text(tmp_path):
    world = {**MIDDLE_WORLD}
    path = write_priors(tmp_path, "x", world)
    path.write_text(path.read_text().replace('name = "x"', 'name = "<script>alert(1)</script>"'))
    p = load(path)
    html = files(build(p, simulate(p, samples=100, workers=1)), {k: b"" for k in FIGURES})["report.html"]
    assert "<script>alert" not in html and "&lt;script&gt;" in html


@pytest.mark.browser
def test_html_renders_in_headless_chromium(author_report, tmp_path):
    exe = chromium()
    from playwright.sync_api import sync_playwright

    page_path = tmp_path / "report.html"
    page_path.write_text(author_report[3]["report.html"])
    errors, requests = [], []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=exe,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        page.goto(page_path.as_uri())
        page.wait_for_load_state("load")
        sizes = page.eval_on_selector_all("img", "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.naturalHeight])")
        page.screenshot(path=str(tmp_path / "shot.png"), full_page=True)
        browser.close()
    assert errors == []
    assert len(sizes) == len(FIGURES) and all(ok and w > 300 and h > 200 for ok, w, h in sizes)
    assert all(u.startswith(("file:", "data:")) for u in requests), requests


def test_compare_attributions_add_up(tmp_path):
    a, b = load(ROOT / "priors/author.toml"), load(ROOT / "priors/openai.toml")
    at = attribute(a, b, samples=65_536, seed=4)
    assert at.method == "shapley"
    # every differing belief is a player, and the correlation table (openai couples C and p less)
    assert set(at.players) == {n for n in a.variables if a.variables[n].marginal != b.variables[n].marginal} | {
        CORRELATIONS
    }
    ra, rb = simulate(a, samples=200_000, seed=8, workers=1), simulate(b, samples=200_000, seed=9, workers=1)
    for q, by in at.by_variable.items():
        assert sum(by.values()) == pytest.approx(at.total[q], abs=1e-12)  # exact efficiency
        diff = rb.estimates[q].mean - ra.estimates[q].mean
        err = np.sqrt(rb.estimates[q].mcse ** 2 + ra.estimates[q].mcse ** 2 + at.total_se[q] ** 2)
        assert abs(at.total[q] - diff) < 4 * err, (q, at.total[q], diff, err)


def test_a_single_difference_takes_the_whole_total(tmp_path):
    base = write_priors(tmp_path, "a", {**MIDDLE_WORLD, "capability_needed": '"0.5 to 1.5"'})
    other = tmp_path / "b.toml"
    other.write_text('[meta]\nbase = "a.toml"\n[parameters]\ncontainment = 0.9\n')
    at = attribute(load(base), load(other), samples=16_384)
    assert at.players == ("containment",)
    for q in at.total:
        assert at.by_variable[q]["containment"] == pytest.approx(at.total[q], abs=1e-15)


def test_many_players_use_sampled_orderings():
    a, c = load(ROOT / "priors/openai.toml"), load(ROOT / "priors/pessimist.toml")
    assert len(players(a, c)) > 8
    at = attribute(a, c, samples=16_384, orderings=4)
    assert "sampled orderings" in at.method
    for q, by in at.by_variable.items():
        assert sum(by.values()) == pytest.approx(at.total[q], abs=1e-12)


def test_init_template_runs_and_equals_its_base(tmp_path):
    base = load(ROOT / "priors/author.toml")
    (tmp_path / "author.toml").write_text((ROOT / "priors/author.toml").read_text())
    path = tmp_path / "mine.toml"
    path.write_text(template("mine", base))
    mine = load(path)
    assert all(mine.variables[n].marginal == base.variables[n].marginal for n in base.variables)
    # every commented default line is itself valid: uncomment all of them
    from model.core.variables import NAMES

    text = "\n".join(
        l[2:] if (m := re.match(r"# ([a-z_]+) = ", l)) and m.group(1) in NAMES else l
        for l in path.read_text().splitlines()
    )
    path.write_text(text)
    again = load(path)
    assert all(not again.inherited(n) for n in again.variables)
    assert all(again.variables[n].marginal == base.variables[n].marginal for n in base.variables)


def test_with_the_plan_is_success_plus_the_harmless_failure_part_and_the_report_says_so(tmp_path):
    """Issue 20 item 1: "Success" and "With the plan: alignment solved before AGI" are not the same
    number; the report shows the decomposition, and a difference in percentage points."""
    from model.core.quantities import Q

    p = load(ROOT / "priors" / "author.toml")
    r = simulate(p, samples=20_000, seed=4, workers=1, keep_worlds=True)
    w = r.worlds
    assert np.allclose(w[Q.plan_solved], w[Q.success] + w[Q.harmless_failure_field_in_time], rtol=0, atol=1e-12)
    s = build(p, r)
    assert s[Q.plan_solved]["mean"] == pytest.approx(
        s["outcomes"][Q.success]["mean"] + s[Q.harmless_failure_field_in_time]["mean"], abs=1e-12
    )
    md = files(s, {k: b"" for k in FIGURES})["report.md"]
    assert "… of which Success" in md and "… of which the AAR failed harmlessly and the field finished in time" in md
    assert "with the plan = success + that part" in md
    row = next(line for line in md.splitlines() if line.startswith("| What the plan adds"))
    assert " pp ± " in row and "%" not in row.split("|")[2]


@pytest.mark.parametrize(
    ("mean", "mcse", "shown"),
    [
        (0.27809, 0.00073, "28% ± 0.07 pp"),  # a last digit of 0.1 pp would be below 2 × 0.073 pp
        (0.27809, 0.0004, "27.8% ± 0.04 pp"),  # 0.1 pp ≥ 0.08 pp > 0.01 pp
        (0.27809, 0.00004, "27.81% ± 0.004 pp"),
        (0.003414, 0.000052, "0.3% ± 0.005 pp"),
        (0.63, 0.000995, "63% ± 0.1 pp"),
        (0.5, 0.02, "50% ± 2 pp"),
    ],
)
def test_every_number_is_rounded_by_one_rule(mean, mcse, shown):
    """Issue 20 item 5: the most decimals whose last digit is still at least twice the Monte Carlo
    error; the error to one significant digit, never in exponent form."""
    from model.report.render import decimals, pct_pm

    d = decimals(mcse)
    assert (d == 0 or 10.0 ** (-d) >= 2 * 100 * mcse) and (d == 6 or 10.0 ** (-d - 1) < 2 * 100 * mcse)
    assert pct_pm({"mean": mean, "mcse": mcse}) == shown


def test_prose_has_no_exponents_negative_zeros_or_one_worlds():
    from model.report.render import num, plural, pp_change

    assert num(4.0) == "4" and num(12.5) == "12.5" and num(-0.0001, 2) == "0" and num(5.9e-7, 7) == "0.0000006"
    assert plural(1, "world") == "1 world" and plural(1_000_000, "world") == "1,000,000 worlds"
    assert pp_change({"mean": 0.2500001, "mcse": 0.001}, {"mean": 0.25}) == "0 pp ± 0.1"


def test_the_long_report_has_contents_and_names_files_that_exist(tmp_path):
    """Issue 20 item 5: a table of contents linking every section; the source file the report names
    is derived from the code, so it exists."""
    import re as _re

    from model.report.render import anchor

    p = load(ROOT / "priors" / "author.toml")
    out = files(build(p, simulate(p, samples=2_000, workers=1)), {k: b"" for k in FIGURES})
    md, html = out["report.md"], out["report.html"]
    sections = [line[3:] for line in md.splitlines() if line.startswith("## ")]
    assert len(sections) >= 8 and "**Contents**" in md
    for title in sections:
        assert f"- [{title}](#{anchor(title)})" in md
        assert f'href="#{anchor(title)}"' in html and f'id="{anchor(title)}"' in html
    named = _re.findall(r"equations in `([^`]+)`", md)
    assert named and all((ROOT / n).is_file() for n in named), named


def test_a_figure_title_gives_a_tiny_chance_as_a_percentage_not_an_exponent():
    from model.report.prior_figures import chance

    assert chance(4.8e-7) == "0.000048%" and chance(0.031) == "3.1%" and chance(0.0) == "0%"
    assert "e-" not in chance(5.9e-7)
