"""The compiled character pass against a plain-Python reference of the same counts and hashes."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from declutter import _kernel
from declutter import _unicode as uc
from declutter import features as F
from declutter import vocabulary as vocab

M64 = (1 << 64) - 1
M32 = (1 << 32) - 1
CODE: list[int] = F._CODE.tolist()
FOLD: list[int] = F._LOWER_FOLD.tolist()


def units_of(text: str) -> list[int]:
    return list(np.frombuffer(text.encode("utf-16-le", "surrogatepass"), dtype=np.uint16))


def mix(h: int) -> int:
    h ^= h >> 33
    h = (h * _kernel.MIX1) & M64
    h ^= h >> 33
    h = (h * _kernel.MIX2) & M64
    return h ^ (h >> 33)


def bucket(h: int, salt: int) -> int:
    return mix(h ^ salt) >> (64 - F.HASH_BITS)


def raw_hash(word: list[int]) -> int:
    return sum(FOLD[c] * pow(_kernel.BASE, k, 1 << 32) for k, c in enumerate(word)) & M32


def words_of(cu: list[int]) -> list[tuple[int, int]]:
    """(start, end) of every maximal run of \\w code units."""
    spans, start = [], None
    for i, c in enumerate([*cu, 10]):
        if CODE[c] & _kernel.WORD_FLAG:
            start = i if start is None else start
        elif start is not None:
            spans.append((start, i))
            start = None
    return spans


def word_list_bits() -> dict[int, int]:
    bits: dict[int, int] = {}
    lists = (vocab.ICON_WORDS, vocab.UI_WORDS, vocab.FUNCTION_WORDS, F._WEB_WORDS)
    for bit, words in zip((1, 2, 4, 8), lists, strict=True):
        cu = units_of("\n".join(words))
        for s, e in words_of(cu):
            h = raw_hash(cu[s:e])
            bits[h] = bits.get(h, 0) | bit
    return bits


WORD_LIST_BITS = word_list_bits()
ICON_SUFFIX = [FOLD[c] for c in units_of(vocab.ICON_SUFFIX)]


def reference(cu: list[int]) -> list[dict[str, Any]]:
    """Per-unit counts and hashes of code units ending with "\\n", one plain loop per question."""
    out = []
    start = 0
    salts = (_kernel.SALT_UNIGRAM, _kernel.SALT_BIGRAM, _kernel.SALT_FIRST, _kernel.SALT_LINE)
    while start < len(cu):
        end = cu.index(10, start)  # the unit is cu[start:end], then its "\n"
        text = cu[start:end]
        code = [CODE[c] for c in text]
        kind = [x & 15 for x in code]
        special = [(x >> 4) & 15 for x in code]
        vis = [i for i, x in enumerate(code) if x & _kernel.VISIBLE_FLAG]
        words = [text[s:e] for s, e in words_of(text)]
        raws = [raw_hash(w) for w in words]
        flags = [WORD_LIST_BITS.get(h, 0) for h in raws]
        u: dict[str, Any] = {
            "n_tokens": sum(1 for i in vis if i == 0 or i - 1 not in vis),
            "n_words": len(words),
            "word_chars": sum(map(len, words)),
            "cap_words": sum(kind[s] == uc.UPPER for s, _ in words_of(text)),
            "allcaps_words": sum(
                len(w) >= 2 and all(CODE[c] & _kernel.UPPER_FLAG for c in w) for w in words
            ),
            # Digit words are found by hash against "0" * n for n <= 64 (see features).
            "digit_words": sum(len(w) <= 64 and all(FOLD[c] == 48 for c in w) for w in words),
            "long_words": sum(len(w) >= F.LONG_WORD for w in words),
            "glued_icons": sum(
                len(w) > len(ICON_SUFFIX)
                and [FOLD[c] for c in w[-len(ICON_SUFFIX) :]] == ICON_SUFFIX
                for w in words
            ),
            "icon_words": sum(f & 1 > 0 for f in flags),
            "ui_words": sum(f & 2 > 0 for f in flags),
            "function_words": sum(f & 4 > 0 for f in flags),
            "web_words": sum(f & 8 > 0 for f in flags),
            "md_links": sum(
                1 for i, c in enumerate(text) if c == ord("]") and cu[start + i + 1] == ord("(")
            ),
            "first_kind": -1,
            "first_special": 0,
            "bullet_space": 0,
            "last_kind": -1,
            "last_special": 0,
            "ellipsis": 0,
        }
        if vis:
            first, last = vis[0], vis[-1]
            u["first_kind"], u["first_special"] = kind[first], special[first]
            after_first = kind[first + 1] if first + 1 < len(text) else uc.NEWLINE
            is_bullet = special[first] in (F.SP_BULLET, F.SP_BULLET_SEP)
            u["bullet_space"] = int(is_bullet and after_first == uc.SPACE)
            u["last_kind"] = kind[last]
            k = len(vis) - 1
            for _ in range(F.MAX_CLOSERS):
                if special[vis[k]] == F.SP_CLOSER and k > 0:
                    k -= 1
            sig = start + vis[k]
            u["last_special"] = special[vis[k]]
            before = cu[max(sig - 1, 0)]  # the chunk's first code unit stands for its own left
            u["ellipsis"] = int(cu[sig] == ord("…") or (cu[sig] == ord(".") and before == ord(".")))
        u["classes"] = np.bincount([*kind, uc.NEWLINE], minlength=16).tolist()
        u["specials"] = np.bincount([s for s in special if s], minlength=16).tolist()
        mixed = [mix(h) for h in raws]
        u["unit_hash"] = sum(mixed) & M64
        u["prefix_hash"] = sum(mixed[: F.PREFIX_WORDS]) & M64 if len(words) >= F.PREFIX_WORDS else 0
        bigrams = [(a * _kernel.BIGRAM_MULT + b) & M64 for a, b in itertools.pairwise(raws)]
        u["lex"] = (
            [bucket(h, salts[0]) for h in raws],
            [bucket(h, salts[1]) for h in bigrams],
            [bucket(h, salts[2]) for h in raws[:1]],
            [bucket(u["unit_hash"], salts[3])] if 0 < len(words) <= F.SHORT_UNIT_WORDS else [],
        )
        out.append(u)
        start = end + 1
    return out


def kernel(cu: list[int]) -> list[dict[str, Any]]:
    """The kernel's output in the reference's shape."""
    array = np.array(cu, dtype=np.uint16)
    n_units = cu.count(10)
    table = np.zeros((n_units, _kernel.N_COLUMNS), dtype=np.int32)
    unit_hash = np.zeros(n_units, dtype=np.uint64)
    prefix_hash = np.zeros(n_units, dtype=np.uint64)
    lex_rows, lex_buckets = F._CHAR_PASS.run(array, table, unit_hash, prefix_hash)
    assert table.shape[1] == _kernel.N_COLUMNS
    counts = table[:, : _kernel.CLASSES_AT]
    classes = table[:, _kernel.CLASSES_AT : _kernel.SPECIALS_AT]
    specials = table[:, _kernel.SPECIALS_AT :]
    out = []
    for unit in range(len(counts)):
        u: dict[str, Any] = {name: int(counts[unit, k]) for k, name in enumerate(_kernel.COUNTS)}
        u["classes"] = classes[unit].tolist()
        u["specials"] = specials[unit].tolist()
        u["unit_hash"] = int(unit_hash[unit])
        u["prefix_hash"] = int(prefix_hash[unit])
        u["lex"] = tuple(b[r == unit].tolist() for r, b in zip(lex_rows, lex_buckets, strict=True))
        out.append(u)
    for rows in lex_rows:
        assert (np.diff(rows) >= 0).all()
    return out


def assert_same(text: str) -> None:
    cu = units_of(text + "\n")
    want, got = reference(cu), kernel(cu)
    assert len(got) == len(want) == text.count("\n") + 1
    for unit, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g == w, (unit, {k: (g[k], w[k]) for k in w if g[k] != w[k]})


def test_count_names_are_the_references() -> None:
    names = set(reference(units_of("x\n"))[0]) - {"classes", "specials", "unit_hash"}
    names -= {"prefix_hash", "lex"}
    assert set(_kernel.COUNTS) == names
    assert _kernel.LEX_NAMESPACES == F.LEX_NAMESPACES


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Hello World.",
        '  • Home  |  About us\nHe said "yes."\' \n\n',
        "[link](http://example.com) searchicon 2022 ABC A x_y ...",
        "日本語のテキスト。\r\nfoo_bar\r\n\r…",
        ".",
        "\udcff\U0001f600 a\udcffb \ud83d",
        "a" * 200 + " " + "9" * 70 + " " + "0" * 64,
        "Read more » )]",
    ],
)
def test_fixed_examples(text: str) -> None:
    assert_same(text)


def test_counts_of_a_small_line() -> None:
    (u,) = kernel(units_of("• Hello WORLD, 42 times…\n"))
    assert u["n_words"] == 4 and u["n_tokens"] == 5 and u["word_chars"] == 17
    assert (u["cap_words"], u["allcaps_words"], u["digit_words"]) == (2, 1, 1)
    assert u["bullet_space"] == 1 and u["ellipsis"] == 1
    assert u["first_special"] == F.SP_BULLET_SEP and u["last_kind"] == uc.PUNCT


def test_word_hash_is_the_folded_polynomial() -> None:
    cu = np.array(units_of("Ab 19\n"), dtype=np.uint16)
    hashes = _kernel.word_hashes(cu, F._CODE, F._LOWER_FOLD).tolist()
    assert hashes == [(ord("a") + ord("b") * _kernel.BASE) & M32, (48 + 48 * _kernel.BASE) & M32]


def test_code_units_must_end_with_a_newline() -> None:
    table = np.zeros((1, _kernel.N_COLUMNS), dtype=np.int32)
    hashes = np.zeros(1, dtype=np.uint64)
    with pytest.raises(ValueError, match="newline"):
        F._CHAR_PASS.run(np.array(units_of("no newline"), dtype=np.uint16), table, hashes, hashes)


def test_outputs_need_a_row_for_every_unit() -> None:
    cu = np.array(units_of("a\nb\n"), dtype=np.uint16)
    table = np.zeros((2, _kernel.N_COLUMNS), dtype=np.int32)
    hashes = np.zeros(2, dtype=np.uint64)
    assert F._CHAR_PASS.run(cu, table, hashes, hashes.copy())[0][0].tolist() == [0, 1]
    with pytest.raises(ValueError, match="row for every unit"):
        F._CHAR_PASS.run(cu, table, hashes, hashes, first_unit=1)


def test_units_are_written_from_the_first_unit_on() -> None:
    cu = np.array(units_of("Hello there\n"), dtype=np.uint16)
    table = np.zeros((3, _kernel.N_COLUMNS), dtype=np.int32)
    unit_hash, prefix_hash = np.zeros(3, dtype=np.uint64), np.zeros(3, dtype=np.uint64)
    rows, _ = F._CHAR_PASS.run(cu, table, unit_hash, prefix_hash, first_unit=2)
    assert rows[0].tolist() == [2, 2] and rows[2].tolist() == [2]
    assert table[:2].sum() == 0 and table[2, _kernel.COUNTS.index("n_words")] == 2
    assert unit_hash[:2].tolist() == [0, 0] and unit_hash[2] != 0


pieces = st.one_of(
    st.text(st.characters(), max_size=12),
    st.integers(0xD800, 0xDFFF).map(chr),  # lone surrogates, as surrogateescape decodes bytes
    st.sampled_from(["\r", "\r\n", "\n", "\n\n", " ", "_", "…", ".", "..", "](", '"', ")", "•"]),
    st.sampled_from(["\u2022 ", "| ", "# ", "icon", "Icon", "www", "the", "menu", "\udcff"]),
    st.text(st.sampled_from("aZ09_"), min_size=12, max_size=140),
)


@settings(max_examples=300)
@given(st.lists(pieces, max_size=30).map("".join))
def test_kernel_matches_the_reference(text: str) -> None:
    assert_same(text)


def join_and_sample_reference(
    lines: list[list[int]], joins: list[bool], limit: int, head: int, tail: int
) -> tuple[list[int], list[int], list[int], list[bool]]:
    """Units of lines (code units without newlines), as plain lists."""
    lines = [list(line) for line in lines]
    joins = list(joins)
    for k in range(len(lines) - 1):
        visible = [c for c in lines[k + 1] if CODE[c] & _kernel.VISIBLE_FLAG]
        if joins[k] and (not visible or CODE[visible[0]] & _kernel.ITEM_FLAG):
            joins[k] = False
    out: list[int] = []
    lengths: list[int] = []
    line_unit: list[int] = []
    unit: list[int] = []
    for k, line in enumerate(lines):
        line_unit.append(len(lengths))
        unit += line + ([ord(" ")] if joins[k] else [])
        if joins[k]:
            continue
        lengths.append(len(unit))
        if len(unit) > limit:
            unit = [*unit[: head - 1], ord(" "), *unit[-tail:]]
        out += [*unit, 10]
        unit = []
    return out, lengths, line_unit, joins


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(
            st.lists(st.sampled_from(units_of("ab •#\u3000\udcff")), max_size=20), st.booleans()
        ),
        min_size=1,
    )
)
def test_join_and_sample_matches_the_reference(lines_joins: list[tuple[list[int], bool]]) -> None:
    lines = [line for line, _ in lines_joins]
    joins = [join for _, join in lines_joins[:-1]] + [False]
    limit, head, tail = 8, 4, 3
    cu = np.array([c for line in lines for c in [*line, 10]], dtype=np.uint16)
    nl = np.flatnonzero(cu == 10)
    flags = np.array(joins, dtype=np.uint8)
    got = _kernel.join_and_sample(cu, nl, flags, F._CODE, limit, head, tail)
    out, lengths, line_unit, kept_joins = join_and_sample_reference(lines, joins, limit, head, tail)
    assert got[0].tolist() == out
    assert got[1].tolist() == lengths
    assert got[2].tolist() == [min(n, head + tail) if n > limit else n for n in lengths]
    assert got[3].tolist() == line_unit
    assert got[4].tolist() == [k for k, join in enumerate(kept_joins) if not join]


@settings(max_examples=100)
@given(
    st.lists(st.integers(1, 6), max_size=6), st.lists(st.integers(-4, 4), min_size=1, max_size=4)
)
def test_neighbour_columns_stay_inside_pages(sizes: list[int], offsets: list[int]) -> None:
    page = [p for p, size in enumerate(sizes) for _ in range(size)]
    n, k = len(page), 2
    columns = np.arange(1, 1 + k * n, dtype=np.float32).reshape(k, n)
    before = np.array([page[:i].count(page[i]) for i in range(n)], dtype=np.int64)
    after = np.array([page[i + 1 :].count(page[i]) for i in range(n)], dtype=np.int64)
    dense = np.full((n, 1 + k * len(offsets)), -1, dtype=np.float32, order="F")
    offs = np.array(offsets, dtype=np.int64)
    assert _kernel.neighbour_columns(dense, 1, columns, offs, before, after) == dense.shape[1]
    want = [
        [-1.0]
        + [
            float(columns[j, i + off]) if 0 <= i + off < n and page[i + off] == page[i] else 0.0
            for off in offsets
            for j in range(k)
        ]
        for i in range(n)
    ]
    assert dense.tolist() == want


@settings(max_examples=200)
@given(st.lists(st.lists(pieces, max_size=8).map("".join), max_size=5))
def test_encode_lines_is_utf16_with_surrogates_passed(texts: list[str]) -> None:
    cu, nl, lines = _kernel.encode_lines(texts)
    want = units_of("\n".join(texts) + "\n") if texts else []
    assert cu.tolist() == want
    assert nl.tolist() == [i for i, c in enumerate(want) if c == 10]
    assert lines.tolist() == [text.count("\n") + 1 for text in texts]
