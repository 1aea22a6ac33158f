from __future__ import annotations

import numpy as np

from declutter.decode import decode, logit


def rows(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float32)


def test_threshold_decodes_rows_independently() -> None:
    keep = decode(rows(2.0, -0.1, 0.1), np.array([0, 3]), threshold=0.5, smoothing=0.0)
    assert keep.tolist() == [True, False, True]


def test_threshold_is_a_probability() -> None:
    logits = rows(logit(0.3), logit(0.7))
    assert decode(logits, np.array([0, 2]), 0.5, 0.0).tolist() == [False, True]
    assert decode(logits, np.array([0, 2]), 0.25, 0.0).tolist() == [True, True]


def test_smoothing_absorbs_an_isolated_weak_row() -> None:
    logits = rows(3.0, 3.0, -0.5, 3.0, 3.0)
    assert decode(logits, np.array([0, 5]), 0.5, 0.0).tolist()[2] is False
    assert decode(logits, np.array([0, 5]), 0.5, 1.0).tolist() == [True] * 5


def test_smoothing_keeps_strong_evidence() -> None:
    logits = rows(3.0, -6.0, 3.0)
    assert decode(logits, np.array([0, 3]), 0.5, 1.0).tolist() == [True, False, True]


def test_smoothing_does_not_cross_pages() -> None:
    # Alone, page one ends in content and keeps its weak last row; if the next page's strong
    # chrome leaked across the boundary, that row would be dropped.
    logits = rows(3.0, -0.5, -5.0)
    keep = decode(logits, np.array([0, 2, 3]), 0.5, 2.0)
    assert keep.tolist() == [True, True, False]
