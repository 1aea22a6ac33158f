from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from declutter.context import (
    CONTEXT_NAMES,
    CONTEXT_OFFSETS,
    CONTEXT_WINDOWS,
    PAGE_CONTEXT_NAMES,
    REGION_DISTANCE_CAP,
    context_columns,
    context_features,
    main_region,
    page_words,
    topical,
)
from declutter.features import featurize
from declutter.page import PAGE_TYPES


def test_no_context_window_that_the_context_offsets_span() -> None:
    # Such a window's mean is, inside a page, exactly that of the row and those neighbours.
    offsets = set(CONTEXT_OFFSETS)
    assert [h for h in CONTEXT_WINDOWS if set(range(-h, h + 1)) - {0} <= offsets] == []


def test_main_region_is_the_best_run_per_page() -> None:
    features = featurize(["a b c\nd e f\ng h\ni j k", "x y\nz w v", ""])
    z = np.array([-3, 2, 2, -3, 3, -2], dtype=np.float32)
    region = main_region(z, features)
    assert region.inside.tolist() == [False, True, True, False, True, False]
    assert region.log_distance.tolist() == np.log1p([1, 0, 0, 1, 0, 1]).astype(np.float32).tolist()
    assert region.share.tolist() == [1.0] * 6


def test_main_region_on_a_page_without_content() -> None:
    features = featurize(["a\nb"])
    region = main_region(np.array([-2, -2], dtype=np.float32), features)
    assert not region.inside.any()
    assert (region.log_distance == np.float32(np.log1p(REGION_DISTANCE_CAP))).all()


def _topical_by_hand(pages: list[str], z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PageWords.shared and topical() computed row by row, with Python sets."""
    import re

    p = 1 / (1 + np.exp(-z.astype(np.float64)))
    shared, used, k = [], [], 0
    for page in pages:
        rows = [set(re.findall(r"\w+", line.lower())) for line in page.split("\n")]
        rows = [r for r in rows if r]
        probs = p[k : k + len(rows)]
        k += len(rows)
        for i, words in enumerate(rows):
            users = {w: sum(w in r for r in rows) for w in words}
            weight = {w: np.log1p(len(rows) / users[w]) for w in words}
            total = sum(weight.values())
            shared.append(sum(weight[w] for w in words if users[w] > 1) / total)
            elsewhere = {
                w: sum(probs[j] for j, r in enumerate(rows) if j != i and w in r) for w in words
            }
            used.append(sum(weight[w] * min(elsewhere[w], 1.0) for w in words) / total)
    return np.array(shared), np.array(used)


# Short lines of a few words: no line is long enough to be sampled or joined to the next.
SHORT_PAGE = st.lists(
    st.lists(st.sampled_from(["river", "bank", "share", "menu", "the", "a", "|"]), max_size=3).map(
        " ".join
    ),
    max_size=10,
).map("\n".join)


@given(st.lists(SHORT_PAGE, min_size=1, max_size=4), st.randoms(use_true_random=False))
def test_topical_and_shared_words_match_a_row_by_row_count(pages: list[str], rnd: Any) -> None:
    features = featurize(pages)
    z = np.array([rnd.uniform(-4, 4) for _ in range(features.n_rows)], dtype=np.float32)
    words = page_words(features)
    shared, used = _topical_by_hand(pages, z)
    np.testing.assert_allclose(words.shared, shared, atol=1e-5)
    np.testing.assert_allclose(topical(z, words), used, atol=1e-5)


def test_topical_counts_words_that_likely_content_shares() -> None:
    # Row 0 shares "river" with row 1 (content) and nothing else; row 2 shares "share" with
    # row 3 (chrome); row 3 shares "share" with row 2 (chrome).
    features = featurize(["river flood\nriver bank\nshare menu\nshare"])
    z = np.array([0.0, 8.0, -8.0, -8.0], dtype=np.float32)
    t = topical(z, page_words(features))
    assert t[0] > 0.4 and t[2] < 0.01 and t[3] < 0.01


def _columns(page_proba: bool) -> tuple[dict[str, np.ndarray], np.ndarray]:
    features = featurize(["Menu\nThe river rose by a metre.\nIt rose again.\nShare", "a b\nc"])
    z = np.linspace(-3, 3, features.n_rows).astype(np.float32)
    proba = np.full((2, len(PAGE_TYPES)), 1 / len(PAGE_TYPES), np.float32) if page_proba else None
    return context_columns(z, features, page_proba=proba), z


def test_context_columns_are_computed_under_the_models_names_in_order() -> None:
    assert tuple(_columns(False)[0]) == CONTEXT_NAMES
    assert tuple(_columns(True)[0]) == CONTEXT_NAMES + PAGE_CONTEXT_NAMES


def test_named_context_columns_hold_what_their_names_say() -> None:
    cols, z = _columns(False)
    assert cols["logit"].tolist() == z.tolist()
    assert cols["logit@+1"][:3].tolist() == z[1:4].tolist()
    assert cols["logit@-1"][1:4].tolist() == z[:3].tolist()
    assert cols["logit@+1"][3] == cols["logit@-1"][0]  # beyond the page edge: the outside logit
    assert cols["page_mean_logit"][0] == np.float32(z[:4].mean())


def test_context_features_stack_the_named_columns() -> None:
    features = featurize(["Menu\nThe river rose by a metre.\nShare"])
    z = np.array([-2.0, 3.0, -1.0], dtype=np.float32)
    x = context_features(z, features)
    cols = context_columns(z, features)
    assert x.shape == (3, len(CONTEXT_NAMES))
    for k, name in enumerate(CONTEXT_NAMES):
        np.testing.assert_array_equal(x[:, k], cols[name])
