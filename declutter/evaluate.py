"""Measure cleaning quality: WCXB's word-level F1 per page and line-level P/R/F1.

The word metric is WCXB's own: lower-cased ``\\w+`` tokens compared as bags of words,
precision/recall/F1 per page, then averaged over pages. An empty reference scores 1 when the
prediction is empty too, else 0.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from declutter.align import CHROME, CONTENT
from declutter.cleaner import Cleaner
from declutter.data import LabelledPage

_WORD = re.compile(r"\w+")
EVAL_BATCH = 256  # pages cleaned per batch


@dataclass(frozen=True)
class WordScore:
    precision: float
    recall: float
    f1: float


def prf(tp: float, fp: float, fn: float, empty: float = 0.0) -> tuple[float, float, float]:
    """Precision, recall and F1 from true/false positive and false negative counts; a ratio
    with nothing to count is ``empty``, and so is F1 without true positives.

    >>> prf(3, 1, 3)
    (0.75, 0.5, 0.6)
    """
    p = tp / (tp + fp) if tp + fp else empty
    r = tp / (tp + fn) if tp + fn else empty
    return p, r, (2 * p * r / (p + r) if tp else empty)


def word_scores(predicted: str, reference: str) -> WordScore:
    """WCXB's word-level precision, recall and F1 of ``predicted`` against ``reference``.

    >>> word_scores("the cat sat", "The cat").f1
    0.8
    """
    pred = Counter(_WORD.findall(predicted.lower()))
    ref = Counter(_WORD.findall(reference.lower()))
    if not ref:
        score = 1.0 if not pred else 0.0
        return WordScore(score, score, score)
    if not pred:
        return WordScore(0.0, 0.0, 0.0)
    overlap = sum((pred & ref).values())
    p = overlap / sum(pred.values())
    r = overlap / sum(ref.values())
    return WordScore(p, r, 2 * p * r / (p + r) if p + r else 0.0)


@dataclass
class Tally:
    """Running totals for one slice of pages (all pages, one page type, one dump style)."""

    pages: int = 0
    precision: float = 0.0
    recall: float = 0.0
    f1: float = 0.0
    tp: int = 0
    fp: int = 0
    fn: int = 0
    f1s: list[float] = field(default_factory=list)

    def add(self, score: WordScore, tp: int, fp: int, fn: int) -> None:
        self.pages += 1
        self.precision += score.precision
        self.recall += score.recall
        self.f1 += score.f1
        self.f1s.append(score.f1)
        self.tp += tp
        self.fp += fp
        self.fn += fn

    def summary(self) -> dict[str, float]:
        n = max(self.pages, 1)
        lp, lr, lf = prf(self.tp, self.fp, self.fn)
        return {
            "pages": self.pages,
            "word_precision": self.precision / n,
            "word_recall": self.recall / n,
            "word_f1": self.f1 / n,
            "word_f1_median": float(np.median(self.f1s)) if self.f1s else 0.0,
            "line_precision": lp,
            "line_recall": lr,
            "line_f1": lf,
        }


@dataclass
class Evaluation:
    """Scores over all pages and broken down by page type and by dump style."""

    overall: Tally = field(default_factory=Tally)
    by_type: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))
    by_style: dict[str, Tally] = field(default_factory=lambda: defaultdict(Tally))

    def add(self, page: LabelledPage, kept: str, tp: int, fp: int, fn: int) -> None:
        score = word_scores(kept, page.gold)
        self.overall.add(score, tp, fp, fn)
        if page.page_type:
            self.by_type[page.page_type].add(score, tp, fp, fn)
        if page.style:
            self.by_style[page.style].add(score, tp, fp, fn)


def evaluate(cleaner: Cleaner, pages: Iterable[LabelledPage]) -> Evaluation:
    """Clean every page and score the result against its gold text and line labels."""
    result = Evaluation()
    batch: list[LabelledPage] = []
    for page in pages:
        batch.append(page)
        if len(batch) >= EVAL_BATCH:
            _score_batch(cleaner, batch, result)
            batch = []
    if batch:
        _score_batch(cleaner, batch, result)
    return result


def _score_batch(cleaner: Cleaner, pages: Sequence[LabelledPage], result: Evaluation) -> None:
    for page, cleaned in zip(pages, cleaner.process([p.text for p in pages]), strict=True):
        keep, labels = cleaned.keep, page.labels
        tp = int(np.sum(keep & (labels == CONTENT)))
        fp = int(np.sum(keep & (labels == CHROME)))
        fn = int(np.sum(~keep & (labels == CONTENT)))
        result.add(page, cleaned.text, tp, fp, fn)
