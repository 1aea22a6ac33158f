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
    """Best two-state labelling of every page, all pages at once.

    With ``d[t]`` the score of "content at row t" minus that of "chrome at row t" on the best
    paths so far, Viterbi's forward pass is ``d[t] = clip(d[t-1], -penalty, penalty) + gain[t]``
    and ``d = gain`` on a page's first row (a page may start either way at no cost). Each step
    is a clamped shift ``x -> min(max(x + a, lo), hi)``, and clamped shifts compose into
    clamped shifts, so the pass is a prefix scan: log2(n) vectorized doublings instead of a
    Python loop over rows.

    The backward pass is as simple: where ``|d[t]| > penalty`` row t's state is fixed (content
    if ``d[t] > 0``) whatever follows; elsewhere it copies the next row's state. A page's last
    row ends the path (content if ``d > 0``). So every row takes the state of the nearest such
    anchor at or after it.
    """
    n = len(gain)
    shift = gain.copy()
    lo = gain - penalty
    hi = gain + penalty
    first = page_rows[:-1][np.diff(page_rows) > 0]
    lo[first] = hi[first] = gain[first]  # constant: nothing carries over from the page before
    # A page's first row is constant, so compositions never need to reach past the longest page.
    longest = int(np.diff(page_rows).max(initial=0))
    step = 1
    while step < longest:
        # Compose each row's function after the one `step` rows earlier.
        a2, l2, h2 = shift[step:], lo[step:], hi[step:]
        new_lo = np.clip(lo[:-step] + a2, l2, h2)
        new_hi = np.clip(hi[:-step] + a2, l2, h2)
        shift[step:] = shift[:-step] + a2
        lo[step:] = new_lo
        hi[step:] = new_hi
        step *= 2
    d = np.clip(shift, lo, hi)  # the composed function of any starting value
    last = page_rows[1:][np.diff(page_rows) > 0] - 1
    anchor = np.abs(d) > penalty
    anchor[last] = True
    # The nearest anchor at or after each row, by a running minimum from the end.
    nearest = np.minimum.accumulate(np.where(anchor, np.arange(n), n)[::-1])[::-1]
    return np.asarray((d > 0)[nearest], dtype=bool)
