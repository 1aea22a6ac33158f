"""Decide which rows are content from their log-odds: thresholding or a two-state smoother.

With ``smoothing == 0`` every row is content when its probability reaches the threshold. With
``smoothing > 0`` the decision is the best labelling of each page as runs of content and chrome
(Viterbi over two states), where each row earns its log-odds above the threshold when labelled
content and every switch between content and chrome costs ``smoothing``: isolated short rows
follow their surroundings, so a "Read more" line inside an article goes and a short heading
between paragraphs stays.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
BoolArr = npt.NDArray[np.bool_]


def logit(p: float) -> float:
    """Log-odds of a probability in (0, 1)."""
    return math.log(p / (1.0 - p))


def decode(logits: F32, page_rows: I64, threshold: float, smoothing: float) -> BoolArr:
    """Content decision for every row; pages are ``page_rows[p]:page_rows[p + 1]``."""
    gain = logits.astype(np.float64) - logit(threshold)
    if smoothing <= 0:
        return gain >= 0
    keep = np.zeros(len(gain), dtype=bool)
    for p in range(len(page_rows) - 1):
        lo, hi = int(page_rows[p]), int(page_rows[p + 1])
        if hi > lo:
            keep[lo:hi] = _viterbi(gain[lo:hi].tolist(), smoothing)
    return keep


def _viterbi(gain: list[float], penalty: float) -> list[bool]:
    """Best two-state path: state 1 earns ``gain[i]``, state 0 earns 0, a switch costs penalty.

    Pages start and end outside content at no cost, so the first and last runs are free.
    """
    n = len(gain)
    # came1[i]/came0[i]: whether the best path into state 1/0 at row i came from state 1.
    came1 = [False] * n
    came0 = [False] * n
    s0, s1 = 0.0, gain[0]  # a page may start in either state at no cost
    for i in range(1, n):
        stay1, from0 = s1, s0 - penalty
        if stay1 >= from0:
            came1[i], new1 = True, stay1 + gain[i]
        else:
            new1 = from0 + gain[i]
        stay0, from1 = s0, s1 - penalty
        if from1 > stay0:
            came0[i], new0 = True, from1
        else:
            new0 = stay0
        s0, s1 = new0, new1
    state = s1 > s0
    path = [False] * n
    for i in range(n - 1, -1, -1):
        path[i] = state
        state = came1[i] if state else came0[i]
    return path
