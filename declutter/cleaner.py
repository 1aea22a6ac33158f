"""Keep the content lines of page dumps: score, decode, and emit the kept lines unchanged.

Lines the model scores (lines with at least one word character) are kept by the decoder
(:mod:`declutter.decoder`). The others follow their neighbours:

- a line of symbols only ("* * *", "---") is kept when the scored lines on both sides are;
- a blank line is kept when some kept line comes before it in the page and the next scored
  line is kept, so paragraphs stay apart and no blank lines lead or trail.

Kept lines are emitted byte for byte, each with its own line ending, in order.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from itertools import compress

import numpy as np
import numpy.typing as npt

from declutter.context import sigmoid
from declutter.decoder import viterbi_decode
from declutter.errors import ModelError, ParameterError
from declutter.features import featurize
from declutter.lines import split_lines
from declutter.model import LineModel, load_model
from declutter.page import PAGE_TYPES
from declutter.rows import row_pages
from declutter.site import LineShares, SiteIndex, SiteStageParams, row_site_columns

F32 = npt.NDArray[np.float32]
BoolArr = npt.NDArray[np.bool_]
I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class PageResult:
    """One cleaned page: its lines, each line's content probability and the decision.

    ``proba`` is NaN for lines the model does not score (blank lines and lines without a word
    character); ``keep`` covers every line.
    """

    lines: list[str] = field(repr=False)  # with their endings, "".join(lines) == input
    proba: F32 = field(repr=False)
    keep: BoolArr = field(repr=False)
    # The page-level stage's probability for each page type (declutter.page.PAGE_TYPES); empty
    # for a model without that stage.
    page_types: dict[str, float] = field(default_factory=dict)

    @cached_property
    def text(self) -> str:
        """The kept lines, byte-identical and in order (joined once: callers read it twice)."""
        return "".join(compress(self.lines, self.keep.tolist()))

    @property
    def n_kept(self) -> int:
        return int(self.keep.sum())

    @property
    def page_type(self) -> str | None:
        """The most likely page type by the page-level stage (None without that stage)."""
        return max(self.page_types, key=self.page_types.__getitem__) if self.page_types else None


def _check_threshold(threshold: float) -> float:
    if not 0.0 < threshold < 1.0:  # NaN fails too
        raise ParameterError(f"threshold must be between 0 and 1 (exclusive), got {threshold}")
    return threshold


def _check_smoothing(smoothing: float) -> float:
    if not (math.isfinite(smoothing) and smoothing >= 0):
        raise ParameterError(f"smoothing must be a finite number, 0 or more, got {smoothing}")
    return smoothing


def _check_pages(texts: Sequence[str]) -> None:
    if isinstance(texts, str | bytes):
        raise TypeError(
            "clean_many() and process() take a sequence of pages (e.g. a list of str), "
            f"not one {type(texts).__name__}: use clean() for one page"
        )
    for i, text in enumerate(texts):
        if not isinstance(text, str):
            raise TypeError(f"page {i} is {_not_str(text)}")


def _not_str(value: object) -> str:
    hint = " (decode bytes first, e.g. data.decode('utf-8'))"
    bytes_like = isinstance(value, bytes | bytearray | memoryview)
    return f"{type(value).__name__}, expected str" + (hint if bytes_like else "")


class Cleaner:
    """A loaded model with its decoding settings; picklable, so it can go to worker processes.

    Raises :class:`~declutter.errors.ParameterError` (a ``ValueError``) for a threshold
    outside (0, 1) or a smoothing that is negative, infinite or NaN.

    Parameters
    ----------
    model : LineModel, optional
        The model; the shipped default model when omitted.
    threshold : float, optional
        Probability from which a line counts as content. Lower keeps more (recall), higher
        keeps less (precision). Defaults to the model's own, chosen when it was trained.
    smoothing : float, optional
        Cost of switching between content and chrome in the decoder; 0 decides every line on
        its own. Defaults to the model's own.
    site_index : SiteIndex, optional
        Per-site line counts of the whole input (:mod:`declutter.site`), which
        :meth:`process` reads for pages given a site. Raises
        :class:`~declutter.errors.ModelError` when the model has no site stage.
    """

    def __init__(
        self,
        model: LineModel | None = None,
        threshold: float | None = None,
        smoothing: float | None = None,
        site_index: SiteIndex | None = None,
    ) -> None:
        self.model = model if model is not None else load_model()
        if site_index is not None:
            _check_site_stage(self.model)
        self.site_index = site_index
        self.threshold = _check_threshold(
            self.model.threshold if threshold is None else float(threshold)
        )
        self.smoothing = _check_smoothing(
            self.model.smoothing if smoothing is None else float(smoothing)
        )

    def process(
        self, texts: Sequence[str], sites: Sequence[str | None] | None = None
    ) -> list[PageResult]:
        """Clean a batch of pages (faster than one at a time).

        ``sites``, one per page (None: no site), names each page's site in :attr:`site_index`:
        the model's site stage then reads what the site's other pages share with the page's
        lines. A page without a site, or whose site has no other page, is cleaned as alone.

        Raises ``TypeError`` when ``texts`` is not a sequence of ``str`` (one ``str`` included),
        ``ValueError`` when ``sites`` is given without a :attr:`site_index` or with a length
        other than ``texts``'.
        """
        _check_pages(texts)
        shares = None
        if sites is not None:
            if self.site_index is None or len(sites) != len(texts):
                raise ValueError("sites needs a site_index and one site (or None) per page")
            index = self.site_index
            shares = [index.shares(site, text) for site, text in zip(sites, texts, strict=True)]
        return self.process_shares(texts, shares)

    def process_shares(
        self, texts: Sequence[str], shares: Sequence[LineShares | None] | None
    ) -> list[PageResult]:
        """As :meth:`process`, with each page's site context given as its
        :class:`~declutter.site.LineShares` (None: none), e.g. counted elsewhere (Spark).

        Raises :class:`~declutter.errors.ModelError` when a page has shares and the model has
        no site stage, ``ValueError`` when a page's shares do not match its lines in number.
        """
        _check_pages(texts)
        features = featurize(texts)
        logits, page_proba = self.model.scores(features)
        if shares is not None and any(s is not None for s in shares) and features.n_rows:
            stage = _check_site_stage(self.model)
            x, has_context = row_site_columns(
                shares, features.line_rows, features.page_lines, features.n_rows
            )
            logits = stage.apply(logits, x, has_context)
        keep_rows = viterbi_decode(logits, features.page_rows, self.threshold, self.smoothing)
        rows = features.line_rows
        scored = rows >= 0
        proba = np.full(len(rows), np.nan, dtype=np.float32)
        proba[scored] = sigmoid(logits)[rows[scored]]
        keep = np.zeros(len(rows), dtype=bool)
        keep[scored] = keep_rows[rows[scored]]
        keep = _fill_unscored(keep, scored, features.line_blank, features.page_lines)
        bounds = features.page_lines.tolist()
        results = []
        for k, (text, lo, hi) in enumerate(zip(texts, bounds[:-1], bounds[1:], strict=True)):
            lines = split_lines(text)
            if "\r" in text:
                _keep_line_ends_apart(lines, keep[lo:hi])
            # A page without scored lines gives the page-level stage nothing to read.
            has_rows = features.page_rows[k + 1] > features.page_rows[k]
            types = (
                {t: round(float(p), 4) for t, p in zip(PAGE_TYPES, page_proba[k], strict=True)}
                if page_proba is not None and has_rows
                else {}
            )
            results.append(PageResult(lines, proba[lo:hi], keep[lo:hi], types))
        return results

    def clean(self, text: str) -> str:
        """The content lines of one page, byte-identical and in order.

        Raises ``TypeError`` when ``text`` is not a ``str`` (decode bytes first).
        """
        if not isinstance(text, str):
            raise TypeError(f"clean() takes one page as str; got {_not_str(text)}")
        return self.process([text])[0].text

    def clean_many(self, texts: Sequence[str]) -> list[str]:
        """The content lines of each page."""
        return [r.text for r in self.process(texts)]

    def clean_site(self, pages: Sequence[str]) -> list[str]:
        """The content lines of each page of one site, with site context: each page's lines
        are judged also by how many of the *other* pages hold them (a footer sentence on every
        page is chrome). A page repeated verbatim counts once; one page alone is cleaned as
        :meth:`clean` cleans it. The result does not depend on the pages' order.

        Raises :class:`~declutter.errors.ModelError` when the model has no site stage.
        """
        _check_pages(pages)
        _check_site_stage(self.model)
        index = SiteIndex.of_pages(("site", text) for text in pages)
        shares = [index.shares("site", text) for text in pages]
        return [r.text for r in self.process_shares(pages, shares)]


def _check_site_stage(model: LineModel) -> SiteStageParams:
    if model.site is None:
        raise ModelError(
            "this model has no site stage; retrain it with `declutter train` to use site context"
        )
    return model.site


def _keep_line_ends_apart(lines: list[str], keep: BoolArr) -> None:
    """Drop a kept blank "\\n" line that would follow a kept line ending in a lone "\\r".

    Written out together they would read as one CRLF line; the output must split into the
    same lines it was made of.
    """
    previous = ""
    for i, line in enumerate(lines):
        if not keep[i]:
            continue
        if line.startswith("\n") and previous.endswith("\r"):
            keep[i] = False
            continue
        previous = line


def _fill_unscored(keep: BoolArr, scored: BoolArr, blank: BoolArr, page_lines: I64) -> BoolArr:
    """Decide unscored lines from their scored neighbours (see the module docstring).

    All pages at once: ``page_lines`` are the pages' line offsets.
    """
    n = len(keep)
    if n == 0:
        return keep
    idx = np.arange(n)
    page = row_pages(page_lines)
    first, last = page_lines[:-1][page], page_lines[1:][page] - 1
    # Nearest scored line at or before / at or after each line, if in the same page.
    prev_scored = np.maximum.accumulate(np.where(scored, idx, -1))
    next_scored = np.minimum.accumulate(np.where(scored, idx, n)[::-1])[::-1]
    keep_ext = np.append(keep, False)  # index -1 and n both read False
    before = keep_ext[prev_scored] & (prev_scored >= first)
    after = keep_ext[next_scored] & (next_scored <= last)
    kept_before = np.maximum.accumulate(np.where(keep, idx, -1)) >= first
    out = keep.copy()
    filler = ~scored & ~blank
    out[filler] = before[filler] & after[filler]
    out[blank] = kept_before[blank] & after[blank]
    return np.asarray(out, dtype=bool)


def clean(text: str, *, threshold: float | None = None) -> str:
    """The content lines of ``text`` by the shipped model, byte-identical and in order.

    >>> clean("")
    ''
    """
    return Cleaner(threshold=threshold).clean(text)
