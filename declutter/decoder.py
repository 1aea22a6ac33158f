"""Decide which rows are content from their log-odds: a two-state Viterbi decoder.

With ``smoothing == 0`` every row is content when its probability reaches the threshold. With
``smoothing > 0`` the decision is the best labelling of each page as runs of content and chrome
(Viterbi over two states), where each row earns its log-odds above the threshold when labelled
content and every switch between content and chrome costs ``smoothing``: isolated short rows
follow their surroundings, so a "Read more" line inside an article goes and a short heading
between paragraphs stays. (Thresholding is that decoder with switches free.)
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from declutter import _rowkernel

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
BoolArr = npt.NDArray[np.bool_]


def logit(p: float) -> float:
    """Log-odds of a probability in (0, 1)."""
    return math.log(p / (1.0 - p))


def viterbi_decode(logits: F32, page_rows: I64, threshold: float, smoothing: float) -> BoolArr:
    """Content decision for every row, shape ``(n_rows,)``; pages are
    ``page_rows[p]:page_rows[p + 1]``. ``threshold`` is a probability in (0, 1), ``smoothing``
    the cost in log-odds of switching between content and chrome (0: each row alone)."""
    gain = logits.astype(np.float64) - logit(threshold)
    if smoothing <= 0 or len(gain) == 0:
        return gain >= 0
    return _viterbi(gain, page_rows, smoothing)


def _viterbi(gain: npt.NDArray[np.float64], page_rows: I64, penalty: float) -> BoolArr:
    """Best two-state labelling of every page (Viterbi, 1967), one pass over the rows.

    With ``d[t]`` the score of "content at row t" minus that of "chrome at row t" on the best
    paths so far, the forward pass is ``d[t] = clip(d[t-1], -penalty, penalty) + gain[t]``
    and ``d = gain`` on a page's first row (a page may start either way at no cost). Backwards,
    where ``|d[t]| > penalty`` row t's state is fixed (content if ``d[t] > 0``) whatever
    follows; elsewhere it copies the next row's state. A page's last row ends the path.
    """
    keep = np.zeros(len(gain), dtype=np.uint8)
    _rowkernel.viterbi(np.ascontiguousarray(gain), page_rows, penalty, keep)
    return keep.view(np.bool_)
