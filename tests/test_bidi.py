"""A name with a bidi override (U+202E, "Trojan source") is shown as an escape in every report,
as in the terminal: the HTML report used to render it, reading the title backwards."""

from __future__ import annotations

import model

from .conftest import ROOT

BIDI = ("\u202e", "\u2066", "\u200f")


def test_bidi_controls_are_escapes_in_the_html_and_markdown_reports(tmp_path):
    f = tmp_path / "odd.toml"
    f.write_text(
        '[meta]\nname = "Odd \u202eweiv \u2066x\u2069 \u200fy"\nbase = "'
        + str(ROOT / "priors" / "author.toml")
        + '"\n',
        encoding="utf-8",
    )
    files = model.report_run(f, samples=2000, seed=1, workers=1).files
    for name in ("report.html", "report.md"):
        text = files[name] if isinstance(files[name], str) else files[name].decode("utf-8")
        assert not any(c in text for c in BIDI), name
        assert "\\u202eweiv" in text, name
