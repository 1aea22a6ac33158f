from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from declutter import corpus
from declutter.errors import DeclutterError

from .conftest import needs_shared

HTML = """<html><head><title>T</title><style>p{}</style></head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/news">News</a></li></ul></nav>
<article><h1>Big headline</h1>
<p>The first paragraph of the story is long enough to wrap when a text browser lays it out
at seventy-six columns, which is what the lynx style does.</p>
<p>Second <b>bold</b> paragraph.</p><pre>code  line
  indented</pre>
<table><tr><td>cell one</td><td>cell two</td></tr></table></article>
<script>var x = 1;</script><footer>© 2024 Site</footer></body></html>"""


def test_innertext_puts_blocks_on_lines_and_paragraphs_apart() -> None:
    text = corpus.innertext(HTML)
    lines = text.splitlines()
    assert lines[:2] == ["Home", "News"]
    assert "Second bold paragraph." in lines
    assert "" in lines  # paragraphs are set off by blank lines
    assert "var x" not in text
    assert "cell one\tcell two" in lines
    assert "  indented" in lines  # <pre> keeps its spacing


def test_lynx_style_wraps_and_indents() -> None:
    lines = corpus.lynx_like(HTML).splitlines()
    assert all(len(line) <= corpus.LYNX_WIDTH for line in lines if "code" not in line)
    assert any(line.startswith("    * Home") or line.startswith("   * Home") for line in lines)
    assert sum(line.startswith("   The first") or line.startswith("   at ") for line in lines) >= 1


@pytest.mark.parametrize("style", corpus.STYLES)
def test_every_style_dumps_text(style: str) -> None:
    pytest.importorskip("html_text")
    text = corpus.dump(HTML, style)
    assert "Second" in text and "first paragraph" in text.replace("\n", " ")


def test_unknown_style() -> None:
    with pytest.raises(DeclutterError, match="unknown dump style"):
        corpus.dump(HTML, "pdf")


def test_decode_html_falls_back_to_the_declared_charset() -> None:
    data = '<meta charset="iso-8859-1"><p>café</p>'.encode("latin-1")
    assert "café" in corpus.decode_html(data)


def test_label_page_aligns_each_dump(tmp_path: Path) -> None:
    pytest.importorskip("html_text")
    html_path = tmp_path / "p.html"
    html_path.write_text(HTML)
    page = corpus.SourcePage(
        "x", "test", "dev", "article", "en", html_path, "Second bold paragraph.", "g"
    )
    records = corpus.label_page(page, styles=["innertext"])
    (record,) = records
    labelled = dict(zip(record["lines"], record["labels"], strict=True))
    assert labelled["Second bold paragraph."] == 1
    assert labelled["Home"] == 0


def test_readability_split_is_stable() -> None:
    assert {corpus.readability_split(f"page-{i}") for i in range(50)} == {"train", "test"}
    assert corpus.readability_split("page-1") == corpus.readability_split("page-1")


def test_build_writes_labelled_jsonl(tmp_path: Path) -> None:
    pytest.importorskip("html_text")
    wcxb = needs_shared("datasets", "wcxb")
    pages = corpus.wcxb_pages(wcxb, "dev")[:2]
    out = tmp_path / "c.jsonl.gz"
    counts = corpus.build(pages, out)
    assert counts["pages"] == 2
    with gzip.open(out, "rt") as f:
        record = json.loads(f.readline())
    assert len(record["lines"]) == len(record["labels"])
    assert record["split"] == "dev" and record["style"] in corpus.STYLES
