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

from declutter import _rowkernel
from declutter.errors import ModelError
from declutter.features import FEATURE_NAMES, HASH_BITS, LEX_NAMESPACES, Features
from declutter.page import PAGE_INTERACTIONS, PAGE_TYPES, page_stage_features
from declutter.rows import row_pages

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
# The row kernel's columns after the logit, its neighbours and its window means: the highest
# neighbours, where the page's likely content lies, and the page's summary of the logits.
_ROW_SUMMARY = (
    f"logit_max_before_{MAX_REACH}",
    f"logit_max_after_{MAX_REACH}",
    "content_words_before",
    "content_words_after",
    "page_mean_logit",
    "page_share_positive",
    "logit_minus_page_max",
)
CONTEXT_NAMES: tuple[str, ...] = (
    "logit",
    *(f"logit@{off:+d}" for off in CONTEXT_OFFSETS),
    *(f"logit~{w}" for w in CONTEXT_WINDOWS),
    *_ROW_SUMMARY,
    *(
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
REGION_SCALE = 100  # main-region scores are summed as integers (exact) in 1/100 word units
# Distances to the main region are capped: past 50 rows (a screenful or two) farther says
# little. A page without a main region has every row at the cap; before, they were at the
# batch's row count, so a page scored differently alone and in a batch.
REGION_DISTANCE_CAP = 50


def page_inputs(line_logit: F32, features: Features, words: PageWords) -> F32:
    """The page-level stage's inputs (:data:`declutter.page.PAGE_STAGE_NAMES`) from the line
    stage's logits, shape ``(n_pages, k)``."""
    z = np.clip(line_logit, -LOGIT_CLIP, LOGIT_CLIP).astype(np.float32)
    region = main_region(z, features)
    return page_stage_features(z, features, region.inside, region.share, words.shared)


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
    counts: tuple[npt.NDArray[np.float64], ...] | None = None,
) -> F32:
    """Per-row lexical features (:data:`LEX_FEATURES`) from each namespace's occurrences,
    shape ``(n_rows, len(LEX_FEATURES))``.

    ``rows[k]`` (ascending) and ``values[k]`` are the row and lexicon log-odds of every
    occurrence in namespace ``k`` of :data:`LEX_NAMESPACES`; ``counts[k]``, when given, says
    how many occurrences each entry stands for. Columns: each namespace's mean, and for words
    also the smallest and largest; rows without occurrences get 0.
    """
    out = np.zeros((n_rows, len(LEX_FEATURES)), dtype=np.float32)
    col = 0
    for k, name in enumerate(LEX_NAMESPACES):
        weights = None if counts is None else counts[k]
        words = name == "word"
        _rowkernel.lexical_columns(rows[k], values[k], weights, words, out, col)
        col += 3 if words else 1
    return out


@dataclass(frozen=True)
class MainRegion:
    """Each row's place relative to its page's main region (:func:`main_region`)."""

    inside: npt.NDArray[np.bool_]  # the row lies in the region
    log_distance: F32  # log(1 + rows to the region), at most log(1 + REGION_DISTANCE_CAP)
    share: F32  # the region's share of its page's positive mass (the same on every row)


def main_region(z: F32, features: Features) -> MainRegion:
    """The contiguous run of rows with the largest sum of (p - 0.5) * words, per page (Kadane's
    maximum subarray; on ties the earliest-ending, then the shortest run).

    Rows are weighed in integer units of 1/:data:`REGION_SCALE` word, so sums are exact. A page
    whose best run does not sum above 0 has no region: its rows are all at the distance cap.
    Articles have one such main region; the model learns how much to trust it on other pages.
    """
    n = len(z)
    v = np.rint((sigmoid(z) - 0.5) * features.row_words * REGION_SCALE).astype(np.int64)
    inside = np.zeros(n, dtype=np.uint8)
    log_distance = np.zeros(n, dtype=np.float32)
    share = np.zeros(n, dtype=np.float32)
    _rowkernel.main_region(v, features.page_rows, REGION_DISTANCE_CAP, inside, log_distance, share)
    return MainRegion(inside.view(np.bool_), log_distance, share)


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
    out = np.zeros(len(z), dtype=np.float32)
    n_groups = int(words.group[-1]) + 1 if len(words.group) else 0
    weight = np.asarray(words.weight, dtype=np.float32)
    total = np.asarray(words.total, dtype=np.float64)
    _rowkernel.topical(sigmoid(z), words.row, words.group, weight, total, n_groups, out)
    return out


# The columns the row kernel computes in one pass, in its order (see
# _rowkernel.context_columns): the logit, its neighbours, window means (also the one the
# repeat columns use), then _ROW_SUMMARY.
_WINDOW_HALVES = (*CONTEXT_WINDOWS, REPEAT_WINDOW)
_ROW_COLUMNS = (
    "logit",
    *(f"logit@{off:+d}" for off in CONTEXT_OFFSETS),
    *(f"logit~{half}" for half in _WINDOW_HALVES),
    *_ROW_SUMMARY,
)
_KERNEL_OFFSETS = np.array(CONTEXT_OFFSETS, dtype=np.int64)
_KERNEL_HALVES = np.array(_WINDOW_HALVES, dtype=np.int64)


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
    n = len(z)
    block = np.empty((len(_ROW_COLUMNS), n), dtype=np.float32)
    _rowkernel.context_columns(
        z,
        sigmoid(z) * features.row_words,  # expected content words of each row
        features.page_rows,
        _KERNEL_OFFSETS,
        _KERNEL_HALVES,
        MAX_REACH,
        OUTSIDE_LOGIT,
        LOGIT_CLIP,
        block,
    )
    cols = dict(zip(_ROW_COLUMNS, block, strict=True))
    near = cols.pop(f"logit~{REPEAT_WINDOW}")
    region = main_region(z, features)
    cols["in_main_region"] = region.inside.astype(np.float32)
    cols["log_rows_to_main_region"] = region.log_distance
    cols["main_region_share"] = region.share
    words = page_words(features) if words is None else words
    cols["topical"] = topical(z, words)
    cols["shared_words"] = words.shared
    for name in CONTEXT_DENSE:
        cols[name] = features.column(name)
    for flag in REPEAT_FLAGS:
        cols[f"logit~{REPEAT_WINDOW}*{flag}"] = near * features.column(flag)
    if page_proba is not None:
        after = np.empty(n, dtype=np.float32)
        _rowkernel.after_region(region.inside.view(np.uint8), features.page_rows, after)
        interact = {
            "logit": z,
            "in_main_region": cols["in_main_region"],
            "after_main_region": after,
            "log_rows_to_main_region": cols["log_rows_to_main_region"],
        }
        typed = np.empty((len(PAGE_CONTEXT_NAMES), n), dtype=np.float32)
        _rowkernel.page_type_columns(
            np.ascontiguousarray(page_proba, dtype=np.float32),
            features.page_rows,
            np.stack([interact[name] for name in PAGE_INTERACTIONS]),
            typed,
        )
        # PAGE_CONTEXT_NAMES is the kernel's order: every type's probability, then each type
        # times each interaction.
        cols.update(zip(PAGE_CONTEXT_NAMES, typed, strict=True))
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
