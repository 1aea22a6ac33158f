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
    lines = corpus.lynx_like(HTML, numbered=True).splitlines()
    assert all(len(line) <= corpus.LYNX_WIDTH for line in lines if "code" not in line)
    assert "    * [1]Home" in lines
    assert sum(line.startswith("   The first") or line.startswith("   at ") for line in lines) >= 1


def test_lynx_style_lists_link_targets_at_the_end() -> None:
    lines = corpus.lynx_like(HTML, numbered=True).splitlines()
    at = lines.index(corpus.LYNX_REFERENCES)
    assert lines[at + 2 :] == ["   1. /", "   2. /news"]


def test_lynx_style_makes_link_targets_absolute_from_the_canonical_address() -> None:
    html = HTML.replace("<title>T</title>", '<link rel="canonical" href="https://ex.org/a/b">')
    assert corpus.lynx_like(html, numbered=True).splitlines()[-1] == "   2. https://ex.org/news"


def test_lynx_style_shows_alt_text_inline_in_brackets() -> None:
    html = '<p>See <img src="x.png" alt="a red kite"> here</p>'
    assert corpus.lynx_like(html, numbered=True).splitlines() == ["   See [a red kite] here"]


def test_lynx_style_without_numbers_shows_links_as_plain_text() -> None:
    text = corpus.lynx_like(HTML, numbered=False)
    assert "    * Home" in text.splitlines()
    assert "[" not in text and corpus.LYNX_REFERENCES not in text


def test_unnumbered_lynx_is_the_training_style() -> None:
    assert corpus.dump(HTML, "lynx") == corpus.lynx_like(HTML, numbered=False)
    assert corpus.dump(HTML, "lynx-numbered") == corpus.lynx_like(HTML, numbered=True)


def test_markdown_style_does_not_wrap() -> None:
    pytest.importorskip("html2text")
    assert any(
        line.startswith("The first paragraph") and line.endswith("does.")
        for line in corpus.dump(HTML.replace("\n", " "), "markdown").splitlines()
    )


def test_unseen_styles_stay_out_of_training() -> None:
    assert not set(corpus.UNSEEN_STYLES) & set(corpus.STYLES)


@pytest.mark.parametrize("style", corpus.STYLES + corpus.UNSEEN_STYLES)
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


def _wcxb_split(root: Path, split: str, pages: dict[str, str]) -> None:
    (root / split / "html").mkdir(parents=True)
    (root / split / "ground-truth").mkdir(parents=True)
    for name, html in pages.items():
        (root / split / "html" / f"{name}.html.gz").write_bytes(gzip.compress(html.encode()))
        record = {"url": f"https://site.example/{name}", "ground_truth": {"main_content": "x"}}
        (root / split / "ground-truth" / f"{name}.json").write_text(json.dumps(record))


def test_dev_pages_that_copy_a_test_page_are_left_out(tmp_path: Path) -> None:
    # WCXB's test split holds byte-identical copies of dev pages: those must not be trained on.
    _wcxb_split(tmp_path, "dev", {"0001": HTML, "0002": HTML + " "})
    _wcxb_split(tmp_path, "test", {"0001": HTML})
    test_html = frozenset(
        corpus.html_digest(p) for p in (tmp_path / "test" / "html").glob("*.html.gz")
    )
    kept = corpus.wcxb_pages(tmp_path, "dev", test_html)
    assert [p.page_id for p in kept] == ["wcxb-dev-0002"]
    assert len(corpus.wcxb_pages(tmp_path, "dev")) == 2
