from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.base import clone

from declutter.data import LabelledPage
from declutter.errors import TrainingDataError
from declutter.estimators import lexical_matrix
from declutter.model import LineModel
from declutter.train import DeclutterTrainer, featurize_pages, row_labels, train


def test_trainer_follows_sklearn_conventions() -> None:
    trainer = DeclutterTrainer(C=0.5)
    assert clone(trainer).get_params()["C"] == 0.5
    assert not hasattr(trainer, "line_")


def test_fit_returns_self_and_sets_fitted_attributes(training_pages: list[LabelledPage]) -> None:
    features = featurize_pages(training_pages[:8])
    y = row_labels(features, np.concatenate([p.labels for p in training_pages[:8]]))
    groups = np.repeat(np.arange(8), np.diff(features.page_rows))
    trainer = DeclutterTrainer(n_splits=2)
    assert trainer.fit(features, y, groups) is trainer
    for name in ("lexicon_", "line_", "contexts_", "threshold_", "smoothing_"):
        assert hasattr(trainer, name)


def _fit_small(pages: list[LabelledPage], word_power: float) -> tuple[DeclutterTrainer, Any]:
    features = featurize_pages(pages)
    y = row_labels(features, np.concatenate([p.labels for p in pages]))
    groups = np.repeat(np.arange(len(pages)), np.diff(features.page_rows))
    trainer = DeclutterTrainer(n_splits=2, validation_share=0.0, word_weight_power=word_power)
    return trainer.fit(features, y, groups), (features, y)


def test_word_weights_change_the_line_stage(training_pages: list[LabelledPage]) -> None:
    rows_alike, _ = _fit_small(training_pages[:8], 0.0)
    by_words, _ = _fit_small(training_pages[:8], 1.0)
    coef = [t.line_.named_steps["logreg"].coef_ for t in (rows_alike, by_words)]
    assert not np.allclose(coef[0], coef[1])


def test_context_stages_weigh_rows_alike(training_pages: list[LabelledPage]) -> None:
    from declutter.context import context_features
    from declutter.train import PAGE_WEIGHT_POWER, page_weights

    trainer, (features, y) = _fit_small(training_pages[:8], 1.0)
    labelled = y >= 0
    weight = page_weights(features.page_rows, labelled, PAGE_WEIGHT_POWER)
    context_x = context_features(trainer.line_logit_, features)
    refit = clone(trainer.contexts_[0]).fit(
        context_x[labelled], y[labelled], logreg__sample_weight=weight[labelled]
    )
    np.testing.assert_allclose(
        refit.named_steps["logreg"].coef_, trainer.contexts_[0].named_steps["logreg"].coef_
    )


def test_numpy_model_gives_the_pipeline_probabilities(
    training_pages: list[LabelledPage],
) -> None:
    pages = training_pages[:10]
    features = featurize_pages(pages)
    y = row_labels(features, np.concatenate([p.labels for p in pages]))
    groups = np.repeat(np.arange(len(pages)), np.diff(features.page_rows))
    trainer = DeclutterTrainer(n_splits=2).fit(features, y, groups)
    model = trainer.to_model()
    # The sklearn path: lexicon transform, line pipeline, context features, context pipeline.
    from declutter.context import context_features

    lex_cols = trainer.lexicon_.transform(lexical_matrix(features))
    logit = trainer.line_.decision_function(np.hstack([features.dense, lex_cols]))
    for stage in trainer.contexts_[:-1]:
        logit = stage.decision_function(context_features(logit.astype(np.float32), features))
    context_x = context_features(logit.astype(np.float32), features)
    expected = trainer.contexts_[-1].predict_proba(context_x)[:, 1]
    np.testing.assert_allclose(model.predict_proba(features), expected, atol=2e-3)


def test_row_labels_take_the_majority_of_wrapped_lines() -> None:
    from declutter.features import featurize

    para = ["x" * 60 + " word"] * 4 + ["end of it."]
    features = featurize(["\n".join(para)])
    assert row_labels(features, np.array([1, 1, 1, 0, 0], dtype=np.int8)).tolist() == [1]
    assert row_labels(features, np.array([-1] * 5, dtype=np.int8)).tolist() == [-1]


def test_training_needs_both_classes() -> None:
    page = LabelledPage("p", "one line\nanother line\n", np.array([1, 1], np.int8), "g")
    with pytest.raises(TrainingDataError, match="both content and chrome"):
        train([page, page])


def test_train_reports_what_it_fitted(tiny_model: LineModel) -> None:
    summary = tiny_model.metadata["training_data"]
    assert summary["pages"] >= 30
    assert 0 < summary["content_rows"] < summary["rows"]
    assert 0 < tiny_model.threshold < 1


def test_validation_rows_hold_out_whole_groups() -> None:
    from declutter.train import validation_rows

    groups = np.array([f"site{i % 50}" for i in range(1000)])
    held = validation_rows(groups, 0.2)
    for g in np.unique(groups):
        assert len(set(held[groups == g])) == 1  # a site is all in or all out
    assert 0.05 < held.mean() < 0.4
    assert not validation_rows(groups, 0.0).any()


def test_decoder_ties_go_to_the_higher_threshold() -> None:
    from declutter.features import featurize
    from declutter.train import THRESHOLDS, choose_decoder

    features = featurize(["a b c\nd e f"])
    logits = np.array([4.0, -4.0], dtype=np.float32)  # every threshold in the grid decodes alike
    threshold, smoothing, _ = choose_decoder(logits, np.array([1, 0]), features)
    assert threshold == max(THRESHOLDS)
    assert smoothing == 0.0


def test_group_codes_match_np_unique_for_interleaved_runs() -> None:
    from declutter.train import group_codes

    groups = np.array(["b", "b", "a", "c", "c", "a", "b"])
    names, codes = group_codes(groups)
    expected_names, expected_codes = np.unique(groups, return_inverse=True)
    assert names.tolist() == expected_names.tolist()
    assert codes.tolist() == expected_codes.tolist()


def test_page_weights_make_every_page_count_alike_at_power_one() -> None:
    from declutter.train import page_weights

    page_rows = np.array([0, 1, 1, 5])  # a one-row page, an empty page, a four-row page
    labelled = np.array([True, True, True, True, False])
    weight = page_weights(page_rows, labelled, 1.0)
    assert weight[0] == pytest.approx(3 * weight[1])  # 1 labelled row against 3
    assert weight[labelled].mean() == pytest.approx(1.0)
    assert np.allclose(page_weights(page_rows, labelled, 0.0), 1.0)


def test_page_weights_count_words_to_the_word_power() -> None:
    from declutter.train import page_weights

    page_rows = np.array([0, 2, 3])
    labelled = np.ones(3, dtype=bool)
    words = np.array([16, 4, 9])
    weight = page_weights(page_rows, labelled, 0.0, words, 0.5)
    assert weight[0] == pytest.approx(2 * weight[1])  # sqrt(16) against sqrt(4)
    assert weight[2] == pytest.approx(1.5 * weight[1])


def test_page_weights_at_page_power_one_give_every_page_the_same_total() -> None:
    from declutter.train import page_weights

    page_rows = np.array([0, 2, 3])
    labelled = np.array([True, True, True])
    weight = page_weights(page_rows, labelled, 1.0, np.array([16, 4, 0]), 0.5)
    assert weight[:2].sum() == pytest.approx(weight[2])  # a wordless row still counts as 1


def test_page_type_codes() -> None:
    from declutter.train import page_type_codes

    assert page_type_codes(["article", "", "forum", "blog"]).tolist() == [0, -1, 3, -1]


def test_trainer_fits_a_page_stage_given_page_types(
    typed_model: LineModel, training_pages: list[LabelledPage]
) -> None:
    assert typed_model.page is not None
    _, proba = typed_model.scores(featurize_pages(training_pages[:3]))
    assert proba is not None and proba.shape[0] == 3


def test_trainer_without_page_types_fits_no_page_stage(tiny_model: LineModel) -> None:
    assert tiny_model.page is None
