from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from declutter.lines import bodies_text, body, split_lines, wrap_joins


def test_split_lines_keeps_each_ending() -> None:
    assert split_lines("a\r\nb\rc\n\nd") == ["a\r\n", "b\r", "c\n", "\n", "d"]


def test_split_lines_does_not_split_on_form_feed_or_unicode_separators() -> None:
    text = "page\x0cbreak\u2028same line\x85still\n"
    assert split_lines(text) == [text]


def test_split_lines_of_empty_text_is_empty() -> None:
    assert split_lines("") == []


@given(st.text(alphabet=st.sampled_from("ab \r\n\x0c\u2028")))
def test_split_lines_round_trips(text: str) -> None:
    assert "".join(split_lines(text)) == text


@given(st.text(alphabet=st.sampled_from("ab \r\n\x0c\u2028")))
def test_bodies_text_has_one_line_per_split_line(text: str) -> None:
    lines = split_lines(text)
    expected = [body(line) for line in lines]
    assert (bodies_text(text).split("\n") if lines else []) == expected


def test_body_strips_only_the_line_ending() -> None:
    assert [body(x) for x in ["a \r\n", "b\r", "c\n", "d"]] == ["a ", "b", "c", "d"]


def test_wrap_joins_joins_near_width_lines() -> None:
    lengths = np.array([70, 72, 30, 0, 71, 69, 10, 0, 5])
    assert wrap_joins(lengths).tolist() == [
        True,
        True,
        False,
        False,
        True,
        True,
        False,
        False,
        False,
    ]


def test_wrap_joins_leaves_unwrapped_pages_alone() -> None:
    lengths = np.array([120, 45, 300, 12, 0, 88, 61])
    assert not wrap_joins(lengths).any()


def test_wrap_joins_needs_several_near_width_lines() -> None:
    assert not wrap_joins(np.array([70, 72, 30, 0, 5])).any()


def test_wrapping_is_decided_per_page() -> None:
    lengths = np.array([74, 77, 75, 76, 20, 74, 77, 30])
    groups = np.array([0, 0, 0, 0, 0, 1, 1, 1])
    assert wrap_joins(lengths, groups).tolist() == [True] * 4 + [False] * 4
