"""Measure a cleaner on labelled pages: WCXB's word scores per page, averaged over pages,
and line-level P/R/F1 (the scores of :mod:`declutter.metrics`), overall and by page type and
dump style.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from declutter.cleaner import Cleaner
from declutter.data import LabelledPage
from declutter.metrics import WordScore, line_counts, prf, word_scores

EVAL_BATCH = 256  # pages cleaned per batch


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
        result.add(page, cleaned.text, *line_counts(cleaned.keep, page.labels))
