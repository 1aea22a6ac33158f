from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from declutter.data import LabelledPage
from declutter.errors import TrainingDataError
from declutter.features import LEX_NAMESPACES, N_HASH
from declutter.model import LEX_FEATURES, LineModel
from declutter.train import (
    DeclutterTrainer,
    HashedLexicon,
    HingeFeatures,
    featurize_pages,
    lexical_matrix,
    row_labels,
    train,
)


def lex_x(rows: list[list[int]]) -> sp.csr_matrix:
    """A lexical matrix with the given word buckets per row (namespace 0)."""
    data = [(r, b) for r, buckets in enumerate(rows) for b in buckets]
    r, c = zip(*data, strict=True)
    shape = (len(rows), len(LEX_NAMESPACES) * N_HASH)
    return sp.csr_matrix((np.ones(len(r)), (r, c)), shape=shape)


def test_lexicon_learns_log_odds() -> None:
    x = lex_x([[1], [1], [1], [2], [2], [2]])
    y = np.array([1, 1, 1, 0, 0, 0])
    lex = HashedLexicon(alpha=1.0).fit(x, y)
    assert lex.log_odds_[1] > 1.0
    assert lex.log_odds_[2] < -1.0
    assert lex.log_odds_[3] == pytest.approx(0.0, abs=1e-6)


def test_lexicon_transform_gives_the_lexical_columns() -> None:
    x = lex_x([[1, 2]])
    lex = HashedLexicon(alpha=1.0).fit(lex_x([[1], [2]]), np.array([1, 0]))
    cols = lex.transform(x)
    assert cols.shape == (1, len(LEX_FEATURES))
    word_mean, word_min, word_max = cols[0, :3]
    assert word_min < word_mean < word_max


def test_lexicon_cross_fitting_hides_a_rows_own_label() -> None:
    # Bucket 5 appears only in group "a": its rows cannot see its log-odds when encoded.
    x = lex_x([[5], [5], [7], [7]])
    y = np.array([1, 1, 0, 0])
    groups = np.array(["a", "a", "b", "b"])
    cols = HashedLexicon(alpha=1.0, n_splits=2).fit_transform(x, y, groups=groups)
    assert np.allclose(cols[:, 0], 0.0)
    assert HashedLexicon(alpha=1.0).fit(x, y).transform(x)[0, 0] > 0


def test_lexicon_fold_encoding_equals_a_lexicon_fitted_on_the_other_groups() -> None:
    rng = np.random.default_rng(0)
    x = lex_x([list(rng.choice(6, size=2)) for _ in range(30)])
    y = rng.integers(0, 2, size=30)
    groups = np.repeat(["a", "b", "c"], 10)
    prior = rng.uniform(0.2, 0.8, size=30)
    cols = HashedLexicon(alpha=1.0, n_splits=3).fit_transform(x, y, groups=groups, prior=prior)
    for g in "abc":
        mine = groups == g
        alone = HashedLexicon(alpha=1.0).fit(x[~mine], y[~mine], prior=prior[~mine])
        assert np.allclose(cols[mine], alone.transform(x[mine]), atol=1e-5)


def test_estimators_follow_sklearn_conventions() -> None:
    trainer = DeclutterTrainer(C=0.5)
    assert clone(trainer).get_params()["C"] == 0.5
    assert not hasattr(trainer, "line_")
    assert clone(HashedLexicon(alpha=2.0)).alpha == 2.0
    assert clone(HingeFeatures(quantiles=(0.5,))).quantiles == (0.5,)


def test_hinges_go_at_quantiles_of_columns_with_many_values() -> None:
    x = np.column_stack([np.arange(101.0), np.arange(101) % 5, np.arange(101.0)])
    hinges = HingeFeatures(columns=[0, 1], quantiles=(0.0, 0.25, 0.5), min_distinct=6)
    assert hinges.fit(x) is hinges
    # Column 1 has five values; a knot at the minimum bends nothing; column 2 is not chosen.
    assert hinges.columns_.tolist() == [0, 0]
    assert hinges.knots_.tolist() == [25.0, 50.0]
    out = hinges.transform(x[:3] + 30)
    np.testing.assert_array_equal(out[:, 3:], [[5, 0], [6, 0], [7, 0]])
    np.testing.assert_array_equal(out[:, :3], x[:3] + 30)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_hinges_keep_the_precision_they_are_given(dtype: type[np.floating[Any]]) -> None:
    x = np.random.default_rng(0).normal(size=(50, 2)).astype(dtype)
    assert HingeFeatures().fit(x).transform(x).dtype == dtype


def test_hinges_refuse_another_width() -> None:
    hinges = HingeFeatures().fit(np.random.default_rng(0).normal(size=(50, 3)))
    with pytest.raises(ValueError, match="features"):
        hinges.transform(np.zeros((2, 4)))


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
    from declutter.model import context_features
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
    from declutter.model import context_features

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


def test_page_stage_predicts_the_type_it_was_fitted_on() -> None:
    from declutter.train import fit_page_stage

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4)).astype(np.float32)
    labels = np.where(x[:, 0] > 0, 3, 0)  # forum when the first column is positive
    params = fit_page_stage(x, labels)
    proba = params.proba(x)
    predicted = proba.argmax(axis=1)
    assert (predicted == labels).mean() > 0.9
    assert proba[:, [1, 2, 4, 5, 6]].max() < 1e-6  # types without pages are never predicted


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
