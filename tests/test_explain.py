from __future__ import annotations

import dataclasses
import html
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from declutter.cleaner import Cleaner
from declutter.cli import app
from declutter.explain import (
    ANSI_DROP,
    ANSI_KEEP,
    LineExplanation,
    explain_page,
    explanation_html,
    format_colored,
    format_explanation,
    page_summary,
    use_color,
)
from declutter.lines import split_lines
from declutter.model import LineModel

from .conftest import TRAINING_DATA

runner = CliRunner()
PAGE = TRAINING_DATA / "pages" / "en-news-01.txt"
# Headless Chromium as root in a container (Debian's package; .ci/run installs it).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
CHROMIUM_TIMEOUT = 120  # seconds: a cold start on a busy 2-core machine takes several


def _row(keep: bool, p: float | None = 0.8) -> LineExplanation:
    return LineExplanation(3, "Some <b>text</b> & more", p, keep, [("a", 1.0)], [("b", -0.5)], 0.1)


def test_colour_only_on_a_terminal_without_no_color() -> None:
    assert use_color(True, {})
    assert not use_color(False, {})
    assert not use_color(True, {"NO_COLOR": "1"})


def test_coloured_lines_mark_the_decision_and_keep_the_text() -> None:
    kept, dropped = format_colored(_row(True)), format_colored(_row(False, 0.1))
    assert ANSI_KEEP in kept and ANSI_DROP in dropped
    assert re.sub(r"\x1b\[[0-9;]*m", "", kept) == format_explanation(_row(True))


def test_explain_piped_has_no_colour() -> None:
    result = runner.invoke(app, ["explain", str(PAGE)])
    assert result.exit_code == 0, result.stderr
    assert "\x1b[" not in result.stdout


def test_html_report_has_every_line_escaped_with_its_reasons() -> None:
    rows = [_row(True), _row(False, 0.1), _row(False, None)]
    page = explanation_html(rows, "p.txt", 0.35)
    assert page.count('<div class="line') == 3
    assert "Some &lt;b&gt;text&lt;/b&gt; &amp; more" in page
    assert 'class="line drop unscored"' in page and "toward content:" in page
    assert "<script" not in page and "http" not in page.split("<body>")[1]


def test_html_report_of_undecodable_bytes_is_utf8() -> None:
    page = explanation_html([dataclasses.replace(_row(True), text="caf\udce9")], "x", 0.5)
    assert "caf\ufffd" in page


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def test_html_report_renders_every_line_in_chromium(tmp_path: Path) -> None:
    browser = _chromium()
    if browser is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs Chromium for this test (.ci/run installs Debian's chromium)")
        pytest.skip("chromium not installed")
    report = tmp_path / "report.html"
    result = runner.invoke(app, ["explain", "--html", str(PAGE), "-o", str(report)])
    assert result.exit_code == 0, result.stderr
    with tempfile.TemporaryDirectory() as profile:
        dom = subprocess.run(
            [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--dump-dom", report.as_uri()],
            capture_output=True,
            text=True,
            timeout=CHROMIUM_TIMEOUT,
            check=True,
        ).stdout
    lines = split_lines(PAGE.read_text(encoding="utf-8"))
    rendered = re.findall(r'<div class="line (keep|drop)[^"]*" id="L(\d+)"', dom)
    assert [int(n) for _, n in rendered] == list(range(1, len(lines) + 1))
    texts = re.findall(r'<span class="t">(.*?)</span></div>', dom)
    assert [html.unescape(t) for t in texts] == [line.rstrip("\r\n") for line in lines]
    rows = explain_page(Cleaner(), PAGE.read_text(encoding="utf-8"))
    assert [d == "keep" for d, _ in rendered] == [r.keep for r in rows]


SUMMARY_PAGE = "Home\nNews\nThe council met on Tuesday and agreed to extend the tram line.\n"


def test_page_summary_ranks_the_page_types(typed_model: LineModel) -> None:
    cleaner = Cleaner(typed_model)
    summary = page_summary(cleaner.process([SUMMARY_PAGE])[0], top=2)
    assert summary is not None
    best = cleaner.process([SUMMARY_PAGE])[0].page_type
    assert summary.startswith(f"page type: {best} ")
    assert summary.count(",") == 1


def test_no_page_summary_without_a_page_stage(tiny_model: LineModel) -> None:
    assert page_summary(Cleaner(tiny_model).process([SUMMARY_PAGE])[0]) is None
