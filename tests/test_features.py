from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from declutter.features import (
    BASE_FEATURES,
    FEATURE_NAMES,
    LEX_NAMESPACES,
    N_FEATURES,
    N_HASH,
    NEIGHBOUR_OFFSETS,
    SAMPLE_LIMIT,
    WINDOWS,
    Features,
    featurize,
)


def column(features: Features, name: str) -> list[float]:
    values = features.dense[:, FEATURE_NAMES.index(name)]
    return [round(float(v), 4) for v in values]


def feature(text: str, name: str) -> list[float]:
    return column(featurize([text]), name)


def test_feature_names_match_columns() -> None:
    features = featurize(["One line of text.\nAnother line"])
    assert features.dense.shape == (2, N_FEATURES) == (2, len(FEATURE_NAMES))
    assert len(set(FEATURE_NAMES)) == N_FEATURES


def test_base_feature_names_must_follow_the_columns_computed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from declutter import features as F

    swapped = (F.BASE_FEATURES[1], F.BASE_FEATURES[0], *F.BASE_FEATURES[2:])
    monkeypatch.setattr(F, "BASE_FEATURES", swapped)
    with pytest.raises(RuntimeError, match="BASE_FEATURES"):
        featurize(["One line of text."])


def test_rows_are_lines_with_words() -> None:
    features = featurize(["Words here\n\n* * *\nmore words\n"])
    assert features.line_rows.tolist() == [0, -1, -1, 1]
    assert features.line_blank.tolist() == [False, True, False, False]


def test_empty_page_has_no_lines() -> None:
    features = featurize([""])
    assert features.n_rows == 0
    assert features.page_lines.tolist() == [0, 0]


def test_word_counts() -> None:
    assert feature("one two three\nsolo", "log_units") == [
        round(np.log1p(3), 4),
        round(np.log1p(1), 4),
    ]


def test_cjk_characters_count_as_half_words() -> None:
    # 中文内容很长 is six CJK characters in one \w run: 1 word + 6 / 2.
    assert feature("中文内容很长", "log_units") == [round(np.log1p(4.0), 4)]


def test_word_bins_are_at_least_indicators() -> None:
    text = "a\na b c d\n" + " ".join(["w"] * 40)
    assert feature(text, "words_ge_4") == [0.0, 1.0, 1.0]
    assert feature(text, "words_ge_32") == [0.0, 0.0, 1.0]


def test_character_class_fractions() -> None:
    assert feature("AB cd 12!", "frac_upper") == [round(2 / 7, 4)]
    assert feature("AB cd 12!", "frac_digit") == [round(2 / 7, 4)]
    assert feature("AB cd 12!", "frac_punct") == [round(1 / 7, 4)]
    assert feature("→ © x", "frac_symbol") == [round(2 / 3, 4)]


def test_private_use_icons_are_flagged() -> None:
    assert feature("\ue001 Menu", "has_private_use") == [1.0]


def test_word_shapes() -> None:
    text = "NASA and Google 2024 x"
    assert feature(text, "frac_cap_words") == [0.4]
    assert feature(text, "frac_allcaps_words") == [0.2]
    assert feature(text, "frac_digit_words") == [0.2]
    assert feature("supercalifragilistic word", "frac_long_words") == [0.5]
    assert feature("ab abcd", "mean_word_len") == [0.3]


def test_word_shape_counts_are_exact_in_the_most_crowded_line() -> None:
    # One-letter words filling SAMPLE_LIMIT characters: the most words a line keeps unsampled.
    n = (SAMPLE_LIMIT + 1) // 2
    text = " ".join(["A"] * n)
    assert feature(text, "log_units") == [round(np.log1p(n), 4)]
    assert feature(text, "frac_cap_words") == [1.0]
    assert feature(text, "frac_allcaps_words") == [0.0]


def test_icon_density_counts_icon_words_and_glued_sprites() -> None:
    text = "chevron downicon closeicon searchicon\nThe river rose again this spring."
    assert feature(text, "icon_density") == [1.0, 0.0]
    assert feature(text, "has_glued_icon") == [1.0, 0.0]


def test_ui_density_covers_several_languages() -> None:
    assert feature("Teilen Drucken\nPartager\nПоделиться Поиск\nriver", "ui_density") == [
        1.0,
        1.0,
        1.0,
        0.0,
    ]


def test_function_word_density() -> None:
    assert feature("the cat and the dog", "function_density") == [0.6]
    assert feature("der Hund und die Katze", "function_density") == [0.6]


def test_cjk_function_characters() -> None:
    assert feature("我的书是新的", "cjk_function_density") == [round(4 / 6, 4)]


def test_endings() -> None:
    text = 'He said "yes."\nContents:\nfirst, second,\nHome\nPage 12\nRead more…'
    assert feature(text, "ends_terminal") == [1.0, 0.0, 0.0, 0.0, 0.0, 1.0]
    assert feature(text, "ends_colon") == [0.0, 1.0, 0.0, 0.0, 0.0, 0.0]
    assert feature(text, "ends_comma") == [0.0, 0.0, 1.0, 0.0, 0.0, 0.0]
    assert feature(text, "ends_word") == [0.0, 0.0, 0.0, 1.0, 0.0, 0.0]
    assert feature(text, "ends_digit") == [0.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    assert feature(text, "ends_ellipsis") == [0.0, 0.0, 0.0, 0.0, 0.0, 1.0]


def test_starts() -> None:
    text = "Upper\nlower\n2 things\n* bullet\n# Heading\n| cell |\n» Next"
    assert feature(text, "starts_upper") == [1, 0, 0, 0, 0, 0, 0]
    assert feature(text, "starts_lower") == [0, 1, 0, 0, 0, 0, 0]
    assert feature(text, "starts_digit") == [0, 0, 1, 0, 0, 0, 0]
    assert feature(text, "starts_bullet") == [0, 0, 0, 1, 0, 0, 0]
    assert feature(text, "starts_hash") == [0, 0, 0, 0, 1, 0, 0]
    assert feature(text, "starts_pipe") == [0, 0, 0, 0, 0, 1, 0]
    assert feature(text, "starts_punct_symbol") == [0, 0, 0, 0, 1, 1, 1]


def test_separators_links_and_at_signs() -> None:
    assert feature("Home › News › World", "separators_per_token") == [0.4]
    assert feature("see [docs](http://x) now", "links_per_word") == [0.2]
    assert feature("mail me@example.org", "has_at") == [1.0]


def test_repetition_in_the_page() -> None:
    text = "Top story\nBody text here.\nTop story\nTop story"
    three = round(np.log(3), 4)
    assert feature(text, "log_repeats") == [three, 0.0, three, three]
    # Copies this close are a card's twins: none counts as the first.
    assert feature(text, "first_occurrence") == [0.0, 1.0, 0.0, 0.0]
    far = "\n".join(["Top story", *(f"filler line {i}" for i in range(6)), "Top story"])
    assert feature(far, "first_occurrence")[0] == 1.0
    assert feature(far, "first_occurrence")[-1] == 0.0
    assert feature(text, "same_as_previous") == [0.0, 0.0, 0.0, 1.0]
    assert feature(text, "repeats_nearby") == [1.0, 0.0, 1.0, 1.0]


def test_repetition_ignores_case_digits_and_punctuation() -> None:
    assert feature("Page 1 of 9\npage 2 of 8!", "log_repeats") == [round(np.log(2), 4)] * 2


def test_repetition_does_not_cross_pages() -> None:
    features = featurize(["Same line", "Same line"])
    assert column(features, "log_repeats") == [0.0, 0.0]


def test_blank_lines_and_blocks() -> None:
    text = "a one\na two\n\nb one\n"
    assert feature(text, "blank_before") == [1.0, 0.0, 1.0]
    assert feature(text, "blank_after") == [0.0, 1.0, 1.0]
    assert feature(text, "log_block_rows") == [round(np.log(2), 4), round(np.log(2), 4), 0.0]
    assert feature(text, "block_first") == [1.0, 0.0, 1.0]
    assert feature(text, "block_last") == [0.0, 1.0, 1.0]


def test_positions() -> None:
    text = "first\nsecond\nthird"
    assert feature(text, "rel_position") == [0.0, 0.5, 1.0]
    assert feature(text, "log_rows_before") == [0.0, round(np.log(2), 4), round(np.log(3), 4)]
    long_page = "\n".join(f"line {i}" for i in range(30))
    assert feature(long_page, "log_rows_before")[-1] == round(np.log(9), 4)
    assert feature(text, "rel_char_position") == [0.0, round(6 / 19, 4), round(13 / 19, 4)]


def test_neighbour_columns_shift_within_the_page() -> None:
    features = featurize(["one\ntwo words\nthree little words", "solo"])
    below = column(features, "log_units@+1")
    above = column(features, "log_units@-1")
    assert below == [round(np.log1p(2), 4), round(np.log1p(3), 4), 0.0, 0.0]
    assert above == [0.0, round(np.log1p(1), 4), round(np.log1p(2), 4), 0.0]


def test_window_means() -> None:
    values = [np.log1p(1), np.log1p(2), np.log1p(3)]
    expected = round(float(np.mean(values[:3])), 4)
    assert feature("one\ntwo words\nthree little words", "log_units~5")[0] == expected


def test_no_window_that_the_neighbour_columns_span() -> None:
    # Such a window's mean is, inside a page, exactly that of the row and those neighbours.
    spanned = [h for h in WINDOWS if set(range(-h, h + 1)) - {0} <= set(NEIGHBOUR_OFFSETS)]
    assert spanned == []


def test_page_features() -> None:
    features = featurize(["A sentence.\nmenu", "x"])
    assert column(features, "page_mean_terminal") == [0.5, 0.5, 0.0]


def test_hard_wrapped_paragraphs_become_one_row() -> None:
    para = [
        "This paragraph was wrapped by a converter at a fixed width of",
        "about sixty-five columns so that every line ends near the same",
        "column, which is how html2text and text browsers write text out",
        "for terminals, and the featurizer should see the whole thing as",
        "one unit of text.",
    ]
    features = featurize(["\n".join(para)])
    assert features.line_rows.tolist() == [0, 0, 0, 0, 0]
    assert column(features, "log_wrapped_lines") == [round(np.log(5), 4)]


def test_list_items_are_not_joined_to_wrapped_lines() -> None:
    lines = ["x" * 60 + " word"] * 4 + ["* an item that starts a list"]
    features = featurize(["\n".join(lines)])
    assert features.line_rows.tolist() == [0, 0, 0, 0, 1]


def test_batches_give_the_same_rows_as_single_pages() -> None:
    pages = ["Menu\nHome\n\nA real sentence here.", "Another page.\nShare"]
    together = featurize(pages)
    apart = [featurize([p]) for p in pages]
    np.testing.assert_allclose(together.dense, np.vstack([a.dense for a in apart]), rtol=1e-6)
    assert together.page_rows.tolist() == [0, 3, 5]


def test_lexical_features_are_sorted_by_row_and_in_range() -> None:
    features = featurize(["read more\nshare this story with friends\n\nend"])
    assert len(features.lex_rows) == len(LEX_NAMESPACES)
    for rows, buckets in zip(features.lex_rows, features.lex_buckets, strict=True):
        assert (np.diff(rows) >= 0).all()
        assert ((buckets >= 0) & (buckets < N_HASH)).all()
    # "read more": 2 words, 1 bigram, first word, whole short line.
    assert [int((r == 0).sum()) for r in features.lex_rows] == [2, 1, 1, 1]


def test_same_words_hash_alike_regardless_of_case_and_position() -> None:
    features = featurize(["Share\nx y share"])
    words = features.lex_buckets[0]
    assert words[0] == words[3]


def test_long_lines_are_sampled_with_counts_scaled_to_their_length() -> None:
    text = "word " * 20000
    features = featurize([text + "\nshort line"])
    assert features.n_rows == 2
    assert column(features, "log_chars")[0] == round(float(np.log1p(len(text))), 4)
    # 20,000 words, estimated from the sample within a few percent.
    assert abs(features.row_words[0] - 20000) / 20000 < 0.05
    assert abs(column(features, "mean_word_len")[0] - 0.4) < 0.03  # the sample cuts a word


def test_pages_larger_than_a_chunk_are_split_consistently() -> None:
    from declutter import features as F

    page = "\n".join(f"line {i} has some words." for i in range(20000))
    whole = featurize([page])
    assert whole.n_rows == 20000
    assert len(page) > F.CHUNK_CHARS
    assert np.isfinite(whole.dense).all()


@pytest.mark.parametrize("name", BASE_FEATURES)
def test_base_features_are_finite_on_odd_input(name: str) -> None:
    text = "\x00\ud800 \ufeff\n\t\t\n" + "😀" * 3 + "\n_\n" + "ä" * 100
    assert np.isfinite(feature(text, name)).all()


@given(st.lists(st.text(max_size=200), max_size=4))
def test_featurizer_never_fails_or_emits_nan(pages: list[str]) -> None:
    features = featurize(pages)
    assert np.isfinite(features.dense).all()
    assert len(features.line_rows) == features.page_lines[-1]
    assert features.page_rows[-1] == features.n_rows


def test_lines_starting_alike_nearby_are_near_duplicates() -> None:
    text = (
        "Storm closes the harbour bridge\n"
        "Storm closes the harbour bridge FEATURE\n"
        "Other words here now"
    )
    assert feature(text, "same_start_nearby") == [1.0, 1.0, 0.0]
    assert feature("one two\none two three", "same_start_nearby") == [0.0, 0.0]
