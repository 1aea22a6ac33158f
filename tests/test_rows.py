from __future__ import annotations

from itertools import pairwise

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from declutter.rows import page_room, window_means

PAGE_ROWS = np.array([0, 3, 3, 5])  # pages of 3, 0 and 2 rows


def test_page_room_counts_rows_before_and_after_within_the_page() -> None:
    before, after = page_room(PAGE_ROWS)
    assert before.tolist() == [0, 1, 2, 0, 1]
    assert after.tolist() == [2, 1, 0, 1, 0]


@given(st.lists(st.integers(0, 6), min_size=1, max_size=5), st.integers(0, 4))
def test_window_means_are_the_plain_means_inside_each_page(sizes: list[int], half: int) -> None:
    page_rows = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    values = np.random.default_rng(len(sizes) * 7 + half).normal(size=page_rows[-1])
    before, after = page_room(page_rows)
    got = window_means(values, [half], before, after)[half]
    expected = [
        values[max(i - half, lo) : min(i + half + 1, hi)].mean()
        for lo, hi in pairwise(page_rows)
        for i in range(lo, hi)
    ]
    np.testing.assert_allclose(got, np.array(expected, dtype=np.float32), rtol=1e-5, atol=1e-6)


def test_window_means_of_columns_at_once_equal_one_column_at_a_time() -> None:
    before, after = page_room(PAGE_ROWS)
    values = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    together = window_means(values, [1], before, after)[1]
    for k in range(3):
        alone = window_means(values[:, k], [1], before, after)[1]
        assert np.array_equal(together[:, k], alone)
