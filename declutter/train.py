"""Fit a declutter model with scikit-learn and export it to numpy parameters.

Training, in order:

1. Featurize every labelled page (:mod:`declutter.features`); a row's label is the majority
   label of its lines.
2. :class:`~declutter.estimators.HashedLexicon` learns, for every hashed lexical bucket, how
   much more often its rows are content than a model of the dense features alone predicts
   (smoothed log-odds). Training rows get *cross-fitted* lexical columns (each fold's from a
   lexicon fitted on the other folds, folds grouped by site), like scikit-learn's
   ``TargetEncoder``: the line stage must not learn to trust lexical evidence that is only
   perfect on its own pages.
3. The line stage: a :class:`~sklearn.pipeline.Pipeline` of
   :class:`~declutter.estimators.HingeFeatures`, ``StandardScaler`` and ``LogisticRegression``
   over the dense features and the lexical columns.
4. The page-level stage (:mod:`declutter.page`) when pages have types, then the context
   stages: the same pipeline without hinges, over
   :func:`declutter.context.context_features` of the previous stage's logits,
   :data:`CONTEXT_ROUNDS` times.
5. The decoder's threshold and smoothing are chosen on held-out sites by mean per-page word
   F1, the benchmark's measure (:func:`choose_decoder`); then the stages are refitted on all.

:meth:`DeclutterTrainer.to_model` exports everything as a numpy-only
:class:`~declutter.model.LineModel`. The estimators and their export live in
:mod:`declutter.estimators`; this module imports scikit-learn; cleaning never does.
"""

from __future__ import annotations

import platform
import time
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import sklearn
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from declutter import __version__
from declutter.align import CHROME, CONTENT, UNLABELLED
from declutter.context import (
    CONTEXT_NAMES,
    LEX_FEATURES,
    LINE_NAMES,
    PAGE_CONTEXT_NAMES,
    PageWords,
    context_features,
    page_inputs,
    page_words,
    sigmoid,
)
from declutter.data import LabelledPage
from declutter.decoder import viterbi_decode
from declutter.errors import TrainingDataError
from declutter.estimators import (
    LEXICON_ALPHA,
    N_SPLITS,
    HashedLexicon,
    export_logistic,
    fit_page_stage,
    lexical_matrix,
    logistic_pipeline,
)
from declutter.features import LEX_NAMESPACES, N_HASH, Features, featurize
from declutter.metrics import line_prf, page_word_f1
from declutter.model import LineModel
from declutter.page import PAGE_TYPES, UNKNOWN_PAGE_TYPE, PageTypeParams
from declutter.rows import row_pages
from declutter.site_fit import fit_site_stage

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]
BoolArr = npt.NDArray[np.bool_]

# Inverse regularization strengths of the line and context stages. On held-out WCXB dev sites
# (~2,000 pages, all dump styles, seed 0; mean page F1 0.8557 at 1 and 1) the line stage's C
# 0.1 scored 0.8555 and 10 0.8559, the context stages' 0.1 and 10 both 0.8557: with 300,000
# rows and 210 columns (35 in a context stage) the penalty hardly binds. At 0.1 the line
# stage's Newton solve was ill-conditioned (scikit-learn fell back to lbfgs: 166 s, not 39 s).
LINE_C = 1.0
CONTEXT_C = 1.0
THRESHOLDS = tuple(np.round(np.arange(0.2, 0.81, 0.05), 2))  # decoder grid
SMOOTHINGS = (0.0, 0.5, 1.0, 2.0, 3.0, 4.0)
FEATURIZE_BATCH = 512  # pages per featurize call while training
# Rows sampled for the logistic fits: all 2.5M scored no better than 400,000 and took 3x as long.
# 300,000 scored -0.0004 (paired standard error 0.0003) against 400,000 on held-out WCXB dev
# sites and trains 4 s faster in-process (53.6 against 57.9 s), which keeps training within a
# minute now that the line stage fits in float64.
MAX_ROWS = 300_000
DECODER_PAGES = 3000  # pages decoded per candidate when choosing threshold and smoothing
VALIDATION_SHARE = 0.2  # groups (sites) held out to choose the decoder
CONTEXT_ROUNDS = 2  # context stages in turn
# In the line stage's fit a row counts (its words) ** WORD_WEIGHT_POWER, and in every fit a
# page's rows are divided by (the sum of those counts) ** PAGE_WEIGHT_POWER: the benchmark
# averages word F1 over pages, so long lines should count for more, and long pages should not
# dominate. On held-out WCXB dev sites (~2,100 pages, all dump styles; paired standard errors in
# brackets), rows alike: page power 0.5 scored +0.0012 (0.0007) over 0; 1 no better, noisier.
# Word power 0.5, over rows alike (corpus at MIN_COVERAGE 0.9): in the line stage only +0.0028
# (0.0006); in every stage +0.0038 (0.0008), 0.35 +0.0029 (0.0006), but those two put a chrome
# heading of the rt-capture regression page at p 0.37 and 0.35 (0.34 line stage only), at or
# over the threshold; in the context stages only +0.0015 (0.0005). On the earlier corpus, in
# every stage: 0.25 +0.0023 (0.0005), 0.75 +0.0037 (0.0013), 1 -0.0002 (0.0016); page powers
# 0.35 and 0.75 -0.0000 (0.0002) and -0.0007 (0.0006) against 0.5.
PAGE_WEIGHT_POWER = 0.5
WORD_WEIGHT_POWER = 0.5
# The line stage bends its response to each feature with hinge columns (HingeFeatures, knots at
# estimators.HINGE_QUANTILES). Measured on held-out WCXB dev sites (2,100 pages, all dump
# styles; mean page F1 0.8433 without hinges; paired standard errors in brackets), hinges on:
# - the line's own shape and lexical columns, not its position or page: +0.0044 (0.0007);
# - those and position and page-level features: +0.0060 (0.0015), but that model kept three
#   chrome lines of the rt-capture regression page, at p 0.43-0.66: bends in where a line
#   sits fit the training sites' layouts;
# - the lexical columns alone +0.0020 (0.0005); all columns, the neighbours' and window copies
#   too, +0.0040 (0.0017); the context stages +0.0018 (0.0013).
HINGE_EXCLUDED = ("rel_position", "rel_char_position", "page_mean_terminal")
HINGE_FEATURES = tuple(
    n for n in LINE_NAMES if "@" not in n and "~" not in n and n not in HINGE_EXCLUDED
)
# The line stage fits in float64. In float32 the Newton step's Hessian can be too
# ill-conditioned to solve: with rows weighed by their words its rcond fell under float32's
# epsilon (7e-8), and scikit-learn fell back to lbfgs, which took 25 s and stopped at max_iter
# short of the optimum; in float64 it converged in 6 Newton steps (on 400,000 rows ~7 s; 4 s
# in float32 without word weights). The other fits (fewer columns, rows alike) converge in
# float32.
LINE_FIT_DTYPE = np.float64


def validation_rows(groups: npt.NDArray[Any], share: float) -> BoolArr:
    """Rows whose group falls in the held-out ``share`` (by a stable hash of the group)."""
    if share <= 0:
        return np.zeros(len(groups), dtype=bool)
    names, inverse = np.unique(groups, return_inverse=True)
    picked = np.array([zlib.crc32(str(n).encode("utf-8")) % 1000 < share * 1000 for n in names])
    return picked[inverse] if len(names) else np.zeros(len(groups), dtype=bool)


def page_weights(
    page_rows: I64,
    labelled: BoolArr,
    power: float,
    row_words: npt.ArrayLike | None = None,
    word_power: float = 0.0,
) -> F64:
    """Each row's weight, normalized to a mean of 1 over the labelled rows.

    A row counts ``words ** word_power`` (``row_words``, at least 1; every row 1 without them),
    and a page's rows are divided by (the sum of its labelled rows' counts) ** ``power``. With
    ``word_power`` 0 that is (labelled rows of the page) ** -power.
    """
    sizes = np.diff(page_rows)
    page = row_pages(page_rows)
    if row_words is None or word_power == 0:
        unit = np.ones(len(page), dtype=np.float64)
    else:
        unit = np.maximum(np.asarray(row_words, dtype=np.float64), 1.0) ** word_power
    totals = np.bincount(page, weights=np.where(labelled, unit, 0.0), minlength=len(sizes))
    weight = unit * np.maximum(totals, 1.0)[page] ** -power
    mean = weight[labelled].mean() if labelled.any() else 1.0
    return np.asarray(weight / mean, dtype=np.float64)


def group_codes(groups: npt.ArrayLike) -> tuple[npt.NDArray[Any], I64]:
    """The distinct groups, sorted, and each row's index among them.

    Rows come page by page, so groups come in runs: only the runs' values are sorted
    (``np.unique`` over millions of strings took seconds).
    """
    groups = np.asarray(groups)
    if groups.size == 0:
        return groups, np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate([[True], groups[1:] != groups[:-1]]))
    names, run_codes = np.unique(groups[starts], return_inverse=True)
    return names, np.repeat(run_codes, np.diff(np.append(starts, len(groups)))).astype(np.int64)


def page_type_codes(page_types: Sequence[str]) -> I64:
    """Each page's index in :data:`declutter.page.PAGE_TYPES`, :data:`UNKNOWN_PAGE_TYPE` when
    unknown."""
    index = {t: k for k, t in enumerate(PAGE_TYPES)}
    return np.array([index.get(t, UNKNOWN_PAGE_TYPE) for t in page_types], dtype=np.int64)


@dataclass(frozen=True)
class _Weights:
    """Row weights of the line stage's fit and of the context stages' fits."""

    line: F64
    context: F64


@dataclass
class _Stages:
    """The fitted line and context stages and their scores on every row."""

    line: Pipeline
    contexts: list[Pipeline]
    line_logit: F32
    logit: F32
    page: PageTypeParams | None


class DeclutterTrainer(BaseEstimator):  # type: ignore[misc]
    """The whole training procedure, as a scikit-learn style estimator over featurized pages.

    The decoder's threshold and smoothing are chosen on held-out sites: the stages are fitted
    without the groups in a ``validation_share`` of the hash space, those pages are decoded
    with every candidate, and :func:`choose_decoder` picks by mean per-page word F1. The
    stages are then refitted on every page.

    Parameters
    ----------
    C : float
        Inverse regularization strength of the line stage.
    context_C : float
        Inverse regularization strength of the context stage.
    alpha : float
        Lexicon pseudo-count (:class:`HashedLexicon`).
    n_splits : int
        Folds for cross-fitting the lexicon, grouped by ``groups``.
    max_iter : int
        Iterations of each logistic regression's solver.
    max_rows : int or None
        Rows drawn at random for the logistic fits (the lexicon always sees every row).
        Training rows are highly redundant (every page in several dump styles), so a sample
        fits as well, much faster. None uses every row.
    validation_share : float
        Share of groups held out to choose the decoder; 0 chooses it on the training rows.
    page_weight_power : float
        Without ``sample_weight``, a page's rows are divided by (the sum of their word counts,
        see ``word_weight_power``) to this power: 0 leaves pages as they are, 1 weighs every
        page alike (:func:`page_weights`).
    word_weight_power : float
        Without ``sample_weight``, a row of the line stage's fit counts (its words) to this
        power: 0 counts every row alike, 1 every word. The context stages count rows alike.
    context_rounds : int
        Context stages applied in turn, each over the previous one's scores.
    page_stage : bool
        Fit the page-level stage (:mod:`declutter.page`) when ``fit`` is given the page types
        of at least two kinds of page.
    random_state : int
        Seed of the row sample.
    """

    def __init__(
        self,
        C: float = LINE_C,
        context_C: float = CONTEXT_C,
        alpha: float = LEXICON_ALPHA,
        n_splits: int = N_SPLITS,
        max_iter: int = 300,
        max_rows: int | None = MAX_ROWS,
        validation_share: float = VALIDATION_SHARE,
        page_weight_power: float = PAGE_WEIGHT_POWER,
        word_weight_power: float = WORD_WEIGHT_POWER,
        context_rounds: int = CONTEXT_ROUNDS,
        page_stage: bool = True,
        random_state: int = 0,
    ) -> None:
        self.C = C
        self.context_C = context_C
        self.alpha = alpha
        self.n_splits = n_splits
        self.max_iter = max_iter
        self.max_rows = max_rows
        self.validation_share = validation_share
        self.page_weight_power = page_weight_power
        self.word_weight_power = word_weight_power
        self.context_rounds = context_rounds
        self.page_stage = page_stage
        self.random_state = random_state

    def fit(
        self,
        features: Features,
        y: npt.NDArray[np.integer[Any]],
        groups: npt.NDArray[Any],
        sample_weight: npt.NDArray[np.floating[Any]] | None = None,
        page_types: npt.NDArray[np.int64] | None = None,
    ) -> DeclutterTrainer:
        """Fit on the rows of ``features``; ``y`` is :data:`CONTENT` or :data:`CHROME` per row,
        :data:`UNLABELLED` for rows to ignore.

        ``groups`` (one per row) keeps related pages together, in cross-fitting folds and in
        the validation split; ``sample_weight`` (one per row) weighs rows in the fits, by
        default as ``page_weight_power`` and ``word_weight_power`` say; ``page_types`` (one
        per page, :func:`page_type_codes`) trains the page-level stage.
        """
        y = np.asarray(y)
        if y.shape != (features.n_rows,):
            raise ValueError("y needs one label per row")
        labelled = y != UNLABELLED
        if len(np.unique(y[labelled])) < 2:
            raise TrainingDataError("training pages need both content and chrome lines")
        if sample_weight is None:
            weight = page_weights(features.page_rows, labelled, self.page_weight_power)
            line_weight = page_weights(
                features.page_rows,
                labelled,
                self.page_weight_power,
                features.row_words,
                self.word_weight_power,
            )
        else:
            weight = line_weight = np.asarray(sample_weight, dtype=float)
        weights = _Weights(line=line_weight, context=weight)
        self.timings_: dict[str, float] = {}
        names, groups = group_codes(groups)
        held_out = validation_rows(names, self.validation_share)[groups]
        fit_rows = self._sample(np.flatnonzero(labelled))
        start = time.perf_counter()
        self.lexicon_, lex_cols = self._fit_lexicon(features, y, groups, fit_rows)
        self.timings_["lexicon"] = time.perf_counter() - start
        # The lexical columns are cross-fitted by site, so the held-out sites' rows already
        # see only lexicons fitted without them: one lexicon serves both fits below, and so
        # does which rows share which words (it does not depend on the labels).
        words = page_words(features)
        types = np.asarray(page_types) if self.page_stage and page_types is not None else None
        train_rows = fit_rows[~held_out[fit_rows]]
        if held_out.any() and len(np.unique(y[train_rows])) == 2:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                stages = self._fit_stages(
                    features, lex_cols, words, y, train_rows, weights, types, "held-out "
                )
            decode_y, logits = np.where(held_out, y, UNLABELLED), stages.logit
        else:
            held_out = np.zeros(len(y), dtype=bool)
            decode_y, logits = y, None
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ConvergenceWarning)
            final = self._fit_stages(features, lex_cols, words, y, fit_rows, weights, types, "")
        # Reported in the model's metadata rather than as a warning on the user's terminal.
        self.converged_ = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
        start = time.perf_counter()
        self.threshold_, self.smoothing_, self.decode_scores_ = choose_decoder(
            final.logit if logits is None else logits, decode_y, features, self.random_state
        )
        self.timings_["decoder"] = time.perf_counter() - start
        self.line_, self.contexts_, self.page_ = final.line, final.contexts, final.page
        self.line_logit_, self.logit_ = final.line_logit, final.logit
        # Held-out scores: what the model does on sites it has not seen (empty mask: none).
        self.validation_ = held_out & (y != UNLABELLED)
        self.validation_logit_ = final.logit if logits is None else logits
        return self

    def _sample(self, rows: I64) -> I64:
        """At most ``max_rows`` of ``rows``, drawn at random, in order."""
        if self.max_rows is None or len(rows) <= self.max_rows:
            return rows
        rng = np.random.default_rng(self.random_state)
        return np.sort(rng.choice(rows, self.max_rows, replace=False))

    def _fit_lexicon(
        self,
        features: Features,
        y: npt.NDArray[np.integer[Any]],
        groups: npt.NDArray[Any],
        fit_rows: I64,
    ) -> tuple[HashedLexicon, F32]:
        """The lexicon, and every row's lexical columns (cross-fitted for labelled rows)."""
        labelled = y != UNLABELLED
        # The lexicon measures what words add to a model of the dense features alone.
        shape_only = logistic_pipeline(self.C, self.max_iter)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            shape_only.fit(features.dense[fit_rows], y[fit_rows])
        prior = sigmoid(export_logistic(shape_only).decision(features.dense))[labelled]
        lex_x = lexical_matrix(features)
        lexicon = HashedLexicon(alpha=self.alpha, n_splits=self.n_splits)
        lex_cols = np.zeros((features.n_rows, len(LEX_FEATURES)), dtype=np.float32)
        lex_labelled = lex_x if labelled.all() else lex_x[labelled]
        lex_cols[labelled] = lexicon.fit_transform(
            lex_labelled, y[labelled], groups=groups[labelled], prior=prior
        )
        # Rows the lexicon was not fitted on are encoded with it as they are when cleaning.
        if not labelled.all():
            lex_cols[~labelled] = lexicon.transform(lex_x[~labelled])
        return lexicon, lex_cols

    def _fit_stages(
        self,
        features: Features,
        lex_cols: F32,
        words: PageWords,
        y: npt.NDArray[np.integer[Any]],
        fit_rows: I64,
        weights: _Weights,
        page_types: I64 | None,
        label: str,
    ) -> _Stages:
        """The line stage and the context rounds, fitted on ``fit_rows``."""
        start = time.perf_counter()
        hinged = [LINE_NAMES.index(name) for name in HINGE_FEATURES]
        line = logistic_pipeline(self.C, self.max_iter, hinged)
        line_x = np.hstack([features.dense[fit_rows], lex_cols[fit_rows]], dtype=LINE_FIT_DTYPE)
        line.fit(line_x, y[fit_rows], logreg__sample_weight=weights.line[fit_rows])
        line_logit = export_logistic(line).decision(features.dense, lex_cols)
        page, proba = self._fit_page(features, line_logit, words, fit_rows, page_types)
        # Each context round reads the previous round's scores: evidence spreads further.
        contexts, logit = [], line_logit
        for _ in range(self.context_rounds):
            context_x = context_features(logit, features, words, proba)
            context = logistic_pipeline(self.context_C, self.max_iter)
            context.fit(
                context_x[fit_rows], y[fit_rows], logreg__sample_weight=weights.context[fit_rows]
            )
            logit = export_logistic(context).decision(context_x)
            contexts.append(context)
        self.timings_[label + "stages"] = time.perf_counter() - start
        return _Stages(line, contexts, line_logit, logit, page)

    def _fit_page(
        self,
        features: Features,
        line_logit: F32,
        words: PageWords,
        fit_rows: I64,
        types: I64 | None,
    ) -> tuple[PageTypeParams | None, F32 | None]:
        """The page-level stage, fitted on the typed pages with rows among ``fit_rows``, and
        its probabilities for every page; (None, None) without two kinds of typed page."""
        if types is None:
            return None, None
        page_of_row = row_pages(features.page_rows)
        fit_pages = np.zeros(len(types), dtype=bool)
        fit_pages[page_of_row[fit_rows]] = True
        fit_pages &= types != UNKNOWN_PAGE_TYPE
        if len(np.unique(types[fit_pages])) < 2:
            return None, None
        x = page_inputs(line_logit, features, words)
        params = fit_page_stage(x[fit_pages], types[fit_pages], max_iter=self.max_iter)
        return params, params.proba(x)

    def to_model(self, metadata: dict[str, Any] | None = None) -> LineModel:
        """Export the fitted stages as a numpy-only :class:`LineModel`."""
        check_is_fitted(self, "contexts_")
        lexicon = self.lexicon_.log_odds_.reshape(len(LEX_NAMESPACES), N_HASH)
        return LineModel(
            line=export_logistic(self.line_),
            lexicon=lexicon.astype(np.float32),
            contexts=tuple(export_logistic(c) for c in self.contexts_),
            page=self.page_,
            threshold=float(self.threshold_),
            smoothing=float(self.smoothing_),
            feature_names=LINE_NAMES,
            context_names=CONTEXT_NAMES + (PAGE_CONTEXT_NAMES if self.page_ else ()),
            metadata=dict(metadata or {}),
        )


def choose_decoder(
    logits: F32, y: npt.NDArray[np.integer[Any]], features: Features, random_state: int = 0
) -> tuple[float, float, dict[tuple[float, float], float]]:
    """The decoder settings for the labelled pages, by the one-standard-error rule.

    Every candidate is scored by mean per-page word F1. Among the candidates whose score is
    within one standard error of the best (the error of the paired per-page difference), the
    one keeping least text wins: the highest threshold, then the least smoothing. Differences
    that small are noise on a few thousand pages, and for the same F1 a cleaner should keep
    less chrome. At most :data:`DECODER_PAGES` pages, drawn at random, are decoded.
    """
    page_rows = features.page_rows
    page = row_pages(page_rows)
    labelled_pages = np.flatnonzero(
        np.bincount(page, weights=y != UNLABELLED, minlength=len(page_rows) - 1)
    )
    chosen = labelled_pages
    if len(chosen) > DECODER_PAGES:
        chosen = np.sort(np.random.default_rng(random_state).choice(chosen, DECODER_PAGES, False))
    rows = np.concatenate([np.arange(page_rows[p], page_rows[p + 1]) for p in chosen])
    page_rows = np.concatenate([[0], np.cumsum(np.diff(page_rows)[chosen])])
    logits, y = logits[rows], y[rows]
    row_words = features.row_words[rows]
    words = np.where(y != UNLABELLED, row_words, 0).astype(np.float32)
    per_page: dict[tuple[float, float], F64] = {}
    for smoothing in SMOOTHINGS:
        for threshold in THRESHOLDS:
            keep = viterbi_decode(logits, page_rows, float(threshold), smoothing)
            per_page[(float(threshold), smoothing)] = page_word_f1(keep, y, words, page_rows)
    scores = {k: float(v.mean()) for k, v in per_page.items()}
    top = max(scores, key=lambda k: scores[k])
    n = len(per_page[top])

    def within_one_se(k: tuple[float, float]) -> bool:
        diff = per_page[k] - per_page[top]
        se = float(diff.std(ddof=1)) / np.sqrt(n) if n > 1 else 0.0
        return scores[k] >= scores[top] - se

    eligible = [k for k in scores if within_one_se(k)]
    best = max(eligible, key=lambda k: (k[0], -k[1]))  # highest threshold, least smoothing
    return best[0], best[1], scores


def row_labels(features: Features, line_labels: npt.NDArray[np.int8]) -> npt.NDArray[np.int8]:
    """A row's label: :data:`CONTENT` when at least half its labelled lines are content, else
    :data:`CHROME`; :data:`UNLABELLED` without labelled lines."""
    valid = (features.line_rows >= 0) & (line_labels != UNLABELLED)
    rows = features.line_rows[valid]
    labelled = np.bincount(rows, minlength=features.n_rows)
    content = np.bincount(rows, weights=line_labels[valid] == CONTENT, minlength=features.n_rows)
    out = np.where(content * 2 >= labelled, CONTENT, CHROME).astype(np.int8)
    out[labelled == 0] = UNLABELLED
    return out


def featurize_pages(pages: Sequence[LabelledPage]) -> Features:
    """Featurize labelled pages in batches and stack the results."""
    parts = [
        featurize([p.text for p in pages[i : i + FEATURIZE_BATCH]])
        for i in range(0, len(pages), FEATURIZE_BATCH)
    ]
    return stack_features(parts)


def stack_features(parts: Sequence[Features]) -> Features:
    """Concatenate the features of consecutive page batches."""
    if len(parts) == 1:
        return parts[0]
    row_off = np.cumsum([0] + [p.n_rows for p in parts[:-1]])
    line_off = np.cumsum([0] + [int(p.page_lines[-1]) for p in parts[:-1]])
    n_ns = len(LEX_NAMESPACES)

    def offset_lines(p: Features, off: int) -> I64:
        return np.where(p.line_rows >= 0, p.line_rows + off, -1)

    return Features(
        dense=np.vstack([p.dense for p in parts]),
        lex_rows=tuple(
            np.concatenate([p.lex_rows[k] + o for p, o in zip(parts, row_off, strict=True)])
            for k in range(n_ns)
        ),
        lex_buckets=tuple(np.concatenate([p.lex_buckets[k] for p in parts]) for k in range(n_ns)),
        line_rows=np.concatenate(
            [offset_lines(p, int(o)) for p, o in zip(parts, row_off, strict=True)]
        ),
        line_blank=np.concatenate([p.line_blank for p in parts]),
        page_lines=np.concatenate(
            [[0]] + [p.page_lines[1:] + o for p, o in zip(parts, line_off, strict=True)]
        ),
        page_rows=np.concatenate(
            [[0]] + [p.page_rows[1:] + o for p, o in zip(parts, row_off, strict=True)]
        ),
        row_words=np.concatenate([p.row_words for p in parts]),
    )


@dataclass(frozen=True)
class TrainingReport:
    """What ``declutter train`` prints: data, balance, decoder choice and held-out quality."""

    pages: int
    lines: int
    rows: int
    content_rows: int
    chrome_rows: int
    threshold: float
    smoothing: float
    validation_rows: int  # rows of the held-out sites (0: too few sites to hold any out)
    validation_page_f1: float
    validation_line_precision: float
    validation_line_recall: float
    validation_line_f1: float
    seconds: float
    # The site stage's fit (declutter.site_fit): sites, template sites, pages, rows, weights.
    site_stage: dict[str, Any] = field(default_factory=dict)


def train(
    pages: Sequence[LabelledPage], trainer: DeclutterTrainer | None = None
) -> tuple[LineModel, TrainingReport]:
    """Fit a model on labelled pages; returns it with a :class:`TrainingReport`."""
    start = time.perf_counter()
    trainer = trainer or DeclutterTrainer()
    features = featurize_pages(pages)
    line_labels = np.concatenate([p.labels for p in pages]) if pages else np.zeros(0, np.int8)
    if len(line_labels) != len(features.line_rows):
        raise TrainingDataError("labels and lines disagree in number")
    y = row_labels(features, line_labels)
    page_groups = np.array([p.group for p in pages])
    groups = page_groups[row_pages(features.page_rows)]
    trainer.fit(features, y, groups, page_types=page_type_codes([p.page_type for p in pages]))
    labelled = y != UNLABELLED
    held = trainer.validation_
    keep = viterbi_decode(
        trainer.validation_logit_, features.page_rows, trainer.threshold_, trainer.smoothing_
    )
    p, r, f1 = line_prf(keep[held], y[held]) if held.any() else (np.nan, np.nan, np.nan)
    page_f1 = trainer.decode_scores_[(trainer.threshold_, trainer.smoothing_)]
    metadata = {
        "declutter_version": __version__,
        "sklearn_version": sklearn.__version__,
        "numpy_version": np.__version__,
        "python_version": platform.python_version(),
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "training_data": {
            "pages": len(pages),
            "lines": len(line_labels),
            "rows": int(labelled.sum()),
            "content_rows": int((y == CONTENT).sum()),
            "groups": len(np.unique(page_groups)),
            "styles": sorted({pg.style for pg in pages if pg.style}),
        },
        "params": trainer.get_params(),
        "solver_converged": trainer.converged_,
        "validation": {
            "rows": int(held.sum()),
            "page_word_f1": page_f1,
            "line_precision": p,
            "line_recall": r,
            "line_f1": f1,
        },
    }
    model = trainer.to_model(metadata)
    # The site stage reads the finished model's log-odds, on the training sites.
    site, site_summary = fit_site_stage(model, pages)
    model = replace(model, site=site, metadata={**model.metadata, "site_stage": site_summary})
    seconds = time.perf_counter() - start
    report = TrainingReport(
        pages=len(pages),
        lines=len(line_labels),
        rows=int(labelled.sum()),
        content_rows=int((y == CONTENT).sum()),
        chrome_rows=int((y == CHROME).sum()),
        threshold=model.threshold,
        smoothing=model.smoothing,
        validation_rows=int(held.sum()),
        validation_page_f1=page_f1,
        validation_line_precision=p,
        validation_line_recall=r,
        validation_line_f1=f1,
        seconds=seconds,
        site_stage=site_summary,
    )
    return model, report
