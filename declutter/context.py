"""The context stages' inputs: each row's columns from its page and its neighbours.

The line stage scores every row on its own (:mod:`declutter.features` and the lexical columns
here); the context stages read, for each row, the previous stage's logits of its neighbours,
windowed means, how much likely content lies before and after it in the page, the page's main
region (:func:`main_region`), how many of its words likely content elsewhere on the page uses
too (:class:`PageWords`), and a few dense features. Every column is computed beside its name
(:func:`context_columns`), and :data:`CONTEXT_NAMES` lists them in the models' order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from declutter.errors import ModelError
from declutter.features import FEATURE_NAMES, HASH_BITS, LEX_NAMESPACES, Features
from declutter.page import PAGE_INTERACTIONS, PAGE_TYPES, page_stage_features, region_sides
from declutter.rows import page_room, row_pages, shifted, window_means

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
FloatArr = npt.NDArray[np.floating[Any]]

LEX_FEATURES = (
    "lex_word_mean",
    "lex_word_min",
    "lex_word_max",
    "lex_bigram_mean",
    "lex_first",
    "lex_line",
)
LINE_NAMES: tuple[str, ...] = FEATURE_NAMES + LEX_FEATURES
LOGIT_CLIP = 8.0  # line-stage logits are clipped before context features: |z| > 8 is certain
OUTSIDE_LOGIT = -4.0  # a neighbour beyond the page edge looks like chrome: pages end in chrome
CONTEXT_OFFSETS = (-5, -3, -2, -1, 1, 2, 3, 5)
MAX_REACH = 5  # rows before and after whose highest logit is a context feature
CONTEXT_WINDOWS = (5, 12, 30)  # no 2: the offsets span it (see features.WINDOWS)
CONTEXT_DENSE = (
    "log_units",
    "ends_terminal",
    "function_density",
    "ui_density",
    "log_repeats",
    "rel_position",
    "blank_before",
    "repeats_nearby",
    "same_start_nearby",
)
# Repeated lines (a card's headline printed twice) should not borrow support from the content
# around them: these columns are the neighbours' mean score times "is repeated nearby".
REPEAT_FLAGS = ("repeats_nearby", "same_start_nearby")
REPEAT_WINDOW = 2  # half-width of that neighbours' mean
CONTEXT_NAMES: tuple[str, ...] = (
    "logit",
    *(f"logit@{off:+d}" for off in CONTEXT_OFFSETS),
    *(f"logit~{w}" for w in CONTEXT_WINDOWS),
    *(
        f"logit_max_before_{MAX_REACH}",
        f"logit_max_after_{MAX_REACH}",
        "content_words_before",
        "content_words_after",
        "page_mean_logit",
        "page_share_positive",
        "logit_minus_page_max",
        "in_main_region",
        "log_rows_to_main_region",
        "main_region_share",
        # Which of the row's words other rows of the page use (see topical, PageWords): an
        # article's paragraphs share its topic words, while teasers, promotions and menus
        # share few. On held-out WCXB dev sites (~2,000 pages, all dump styles; three fitting
        # seeds, paired standard errors in brackets): +0.0010 (0.0003), +0.0007 (0.0003),
        # +0.0008 (0.0004); listing pages +0.012 (0.003). Centred on the page's mean, to be
        # neutral on pages whose words rarely repeat: +0.0006, +0.0004, +0.0003.
        "topical",
        "shared_words",
    ),
    *CONTEXT_DENSE,
    *(f"logit~{REPEAT_WINDOW}*{flag}" for flag in REPEAT_FLAGS),
)
# With a page-level stage (declutter.page), the context stages also read each page type's
# probability, alone and times the row columns of PAGE_INTERACTIONS.
PAGE_CONTEXT_NAMES: tuple[str, ...] = (
    *(f"p_{t}" for t in PAGE_TYPES),
    *(f"p_{t}*{col}" for t in PAGE_TYPES for col in PAGE_INTERACTIONS),
)
_FEATURE_INDEX = {name: k for k, name in enumerate(FEATURE_NAMES)}
REGION_SCALE = 100  # main-region scores are summed as integers (exact) in 1/100 word units
# Distances to the main region are capped: past 50 rows (a screenful or two) farther says
# little. A page without a main region has every row at the cap; before, they were at the
# batch's row count, so a page scored differently alone and in a batch.
REGION_DISTANCE_CAP = 50


def page_inputs(line_logit: F32, features: Features, words: PageWords) -> F32:
    """The page-level stage's inputs (:data:`declutter.page.PAGE_STAGE_NAMES`) from the line
    stage's logits, shape ``(n_pages, k)``."""
    z = np.clip(line_logit, -LOGIT_CLIP, LOGIT_CLIP).astype(np.float32)
    inside, _, share = main_region(z, features)
    return page_stage_features(z, features, inside, share, words.shared)


def sigmoid(z: npt.NDArray[np.floating[Any]]) -> F32:
    """Probability from log-odds."""
    # exp(-z) overflows to inf below z = -88 in float32: the probability is then 0, as it
    # should be, and the warning would only reach the user's terminal.
    with np.errstate(over="ignore"):
        return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float32)


def lexical_columns(
    rows: tuple[I64, ...],
    values: tuple[F32, ...],
    n_rows: int,
    counts: tuple[npt.NDArray[np.floating[Any]], ...] | None = None,
) -> F32:
    """Per-row lexical features (:data:`LEX_FEATURES`) from each namespace's occurrences.

    ``rows[k]`` (ascending) and ``values[k]`` are the row and lexicon log-odds of every
    occurrence in namespace ``k`` of :data:`LEX_NAMESPACES`; ``counts[k]``, when given, says
    how many occurrences each entry stands for. Rows without occurrences get 0.
    """
    out = np.zeros((n_rows, len(LEX_FEATURES)), dtype=np.float32)
    col = 0
    for k, name in enumerate(LEX_NAMESPACES):
        r, v = rows[k], values[k]
        w = None if counts is None else counts[k]
        count = np.bincount(r, weights=w, minlength=n_rows)
        total = np.bincount(r, weights=v if w is None else v * w, minlength=n_rows)
        out[:, col] = np.divide(total, count, out=np.zeros(n_rows), where=count > 0)
        col += 1
        if name == "word" and len(r):
            starts = np.flatnonzero(np.r_[True, r[1:] != r[:-1]])
            present = r[starts]
            out[present, col] = np.minimum.reduceat(v, starts)
            out[present, col + 1] = np.maximum.reduceat(v, starts)
            col += 2
        elif name == "word":
            col += 2
    return out


def main_region(z: F32, features: Features) -> tuple[npt.NDArray[np.bool_], I64, F32]:
    """The contiguous run of rows with the largest sum of (p - 0.5) * words, per page.

    Returns whether each row is inside its page's run, its distance in rows to the run (at most
    :data:`REGION_DISTANCE_CAP`), and the run's share of the page's positive mass. Articles have
    one such main region; the model learns how much to trust it on other pages.
    """
    n = len(z)
    n_pages = len(features.page_rows) - 1
    starts = features.page_rows[:-1]
    page = row_pages(features.page_rows)
    v = np.rint((sigmoid(z) - 0.5) * features.row_words * REGION_SCALE).astype(np.int64)
    cs = np.cumsum(v)
    base = np.concatenate([[0], cs])[starts][page]
    end_sum = cs - base  # sum of the page's rows up to and including this one
    start_sum = end_sum - v  # sum before this row
    # Running minimum of start_sum within each page: shift pages apart so none leaks into the
    # next (exact in integers).
    spread = int(np.abs(v).sum()) * 2 + 1
    offset = np.arange(n_pages, dtype=np.int64)[page] * spread
    run_min = np.minimum.accumulate(start_sum - offset) + offset
    gain = end_sum - run_min
    idx = np.arange(n)
    inside = np.zeros(n, dtype=bool)
    distance = np.zeros(n, dtype=np.int64)
    share = np.zeros(n, dtype=np.float32)
    nonempty = np.flatnonzero(np.diff(features.page_rows) > 0)
    if n == 0:
        return inside, distance, share
    seg = starts[nonempty]
    best = np.full(n_pages, -1, dtype=np.int64)
    best[nonempty] = np.maximum.reduceat(gain, seg)
    end = np.full(n_pages, -1, dtype=np.int64)
    end[nonempty] = np.minimum.reduceat(np.where(gain == best[page], idx, n), seg)
    before_end = np.where(idx <= end[page], start_sum, np.iinfo(np.int64).max)
    low = np.full(n_pages, 0, dtype=np.int64)
    low[nonempty] = np.minimum.reduceat(before_end, seg)
    begin = np.full(n_pages, 0, dtype=np.int64)
    begin[nonempty] = np.maximum.reduceat(np.where(before_end == low[page], idx, -1), seg)
    found = best[page] > 0
    inside = found & (idx >= begin[page]) & (idx <= end[page])
    away = np.maximum(begin[page] - idx, 0) + np.maximum(idx - end[page], 0)
    distance = np.where(found, np.minimum(away, REGION_DISTANCE_CAP), REGION_DISTANCE_CAP)
    positive = np.bincount(page, weights=np.maximum(v, 0), minlength=n_pages)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(positive[page] > 0, best[page] / positive[page], 0.0).astype(np.float32)
    return inside, distance, share


@dataclass(frozen=True)
class PageWords:
    """Which rows of a page share words: every distinct (row, word) pair of the batch.

    ``group`` numbers the distinct (page, word) pairs. A word weighs ``log(1 + rows of the page
    / rows using it)``, so words on every line of a page (function words, a site's name) count
    little, in any language.
    """

    row: I64
    group: I64
    weight: FloatArr
    total: FloatArr  # per row: the sum of its words' weights
    shared: F32  # per row: the weighted share of its words that other rows use too


def page_words(features: Features) -> PageWords:
    """The :class:`PageWords` of a batch, from its word buckets."""
    n = features.n_rows
    n_pages = len(features.page_rows) - 1
    ns = LEX_NAMESPACES.index("word")
    rows, buckets = features.lex_rows[ns], features.lex_buckets[ns]
    page = row_pages(features.page_rows)
    # One sort of (page, word, row) packed in an int64 orders the occurrences by page and word
    # and brings a row's repeats of a word together; nothing needs their original order.
    row_bits = max(n, 1).bit_length()
    if row_bits + HASH_BITS + max(n_pages, 1).bit_length() > 62:
        raise ModelError(f"{n} rows in one batch are too many to score; use smaller batches")
    key = np.sort((((page[rows] << HASH_BITS) | buckets) << row_bits) | rows)
    key = key[np.diff(key, prepend=-1) != 0]
    row = key & ((1 << row_bits) - 1)
    word = key >> row_bits
    group = np.cumsum(np.diff(word, prepend=-1) != 0) - 1
    users = np.bincount(group)[group]
    rows_on_page = np.diff(features.page_rows)[word >> HASH_BITS]
    weight = np.log1p(rows_on_page.astype(np.float32) / users.astype(np.float32))
    total = np.asarray(np.bincount(row, weights=weight, minlength=n), dtype=np.float64)
    shared = np.bincount(row, weights=weight * (users > 1), minlength=n)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(total > 0, shared / total, 0).astype(np.float32)
    return PageWords(row, group, weight, total, share)


def topical(z: F32, words: PageWords) -> F32:
    """Per row: the weighted share of its words that likely content elsewhere on its page
    uses too (each word counts up to one other row's probability of content)."""
    p = sigmoid(z)[words.row]
    elsewhere = np.bincount(words.group, weights=p)[words.group] - p
    used = np.bincount(
        words.row, weights=words.weight * np.minimum(elsewhere, 1.0), minlength=len(z)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(words.total > 0, used / words.total, 0).astype(np.float32)


def context_columns(
    logit: F32,
    features: Features,
    words: PageWords | None = None,
    page_proba: F32 | None = None,
) -> dict[str, F32]:
    """The context stage's inputs by name, in the order of :data:`CONTEXT_NAMES` (then
    :data:`PAGE_CONTEXT_NAMES` when ``page_proba`` is given), each of shape ``(n_rows,)``.

    ``words`` is :func:`page_words` of ``features``, computed when not given; ``page_proba``
    the page-type probabilities of the page-level stage, shape ``(n_pages, len(PAGE_TYPES))``.
    """
    z = np.clip(logit, -LOGIT_CLIP, LOGIT_CLIP).astype(np.float32)
    room_before, room_after = page_room(features.page_rows)
    page = row_pages(features.page_rows)
    n_pages = len(features.page_rows) - 1
    cols: dict[str, F32] = {"logit": z}
    # Every shift once: the offsets and the reach of the max-before/after columns overlap.
    around = {
        off: shifted(z, off, room_before, room_after, OUTSIDE_LOGIT)
        for off in sorted({*CONTEXT_OFFSETS, *range(-MAX_REACH, 0), *range(1, MAX_REACH + 1)})
    }
    for off in CONTEXT_OFFSETS:
        cols[f"logit@{off:+d}"] = around[off]
    means = window_means(z, {*CONTEXT_WINDOWS, REPEAT_WINDOW}, room_before, room_after)
    for half in CONTEXT_WINDOWS:
        cols[f"logit~{half}"] = means[half]
    before = np.full(len(z), OUTSIDE_LOGIT, dtype=np.float32)
    after = np.full(len(z), OUTSIDE_LOGIT, dtype=np.float32)
    for off in range(1, MAX_REACH + 1):
        np.maximum(before, around[-off], out=before)
        np.maximum(after, around[off], out=after)
    cols[f"logit_max_before_{MAX_REACH}"] = before
    cols[f"logit_max_after_{MAX_REACH}"] = after
    # Expected content words before and after the row, as shares of the page's expected total.
    mass = sigmoid(z) * features.row_words
    cs = np.zeros(len(z) + 1, dtype=np.float64)
    np.cumsum(mass, out=cs[1:])
    i = np.arange(len(z))
    lo, hi = i - room_before, i + room_after + 1
    total = cs[hi] - cs[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        cols["content_words_before"] = np.where(total > 0, (cs[i] - cs[lo]) / total, 0).astype(
            np.float32
        )
        cols["content_words_after"] = np.where(total > 0, (cs[hi] - cs[i + 1]) / total, 0).astype(
            np.float32
        )
    counts = np.maximum(np.diff(features.page_rows), 1)
    page_mean = np.bincount(page, weights=z, minlength=n_pages) / counts
    page_pos = np.bincount(page, weights=z > 0, minlength=n_pages) / counts
    page_max = np.full(n_pages, -LOGIT_CLIP, dtype=np.float32)
    np.maximum.at(page_max, page, z)
    cols["page_mean_logit"] = page_mean[page].astype(np.float32)
    cols["page_share_positive"] = page_pos[page].astype(np.float32)
    cols["logit_minus_page_max"] = z - page_max[page]
    inside, distance, share = main_region(z, features)
    cols["in_main_region"] = inside.astype(np.float32)
    cols["log_rows_to_main_region"] = np.log1p(distance).astype(np.float32)
    cols["main_region_share"] = share
    words = page_words(features) if words is None else words
    cols["topical"] = topical(z, words)
    cols["shared_words"] = words.shared
    for name in CONTEXT_DENSE:
        cols[name] = features.dense[:, _FEATURE_INDEX[name]]
    near = means[REPEAT_WINDOW]
    for flag in REPEAT_FLAGS:
        cols[f"logit~{REPEAT_WINDOW}*{flag}"] = near * features.dense[:, _FEATURE_INDEX[flag]]
    if page_proba is not None:
        row_proba = page_proba[page]
        interact = {
            "logit": z,
            "in_main_region": cols["in_main_region"],
            "after_main_region": region_sides(inside, features.page_rows)[1].astype(np.float32),
            "log_rows_to_main_region": cols["log_rows_to_main_region"],
        }
        for k, t in enumerate(PAGE_TYPES):
            cols[f"p_{t}"] = row_proba[:, k]
        for k, t in enumerate(PAGE_TYPES):
            for name in PAGE_INTERACTIONS:
                cols[f"p_{t}*{name}"] = row_proba[:, k] * interact[name]
    return cols


def context_features(
    logit: F32,
    features: Features,
    words: PageWords | None = None,
    page_proba: F32 | None = None,
) -> F32:
    """The context stage's inputs as one matrix, shape ``(n_rows, k)``: the columns of
    :func:`context_columns` in the order of :data:`CONTEXT_NAMES` (then
    :data:`PAGE_CONTEXT_NAMES` when ``page_proba`` is given)."""
    cols = context_columns(logit, features, words, page_proba)
    names = CONTEXT_NAMES + (PAGE_CONTEXT_NAMES if page_proba is not None else ())
    if tuple(cols) != names:  # a column added without its name in CONTEXT_NAMES, or moved
        raise ValueError(f"context columns {tuple(cols)} disagree with their names {names}")
    # Stacked column by column and transposed: 2x faster than column_stack on large batches.
    stacked = np.stack(list(cols.values())).astype(np.float32, copy=False)
    return np.asarray(stacked.T, dtype=np.float32)
