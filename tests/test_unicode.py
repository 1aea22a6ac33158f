from __future__ import annotations

import unicodedata

import pytest

from declutter import _unicode as uc

SHIPPED_UNICODE = "14.0.0"  # the Unicode version _unicode.bin was generated with


def test_shipped_tables_match_unicodedata() -> None:
    if unicodedata.unidata_version != SHIPPED_UNICODE:
        pytest.skip(f"tables were generated with Unicode {SHIPPED_UNICODE}")
    assert uc.shipped_table_is_current()


def test_classes_of_sample_characters() -> None:
    classes, lower = uc.load_tables()
    kinds = {ch: int(classes[ord(ch)]) & 15 for ch in "A a 中 ش 7 . € \n"}
    assert kinds == {
        "A": uc.UPPER,
        "a": uc.LOWER,
        " ": uc.SPACE,
        "中": uc.CJK,
        "ش": uc.LETTER,
        "7": uc.DIGIT,
        ".": uc.PUNCT,
        "€": uc.SYMBOL,
        "\n": uc.NEWLINE,
    }
    assert lower[ord("Ä")] == ord("ä")


def test_word_bit_matches_regex_word_characters() -> None:
    classes, _ = uc.load_tables()
    for ch in "a_9中é-. ":
        assert bool(classes[ord(ch)] & uc.WORD_BIT) == (ch.isalnum() or ch == "_")
