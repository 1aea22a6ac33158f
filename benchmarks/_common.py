"""What the benchmark scripts share: test pages, their dumps, the baselines, BENCHMARKS.md.

Test pages are WCXB's held-out test split and the Readability pages held out from training
(``declutter.corpus.readability_split``), read from ``../shared/datasets``. Each page is dumped
once per style and cached under ``.cache/bench`` (git-ignored), keyed by the converters'
versions and by the dump code (``declutter/corpus.py``), so re-runs measure the same inputs and
a change to how a style is dumped is never scored on stale dumps.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from declutter import corpus  # noqa: E402
from declutter.align import words  # noqa: E402
from declutter.lines import body, split_lines  # noqa: E402

DATASETS = Path(os.environ.get("DECLUTTER_DATASETS", ROOT.parent / "shared" / "datasets"))
CACHE = ROOT / ".cache" / "bench"
BENCHMARKS_MD = ROOT / "BENCHMARKS.md"
STYLES = corpus.STYLES
UNSEEN_STYLES = corpus.UNSEEN_STYLES  # scored, never trained on

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class TestPage:
    page_id: str
    source: str  # "wcxb" or "readability"
    page_type: str
    lang: str
    html: str
    gold: str
    with_snippets: tuple[str, ...]
    without_snippets: tuple[str, ...]


def _converter_versions() -> str:
    names = ("html-text", "inscriptis", "html2text", "lxml")
    return "-".join(metadata.version(n) for n in names)


def dump_code_key() -> str:
    """A short hash of the module that dumps HTML to text: any edit to it re-dumps."""
    return hashlib.sha256(Path(corpus.__file__).read_bytes()).hexdigest()[:12]


def load_test_pages(limit: int | None = None) -> list[TestPage]:
    """WCXB test pages with gold text, then the held-out Readability pages."""
    pages: list[TestPage] = []
    wcxb = DATASETS / "wcxb" / "test"
    for gt_path in sorted((wcxb / "ground-truth").glob("*.json")):
        record = json.loads(gt_path.read_text(encoding="utf-8"))
        gt = record.get("ground_truth", {})
        if not isinstance(gt.get("main_content"), str):
            continue
        html = corpus.read_html(wcxb / "html" / f"{gt_path.stem}.html.gz")
        pages.append(
            TestPage(
                f"wcxb-test-{gt_path.stem}",
                "wcxb",
                record.get("_internal", {}).get("page_type", {}).get("primary", "unknown"),
                "",
                html,
                gt["main_content"],
                tuple(gt.get("with") or ()),
                tuple(gt.get("without") or ()),
            )
        )
    for page in corpus.readability_pages(DATASETS / "readability", "test"):
        pages.append(
            TestPage(
                page.page_id,
                "readability",
                "article",
                page.lang,
                corpus.read_html(page.html_path),
                page.gold,
                (),
                (),
            )
        )
    if limit is not None:
        # A small slice with both sources, for CI.
        wcxb_pages = [p for p in pages if p.source == "wcxb"][:limit]
        readability = [p for p in pages if p.source == "readability"][: max(1, limit // 5)]
        pages = wcxb_pages + readability
    return pages


def _read_cache(path: Path) -> dict[str, str]:
    cached: dict[str, str] = {}
    if path.exists():
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                record = json.loads(line)
                cached[record["id"]] = record["text"]
    return cached


def _write_cache(path: Path, cached: dict[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as f:
        for page_id, text in sorted(cached.items()):
            f.write(json.dumps({"id": page_id, "text": text}, ensure_ascii=False) + "\n")


def _cached_texts(
    path: Path, pages: Sequence[TestPage], compute: Callable[[list[TestPage]], list[str]]
) -> dict[str, str]:
    """Each page's text from the cache at ``path``; the missing ones computed and cached."""
    cached = _read_cache(path)
    missing = [p for p in pages if p.page_id not in cached]
    if missing:
        cached.update(zip([p.page_id for p in missing], compute(missing), strict=True))
        _write_cache(path, cached)
    return {p.page_id: cached[p.page_id] for p in pages}


def _pool_map(fn: Callable[[T], R], items: list[T], jobs: int) -> list[R]:
    from multiprocessing import get_context

    with get_context("spawn").Pool(jobs) as pool:
        return pool.map(fn, items, chunksize=4)


def dumps(pages: Sequence[TestPage], style: str, jobs: int = 2) -> dict[str, str]:
    """Each page's dump in ``style``, from the cache or computed (and cached)."""
    path = CACHE / f"dumps-{style}-{_converter_versions()}-{dump_code_key()}.jsonl.gz"
    return _cached_texts(
        path,
        pages,
        lambda missing: _pool_map(
            partial(corpus.dump, style=style), [p.html for p in missing], jobs
        ),
    )


# --- baselines ------------------------------------------------------------------------------------
C4_TERMINAL = (".", "?", "!", '"')  # T5's C4: lines must end in terminal punctuation
C4_MIN_WORDS = 5
C4_MAX_WORD_CHARS = 1000
C4_POLICY = (
    "terms of use",
    "privacy policy",
    "cookie policy",
    "uses cookies",
    "use of cookies",
    "use cookies",
)


def c4_keep(line: str) -> bool:
    """The C4 line rules of T5 (Raffel et al., 2020), as reference implementations apply them."""
    text = line.strip()
    if not text.endswith(C4_TERMINAL) or text.endswith("..."):
        return False
    tokens = text.split()
    if len(tokens) < C4_MIN_WORDS or max(map(len, tokens)) > C4_MAX_WORD_CHARS:
        return False
    lower = text.lower()
    return "javascript" not in lower and not any(p in lower for p in C4_POLICY)


def c4_clean(text: str) -> str:
    return "".join(line for line in split_lines(text) if c4_keep(line))


def c4_keep_mask(text: str) -> list[bool]:
    return [c4_keep(line) for line in split_lines(text)]


JUSTEXT_LANGS = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "cs": "Czech",
    "ru": "Russian",
    "pl": "Polish",
    "nl": "Dutch",
    "ar": "Arabic",
    "he": "Hebrew",
    "ja": "Japanese",
    "zh": "Chinese",
}


def justext_keep_mask(text: str, lang: str) -> list[bool] | None:
    """jusText on a dump, each line a paragraph; None when jusText is not installed."""
    try:
        import justext
    except ImportError:
        return None
    from html import escape

    lines = split_lines(text)
    stoplist = set(justext.get_stoplist("English"))
    name = JUSTEXT_LANGS.get(lang[:2].lower()) if lang else None
    if name and name in justext.get_stoplists():
        stoplist |= set(justext.get_stoplist(name))
    html = (
        "<html><body>"
        + "".join(f"<p>{escape(body(line)) or '&nbsp;'}</p>" for line in lines)
        + "</body></html>"
    )
    paragraphs = justext.justext(html.encode("utf-8"), frozenset(stoplist), encoding="utf-8")
    # jusText drops empty paragraphs; map the rest back to lines by order and text.
    keep = [False] * len(lines)
    it = iter(enumerate(lines))
    for para in paragraphs:
        for i, line in it:
            if " ".join(body(line).split()) == para.text:
                keep[i] = not para.is_boilerplate
                break
    return keep


def trafilatura_extract(html: str) -> str | None:
    """trafilatura on the HTML (it sees the DOM we do not); None when not installed."""
    try:
        import trafilatura
    except ImportError:
        return None
    return trafilatura.extract(html) or ""


def cached_trafilatura(pages: Sequence[TestPage], jobs: int = 2) -> dict[str, str] | None:
    try:
        version = metadata.version("trafilatura")
    except metadata.PackageNotFoundError:
        return None
    path = CACHE / f"trafilatura-{version}.jsonl.gz"
    return _cached_texts(
        path,
        pages,
        lambda missing: [
            t or "" for t in _pool_map(trafilatura_extract, [p.html for p in missing], jobs)
        ],
    )


# --- metrics helpers ------------------------------------------------------------------------------
def word_string(text: str) -> str:
    return " " + " ".join(words(text)) + " "


def snippet_present(snippet: str, output_words: str) -> bool:
    """A snippet is present when its words appear, in order and adjacent, in the output."""
    words = word_string(snippet)
    return words.strip() != "" and words in output_words


def median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    if n == 0:
        return float("nan")
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2


# --- BENCHMARKS.md sections -----------------------------------------------------------------------
def environment() -> str:
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
    except OSError:
        commit = "unknown"
    cpu = platform.processor() or platform.machine()
    versions = ", ".join(
        f"{n} {metadata.version(n)}"
        for n in (
            "numpy",
            "scikit-learn",
            "html-text",
            "inscriptis",
            "html2text",
            "trafilatura",
            "jusText",
        )
        if _installed(n)
    )
    return (
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, commit {commit}, "
        f"Python {platform.python_version()}, {cpu}, {os.cpu_count()} CPUs; {versions}"
    )


def _installed(name: str) -> bool:
    try:
        metadata.version(name)
    except metadata.PackageNotFoundError:
        return False
    return True


BENCHMARKS_HEADER = (
    "# Benchmarks\n\n"
    "Written by `python benchmarks/quality.py` and `python benchmarks/speed.py` (see their "
    "docstrings); not edited by hand. Each section says when, on what machine and from which "
    "commit it was measured.\n\n"
)


def replace_section(path: Path, name: str, content: str, title: str | None = None) -> None:
    """Replace the text between ``<!-- name:start -->`` and ``<!-- name:end -->`` markers.

    A file without the markers gets them, under ``## title``; BENCHMARKS.md gets its header.
    """
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{content.rstrip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if path.name == BENCHMARKS_MD.name and not text.startswith(BENCHMARKS_HEADER):
        text = BENCHMARKS_HEADER + text.lstrip("\n")
    if start in text and end in text:
        head, rest = text.split(start, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        heading = f"\n## {title}\n\n" if title else "\n"
        text = text.rstrip() + "\n" + heading + block + "\n"
    path.write_text(text, encoding="utf-8")


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
