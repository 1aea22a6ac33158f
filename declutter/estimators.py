"""The scikit-learn estimators of training, and their export to numpy parameters.

- :class:`HashedLexicon` target-encodes hashed lexical buckets as smoothed log-odds of content
  (cross-fitted, like scikit-learn's ``TargetEncoder``);
- :class:`HingeFeatures` appends hinge columns, so a logistic regression bends at knots;
- :func:`logistic_pipeline` is the shape of every stage, :func:`export_logistic` turns a fitted
  one into :class:`~declutter.model.LogisticParams`;
- :func:`fit_page_stage` fits the page-level stage (:mod:`declutter.page`);
- :class:`SiteStageRegression` is the site stage's logistic regression with the model's
  log-odds as a fixed offset (:mod:`declutter.site_fit` assembles its rows).

Only training imports this module (:mod:`declutter.train`, :mod:`declutter.adapt`); cleaning
never imports scikit-learn.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.validation import check_is_fitted, validate_data

from declutter.align import CHROME, CONTENT
from declutter.context import LEX_FEATURES, lexical_columns
from declutter.features import LEX_NAMESPACES, N_HASH, Features
from declutter.model import LogisticParams, hinges
from declutter.page import PAGE_TYPES, PageTypeParams

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

LEXICON_ALPHA = 30.0  # pseudo-count: with 30 (not 4) rare buckets stay near 0; same WCXB F1
N_SPLITS = 5  # folds for cross-fitting the lexicon
# Knots of HingeFeatures (see train.HINGE_FEATURES for the columns hinged and what they
# scored). With position and page features hinged, 9 knots (0.1 ... 0.9) scored +0.0051 and
# 3 knots +0.0048, against +0.0060 with these 4.
HINGE_QUANTILES = (0.2, 0.4, 0.6, 0.8)
HINGE_MIN_DISTINCT = 13  # fewer distinct values (flags, small counts): a straight line will do
# Newton steps with a Cholesky solve: ~140 features (~210 columns with the line stage's hinges),
# so each step is cheap; on 400k WCXB rows it converged in 6 steps (2 s) where lbfgs took 144
# (12 s) and stopped short of the optimum.
SOLVER = "newton-cholesky"
FIT_DTYPES = [np.float64, np.float32]  # what HingeFeatures keeps as it is
# The page-level stage's regularization: ~10,000 page dumps and 25 columns.
PAGE_C = 1.0
# L2 penalty of the site stage on the weighted mean log-loss: light, the stage has two weights
# and ~10^5 rows.
SITE_ALPHA = 1e-4
MISSING_TYPE_LOGIT = -30.0  # a page type absent from the training pages is never predicted


class HashedLexicon(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Target-encode hashed lexical buckets as smoothed log-odds of content.

    ``X`` is a sparse matrix with one column per (namespace, bucket):
    column ``k * N_HASH + bucket`` for namespace ``k`` of :data:`LEX_NAMESPACES`, holding how
    often the row has the bucket. :meth:`transform` returns the :data:`LEX_FEATURES`
    columns.

    A bucket's value is how much more (or less) often the rows holding it are content than
    expected: by default than the overall rate; given ``prior`` (each row's probability of
    content from a model without lexical features), than that model predicts for them. The
    lexicon then holds only the evidence the other features do not already carry, so "Read
    more" counts against a line even where its shape looks like a heading.

    Parameters
    ----------
    alpha : float
        Pseudo-count pulling a rarely seen bucket's value towards 0.
    n_splits : int
        Folds for the cross-fitting in :meth:`fit_transform`.
    """

    def __init__(self, alpha: float = LEXICON_ALPHA, n_splits: int = N_SPLITS) -> None:
        self.alpha = alpha
        self.n_splits = n_splits

    def _log_odds(self, sums: F64, rate: float) -> F32:
        """Log-odds from :func:`_fold_sums`' four sums of one lexicon: observed vs expected."""
        ones, zeros, expected_ones, expected_zeros = sums
        a1, a0 = self.alpha * rate, self.alpha * (1 - rate)
        observed = np.log((ones + a1) / (zeros + a0))
        expected = np.log((expected_ones + a1) / (expected_zeros + a0))
        return np.asarray(observed - expected, dtype=np.float32)

    def _prior(self, y: npt.NDArray[np.integer[Any]], prior: Any) -> F64:
        if prior is None:
            return np.full(len(y), _content_rate(y))
        return np.clip(np.asarray(prior, dtype=np.float64), 1e-6, 1 - 1e-6)

    def fit(self, X: Any, y: Any, prior: Any = None) -> HashedLexicon:
        """Learn each column's log-odds of content from binary labels ``y``."""
        X, y = validate_data(self, X, y, accept_sparse="csr", reset=True)
        y = np.asarray(y)
        fold = np.zeros(len(y), dtype=np.int64)
        sums = _fold_sums(sp.csr_matrix(X), y, self._prior(y, prior), fold, 1)
        self.log_odds_ = self._log_odds(sums[0], _content_rate(y))
        return self

    def transform(self, X: Any) -> F32:
        """The lexical columns of each row, shape (n_rows, len(LEX_FEATURES))."""
        check_is_fitted(self, "log_odds_")
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        return _encode(sp.csr_matrix(X), self.log_odds_)

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> F32:
        """Fit on all rows, but encode each fold's rows with a lexicon fitted on the others.

        Pass ``groups`` (one label per row, e.g. the site) to keep groups within one fold,
        and ``prior`` as for :meth:`fit`.
        """
        groups, prior = fit_params.get("groups"), fit_params.get("prior")
        X, y = validate_data(self, X, y, accept_sparse="csr", reset=True)
        X, y = sp.csr_matrix(X), np.asarray(y)
        if groups is None:
            groups = np.arange(X.shape[0])
        n_splits = min(self.n_splits, len(np.unique(groups)))
        fold = np.zeros(len(y), dtype=np.int64)
        if n_splits >= 2:
            for k, (_, test_idx) in enumerate(GroupKFold(n_splits).split(X, y, groups)):
                fold[test_idx] = k
        # One pass over X sums every fold; a fold's lexicon is the total minus its own sums.
        sums = _fold_sums(X, y, self._prior(y, prior), fold, max(n_splits, 1))
        total = sums.sum(axis=0)
        self.log_odds_ = self._log_odds(total, _content_rate(y))
        if n_splits < 2:
            return _encode(X, self.log_odds_)
        out = np.zeros((X.shape[0], len(LEX_FEATURES)), dtype=np.float32)
        for k in range(n_splits):
            rows = np.flatnonzero(fold == k)
            rate = _content_rate(y[fold != k])
            out[rows] = _encode(X[rows], self._log_odds(total - sums[k], rate))
        return out


def _content_rate(y: npt.NDArray[np.integer[Any]]) -> float:
    return float(np.clip(np.mean(y == CONTENT), 1e-6, 1 - 1e-6))


def _fold_sums(
    X: sp.csr_matrix, y: npt.NDArray[np.integer[Any]], prior: F64, fold: I64, n_folds: int
) -> F64:
    """Per fold and column, over the fold's rows holding the column (weighted by count):
    the sums of ``y == CONTENT``, ``y == CHROME``, ``prior`` and ``1 - prior``; shape
    (n_folds, 4, cols)."""
    stats = np.column_stack([y == CONTENT, y == CHROME, prior, 1.0 - prior]).astype(np.float64)
    by_fold = np.zeros((len(y), n_folds, 4))
    by_fold[np.arange(len(y)), fold] = stats
    sums = np.asarray(X.T @ by_fold.reshape(len(y), n_folds * 4))
    out: F64 = sums.T.reshape(n_folds, 4, X.shape[1])
    return out


def _encode(X: sp.csr_matrix, log_odds: F32) -> F32:
    # Entries in CSR order (rows ascending); each stands for `data` occurrences.
    coo = X.tocoo()
    ns = coo.col // N_HASH
    masks = [ns == k for k in range(len(LEX_NAMESPACES))]
    return lexical_columns(
        tuple(coo.row[m].astype(np.int64) for m in masks),
        tuple(log_odds[coo.col[m]].astype(np.float32) for m in masks),
        int(X.shape[0]),
        tuple(coo.data[m].astype(np.float64) for m in masks),
    )


def lexical_matrix(features: Features) -> sp.csr_matrix:
    """The rows' hashed lexical buckets as the sparse matrix :class:`HashedLexicon` takes."""
    rows = np.concatenate(features.lex_rows)
    cols = np.concatenate(
        [b.astype(np.int64) + k * N_HASH for k, b in enumerate(features.lex_buckets)]
    )
    data = np.ones(len(rows), dtype=np.float32)
    shape = (features.n_rows, len(LEX_NAMESPACES) * N_HASH)
    return sp.csr_matrix((data, (rows, cols)), shape=shape)  # duplicates add up: counts


class HingeFeatures(TransformerMixin, BaseEstimator):  # type: ignore[misc]
    """Append hinge columns ``max(x[:, c] - k, 0)`` at quantile knots ``k`` of columns ``c``.

    A logistic regression over them responds to each chosen feature piecewise linearly,
    bending at the knots (the knots of a linear spline), where over ``x`` alone it could only
    respond in a straight line: it can learn that a line of 2 words and one of 200 are both
    less likely content than one of 30.

    Parameters
    ----------
    columns : sequence of int or None
        Columns that may get hinges; None: every column.
    quantiles : sequence of float
        Where the knots go, as quantiles of the column's values; knots that coincide or lie
        at the column's minimum or maximum are dropped.
    min_distinct : int
        Columns with fewer distinct values get no hinges.
    """

    def __init__(
        self,
        columns: Sequence[int] | None = None,
        quantiles: Sequence[float] = HINGE_QUANTILES,
        min_distinct: int = HINGE_MIN_DISTINCT,
    ) -> None:
        self.columns = columns
        self.quantiles = quantiles
        self.min_distinct = min_distinct

    def fit(self, X: Any, y: Any = None) -> HingeFeatures:
        """Place the knots at the quantiles of each chosen column of ``X``."""
        X = validate_data(self, X, dtype=FIT_DTYPES, reset=True)
        candidates = range(X.shape[1]) if self.columns is None else self.columns
        columns: list[int] = []
        knots: list[float] = []
        for c in candidates:
            values = X[:, c]
            if len(np.unique(values)) < self.min_distinct:
                continue
            at = np.unique(np.quantile(values, self.quantiles).astype(np.float32))
            at = at[(at > values.min()) & (at < values.max())]
            columns.extend([c] * len(at))
            knots.extend(at.tolist())
        self.columns_ = np.asarray(columns, dtype=np.int64)
        self.knots_ = np.asarray(knots, dtype=np.float32)
        return self

    def transform(self, X: Any) -> npt.NDArray[np.floating[Any]]:
        """``X`` followed by its hinge columns, in ``X``'s precision (float32 or float64)."""
        check_is_fitted(self, "knots_")
        X = validate_data(self, X, dtype=FIT_DTYPES, reset=False)
        return np.hstack([X, hinges(X, self.columns_, self.knots_)])


def logistic_pipeline(C: float, max_iter: int, hinge_columns: Sequence[int] = ()) -> Pipeline:
    """The shape of every stage: (hinge columns), standardize, then a logistic regression."""
    hinges = [("hinge", HingeFeatures(columns=list(hinge_columns)))] if hinge_columns else []
    return Pipeline(
        [
            *hinges,
            ("scale", StandardScaler()),
            ("logreg", LogisticRegression(C=C, max_iter=max_iter, solver=SOLVER)),
        ]
    )


def export_logistic(pipeline: Pipeline) -> LogisticParams:
    scaler: StandardScaler = pipeline.named_steps["scale"]
    logreg: LogisticRegression = pipeline.named_steps["logreg"]
    scale = np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
    hinge: HingeFeatures | None = pipeline.named_steps.get("hinge")
    return LogisticParams(
        mean=scaler.mean_.astype(np.float32),
        scale=scale.astype(np.float32),
        coef=logreg.coef_.ravel().astype(np.float32),
        intercept=float(logreg.intercept_[0]),
        hinge_columns=np.zeros(0, dtype=np.int64) if hinge is None else hinge.columns_,
        hinge_knots=np.zeros(0, dtype=np.float32) if hinge is None else hinge.knots_,
    )


def fit_page_stage(x: F32, labels: I64, C: float = PAGE_C, max_iter: int = 300) -> PageTypeParams:
    """A multinomial logistic regression of page type on page-level features.

    ``x`` is ``(n_pages, k)`` (:func:`declutter.context.page_inputs`), ``labels`` each page's
    :func:`page_type_codes` (all known). Types without pages get :data:`MISSING_TYPE_LOGIT`.
    """
    pipeline = Pipeline(
        [
            ("scale", StandardScaler()),
            ("logreg", LogisticRegression(C=C, max_iter=max_iter, solver="lbfgs")),
        ]
    )
    pipeline.fit(x, labels)
    scaler: StandardScaler = pipeline.named_steps["scale"]
    logreg: LogisticRegression = pipeline.named_steps["logreg"]
    k = x.shape[1]
    coef = np.zeros((k, len(PAGE_TYPES)), dtype=np.float32)
    intercept = np.full(len(PAGE_TYPES), MISSING_TYPE_LOGIT, dtype=np.float32)
    classes = logreg.classes_.astype(np.int64)
    if len(classes) == 2:  # scikit-learn fits one column for two classes: log-odds of the second
        coef[:, classes[1]] = logreg.coef_[0]
        intercept[classes] = (0.0, logreg.intercept_[0])
    else:
        coef[:, classes] = logreg.coef_.T
        intercept[classes] = logreg.intercept_
    return PageTypeParams(
        mean=scaler.mean_.astype(np.float32),
        scale=np.where(scaler.scale_ > 0, scaler.scale_, 1.0).astype(np.float32),
        coef=coef,
        intercept=intercept,
    )


class SiteStageRegression(BaseEstimator):  # type: ignore[misc]
    """Logistic regression on ``X`` with a fixed per-row ``offset`` and no intercept.

    Minimizes the weighted mean log-loss of ``sigmoid(offset + X @ coef_)`` plus
    ``alpha / 2 * |coef_|^2`` with L-BFGS (scikit-learn's ``LogisticRegression`` takes no
    offset). Fitted attributes: ``coef_`` (shape ``(n_features,)``), ``n_iter_``.
    """

    def __init__(self, alpha: float = SITE_ALPHA, max_iter: int = 500) -> None:
        self.alpha = alpha
        self.max_iter = max_iter

    def fit(
        self,
        X: npt.ArrayLike,
        y: npt.ArrayLike,
        offset: npt.ArrayLike,
        sample_weight: npt.ArrayLike | None = None,
    ) -> SiteStageRegression:
        x = np.asarray(X, dtype=np.float64)
        t = np.asarray(y, dtype=np.float64)
        z = np.asarray(offset, dtype=np.float64)
        w = np.ones(len(t)) if sample_weight is None else np.asarray(sample_weight, np.float64)
        w = w / w.sum()

        def loss(coef: F64) -> tuple[float, F64]:
            u = z + x @ coef
            p = 1.0 / (1.0 + np.exp(-u))
            value = float(np.sum(w * (np.logaddexp(0.0, u) - t * u)))
            value += 0.5 * self.alpha * float(coef @ coef)
            return value, x.T @ (w * (p - t)) + self.alpha * coef

        result = minimize(
            loss,
            np.zeros(x.shape[1]),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": self.max_iter},
        )
        self.coef_ = np.asarray(result.x, dtype=np.float64)
        self.n_iter_ = int(result.nit)
        return self

    def decision_function(self, X: npt.ArrayLike, offset: npt.ArrayLike) -> F64:
        return np.asarray(offset, np.float64) + np.asarray(X, np.float64) @ self.coef_
