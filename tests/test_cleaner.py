from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from declutter.cleaner import Cleaner, _fill_unscored
from declutter.errors import UsageError
from declutter.lines import split_lines
from declutter.model import LineModel
from declutter.page import PAGE_TYPES

PIECES = st.sampled_from([*"ab .,|»\t\ré中", "Share", "The river rose by a metre."])
LINES = st.lists(PIECES, max_size=12).map("".join)
PAGES = st.lists(st.tuples(LINES, st.sampled_from(["\n", "\r\n", "\r", ""])), max_size=25).map(
    lambda parts: "".join(a + b for a, b in parts)
)


def is_subsequence(kept: list[str], lines: list[str]) -> bool:
    it = iter(lines)
    return all(any(k == line for line in it) for k in kept)


@pytest.fixture(scope="module")
def cleaner(tiny_model: LineModel) -> Cleaner:
    return Cleaner(tiny_model)


def test_empty_page(cleaner: Cleaner) -> None:
    assert cleaner.clean("") == ""


def test_whitespace_only_page(cleaner: Cleaner) -> None:
    assert cleaner.clean("  \n\t\n\n") == ""


def test_kept_lines_keep_their_own_endings(cleaner: Cleaner) -> None:
    text = "The council voted to extend the tram line to the harbour.\r\nIt opens in May.\r"
    result = cleaner.process([text])[0]
    assert result.text == "".join(
        line for line, k in zip(split_lines(text), result.keep.tolist(), strict=True) if k
    )


def test_result_reports_probabilities_for_scored_lines_only(cleaner: Cleaner) -> None:
    result = cleaner.process(["Some words here.\n\n* * *\n"])[0]
    assert np.isfinite(result.proba[0])
    assert np.isnan(result.proba[1]) and np.isnan(result.proba[2])


def test_blank_lines_between_kept_lines_stay() -> None:
    scored = np.array([True, False, True, False, False, True])
    blank = np.array([False, True, False, True, True, False])
    keep = np.array([True, False, False, False, False, True])
    out = _fill_unscored(keep, scored, blank, np.array([0, 6]))
    # Blanks after the dropped line lead into a kept line: kept; the one before it: not.
    assert out.tolist() == [True, False, False, True, True, True]


def test_leading_and_trailing_blank_lines_go() -> None:
    scored = np.array([False, True, False])
    blank = np.array([True, False, True])
    out = _fill_unscored(np.array([False, True, False]), scored, blank, np.array([0, 3]))
    assert out.tolist() == [False, True, False]


def test_symbol_lines_follow_both_neighbours() -> None:
    scored = np.array([True, False, True, False, True])
    blank = np.zeros(5, dtype=bool)
    out = _fill_unscored(
        np.array([True, False, True, False, False]), scored, blank, np.array([0, 5])
    )
    assert out.tolist() == [True, True, True, False, False]


def test_neighbours_do_not_reach_across_pages() -> None:
    # Page one: a kept line then a symbol line; page two: a symbol line then a kept line.
    scored = np.array([True, False, False, True])
    blank = np.array([False, False, False, False])
    keep = np.array([True, False, False, True])
    out = _fill_unscored(keep, scored, blank, np.array([0, 2, 4]))
    assert out.tolist() == [True, False, False, True]


def test_threshold_must_be_a_probability(tiny_model: LineModel) -> None:
    with pytest.raises(UsageError, match="threshold"):
        Cleaner(tiny_model, threshold=1.5)


def test_lower_threshold_keeps_at_least_as_much(tiny_model: LineModel) -> None:
    text = "Menu\nHome\nThe river rose by two metres overnight.\nShare\nIt fell again.\n"
    loose = Cleaner(tiny_model, threshold=0.05, smoothing=0).process([text])[0].keep
    strict = Cleaner(tiny_model, threshold=0.95, smoothing=0).process([text])[0].keep
    assert (loose >= strict).all()


def test_cleaner_is_picklable(cleaner: Cleaner) -> None:
    text = "Menu\nThe river rose by two metres overnight, officials said.\n"
    assert pickle.loads(pickle.dumps(cleaner)).clean(text) == cleaner.clean(text)


def test_batch_equals_one_at_a_time(cleaner: Cleaner) -> None:
    pages = ["Menu\nA long sentence about the weather today.\n", "", "Share\nx\n"]
    assert cleaner.clean_many(pages) == [cleaner.clean(p) for p in pages]


@given(PAGES)
def test_output_lines_are_a_subsequence_of_input_lines(cleaner: Cleaner, text: str) -> None:
    out = cleaner.clean(text)
    kept = split_lines(out)
    assert is_subsequence(kept, split_lines(text))


@given(PAGES)
def test_cleaning_is_deterministic(cleaner: Cleaner, text: str) -> None:
    assert cleaner.clean(text) == cleaner.clean(text)


@given(PAGES)
def test_cleaning_twice_keeps_no_more(cleaner: Cleaner, text: str) -> None:
    once = cleaner.clean(text)
    twice = cleaner.clean(once)
    assert is_subsequence(split_lines(twice), split_lines(once))


def test_a_blank_line_never_turns_a_lone_cr_into_crlf() -> None:
    from declutter.cleaner import _keep_line_ends_apart

    lines = ["one\r", "dropped\n", "\n", "two\n"]
    keep = np.array([True, False, True, True])
    _keep_line_ends_apart(lines, keep)
    assert keep.tolist() == [True, False, False, True]


# A paragraph hard-wrapped near 78 columns, as html2text writes one.
WRAPPED = (
    "The council met on Thursday evening to debate the tram extension, which has been\n"
    "delayed for more than a decade by disputes over the route and the cost of moving\n"
    "utilities under Harbour Road, and after seven hours of argument the members voted\n"
    "thirty-one to nineteen in favour of the eastern route that traders had opposed\n"
    "since the first consultation closed in the spring of the year before last.\n"
)
WRAPPED_LINES = st.sampled_from([*WRAPPED.splitlines(), "- Home", "\t", " ", "# Title", ""])
WRAP_PAGES = st.lists(
    st.tuples(WRAPPED_LINES | LINES, st.sampled_from(["\n", "\r\n", "\r", ""])), max_size=14
).map(lambda parts: "".join(a + b for a, b in parts))


def test_a_page_scores_alike_before_another_page_that_opens_with_a_list_item(
    cleaner: Cleaner,
) -> None:
    # Issue 16, item 9: the "does the next line open a list item" look-ahead of wrap joining
    # ran past a whitespace-only last line into the next page of the batch.
    page = WRAPPED + "\t\n"
    alone = cleaner.process([page])[0]
    batched = cleaner.process([page, "- Home\n"])[0]
    assert batched.keep.tolist() == alone.keep.tolist()


@settings(max_examples=300)
@given(st.lists(WRAP_PAGES | PAGES, min_size=1, max_size=4))
def test_pages_score_alike_alone_and_in_any_batch(cleaner: Cleaner, pages: list[str]) -> None:
    batched = cleaner.process(pages)
    for page, result in zip(pages, batched, strict=True):
        alone = cleaner.process([page])[0]
        assert result.keep.tolist() == alone.keep.tolist()
        np.testing.assert_allclose(result.proba, alone.proba, atol=1e-5)


def test_page_types_come_with_a_page_stage(typed_model: LineModel) -> None:
    result = Cleaner(typed_model).process(["Home\nThe council met on Tuesday to vote.\n"])[0]
    assert set(result.page_types) == set(PAGE_TYPES)
    assert abs(sum(result.page_types.values()) - 1) < 1e-3
    assert result.page_type == max(result.page_types, key=result.page_types.__getitem__)


def test_no_page_types_without_a_page_stage(cleaner: Cleaner) -> None:
    result = cleaner.process(["Home\nThe council met on Tuesday to vote.\n"])[0]
    assert result.page_types == {} and result.page_type is None


def test_a_page_without_scored_lines_has_no_page_type(typed_model: LineModel) -> None:
    # Found by a hostile tester: "* * *" got all-zero probabilities alone, and "documentation
    # 0.98" next to a real page.
    cleaner = Cleaner(typed_model)
    alone = cleaner.process(["* * *\n---\n"])[0]
    batched = cleaner.process(["* * *\n---\n", "Home\nThe council met on Tuesday.\n"])[0]
    assert alone.page_types == batched.page_types == {}
