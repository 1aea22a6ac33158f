"""Precision, recall and F1: of lines, of each page's words, and WCXB's word scores.

Every score here comes from one routine, :func:`prf`, over true positive, false positive and
false negative counts. The word metric is WCXB's own: lower-cased ``\\w+`` tokens
(:func:`declutter.align.words`) compared as bags of words, per page. Line labels are
:data:`~declutter.align.CONTENT`, :data:`~declutter.align.CHROME` or
:data:`~declutter.align.UNLABELLED` (not counted).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from declutter.align import CHROME, CONTENT, words
from declutter.rows import row_pages

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
BoolArr = npt.NDArray[np.bool_]
Labels = npt.NDArray[np.integer[Any]]


@dataclass(frozen=True)
class WordScore:
    precision: float
    recall: float
    f1: float


def prf_arrays(
    tp: npt.ArrayLike, fp: npt.ArrayLike, fn: npt.ArrayLike, empty: float = 0.0
) -> tuple[F64, F64, F64]:
    """Precision, recall and F1, element by element, from counts of true positives, false
    positives and false negatives (arrays of one shape, or numbers: 0-d arrays). A score with
    nothing to count (a zero denominator) is ``empty``."""
    tp, fp, fn = (np.asarray(x, dtype=np.float64) for x in (tp, fp, fn))
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.where(tp + fp > 0, tp / (tp + fp), empty)
        r = np.where(tp + fn > 0, tp / (tp + fn), empty)
        f1 = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), empty)
    return p, r, f1


def prf(tp: float, fp: float, fn: float, empty: float = 0.0) -> tuple[float, float, float]:
    """:func:`prf_arrays` of single counts, as floats.

    >>> prf(3, 1, 3)
    (0.75, 0.5, 0.6)
    """
    p, r, f1 = prf_arrays(tp, fp, fn, empty)
    return float(p), float(r), float(f1)


def line_counts(keep: BoolArr, labels: Labels) -> tuple[int, int, int]:
    """True positives, false positives and false negatives of kept lines (or rows) against
    their labels; unlabelled ones count nowhere."""
    content = labels == CONTENT
    tp = int(np.sum(keep & content))
    fp = int(np.sum(keep & (labels == CHROME)))
    fn = int(np.sum(~keep & content))
    return tp, fp, fn


def line_prf(keep: BoolArr, labels: Labels) -> tuple[float, float, float]:
    """Line-level precision, recall and F1 of ``keep`` against ``labels``."""
    return prf(*line_counts(keep, labels))


def page_word_f1(keep: BoolArr, labels: Labels, row_words: F32, page_rows: I64) -> F64:
    """Per-page F1 of kept words against content words, each row counting its ``row_words``;
    shape ``(n_pages,)``. A page without labelled words scores 1."""
    page = row_pages(page_rows)
    n = len(page_rows) - 1
    tp = np.bincount(page, weights=row_words * (keep & (labels == CONTENT)), minlength=n)
    fp = np.bincount(page, weights=row_words * (keep & (labels == CHROME)), minlength=n)
    fn = np.bincount(page, weights=row_words * (~keep & (labels == CONTENT)), minlength=n)
    return prf_arrays(tp, fp, fn, empty=1.0)[2]


def word_scores(predicted: str, reference: str) -> WordScore:
    """WCXB's word-level precision, recall and F1 of ``predicted`` against ``reference``. An
    empty reference scores 1 when the prediction is empty too, else 0.

    >>> word_scores("the cat sat", "The cat").f1
    0.8
    """
    pred = Counter(words(predicted))
    ref = Counter(words(reference))
    if not ref:
        score = 1.0 if not pred else 0.0
        return WordScore(score, score, score)
    overlap = sum((pred & ref).values())
    p, r, f1 = prf(overlap, sum(pred.values()) - overlap, sum(ref.values()) - overlap)
    return WordScore(p, r, f1)
