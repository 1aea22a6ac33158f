from __future__ import annotations

from itertools import pairwise

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from declutter.decoder import logit, viterbi_decode


def rows(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float32)


def test_threshold_decodes_rows_independently() -> None:
    keep = viterbi_decode(rows(2.0, -0.1, 0.1), np.array([0, 3]), threshold=0.5, smoothing=0.0)
    assert keep.tolist() == [True, False, True]


def test_threshold_is_a_probability() -> None:
    logits = rows(logit(0.3), logit(0.7))
    assert viterbi_decode(logits, np.array([0, 2]), 0.5, 0.0).tolist() == [False, True]
    assert viterbi_decode(logits, np.array([0, 2]), 0.25, 0.0).tolist() == [True, True]


def test_smoothing_absorbs_an_isolated_weak_row() -> None:
    logits = rows(3.0, 3.0, -0.5, 3.0, 3.0)
    assert viterbi_decode(logits, np.array([0, 5]), 0.5, 0.0).tolist()[2] is False
    assert viterbi_decode(logits, np.array([0, 5]), 0.5, 1.0).tolist() == [True] * 5


def test_smoothing_keeps_strong_evidence() -> None:
    logits = rows(3.0, -6.0, 3.0)
    assert viterbi_decode(logits, np.array([0, 3]), 0.5, 1.0).tolist() == [True, False, True]


def test_smoothing_does_not_cross_pages() -> None:
    # Alone, page one ends in content and keeps its weak last row; if the next page's strong
    # chrome leaked across the boundary, that row would be dropped.
    logits = rows(3.0, -0.5, -5.0)
    keep = viterbi_decode(logits, np.array([0, 2, 3]), 0.5, 2.0)
    assert keep.tolist() == [True, True, False]


def reference_viterbi(gain: list[float], penalty: float) -> list[bool]:
    """Textbook two-state Viterbi with backpointers, for one page."""
    n = len(gain)
    came1, came0 = [False] * n, [False] * n
    s0, s1 = 0.0, gain[0]
    for i in range(1, n):
        came1[i] = s1 >= s0 - penalty
        new1 = (s1 if came1[i] else s0 - penalty) + gain[i]
        came0[i] = s1 - penalty > s0
        new0 = s1 - penalty if came0[i] else s0
        s0, s1 = new0, new1
    state, path = s1 > s0, [False] * n
    for i in range(n - 1, -1, -1):
        path[i] = state
        state = came1[i] if state else came0[i]
    return path


@given(
    st.lists(st.lists(st.floats(-5, 5, allow_nan=False), max_size=40), min_size=1, max_size=6),
    st.sampled_from([0.25, 0.5, 1.0, 2.0, 3.0]),
)
def test_smoothing_finds_an_optimal_path(pages: list[list[float]], penalty: float) -> None:
    def score(gain: list[float], path: list[bool]) -> float:
        switches = sum(a != b for a, b in pairwise(path))
        return sum(g for g, p in zip(gain, path, strict=True) if p) - penalty * switches

    logits = np.array([x for page in pages for x in page], dtype=np.float32)
    page_rows = np.concatenate([[0], np.cumsum([len(p) for p in pages])])
    got = viterbi_decode(logits, page_rows, 0.5, penalty).tolist()
    for page, lo in zip(pages, page_rows[:-1].tolist(), strict=True):
        if page:
            gain = [float(np.float32(x)) for x in page]
            best = score(gain, reference_viterbi(gain, penalty))
            # Ties may be broken either way; the path found must score as well.
            assert score(gain, got[lo : lo + len(page)]) >= best - 1e-6
