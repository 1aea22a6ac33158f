from __future__ import annotations

import numpy as np

from declutter.context import main_region, page_inputs, page_words
from declutter.features import featurize
from declutter.page import PAGE_STAGE_NAMES, PAGE_TYPES, PageTypeParams, page_stage_features

TWO_PAGES = [
    "Home\nNews\n\nThe council met on Tuesday and agreed to extend the line.\n"
    "It will open next spring, officials said.\nShare\n",
    "",
    "Menu\nLog in\n",
]


def test_page_inputs_have_one_row_per_page_and_one_column_per_name() -> None:
    features = featurize(TWO_PAGES)
    z = np.linspace(-2, 2, features.n_rows).astype(np.float32)
    x = page_inputs(z, features, page_words(features))
    assert x.shape == (3, len(PAGE_STAGE_NAMES))
    assert np.isfinite(x).all()


def test_a_page_without_rows_gets_zeros() -> None:
    features = featurize(TWO_PAGES)
    z = np.zeros(features.n_rows, dtype=np.float32)
    x = page_inputs(z, features, page_words(features))
    assert not x[1].any()


def test_share_positive_counts_rows_with_positive_logits() -> None:
    features = featurize(["one line here\nanother line\nthird line\nfourth line\n"])
    z = np.array([3, -3, 3, -3], dtype=np.float32)
    x = page_inputs(z, features, page_words(features))
    assert x[0, PAGE_STAGE_NAMES.index("share_positive")] == 0.5


def test_page_inputs_of_a_page_do_not_depend_on_its_batch() -> None:
    features = featurize(TWO_PAGES)
    z = np.linspace(-2, 2, features.n_rows).astype(np.float32)
    together = page_inputs(z, features, page_words(features))
    first = featurize(TWO_PAGES[:1])
    alone = page_inputs(z[: first.n_rows], first, page_words(first))
    np.testing.assert_allclose(together[0], alone[0], rtol=1e-5)


def test_positive_mass_before_and_after_the_main_region() -> None:
    features = featurize(["Menu\n" + "A sentence with several words in it.\n" * 3 + "Footer\n"])
    z = np.array([-3, 3, 3, 3, -3], dtype=np.float32)
    region = main_region(z, features)
    assert region.inside.tolist() == [False, True, True, True, False]
    x = page_stage_features(z, features, region.inside, region.share, np.zeros(5, np.float32))
    mass = 1 / (1 + np.exp(-z.astype(np.float64))) * features.row_words
    col = {name: x[0, k] for k, name in enumerate(PAGE_STAGE_NAMES)}
    assert col["positive_mass_before_region"] == np.float32(mass[0] / mass.sum())
    assert col["positive_mass_after_region"] == np.float32(mass[4] / mass.sum())


def test_a_page_without_a_main_region_has_no_mass_around_it() -> None:
    features = featurize(["Menu\nLog in\n"])
    z = np.array([-3, -3], dtype=np.float32)
    x = page_stage_features(z, features, np.zeros(2, bool), np.zeros(2, np.float32), z * 0)
    col = {name: x[0, k] for k, name in enumerate(PAGE_STAGE_NAMES)}
    assert col["positive_mass_before_region"] == col["positive_mass_after_region"] == 0


def test_page_type_probabilities_sum_to_one() -> None:
    k, t = len(PAGE_STAGE_NAMES), len(PAGE_TYPES)
    rng = np.random.default_rng(0)
    params = PageTypeParams(
        mean=np.zeros(k, np.float32),
        scale=np.ones(k, np.float32),
        coef=rng.normal(size=(k, t)).astype(np.float32),
        intercept=np.zeros(t, np.float32),
    )
    proba = params.proba(rng.normal(size=(5, k)).astype(np.float32))
    assert proba.shape == (5, t)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
