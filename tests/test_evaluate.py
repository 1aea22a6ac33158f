from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from declutter.cleaner import Cleaner
from declutter.data import LabelledPage
from declutter.evaluate import evaluate, prf, word_scores
from declutter.model import LineModel


def wcxb_word_f1(predicted: str, reference: str) -> float:
    """The reference implementation from the WCXB README."""
    pred = Counter(re.findall(r"\w+", predicted.lower()))
    ref = Counter(re.findall(r"\w+", reference.lower()))
    if not ref:
        return 1.0 if not pred else 0.0
    if not pred:
        return 0.0
    overlap = sum((pred & ref).values())
    p = overlap / sum(pred.values())
    r = overlap / sum(ref.values())
    return 2 * p * r / (p + r) if (p + r) > 0 else 0.0


@given(st.text(max_size=60), st.text(max_size=60))
def test_word_f1_matches_wcxb(predicted: str, reference: str) -> None:
    assert word_scores(predicted, reference).f1 == pytest.approx(wcxb_word_f1(predicted, reference))


def test_word_precision_and_recall() -> None:
    score = word_scores("a b c d", "a b")
    assert (score.precision, score.recall) == (0.5, 1.0)


def test_evaluate_counts_lines_and_slices(tiny_model: LineModel) -> None:
    page = LabelledPage(
        "p",
        "Menu\nThe river rose by two metres overnight.\n",
        np.array([0, 1], dtype=np.int8),
        "g",
        style="plain",
        page_type="article",
    )
    result = evaluate(Cleaner(tiny_model, threshold=0.01, smoothing=0), [page, page])
    summary = result.overall.summary()
    assert summary["pages"] == 2
    assert summary["line_recall"] == 1.0
    assert result.by_type["article"].pages == 2
    assert result.by_style["plain"].pages == 2


def test_prf_from_counts_and_when_nothing_is_counted() -> None:
    assert prf(3, 1, 3) == pytest.approx((0.75, 0.5, 0.6))
    assert prf(0, 0, 0) == (0.0, 0.0, 0.0)
    p, r, f1 = prf(0, 2, 0, empty=float("nan"))
    assert p == 0.0 and r != r and f1 != f1  # recall and F1 have nothing to count
