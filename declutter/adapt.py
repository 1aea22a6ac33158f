"""Adapt a trained model to a few new labelled pages (a site, a dump tool) without its corpus.

``declutter train PAGES --base MODEL`` keeps everything the base model learned and adds two
things fitted on the new pages only:

1. **Site lexicon**: for every hashed lexical bucket on the new pages, how much more (or less)
   often its rows are content than the *base model* predicts for them (the smoothed log-odds of
   :class:`~declutter.train.HashedLexicon` with the base model's probabilities as the prior),
   times :data:`LEXICON_GAIN`, added to the base lexicon. Buckets the new pages do not hold keep
   their values; a site's menu entries and section headings, repeated on every page, move most.
2. **Recalibration stage**: one more context stage after the base model's, a logistic
   regression over :func:`~declutter.model.context_features` of the base model's scores (with
   the site lexicon), under a Gaussian prior of precision :data:`PRIOR_STRENGTH` centred on
   the identity (the stage that passes the logit through unchanged). With few pages it stays
   close to the base model; with more it learns how the new pages' neighbours and layout
   differ. It is fitted on scores whose site lexicon was fitted without the row's own page
   (leave one page group out), so it does not learn to trust lexical evidence that is only
   perfect on its own page.

The result is an ordinary :class:`~declutter.model.LineModel` (the base model's stages, the
new lexicon and one more context stage) with the base model's threshold and smoothing, and its
provenance in ``metadata["adapted"]``. This module imports scikit-learn (through
:mod:`declutter.train`); cleaning with the adapted model does not.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from declutter import __version__
from declutter.data import LabelledPage
from declutter.errors import TrainingDataError
from declutter.features import LEX_NAMESPACES, Features, featurize
from declutter.model import LineModel, LogisticParams, context_features, sigmoid
from declutter.train import (
    PAGE_WEIGHT_POWER,
    HashedLexicon,
    lexical_matrix,
    page_weights,
    row_labels,
    stack_features,
)

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

# Chosen on WCXB dev sites the adaptation benchmark does not score (benchmarks/adapt.py
# --sweep: ebay.com, ifixit.com, ikea.com, apple.com, with a base model trained without them;
# mean word F1 on the pages left after correcting 5, base 0.419): prior 300 with gain 1 scored
# 0.605; prior 30 0.596, prior 3 0.547; gain 2 0.574 (prior 300); no site lexicon 0.435 (prior
# 300) and 0.533 (prior 30); the site lexicon over first words and whole lines only 0.560.
ADAPT_ALPHA = 4.0  # pseudo-count of the site lexicon: a bucket seen on a few rows moves little
LEXICON_GAIN = 1.0  # the site lexicon's log-odds enter the base lexicon at this scale
# Precision of the Gaussian prior on the recalibration stage's standardized coefficients, in
# units of (mean-1-weighted) rows: its pull equals that many rows' worth of evidence.
PRIOR_STRENGTH = 300.0
SITE_NAMESPACES = LEX_NAMESPACES  # which lexical namespaces the site lexicon changes
NEWTON_STEPS = 50  # the penalized fit has ~36 coefficients and converges in a few steps
NEWTON_TOL = 1e-6
LOGIT_LIMIT = 35.0  # |z| beyond which p is 0 or 1 in float64 anyway; keeps exp() finite


@dataclass(frozen=True)
class AdaptationReport:
    """What ``declutter train --base`` prints."""

    pages: int
    lines: int
    rows: int
    content_rows: int
    chrome_rows: int
    buckets: int  # lexical buckets the new pages moved
    seconds: float


def _logit_identity(stage: LogisticParams) -> tuple[F64, float]:
    """The coefficients of a stage standardized like ``stage`` that outputs its first input
    column (the previous logit) unchanged."""
    beta = np.zeros(len(stage.coef), dtype=np.float64)
    beta[0] = float(stage.scale[0])
    return beta, float(stage.mean[0])


def fit_near(
    u: F64, y: F64, weight: F64, beta0: F64, b0: float, strength: float
) -> tuple[F64, float]:
    """Logistic regression ``z = u @ beta + b`` by Newton's method, maximizing the weighted
    log-likelihood minus ``strength / 2 * |(beta, b) - (beta0, b0)|^2``.

    ``u`` has shape (rows, columns); ``y`` is 1/0 per row; ``weight`` per row.
    """
    x = np.hstack([u, np.ones((len(u), 1))])
    theta0 = np.append(beta0, b0)
    theta = theta0.copy()
    for _ in range(NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ theta, -LOGIT_LIMIT, LOGIT_LIMIT)))
        grad = x.T @ (weight * (p - y)) + strength * (theta - theta0)
        hess = (x.T * (weight * p * (1 - p))) @ x + strength * np.eye(len(theta))
        step = np.linalg.solve(hess, grad)
        theta -= step
        if np.abs(step).max() < NEWTON_TOL:
            break
    return theta[:-1], float(theta[-1])


class ModelAdapter(BaseEstimator):  # type: ignore[misc]
    """Adapt ``base`` to new labelled pages (see the module docstring).

    Parameters
    ----------
    base : LineModel
        The model to adapt; it is not changed.
    alpha : float
        Pseudo-count of the site lexicon.
    lexicon_gain : float
        Scale of the site lexicon's log-odds added to the base lexicon.
    prior_strength : float
        Precision of the prior centring the recalibration stage on the identity.
    page_weight_power : float
        A page's rows are divided by (its labelled rows) to this power in the fit.
    namespaces : sequence of str
        The lexical namespaces (of :data:`~declutter.features.LEX_NAMESPACES`) the site lexicon
        changes; the others keep the base model's values.
    """

    def __init__(
        self,
        base: LineModel | None = None,
        alpha: float = ADAPT_ALPHA,
        lexicon_gain: float = LEXICON_GAIN,
        prior_strength: float = PRIOR_STRENGTH,
        page_weight_power: float = PAGE_WEIGHT_POWER,
        namespaces: Sequence[str] = SITE_NAMESPACES,
    ) -> None:
        self.base = base
        self.namespaces = namespaces
        self.alpha = alpha
        self.lexicon_gain = lexicon_gain
        self.prior_strength = prior_strength
        self.page_weight_power = page_weight_power

    def _site_lexicon(self, features: Features, y: npt.NDArray[np.int8], base_z: F32) -> F32:
        """The site lexicon's log-odds per bucket, shape (namespaces, buckets), from the
        labelled rows of ``features``."""
        assert self.base is not None
        labelled = y >= 0
        lexicon = HashedLexicon(alpha=self.alpha, n_splits=1)
        lexicon.fit(
            lexical_matrix(features)[labelled], y[labelled], prior=sigmoid(base_z)[labelled]
        )
        delta = np.asarray(lexicon.log_odds_.reshape(self.base.lexicon.shape), dtype=np.float32)
        unknown = set(self.namespaces) - set(LEX_NAMESPACES)
        if unknown:
            raise ValueError(f"unknown lexical namespaces: {sorted(unknown)}")
        delta[[k for k, name in enumerate(LEX_NAMESPACES) if name not in self.namespaces]] = 0
        return delta

    def _with_lexicon(self, delta: F32) -> LineModel:
        assert self.base is not None
        return dataclasses.replace(self.base, lexicon=self.base.lexicon + self.lexicon_gain * delta)

    def fit(
        self, pages: Sequence[Features], y: Sequence[npt.NDArray[np.int8]], groups: Sequence[str]
    ) -> ModelAdapter:
        """Fit on featurized pages (one :class:`Features` each), their row labels (1, 0, -1
        unlabelled) and a group per page (pages of a group are left out together when
        cross-fitting the site lexicon). Raises :class:`TrainingDataError` without labels."""
        if self.base is None:
            raise ValueError("ModelAdapter needs a base model")
        if not len(pages) == len(y) == len(groups):
            raise ValueError("pages, y and groups must be as long as each other")
        features = stack_features(list(pages))
        labels = np.concatenate(list(y)).astype(np.int8)
        labelled = labels >= 0
        if not labelled.any():
            raise TrainingDataError("the pages to adapt to have no labelled lines")
        base_z = self.base.logits(features)
        self.lexicon_delta_ = self._site_lexicon(features, labels, base_z)
        # Scores with a site lexicon fitted without the row's own group (all of it when there
        # is only one group: then nothing is left to fit it on).
        z = np.zeros(features.n_rows, dtype=np.float32)
        names = np.array(groups)
        starts = np.cumsum([0] + [p.n_rows for p in pages])
        for name in np.unique(names):
            inside = np.flatnonzero(names == name)
            rows = np.concatenate([np.arange(starts[i], starts[i + 1]) for i in inside])
            if len(np.unique(names)) > 1:
                outside = np.ones(features.n_rows, dtype=bool)
                outside[rows] = False
                others = stack_features([pages[int(i)] for i in np.flatnonzero(names != name)])
                delta = self._site_lexicon(others, labels[outside], base_z[outside])
            else:
                delta = self.lexicon_delta_
            z[rows] = self._with_lexicon(delta).logits(
                stack_features([pages[int(i)] for i in inside])
            )
        last = self.base.contexts[-1] if self.base.contexts else None
        x = context_features(z, features)
        if last is None:
            mean = x[labelled].mean(axis=0)
            scale = np.where(x[labelled].std(axis=0) > 0, x[labelled].std(axis=0), 1.0)
            last = LogisticParams(mean.astype(np.float32), scale.astype(np.float32), mean, 0.0)
        u = (x[labelled].astype(np.float64) - last.mean) / last.scale
        weight = page_weights(features.page_rows, labelled, self.page_weight_power)[labelled]
        beta0, b0 = _logit_identity(last)
        beta, b = fit_near(
            u, (labels[labelled] == 1).astype(np.float64), weight, beta0, b0, self.prior_strength
        )
        self.stage_ = LogisticParams(
            last.mean.copy(), last.scale.copy(), beta.astype(np.float32), b
        )
        return self

    def to_model(self, metadata: dict[str, Any] | None = None) -> LineModel:
        """The adapted model: the base model with the site lexicon and the new last stage."""
        check_is_fitted(self, "stage_")
        assert self.base is not None
        model = self._with_lexicon(self.lexicon_delta_)
        return dataclasses.replace(
            model,
            contexts=(*model.contexts, self.stage_),
            metadata=dict(metadata or {}),
        )


def adapt(
    pages: Sequence[LabelledPage],
    base: LineModel,
    adapter: ModelAdapter | None = None,
    base_name: str = "",
    base_sha256: str = "",
) -> tuple[LineModel, AdaptationReport]:
    """Adapt ``base`` to labelled ``pages``; returns the model and an
    :class:`AdaptationReport`. ``base_name`` (the base model's file, or "default") and
    ``base_sha256`` are recorded in the metadata. Raises :class:`TrainingDataError` for pages
    without labels."""
    start = time.perf_counter()
    adapter = adapter or ModelAdapter()
    adapter.set_params(base=base)
    if not pages:
        raise TrainingDataError("no pages to adapt to")
    features = [featurize([p.text]) for p in pages]
    y = [row_labels(f, p.labels) for f, p in zip(features, pages, strict=True)]
    adapter.fit(features, y, [p.group for p in pages])
    rows = np.concatenate(y)
    moved = int(np.count_nonzero(adapter.lexicon_delta_))
    seconds = time.perf_counter() - start
    params = {k: v for k, v in adapter.get_params().items() if k != "base"}
    metadata = dict(base.metadata)
    metadata["adapted"] = {
        "declutter_version": __version__,
        "adapted_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "base": {
            "name": base_name,
            "sha256": base_sha256,
            "trained_at": base.metadata.get("trained_at"),
            "training_data": base.metadata.get("training_data"),
            "adapted": base.metadata.get("adapted"),
        },
        "pages": [p.page_id for p in pages],
        "rows": int((rows >= 0).sum()),
        "content_rows": int((rows == 1).sum()),
        "params": params,
    }
    report = AdaptationReport(
        pages=len(pages),
        lines=sum(len(p.labels) for p in pages),
        rows=int((rows >= 0).sum()),
        content_rows=int((rows == 1).sum()),
        chrome_rows=int((rows == 0).sum()),
        buckets=moved,
        seconds=seconds,
    )
    return adapter.to_model(metadata), report
