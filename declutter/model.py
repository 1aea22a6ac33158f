"""Apply a trained model with numpy alone, and save or load it.

A model is a lexicon and two logistic regressions exported from scikit-learn (see
:mod:`declutter.train`):

1. a *lexicon*: for every hashed lexical bucket, the smoothed log-odds that a line holding it
   is content, learned from the training pages; each row gets the mean (and for words the
   minimum and maximum) of its buckets' log-odds per namespace;
2. a *line* stage over the standardized dense features and those lexical columns;
3. *context* stages, applied in turn, each over each row's previous logit, its neighbours'
   logits, windowed means, how much likely content lies before and after it in the page, the
   page's main region, how many of its words likely content elsewhere on the page uses too,
   and a few dense features.

Both are stored as plain numpy arrays (scaler statistics, coefficients, intercepts) with
metadata, in a joblib file. Cleaning never imports scikit-learn: importing it costs ~2 s, and a
pipeline step must start in well under a second (issue 4).

Loading a model unpickles it: only load model files you trust.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.resources
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from declutter.errors import ModelError

if TYPE_CHECKING:
    from importlib.abc import Traversable  # importlib.resources.abc from Python 3.11
from declutter.features import FEATURE_NAMES, HASH_BITS, LEX_NAMESPACES, N_HASH, Features
from declutter.page import (
    PAGE_INTERACTIONS,
    PAGE_STAGE_NAMES,
    PAGE_TYPES,
    PageTypeParams,
    page_stage_features,
    region_sides,
)
from declutter.rows import page_room, row_pages, shifted, window_means

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
FloatArr = npt.NDArray[np.floating[Any]]

FORMAT = "declutter-model"
# 2 added hinge columns, 3 the page-level stage; older files load as models without them.
FORMAT_VERSION = 3
READABLE_FORMATS = (1, 2, 3)
DEFAULT_MODEL_NAME = "default.joblib"

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


def hinges(x: FloatArr, columns: I64, knots: F32) -> FloatArr:
    """The hinge columns ``max(x[:, c] - k, 0)``, one per pair of ``columns`` and ``knots``, in
    ``x``'s precision."""
    return np.maximum(x[:, columns] - knots.astype(x.dtype), 0)


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


def context_features(
    logit: F32,
    features: Features,
    words: PageWords | None = None,
    page_proba: F32 | None = None,
) -> F32:
    """The context stage's inputs (columns named by :data:`CONTEXT_NAMES`, then
    :data:`PAGE_CONTEXT_NAMES` when ``page_proba`` is given); ``words`` is :func:`page_words`
    of ``features``, computed when not given; ``page_proba`` the page-type probabilities of
    the page-level stage, shape ``(n_pages, len(PAGE_TYPES))``."""
    z = np.clip(logit, -LOGIT_CLIP, LOGIT_CLIP).astype(np.float32)
    room_before, room_after = page_room(features.page_rows)
    page = row_pages(features.page_rows)
    n_pages = len(features.page_rows) - 1
    # Every shift once: the offsets and the reach of the max-before/after columns overlap.
    around = {
        off: shifted(z, off, room_before, room_after, OUTSIDE_LOGIT)
        for off in sorted({*CONTEXT_OFFSETS, *range(-MAX_REACH, 0), *range(1, MAX_REACH + 1)})
    }
    cols = [z]
    cols.extend(around[off] for off in CONTEXT_OFFSETS)
    means = window_means(z, {*CONTEXT_WINDOWS, REPEAT_WINDOW}, room_before, room_after)
    cols.extend(means[half] for half in CONTEXT_WINDOWS)
    before = np.full(len(z), OUTSIDE_LOGIT, dtype=np.float32)
    after = np.full(len(z), OUTSIDE_LOGIT, dtype=np.float32)
    for off in range(1, MAX_REACH + 1):
        np.maximum(before, around[-off], out=before)
        np.maximum(after, around[off], out=after)
    cols.extend([before, after])
    # Expected content words before and after the row, as shares of the page's expected total.
    mass = sigmoid(z) * features.row_words
    cs = np.zeros(len(z) + 1, dtype=np.float64)
    np.cumsum(mass, out=cs[1:])
    i = np.arange(len(z))
    lo, hi = i - room_before, i + room_after + 1
    total = cs[hi] - cs[lo]
    with np.errstate(invalid="ignore", divide="ignore"):
        cols.append(np.where(total > 0, (cs[i] - cs[lo]) / total, 0).astype(np.float32))
        cols.append(np.where(total > 0, (cs[hi] - cs[i + 1]) / total, 0).astype(np.float32))
    counts = np.maximum(np.diff(features.page_rows), 1)
    page_mean = np.bincount(page, weights=z, minlength=n_pages) / counts
    page_pos = np.bincount(page, weights=z > 0, minlength=n_pages) / counts
    page_max = np.full(n_pages, -LOGIT_CLIP, dtype=np.float32)
    np.maximum.at(page_max, page, z)
    cols.append(page_mean[page].astype(np.float32))
    cols.append(page_pos[page].astype(np.float32))
    cols.append(z - page_max[page])
    inside, distance, share = main_region(z, features)
    cols.append(inside.astype(np.float32))
    cols.append(np.log1p(distance).astype(np.float32))
    cols.append(share)
    words = page_words(features) if words is None else words
    cols.extend([topical(z, words), words.shared])
    cols.extend(features.dense[:, _FEATURE_INDEX[name]] for name in CONTEXT_DENSE)
    near = means[REPEAT_WINDOW]
    cols.extend(near * features.dense[:, _FEATURE_INDEX[flag]] for flag in REPEAT_FLAGS)
    if page_proba is not None:
        row_proba = page_proba[page]
        interact = {
            "logit": z,
            "in_main_region": inside.astype(np.float32),
            "after_main_region": region_sides(inside, features.page_rows)[1].astype(np.float32),
            "log_rows_to_main_region": np.log1p(distance).astype(np.float32),
        }
        cols.extend(row_proba[:, k] for k in range(len(PAGE_TYPES)))
        cols.extend(
            row_proba[:, k] * interact[name]
            for k in range(len(PAGE_TYPES))
            for name in PAGE_INTERACTIONS
        )
    # Stacked column by column and transposed: 2x faster than column_stack on large batches.
    stacked = np.stack(cols).astype(np.float32, copy=False)
    return np.asarray(stacked.T, dtype=np.float32)


@dataclass(frozen=True)
class LogisticParams:
    """One standardized logistic regression: ``z = ((h - mean) / scale) @ coef + intercept``.

    ``h`` is the input columns followed by one *hinge* column ``max(x[:, c] - k, 0)`` for
    every pair ``(c, k)`` of ``hinge_columns`` and ``hinge_knots``: with them the model's
    response to feature ``c`` bends at its knots instead of being a straight line.
    """

    mean: F32
    scale: F32
    coef: F32
    intercept: float
    hinge_columns: I64 = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    hinge_knots: F32 = field(default_factory=lambda: np.zeros(0, dtype=np.float32))

    def folded(self) -> tuple[F32, np.float32]:
        """Weights and bias with the scaler folded in: ``z = h @ w + b``."""
        w = (self.coef / self.scale).astype(np.float32)
        b = self.intercept - float(np.dot(self.mean / self.scale, self.coef))
        return w, np.float32(b)

    def contributions(self, x: F32) -> F32:
        """Each input column's exact share of ``z - intercept``, row by row: its own term plus
        its hinge columns' terms. ``z`` is additive in the columns, so the shares sum to it."""
        bent = hinges(x, self.hinge_columns, self.hinge_knots)
        terms = (np.hstack([x, bent]) - self.mean) / self.scale * self.coef
        out: F32 = terms[:, : x.shape[1]].astype(np.float32)
        np.add.at(out.T, self.hinge_columns, terms[:, x.shape[1] :].T)
        return out

    def decision(self, *blocks: F32) -> F32:
        """``z`` for inputs given as one or more column blocks, side by side in order.

        Separate blocks spare the caller stacking them: a copy of every row. ``einsum``, not
        ``@``: a matrix-vector product goes to BLAS, whose idle threads then spin on the other
        cores (``declutter clean`` used twice its wall time in CPU); einsum stays on one core,
        and this product is ~1% of cleaning time either way.
        """
        w, b = self.folded()
        n_inputs = sum(block.shape[1] for block in blocks)
        n_hinges = len(self.hinge_columns)
        if n_inputs + n_hinges != len(w):
            raise ValueError(f"inputs have {n_inputs} columns; the model takes {len(w) - n_hinges}")
        hinge_w = w[n_inputs:]
        # max(x - k, 0) = max(x, k) - k: the knots' share folds into the bias.
        z = np.full(len(blocks[0]), b - np.dot(hinge_w, self.hinge_knots), dtype=np.float32)
        start = 0
        for block in blocks:
            end = start + block.shape[1]
            z += np.einsum("ij,j->i", block, w[start:end])
            mine = (self.hinge_columns >= start) & (self.hinge_columns < end)
            if mine.any():
                columns = self.hinge_columns[mine] - start
                bent = np.maximum(block[:, columns], self.hinge_knots[mine])
                z += np.einsum("ij,j->i", bent, hinge_w[mine])
            start = end
        return z


@dataclass(frozen=True)
class LineModel:
    """A trained declutter model: everything needed to score lines, in numpy arrays.

    ``threshold`` is the probability above which a row is content by default; ``smoothing`` is
    the decoder's cost, in log-odds, of switching between content and chrome (0 decodes each
    row on its own). Both were chosen by cross-validation on the training pages.
    """

    line: LogisticParams
    lexicon: F32  # (len(LEX_NAMESPACES), N_HASH) log-odds of content per hashed bucket
    contexts: tuple[LogisticParams, ...]  # applied in turn, each on the previous scores
    page: PageTypeParams | None = None  # the page-level stage, read by the context stages
    threshold: float = 0.5
    smoothing: float = 0.0
    feature_names: tuple[str, ...] = LINE_NAMES
    context_names: tuple[str, ...] = CONTEXT_NAMES
    metadata: dict[str, Any] = field(default_factory=dict)

    def lexical_inputs(self, features: Features) -> F32:
        """The rows' lexical columns (:data:`LEX_FEATURES`) under this model's lexicon."""
        values = tuple(self.lexicon[k][buckets] for k, buckets in enumerate(features.lex_buckets))
        return lexical_columns(features.lex_rows, values, features.n_rows)

    def line_inputs(self, features: Features) -> F32:
        """The line stage's inputs: dense features and lexical columns (:data:`LINE_NAMES`)."""
        return np.hstack([features.dense, self.lexical_inputs(features)])

    def line_logits(self, features: Features) -> F32:
        """The line stage's log-odds of content for every row."""
        return self.line.decision(features.dense, self.lexical_inputs(features))

    def logits(self, features: Features) -> F32:
        """Final log-odds of content for every row (line stage, then the context stages)."""
        return self.scores(features)[0]

    def scores(self, features: Features) -> tuple[F32, F32 | None]:
        """Final log-odds of content for every row, and the page-level stage's page-type
        probabilities, shape ``(n_pages, len(PAGE_TYPES))`` (None without that stage)."""
        n_pages = len(features.page_rows) - 1
        if features.n_rows == 0:
            empty = None if self.page is None else np.zeros((n_pages, len(PAGE_TYPES)), np.float32)
            return np.zeros(0, dtype=np.float32), empty
        z = self.line_logits(features)
        words = page_words(features)
        proba = None if self.page is None else self.page.proba(page_inputs(z, features, words))
        for stage in self.contexts:
            z = stage.decision(context_features(z, features, words, proba))
        return z, proba

    def predict_proba(self, features: Features) -> F32:
        """Probability that each row is content."""
        return sigmoid(self.logits(features))

    # --- persistence -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "feature_names": list(self.feature_names),
            "context_names": list(self.context_names),
            "lex_namespaces": list(LEX_NAMESPACES),
            "n_hash": N_HASH,
            "line": _params_dict(self.line),
            # float16 halves the file; log-odds need no more than three significant digits.
            "lexicon": self.lexicon.astype(np.float16),
            "contexts": [_params_dict(c) for c in self.contexts],
            "page": None if self.page is None else self.page.to_dict(),
            "threshold": self.threshold,
            "smoothing": self.smoothing,
            "metadata": self.metadata,
        }

    def save(self, path: Path) -> str:
        """Write the model with joblib (atomically) and return the file's sha256."""
        import joblib  # noqa: PLC0415 - joblib's import costs ~0.1 s; only when saving

        tmp = path.with_name(path.name + ".part")
        joblib.dump(self.to_dict(), tmp, compress=3)
        tmp.replace(path)
        return sha256_file(path)


def _params_dict(p: LogisticParams) -> dict[str, Any]:
    return {
        "mean": p.mean,
        "scale": p.scale,
        "coef": p.coef,
        "intercept": p.intercept,
        "hinge_columns": p.hinge_columns,
        "hinge_knots": p.hinge_knots,
    }


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def shipped_model() -> Traversable:
    """The shipped model as package data (``declutter.models``, read through
    ``importlib.resources``, so a zipped install works), or ``models/`` beside the package in a
    source checkout that is not installed."""
    try:
        return importlib.resources.files("declutter.models") / DEFAULT_MODEL_NAME
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "models" / DEFAULT_MODEL_NAME


def default_model_path() -> Path:
    """The shipped model's file path (installed packages are folders; see :func:`load_model`
    for installs where they are not)."""
    return Path(str(shipped_model()))


_cache: dict[str, LineModel] = {}


def load_model(path: str | Path | None = None) -> LineModel:
    """Load a model file, or the shipped default model when ``path`` is None.

    The shipped model is checked against its recorded sha256. Raises :class:`ModelError`
    naming the file when it is missing, corrupt, not a declutter model, or incompatible
    (any failure to load is a ``ModelError``). Only load model files you trust: loading
    unpickles.
    """
    resource = shipped_model() if path is None else Path(path)
    key = str(resource)
    if key in _cache:
        return _cache[key]
    expected = _recorded_sha256(resource) if path is None else None
    with _as_file(resource) as target:
        model = _load(target, expected, key)
    _cache[key] = model
    return model


@contextlib.contextmanager
def _as_file(resource: Traversable) -> Iterator[Path]:
    if isinstance(resource, Path):
        yield resource
        return
    try:
        with importlib.resources.as_file(resource) as target:
            yield target
    except OSError as exc:
        raise ModelError(f"{resource}: cannot read the shipped model ({exc})") from None


def _recorded_sha256(model: Traversable) -> str | None:
    name = DEFAULT_MODEL_NAME + ".sha256"
    try:
        if isinstance(model, Path):
            record = model.with_name(model.name + ".sha256").read_text("ascii")
        else:
            record = importlib.resources.files("declutter.models").joinpath(name).read_text("ascii")
        return record.split()[0]
    except (OSError, IndexError, UnicodeDecodeError):
        return None


def _load(path: Path, expected_sha256: str | None, name: str) -> LineModel:
    import joblib  # noqa: PLC0415 - only when a model is loaded

    if path.is_dir():
        raise ModelError(f"{path}: is a folder, expected a model file")
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    try:
        if expected_sha256 is not None and sha256_file(path) != expected_sha256:
            raise ModelError(f"{name}: sha256 does not match the recorded one; reinstall declutter")
        raw = joblib.load(path)
        return from_dict(raw, name)
    except ModelError:
        raise
    except Exception as exc:
        # A model file is a pickle: a damaged or hostile one can raise anything while loading
        # or being checked (MemoryError for a huge allocation, decimal.InvalidOperation from a
        # comparison, RecursionError); each is one message, never a traceback.
        raise ModelError(f"{name}: not a readable model file ({type(exc).__name__})") from None


def from_dict(raw: object, name: str = "model") -> LineModel:
    """Validate a loaded model dictionary and build the :class:`LineModel`."""
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise ModelError(f"{name}: not a declutter model")
    version = raw.get("format_version")
    if version not in READABLE_FORMATS:
        raise ModelError(
            f"{name}: model format {version} is not supported by this declutter "
            f"(format {FORMAT_VERSION}); retrain it with `declutter train`"
        )
    if (
        tuple(raw.get("feature_names", ())) != LINE_NAMES
        or tuple(raw.get("lex_namespaces", ())) != LEX_NAMESPACES
        or raw.get("n_hash") != N_HASH
    ):
        raise ModelError(
            f"{name}: trained with different features than this declutter computes; "
            "retrain it with `declutter train`"
        )
    has_page = raw.get("page") is not None
    context_names = CONTEXT_NAMES + (PAGE_CONTEXT_NAMES if has_page else ())
    if tuple(raw.get("context_names", ())) != context_names:
        raise ModelError(f"{name}: trained with different context features; retrain it")
    try:
        model = LineModel(
            line=_params(raw["line"], len(LINE_NAMES)),
            lexicon=_matrix(raw["lexicon"], (len(LEX_NAMESPACES), N_HASH)),
            contexts=tuple(_params(c, len(context_names)) for c in raw["contexts"]),
            page=_page_params(raw["page"]) if has_page else None,
            context_names=context_names,
            threshold=float(raw["threshold"]),
            smoothing=float(raw["smoothing"]),
            metadata=dict(raw.get("metadata") or {}),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ModelError(f"{name}: damaged model parameters ({exc})") from None
    if not 0.0 < model.threshold < 1.0 or model.smoothing < 0:
        raise ModelError(f"{name}: threshold or smoothing out of range")
    return model


def _vector(value: object, size: int) -> F32:
    arr = np.asarray(value, dtype=np.float32)
    if arr.shape != (size,) or not np.isfinite(arr).all():
        raise ValueError(f"expected {size} finite numbers, got shape {arr.shape}")
    return arr


def _matrix(value: object, shape: tuple[int, int]) -> F32:
    arr = np.asarray(value, dtype=np.float32)
    if arr.shape != shape or not np.isfinite(arr).all():
        raise ValueError(f"expected a {shape} table, got shape {arr.shape}")
    return arr


def _params(raw: Any, size: int) -> LogisticParams:
    # Format 1 files predate hinge columns: theirs are empty.
    columns = np.asarray(raw.get("hinge_columns", ()), dtype=np.int64).reshape(-1)
    knots = _vector(raw.get("hinge_knots", ()), len(columns))
    if ((columns < 0) | (columns >= size)).any():
        raise ValueError("hinge column out of range")
    size += len(columns)
    scale = _vector(raw["scale"], size)
    if (scale <= 0).any():
        raise ValueError("scaler scale must be positive")
    intercept = float(raw["intercept"])
    if not np.isfinite(intercept):
        raise ValueError("intercept is not finite")
    return LogisticParams(
        _vector(raw["mean"], size), scale, _vector(raw["coef"], size), intercept, columns, knots
    )


def _page_params(raw: Any) -> PageTypeParams:
    if tuple(raw["types"]) != PAGE_TYPES:
        raise ValueError("page types differ from this declutter's")
    k, t = len(PAGE_STAGE_NAMES), len(PAGE_TYPES)
    scale = _vector(raw["scale"], k)
    if (scale <= 0).any():
        raise ValueError("scaler scale must be positive")
    return PageTypeParams(
        _vector(raw["mean"], k), scale, _matrix(raw["coef"], (k, t)), _vector(raw["intercept"], t)
    )
