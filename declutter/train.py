"""Fit a declutter model with scikit-learn and export it to numpy parameters.

Training, in order:

1. Featurize every labelled page (:mod:`declutter.features`); a row's label is the majority
   label of its lines.
2. :class:`HashedLexicon` learns the smoothed log-odds of content for every hashed lexical
   bucket. Training rows get *cross-fitted* lexical columns (each fold's from a lexicon fitted
   on the other folds, folds grouped by site), like scikit-learn's ``TargetEncoder``: the line
   stage must not learn to trust lexical evidence that is only perfect on its own pages.
3. The line stage: a :class:`~sklearn.pipeline.Pipeline` of ``StandardScaler`` and
   ``LogisticRegression`` over the dense features and the lexical columns.
4. The context stage: the same pipeline shape over :func:`declutter.model.context_features` of
   the line stage's logits.
5. The decoder's threshold and smoothing are chosen on the training pages to maximise the mean
   per-page word F1, the benchmark's measure.

:meth:`DeclutterTrainer.to_model` exports everything as a numpy-only
:class:`~declutter.model.LineModel`. This module imports scikit-learn; cleaning never does.
"""

from __future__ import annotations

import platform
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
import sklearn
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

from declutter import __version__
from declutter.data import LabelledPage
from declutter.decode import decode
from declutter.errors import TrainingDataError
from declutter.features import LEX_NAMESPACES, N_HASH, Features, featurize
from declutter.model import (
    CONTEXT_NAMES,
    LEX_FEATURES,
    LINE_NAMES,
    LineModel,
    LogisticParams,
    context_features,
    lexical_columns,
)

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

LEXICON_ALPHA = 4.0  # pseudo-count pulling rare buckets' log-odds towards 0
N_SPLITS = 5  # folds for cross-fitting the lexicon
THRESHOLDS = tuple(np.round(np.arange(0.2, 0.81, 0.05), 2))  # decoder grid
SMOOTHINGS = (0.0, 0.5, 1.0, 2.0, 3.0, 4.0)
FEATURIZE_BATCH = 512  # pages per featurize call while training


class HashedLexicon(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Target-encode hashed lexical buckets as smoothed log-odds of content.

    ``X`` is a sparse matrix with one column per (namespace, bucket):
    column ``k * N_HASH + bucket`` for namespace ``k`` of :data:`LEX_NAMESPACES`; nonzero
    where the row holds the bucket. :meth:`transform` returns the :data:`LEX_FEATURES`
    columns.

    Parameters
    ----------
    alpha : float
        Pseudo-count of the prior: a bucket seen ``n`` times moves ``n / (n + alpha)`` of the
        way from the prior to its observed rate.
    n_splits : int
        Folds for the cross-fitting in :meth:`fit_transform`.
    """

    def __init__(self, alpha: float = LEXICON_ALPHA, n_splits: int = N_SPLITS) -> None:
        self.alpha = alpha
        self.n_splits = n_splits

    def _log_odds(self, X: sp.csr_matrix, y: npt.NDArray[np.int_]) -> F32:
        ones = np.asarray(X[y == 1].sum(axis=0)).ravel()
        zeros = np.asarray(X[y == 0].sum(axis=0)).ravel()
        prior = max(min(float(np.mean(y)), 1 - 1e-6), 1e-6)
        odds = np.log((ones + self.alpha * prior) / (zeros + self.alpha * (1 - prior)))
        return (odds - np.log(prior / (1 - prior))).astype(np.float32)

    def fit(self, X: Any, y: Any) -> HashedLexicon:
        """Learn each column's log-odds of content from binary labels ``y``."""
        X, y = validate_data(self, X, y, accept_sparse="csr", reset=True)
        self.log_odds_ = self._log_odds(sp.csr_matrix(X), np.asarray(y))
        return self

    def transform(self, X: Any) -> F32:
        """The lexical columns of each row, shape (n_rows, len(LEX_FEATURES))."""
        check_is_fitted(self, "log_odds_")
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        return _encode(sp.csr_matrix(X), self.log_odds_)

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> F32:
        """Fit on all rows, but encode each fold's rows with a lexicon fitted on the others.

        Pass ``groups`` (one label per row, e.g. the site) to keep groups within one fold.
        """
        groups = fit_params.get("groups")
        self.fit(X, y)
        X = sp.csr_matrix(X)
        y = np.asarray(y)
        out = np.zeros((X.shape[0], len(LEX_FEATURES)), dtype=np.float32)
        if groups is None:
            groups = np.arange(X.shape[0])
        n_splits = min(self.n_splits, len(np.unique(groups)))
        if n_splits < 2:
            return _encode(X, self.log_odds_)
        for train_idx, test_idx in GroupKFold(n_splits=n_splits).split(X, y, groups):
            odds = self._log_odds(X[train_idx], y[train_idx])
            out[test_idx] = _encode(X[test_idx], odds)
        return out


def _encode(X: sp.csr_matrix, log_odds: F32) -> F32:
    coo = X.tocoo()
    order = np.lexsort((coo.col, coo.row))
    rows, cols = coo.row[order].astype(np.int64), coo.col[order].astype(np.int64)
    ns = cols // N_HASH
    parts = [(rows[ns == k], log_odds[cols[ns == k]]) for k in range(len(LEX_NAMESPACES))]
    return lexical_columns(
        tuple(r for r, _ in parts), tuple(v for _, v in parts), int(X.shape[0])
    )


def lexical_matrix(features: Features) -> sp.csr_matrix:
    """The rows' hashed lexical buckets as the sparse matrix :class:`HashedLexicon` takes."""
    rows = np.concatenate(features.lex_rows)
    cols = np.concatenate(
        [b.astype(np.int64) + k * N_HASH for k, b in enumerate(features.lex_buckets)]
    )
    data = np.ones(len(rows), dtype=np.float32)
    shape = (features.n_rows, len(LEX_NAMESPACES) * N_HASH)
    matrix = sp.csr_matrix((data, (rows, cols)), shape=shape)
    matrix.data[:] = 1.0  # presence, not counts
    return matrix


def logistic_pipeline(C: float, max_iter: int) -> Pipeline:
    """The shape of both stages: standardize, then a logistic regression."""
    return Pipeline(
        [
            ("scale", StandardScaler()),
            ("logreg", LogisticRegression(C=C, max_iter=max_iter, tol=1e-5)),
        ]
    )


def export_logistic(pipeline: Pipeline) -> LogisticParams:
    scaler: StandardScaler = pipeline.named_steps["scale"]
    logreg: LogisticRegression = pipeline.named_steps["logreg"]
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    return LogisticParams(
        mean=scaler.mean_.astype(np.float32),
        scale=scale.astype(np.float32),
        coef=logreg.coef_.ravel().astype(np.float32),
        intercept=float(logreg.intercept_[0]),
    )


def page_word_f1(
    keep: npt.NDArray[np.bool_], y: npt.NDArray[np.int_], words: F32, page_rows: I64
) -> F64:
    """Per-page F1 of kept words against content words, counting each row's words."""
    page = np.repeat(np.arange(len(page_rows) - 1), np.diff(page_rows))
    n = len(page_rows) - 1
    tp = np.bincount(page, weights=words * (keep & (y == 1)), minlength=n)
    fp = np.bincount(page, weights=words * (keep & (y == 0)), minlength=n)
    fn = np.bincount(page, weights=words * (~keep & (y == 1)), minlength=n)
    denom = 2 * tp + fp + fn
    return np.where(denom > 0, 2 * tp / np.maximum(denom, 1e-9), 1.0)


class DeclutterTrainer(BaseEstimator):  # type: ignore[misc]
    """The whole training procedure, as a scikit-learn style estimator over featurized pages.

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
    """

    def __init__(
        self,
        C: float = 1.0,
        context_C: float = 1.0,
        alpha: float = LEXICON_ALPHA,
        n_splits: int = N_SPLITS,
        max_iter: int = 300,
    ) -> None:
        self.C = C
        self.context_C = context_C
        self.alpha = alpha
        self.n_splits = n_splits
        self.max_iter = max_iter

    def fit(
        self, features: Features, y: npt.NDArray[np.int_], groups: npt.NDArray[Any]
    ) -> DeclutterTrainer:
        """Fit on the rows of ``features``; ``y`` is 1/0 per row, -1 for rows to ignore."""
        y = np.asarray(y)
        if y.shape != (features.n_rows,):
            raise ValueError("y needs one label per row")
        labelled = y >= 0
        if len(np.unique(y[labelled])) < 2:
            raise TrainingDataError("training pages need both content and chrome lines")
        lex_x = lexical_matrix(features)
        self.lexicon_ = HashedLexicon(alpha=self.alpha, n_splits=self.n_splits)
        lex_cols = np.zeros((features.n_rows, len(LEX_FEATURES)), dtype=np.float32)
        lex_cols[labelled] = self.lexicon_.fit_transform(
            lex_x[labelled], y[labelled], groups=groups[labelled]
        )
        line_x = np.hstack([features.dense, lex_cols])
        self.line_ = logistic_pipeline(self.C, self.max_iter)
        self.line_.fit(line_x[labelled], y[labelled])
        line_logit = self.line_.decision_function(line_x).astype(np.float32)
        context_x = context_features(line_logit, features)
        self.context_ = logistic_pipeline(self.context_C, self.max_iter)
        self.context_.fit(context_x[labelled], y[labelled])
        logits = self.context_.decision_function(context_x).astype(np.float32)
        self.threshold_, self.smoothing_, self.decode_scores_ = choose_decoder(
            logits, y, features
        )
        self.line_logit_ = line_logit
        self.logit_ = logits
        return self

    def to_model(self, metadata: dict[str, Any] | None = None) -> LineModel:
        """Export the fitted stages as a numpy-only :class:`LineModel`."""
        check_is_fitted(self, "context_")
        lexicon = self.lexicon_.log_odds_.reshape(len(LEX_NAMESPACES), N_HASH)
        return LineModel(
            line=export_logistic(self.line_),
            lexicon=lexicon.astype(np.float32),
            context=export_logistic(self.context_),
            threshold=float(self.threshold_),
            smoothing=float(self.smoothing_),
            feature_names=LINE_NAMES,
            context_names=CONTEXT_NAMES,
            metadata=dict(metadata or {}),
        )


def choose_decoder(
    logits: F32, y: npt.NDArray[np.int_], features: Features
) -> tuple[float, float, dict[tuple[float, float], float]]:
    """The (threshold, smoothing) with the best mean per-page word F1 on these rows."""
    words = np.where(y >= 0, features.row_words, 0).astype(np.float32)
    scores: dict[tuple[float, float], float] = {}
    for smoothing in SMOOTHINGS:
        for threshold in THRESHOLDS:
            keep = decode(logits, features.page_rows, float(threshold), smoothing)
            f1 = page_word_f1(keep, y, words, features.page_rows)
            scores[(float(threshold), smoothing)] = float(f1.mean())
    best = max(scores, key=lambda k: (scores[k], -abs(k[0] - 0.5), -k[1]))
    return best[0], best[1], scores


def row_labels(features: Features, line_labels: npt.NDArray[np.int8]) -> npt.NDArray[np.int8]:
    """A row's label: 1 when at least half its labelled lines are content, -1 if none labelled."""
    valid = (features.line_rows >= 0) & (line_labels >= 0)
    rows = features.line_rows[valid]
    labelled = np.bincount(rows, minlength=features.n_rows)
    content = np.bincount(rows, weights=line_labels[valid] == 1, minlength=features.n_rows)
    out = np.where(content * 2 >= labelled, 1, 0).astype(np.int8)
    out[labelled == 0] = -1
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
    """What ``declutter train`` prints: data, balance, decoder choice and fit quality."""

    pages: int
    lines: int
    rows: int
    content_rows: int
    chrome_rows: int
    threshold: float
    smoothing: float
    train_page_f1: float
    cv_line_precision: float
    cv_line_recall: float
    cv_line_f1: float
    seconds: float


def _line_prf(keep: npt.NDArray[np.bool_], y: npt.NDArray[np.int_]) -> tuple[float, float, float]:
    tp = float(np.sum(keep & (y == 1)))
    fp = float(np.sum(keep & (y == 0)))
    fn = float(np.sum(~keep & (y == 1)))
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


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
    groups = np.repeat(page_groups, np.diff(features.page_rows))
    trainer.fit(features, y, groups)
    labelled = y >= 0
    # The line stage saw cross-fitted lexical columns, so its logits on the training rows are
    # close to held-out ones: report line metrics of the thresholded line stage.
    cv_keep = trainer.line_logit_ >= 0
    p, r, f1 = _line_prf(cv_keep[labelled], y[labelled])
    seconds = time.perf_counter() - start
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
            "content_rows": int((y == 1).sum()),
            "groups": len(np.unique(page_groups)),
            "styles": sorted({pg.style for pg in pages if pg.style}),
        },
        "params": trainer.get_params(),
        "train_page_f1": trainer.decode_scores_[(trainer.threshold_, trainer.smoothing_)],
    }
    model = trainer.to_model(metadata)
    report = TrainingReport(
        pages=len(pages),
        lines=len(line_labels),
        rows=int(labelled.sum()),
        content_rows=int((y == 1).sum()),
        chrome_rows=int((y == 0).sum()),
        threshold=model.threshold,
        smoothing=model.smoothing,
        train_page_f1=float(metadata["train_page_f1"]),
        cv_line_precision=p,
        cv_line_recall=r,
        cv_line_f1=f1,
        seconds=seconds,
    )
    return model, report
