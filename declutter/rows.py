"""Row arithmetic within pages: rooms and window means that never cross a page edge.

The rows of several pages lie end to end; page ``p`` is ``page_rows[p]:page_rows[p + 1]``. The
featurizer uses these for its windowed means (its neighbour columns and the context stage's
columns are compiled loops: :mod:`declutter._kernel`, :mod:`declutter._rowkernel`).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]


def row_pages(page_rows: I64) -> I64:
    """The page of each row, from the pages' row offsets.

    >>> row_pages(np.array([0, 2, 2, 3])).tolist()
    [0, 0, 2]
    """
    return np.repeat(np.arange(len(page_rows) - 1), np.diff(page_rows))


def page_room(page_rows: I64) -> tuple[I64, I64]:
    """How many rows of its page come before and after each row."""
    page = row_pages(page_rows)
    i = np.arange(len(page))
    before = i - page_rows[page]
    after = page_rows[page + 1] - i - 1
    return before, after


def window_means(
    values: npt.NDArray[np.floating], halves: Iterable[int], before: I64, after: I64
) -> dict[int, F32]:
    """For each half-width, the mean of the rows within it of each row, inside its page.

    ``values`` has shape (n,) or (n, k); the means have the same shape.
    """
    n = len(values)
    cs = np.zeros((n + 1, *values.shape[1:]), dtype=np.float64)
    np.cumsum(values, axis=0, out=cs[1:])
    means = {}
    for half in halves:
        # Away from page edges the window is whole: a difference of shifted slices. Only rows
        # near an edge need their own bounds (gathering bounds for every row took twice as long).
        padded = np.concatenate([np.repeat(cs[:1], half, 0), cs, np.repeat(cs[-1:], half, 0)])
        out = (padded[2 * half + 1 : 2 * half + 1 + n] - padded[:n]) / (2 * half + 1)
        edge = np.flatnonzero((before < half) | (after < half))
        a = edge - np.minimum(before[edge], half)
        b = edge + 1 + np.minimum(after[edge], half)
        width = (b - a).reshape(-1, *[1] * (values.ndim - 1))
        out[edge] = (cs[b] - cs[a]) / width
        means[half] = np.asarray(out, dtype=np.float32)
    return means
