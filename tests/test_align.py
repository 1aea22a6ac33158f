from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from declutter.align import CHROME, CONTENT, UNLABELLED, align_lines

WORDS = ["river", "bridge", "council", "tram", "line", "vote", "city", "night", "rain", "plan"]


def test_deleted_lines_are_chrome() -> None:
    lines = ["Menu Home", "The council voted for the tram.", "Share", "It opens in May."]
    clean = "The council voted for the tram.\nIt opens in May."
    assert align_lines(lines, clean).labels.tolist() == [CHROME, CONTENT, CHROME, CONTENT]


def test_lines_without_words_are_not_labelled() -> None:
    assert align_lines(["* * *", "", "Text here"], "Text here").labels.tolist() == [
        UNLABELLED,
        UNLABELLED,
        CONTENT,
    ]


def test_a_headline_printed_twice_is_labelled_once() -> None:
    lines = ["Storm closes bridge", "Storm closes bridge", "The bridge closed at noon."]
    clean = "Storm closes bridge\nThe bridge closed at noon."
    labels = align_lines(lines, clean).labels.tolist()
    assert sorted(labels[:2]) == [CHROME, CONTENT]
    assert labels[2] == CONTENT


def test_small_edits_are_tolerated() -> None:
    lines = ["The council voted on Tuesday for the new tram line."]
    clean = "The council voted on Tuesday for a new tram line!"
    assert align_lines(lines, clean).labels.tolist() == [CONTENT]


def test_single_chance_word_matches_do_not_count() -> None:
    lines = ["Home News Sport Weather rain", "Rain is expected all week in the city."]
    clean = "Rain is expected all week in the city."
    assert align_lines(lines, clean).labels.tolist() == [CHROME, CONTENT]


def test_coverage_is_the_share_of_clean_words_found() -> None:
    assert align_lines(["one two"], "one two three four").coverage == 0.5


@given(
    st.lists(
        st.tuples(st.lists(st.sampled_from(WORDS), min_size=3, max_size=8), st.booleans()),
        min_size=1,
        max_size=30,
    )
)
def test_pairs_made_by_deleting_lines_are_labelled_exactly(
    spec: list[tuple[list[str], bool]],
) -> None:
    # Each line gets a unique tag word so that deleting lines leaves an unambiguous alignment.
    lines = [" ".join([f"tag{i}", *words]) for i, (words, _) in enumerate(spec)]
    keep = [kept for _, kept in spec]
    clean = "\n".join(line for line, k in zip(lines, keep, strict=True) if k)
    expected = [CONTENT if k else CHROME for k in keep]
    assert align_lines(lines, clean).labels.tolist() == expected
