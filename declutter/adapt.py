"""Adapt a trained model to a few new labelled pages (a site, a dump tool) without its corpus.

``declutter train PAGES --base MODEL`` keeps everything the base model learned and adds a
**site lexicon** fitted on the new pages: for every hashed lexical bucket, how much more (or
less) often its rows are content than the *base model* predicts for them (smoothed log-odds, as
:class:`~declutter.estimators.HashedLexicon` computes them with the base model's probabilities as
the prior), added to the base lexicon. A site's menu entries, section headings and boilerplate
phrases move most.

A few pages of one site also make common words look site-specific: if the base model keeps too
much of a site, "the" and "price" seem to be chrome. So the site lexicon is **anchored**:
general pages (the project's own labelled pages, packaged as ``anchors.jsonl.gz``) count as
observed exactly as the base model predicts them, :data:`ANCHOR_WEIGHT` times each, which pulls
every bucket common on them back towards the base model's value while a site's own words keep
theirs. On WCXB sites this cut the loss of general quality several-fold (benchmarks/adapt.py).

Optionally (``prior_strength`` finite) a **recalibration stage** follows the base model's
context stages: a logistic regression over :func:`~declutter.context.context_features`, under a
Gaussian prior centred on the identity, fitted on scores whose site lexicon was fitted without
the row's own page. It did not pay for its cost in general quality, so it is off by default.

The result is an ordinary :class:`~declutter.model.LineModel` with the base model's threshold
and smoothing and its provenance in ``metadata["adapted"]``. This module imports scikit-learn
(through :mod:`declutter.train`); cleaning with the adapted model does not.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from declutter import __version__
from declutter.align import CHROME, CONTENT, UNLABELLED
from declutter.context import context_features, sigmoid
from declutter.data import LabelledPage
from declutter.errors import TrainingDataError
from declutter.estimators import lexical_matrix
from declutter.features import LEX_NAMESPACES, Features, featurize
from declutter.model import LineModel, LogisticParams
from declutter.train import PAGE_WEIGHT_POWER, page_weights, row_labels, stack_features

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]

# Chosen on WCXB dev sites the adaptation benchmark does not score (benchmarks/adapt.py
# --sweep: ebay.com, ifixit.com, ikea.com, apple.com, with a base model trained without them).
# Mean word F1 on the pages left after correcting 5 (base 0.419), and the change of WCXB test
# html-text F1, mean and worst of the 12 adapted models: without anchors 0.606 (-0.019, worst
# -0.057), at gain 0.5 0.586 (-0.007, -0.022); anchored, weight 5 0.594 (-0.006, -0.019), 20
# 0.598 (-0.003, -0.013), 100 0.573 (-0.001, -0.006); a recalibration stage (prior 3000) gained
# +0.002 to +0.007 and lost more general quality (-0.020 unanchored, -0.003 anchored at 100).
ADAPT_ALPHA = 4.0  # pseudo-count of the site lexicon: a bucket seen on a few rows moves little
LEXICON_GAIN = 1.0  # the site lexicon's log-odds enter the base lexicon at this scale
ANCHOR_WEIGHT = 100.0  # how much each anchor row counts against a new page's row
# Precision of the Gaussian prior on the recalibration stage's standardized coefficients, in
# units of (mean-1-weighted) rows; infinite: no stage (see above).
PRIOR_STRENGTH = float("inf")
ANCHORS = Path(__file__).with_name("anchors.jsonl.gz")  # the texts of training_data/pages
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


def anchor_texts(path: Path = ANCHORS) -> list[str]:
    """The anchor pages' texts (:func:`write_anchors` wrote them)."""
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line)["text"] for line in f if line.strip()]


def write_anchors(pages: Sequence[Path], path: Path = ANCHORS) -> None:
    """Write the texts of ``pages`` (files) as the anchor pages, in order."""
    with gzip.GzipFile(path, "wb", mtime=0) as raw:
        for page in pages:
            record = {"id": page.name, "text": page.read_text(encoding="utf-8")}
            raw.write((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))


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
        Precision of the prior centring the recalibration stage on the identity; ``inf`` adds
        no stage.
    page_weight_power : float
        A page's rows are divided by (its labelled rows) to this power in the fit.
    namespaces : sequence of str
        The lexical namespaces (of :data:`~declutter.features.LEX_NAMESPACES`) the site lexicon
        changes; the others keep the base model's values.
    anchors : Features or None
        Featurized general pages anchoring the site lexicon (:func:`adapt` uses the packaged
        ones when None and ``anchor_weight`` is above 0).
    anchor_weight : float
        How much each anchor row counts; 0: no anchors.
    """

    def __init__(
        self,
        base: LineModel | None = None,
        alpha: float = ADAPT_ALPHA,
        lexicon_gain: float = LEXICON_GAIN,
        prior_strength: float = PRIOR_STRENGTH,
        page_weight_power: float = PAGE_WEIGHT_POWER,
        namespaces: Sequence[str] = SITE_NAMESPACES,
        anchors: Features | None = None,
        anchor_weight: float = ANCHOR_WEIGHT,
    ) -> None:
        self.base = base
        self.namespaces = namespaces
        self.anchors = anchors
        self.anchor_weight = anchor_weight
        self.alpha = alpha
        self.lexicon_gain = lexicon_gain
        self.prior_strength = prior_strength
        self.page_weight_power = page_weight_power

    def _site_lexicon(self, features: Features, y: npt.NDArray[np.int8], base_z: F32) -> F32:
        """The site lexicon's log-odds per bucket, shape (namespaces, buckets), from the
        labelled rows of ``features``: observed against expected content (the base model's
        probabilities), as :class:`~declutter.estimators.HashedLexicon` computes them. The anchor
        rows count as observed exactly as expected, which pulls buckets common on them to 0."""
        assert self.base is not None
        labelled = y != UNLABELLED
        p = sigmoid(base_z)[labelled].astype(np.float64)
        truth = y[labelled]
        stats = np.column_stack([truth == CONTENT, truth == CHROME, p, 1 - p]).astype(np.float64)
        sums = np.asarray(lexical_matrix(features)[labelled].T @ stats).T
        if self.anchor_sums_ is not None:
            sums = sums + self.anchor_sums_
        rate = float(np.clip(np.mean(truth == CONTENT), 1e-6, 1 - 1e-6))
        a1, a0 = self.alpha * rate, self.alpha * (1 - rate)
        observed = np.log((sums[0] + a1) / (sums[1] + a0))
        expected = np.log((sums[2] + a1) / (sums[3] + a0))
        delta: F32 = (observed - expected).astype(np.float32).reshape(self.base.lexicon.shape)
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
        """Fit on featurized pages (one :class:`Features` each), their row labels
        (:data:`CONTENT`, :data:`CHROME`, :data:`UNLABELLED`) and a group per page (pages of a
        group are left out together when cross-fitting the site lexicon). Raises
        :class:`TrainingDataError` without labels."""
        if self.base is None:
            raise ValueError("ModelAdapter needs a base model")
        if not len(pages) == len(y) == len(groups):
            raise ValueError("pages, y and groups must be as long as each other")
        features = stack_features(list(pages))
        labels = np.concatenate(list(y)).astype(np.int8)
        labelled = labels != UNLABELLED
        if not labelled.any():
            raise TrainingDataError("the pages to adapt to have no labelled lines")
        base_z = self.base.logits(features)
        self.anchor_sums_: F64 | None = None
        if self.anchors is not None and self.anchors.n_rows:
            pa = sigmoid(self.base.logits(self.anchors)).astype(np.float64)
            stats = np.column_stack([pa, 1 - pa, pa, 1 - pa]) * self.anchor_weight
            self.anchor_sums_ = np.asarray(lexical_matrix(self.anchors).T @ stats).T
        self.lexicon_delta_ = self._site_lexicon(features, labels, base_z)
        self.stage_: LogisticParams | None = None
        if not np.isfinite(self.prior_strength):
            return self  # an infinitely strong prior: the stage would be the identity
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
        # The base model's page-level stage, if it has one, as its context stages read it.
        x = context_features(z, features, page_proba=self.base.scores(features)[1])
        if last is None:
            mean = x[labelled].mean(axis=0)
            scale = np.where(x[labelled].std(axis=0) > 0, x[labelled].std(axis=0), 1.0)
            last = LogisticParams(mean.astype(np.float32), scale.astype(np.float32), mean, 0.0)
        u = (x[labelled].astype(np.float64) - last.mean) / last.scale
        weight = page_weights(features.page_rows, labelled, self.page_weight_power)[labelled]
        beta0, b0 = _logit_identity(last)
        content = (labels[labelled] == CONTENT).astype(np.float64)
        beta, b = fit_near(u, content, weight, beta0, b0, self.prior_strength)
        self.stage_ = LogisticParams(
            last.mean.copy(), last.scale.copy(), beta.astype(np.float32), b
        )
        return self

    def to_model(self, metadata: dict[str, Any] | None = None) -> LineModel:
        """The adapted model: the base model with the site lexicon and the new last stage."""
        check_is_fitted(self, "lexicon_delta_")
        assert self.base is not None
        model = self._with_lexicon(self.lexicon_delta_)
        stages = () if self.stage_ is None else (self.stage_,)
        return dataclasses.replace(
            model, contexts=(*model.contexts, *stages), metadata=dict(metadata or {})
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
    if adapter.anchors is None and adapter.anchor_weight > 0:
        adapter.set_params(anchors=featurize(anchor_texts()))
    if not pages:
        raise TrainingDataError("no pages to adapt to")
    features = [featurize([p.text]) for p in pages]
    y = [row_labels(f, p.labels) for f, p in zip(features, pages, strict=True)]
    adapter.fit(features, y, [p.group for p in pages])
    rows = np.concatenate(y)
    moved = int(np.count_nonzero(adapter.lexicon_delta_))
    seconds = time.perf_counter() - start
    params = {k: v for k, v in adapter.get_params().items() if k not in ("base", "anchors")}
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
        "rows": int((rows != UNLABELLED).sum()),
        "content_rows": int((rows == CONTENT).sum()),
        "params": params,
    }
    report = AdaptationReport(
        pages=len(pages),
        lines=sum(len(p.labels) for p in pages),
        rows=int((rows != UNLABELLED).sum()),
        content_rows=int((rows == CONTENT).sum()),
        chrome_rows=int((rows == CHROME).sum()),
        buckets=moved,
        seconds=seconds,
    )
    return adapter.to_model(metadata), report
