"""A small slice of each benchmark script, so that they cannot rot (they need ../shared)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from .conftest import ROOT, needs_shared

sys.path.insert(0, str(ROOT / "benchmarks"))


def test_c4_rules() -> None:
    import _common as C

    assert C.c4_keep("This line has five words in it.")
    assert not C.c4_keep("Too short.")
    assert not C.c4_keep("This line has no terminal punctuation at all")
    assert not C.c4_keep("We use cookies to improve this site, see our privacy policy.")
    assert not C.c4_keep("Please enable JavaScript to view the comments here.")
    assert not C.c4_keep("And so the story went on and on...")


def test_snippets_match_on_words() -> None:
    import _common as C

    words = C.word_string("The **quick** brown fox — jumps.")
    assert C.snippet_present("quick brown fox jumps", words)
    assert not C.snippet_present("brown quick", words)


def test_replace_section(tmp_path: Path) -> None:
    import _common as C

    path = tmp_path / "B.md"
    C.replace_section(path, "x", "one", "X")
    C.replace_section(path, "x", "two", "X")
    text = path.read_text()
    assert "two" in text and "one" not in text and text.count("## X") == 1


def test_quality_slice(tmp_path: Path) -> None:
    needs_shared("datasets", "wcxb", "test")
    pytest.importorskip("html_text")
    import quality

    out = tmp_path / "BENCHMARKS.md"
    assert quality.main(["--limit", "3", "--out", str(out), "--no-trafilatura"]) == 0
    text = out.read_text()
    assert "WCXB test, html-text dumps" in text
    assert "declutter t=" in text and "C4 line rules" in text
    assert "| system | lynx-numbered | markdown | lynx | html2text |" in text
    assert "| aligned lines (ceiling) |" in text and "### Where declutter loses word F1" in text
    assert "chrome kept before / among / after" in text


def test_chrome_kept_splits_by_place_around_the_content() -> None:
    import numpy as np
    import quality

    from declutter.align import CHROME, CONTENT

    labels = np.array([CHROME, CONTENT, CHROME, CONTENT, CHROME, CHROME])
    keep = np.array([True, True, True, True, True, False])
    words = np.array([1, 2, 3, 4, 5, 6])
    assert quality.chrome_kept(keep, labels, words) == (1, 3, 5)


def test_speed_slice(tmp_path: Path) -> None:
    needs_shared("datasets", "wcxb", "test")
    pytest.importorskip("html_text")
    import speed

    out = tmp_path / "BENCHMARKS.md"
    assert speed.main(["--quick", "--out", str(out), "--no-training"]) == 0
    text = out.read_text()
    assert "MB/s" in text and "Start-up" in text and "peak RSS" in text
    assert "bytes a line" in text  # one huge page's memory
    assert "Where the library's time goes" in text and "could reach at most" in text


def test_stage_times_add_up_to_the_profiled_run() -> None:
    import speed

    from declutter.cleaner import Cleaner

    cleaner = Cleaner()
    page = "Home | News | Sport\n\n" + "A sentence of prose that runs on for a while. " * 40

    def library() -> None:
        cleaner.clean_many([page] * 20)

    total, stages = speed.stage_times(library)
    named = dict(stages)
    assert sum(named.values()) == pytest.approx(total)
    assert all(named[label] > 0 for label, _, _ in speed.STAGES)


def test_dump_cache_key_follows_the_dump_code(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import _common as C

    from declutter import corpus

    module = tmp_path / "corpus.py"
    module.write_text("def dump(html, style): return html\n")
    monkeypatch.setattr(corpus, "__file__", str(module))
    before = C.dump_code_key()
    module.write_text("def dump(html, style): return html.upper()\n")
    assert C.dump_code_key() != before


def test_adapt_slice(tmp_path: Path) -> None:
    needs_shared("datasets", "wcxb", "dev")
    needs_shared("datasets", "wcxb", "test")
    pytest.importorskip("html_text")
    import adapt

    out = tmp_path / "BENCHMARKS.md"
    assert adapt.main(["--limit", "3", "--base", "default", "--out", str(out)]) == 0
    text = out.read_text()
    assert "| pages | 0 corrected | 2 corrected |" in text
    assert "style lynx-numbered" in text and "Time to adapt on 2 pages" in text
    assert "| no anchors |" in text


def test_warc_readers_slice(tmp_path: Path) -> None:
    pytest.importorskip("warcio")
    pytest.importorskip("fastwarc")
    import warc_readers

    out = tmp_path / "BENCHMARKS.md"
    assert warc_readers.main(["--quick", "--out", str(out)]) == 0
    text = out.read_text()
    assert "| fastwarc | gzip per record |" in text and "| warcio | uncompressed |" in text


def test_site_context_written_site() -> None:
    from dataclasses import replace

    import numpy as np
    import site_context

    from declutter.model import load_model
    from declutter.site import SiteStageParams

    model = replace(load_model(), site=SiteStageParams(np.array([-4.0, 0.0], np.float32)))
    table = site_context.synthetic_table(model)
    assert "| pages keeping the footer sentence | 30 | 0 |" in table
    assert "| the quoted sentence kept | yes | yes |" in table
