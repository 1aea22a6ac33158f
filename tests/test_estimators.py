from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from declutter.context import LEX_FEATURES
from declutter.estimators import HashedLexicon, HingeFeatures, fit_page_stage
from declutter.features import LEX_NAMESPACES, N_HASH


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
    assert clone(HashedLexicon(alpha=2.0)).alpha == 2.0
    assert clone(HingeFeatures(quantiles=(0.5,))).quantiles == (0.5,)
    assert not hasattr(HashedLexicon(), "log_odds_")


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


def test_page_stage_predicts_the_type_it_was_fitted_on() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4)).astype(np.float32)
    labels = np.where(x[:, 0] > 0, 3, 0)  # forum when the first column is positive
    params = fit_page_stage(x, labels)
    proba = params.proba(x)
    predicted = proba.argmax(axis=1)
    assert (predicted == labels).mean() > 0.9
    assert proba[:, [1, 2, 4, 5, 6]].max() < 1e-6  # types without pages are never predicted
