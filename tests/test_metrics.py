from __future__ import annotations

import re
from collections import Counter

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from declutter.metrics import line_prf, page_word_f1, prf, word_scores


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


def test_prf_from_counts_and_when_nothing_is_counted() -> None:
    assert prf(3, 1, 3) == pytest.approx((0.75, 0.5, 0.6))
    assert prf(0, 0, 0) == (0.0, 0.0, 0.0)
    p, r, f1 = prf(0, 2, 0, empty=float("nan"))
    assert p == 0.0 and r != r  # recall has nothing to count
    assert f1 == 0.0  # 2 tp / (2 tp + fp + fn), as scikit-learn's f1_score: kept chrome only


def test_line_prf_ignores_unlabelled_lines() -> None:
    keep = np.array([True, True, False, True, False])
    labels = np.array([1, 0, 1, -1, -1])
    assert line_prf(keep, labels) == pytest.approx((0.5, 0.5, 0.5))


def test_page_word_f1_per_page_and_one_on_a_page_without_labelled_words() -> None:
    keep = np.array([True, False, True, True, False])
    labels = np.array([1, 1, 0, -1, -1])
    words = np.array([3, 1, 2, 5, 5], dtype=np.float32)
    f1 = page_word_f1(keep, labels, words, np.array([0, 3, 5]))
    assert f1.tolist() == pytest.approx([2 * 3 / (2 * 3 + 2 + 1), 1.0])
