"""Turn page text into one row of numbers per line: the featurizer.

How it works, in order:

1. Each page is split into lines (:mod:`declutter.lines`). Lines that a hard-wrapping converter
   broke out of one paragraph are joined back into one *unit*; every other line is its own unit.
   Units are what the model scores; each line takes its unit's decision.
2. A *character pass*, one compiled loop (:mod:`declutter._kernel`), classifies every UTF-16
   code unit once through lookup tables (:mod:`declutter._unicode`) and counts per unit: each
   character class, tokens, ``\\w+`` words and their shapes, special punctuation, the first and
   last visible character, and a polynomial hash of every lower-cased word. The word hashes give
   the vocabulary densities (:mod:`declutter.vocabulary`), a hash of the whole unit for
   repetition, and hashed lexical features (unigrams, bigrams, first word, short whole lines).
   Speed is a feature (issue 4): no Python loop runs per line or per character.
3. A *unit pass* turns the counts into shape features, then adds context over the units of
   each page that carry words (*rows*): repetition in the page, position, blank lines around,
   neighbours' features at several offsets and windowed densities.

:func:`featurize` returns a :class:`Features` whose ``dense`` columns are named by
:data:`FEATURE_NAMES`. Blank lines and lines without a single word character get no row; the
cleaner decides them by their neighbours.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from declutter import _kernel
from declutter import _unicode as uc
from declutter import vocabulary as vocab
from declutter.lines import bodies_text, wrap_joins
from declutter.rows import page_room, window_means

F32 = npt.NDArray[np.float32]
I32 = npt.NDArray[np.int32]
I64 = npt.NDArray[np.int64]
U16 = npt.NDArray[np.uint16]
U64 = npt.NDArray[np.uint64]
BoolArr = npt.NDArray[np.bool_]

# --- tunables -------------------------------------------------------------------------------
CHUNK_CHARS = 1 << 18  # characters per character pass: bounds temporary memory (~20 MB)
# A long unit (a paragraph) is featurized from its first SAMPLE_HEAD and last SAMPLE_TAIL
# characters, with counts scaled up to its true length: shape statistics of a paragraph are
# settled long before its end, and the char pass then costs O(lines), not O(characters).
SAMPLE_HEAD = 80
SAMPLE_TAIL = 32
# At 128 the char pass scans 63% of the text of html-text dumps. Sampling from 96 (56%) cleaned
# ~4% faster but cost 0.005 word F1 on html2text dumps, whose joined paragraphs it cuts.
SAMPLE_LIMIT = 128
LONG_WORD = 13  # a "long word" has at least this many characters (URLs, glued sprite names)
SHORT_UNIT_WORDS = 4  # units with at most this many words also get a whole-line lexical feature
HASH_BITS = 18  # 262,144 buckets per lexical namespace: few collisions among line words
N_HASH = 1 << HASH_BITS
# Lexical namespaces: every word, adjacent word pairs, a unit's first word, and the whole unit
# when it has at most SHORT_UNIT_WORDS words ("read more", "share this").
LEX_NAMESPACES = ("word", "bigram", "first", "line")
NEIGHBOUR_OFFSETS = (-3, -2, -1, 1, 2, 3)  # rows before/after whose features each row sees
# Half-widths of windowed means around each row. No window of 2: inside a page its mean is
# exactly that of the row and its +-1, +-2 neighbour columns, so the fit could only tell it from
# them by the rows next to page edges; it gave it large opposite weights that did not cancel there
# (one fit scored a page's first line, a row of icon names, 0.86 where other fits gave 0.04).
# Without it, held-out WCXB dev page F1 rose by +0.0017, +0.0004, +0.0004 (paired SE
# 0.0002-0.0004) for three fitting seeds.
WINDOWS = (5, 12)
WORD_BINS = (2, 4, 8, 16, 32)  # "at least n words" indicators: menus are 1-3 words, prose 8+
PREFIX_WORDS = 4  # lines starting with the same this many words are near-duplicates
PREFIX_NEAR = 2  # ... when they are at most this many rows apart
REPEAT_NEAR = 3  # an exact repeat at most this many rows away is "nearby"
EDGE_ROWS = 8  # rows from the top or bottom of a page beyond which the distance stops counting
MAX_CLOSERS = 2  # closing quotes/brackets skipped to find how a line really ends (.")

# --- hashing (the hash functions are the kernel's: see declutter/_kernel.pyx) ----------------
_MIX1 = np.uint64(_kernel.MIX1)
_MIX2 = np.uint64(_kernel.MIX2)
_SALT_LINE = np.uint64(_kernel.SALT_LINE)

# --- character categories for punctuation that matters (exclusive, one per character) --------
SP_NONE, SP_TERMINAL, SP_CLOSER, SP_SEPARATOR, SP_BULLET, SP_BULLET_SEP = 0, 1, 2, 3, 4, 5
SP_COLON, SP_COMMA, SP_CJK_FUNCTION, SP_HASH, SP_AT, SP_PIPE = 6, 7, 8, 9, 10, 11
N_SPECIAL = 12


def _special_table() -> npt.NDArray[np.uint8]:
    table = np.zeros(uc.BMP + 1, dtype=np.uint8)
    groups = [
        (vocab.TERMINAL_CHARS, SP_TERMINAL),
        (vocab.CLOSING_CHARS, SP_CLOSER),
        (vocab.SEPARATOR_CHARS, SP_SEPARATOR),
        (vocab.BULLET_CHARS, SP_BULLET),
        (vocab.COLON_CHARS, SP_COLON),
        (vocab.COMMA_CHARS, SP_COMMA),
        (vocab.CJK_FUNCTION_CHARS, SP_CJK_FUNCTION),
        ("#", SP_HASH),
        ("@", SP_AT),
        ("|", SP_PIPE),
    ]
    for chars, category in groups:
        for ch in chars:
            code = ord(ch)
            both = {SP_SEPARATOR, SP_BULLET} == {int(table[code]), category}
            table[code] = SP_BULLET_SEP if both else category
    return table


_CLASS, _LOWER_BMP = uc.load_tables()


def _mix(h: U64) -> U64:
    """MurmurHash3's 64-bit finalizer, as the kernel computes it."""
    h = h ^ (h >> np.uint64(33))
    h = h * _MIX1
    h = h ^ (h >> np.uint64(33))
    h = h * _MIX2
    return np.asarray(h ^ (h >> np.uint64(33)), dtype=np.uint64)


# --- the character pass ----------------------------------------------------------------------
@dataclass(frozen=True)
class _UnitStats:
    """Per-unit counts from one character pass (rows = units, in text order); see
    :meth:`declutter._kernel.CharPass.run`."""

    table: I32  # (n, _kernel.N_COLUMNS): the named counts, the classes, the special categories
    unit_hash: U64  # order-free hash of the unit's words (0 when it has none)
    prefix_hash: U64  # hash of the unit's first PREFIX_WORDS words (0 when it has fewer)
    # Hashed lexical features per namespace (LEX_NAMESPACES): the unit of each occurrence
    # (ascending) and its bucket.
    lex_rows: tuple[I64, ...]
    lex_buckets: tuple[I32, ...]

    def count(self, name: str) -> I32:
        """One column of the table by its name in ``_kernel.COUNTS``."""
        return self.table[:, _COUNT_COLUMNS[name]]

    @property
    def classes(self) -> I32:
        """(n, N_CLASSES) counts of each character class."""
        return self.table[:, _kernel.CLASSES_AT : _kernel.CLASSES_AT + uc.N_CLASSES]

    @property
    def specials(self) -> I32:
        """(n, N_SPECIAL + 1) counts of each special category."""
        return self.table[:, _kernel.SPECIALS_AT : _kernel.SPECIALS_AT + N_SPECIAL + 1]


_COUNT_COLUMNS = {name: k for k, name in enumerate(_kernel.COUNTS)}
_WEB_WORDS = ("http", "https", "www", "com", "org", "net", "html", "php", "mailto")

# One 16-bit code per character packs all the passes ask of it, so that each question is a
# bit operation (the layout is the kernel's). Bits 0-3 hold the class, bits 4-7 the special
# category, the bits above are flags. "_" gets a category of its own because it is a word
# character (regex \w) without being a letter or digit.
SP_UNDERSCORE = N_SPECIAL
_KIND_MASK = _kernel.KIND_MASK
_SPECIAL_SHIFT = _kernel.SPECIAL_SHIFT
_SPECIAL_MASK = _kernel.SPECIAL_MASK
_VISIBLE_FLAG = _kernel.VISIBLE_FLAG
_ITEM_FLAG = _kernel.ITEM_FLAG
_WORD_KINDS = (uc.UPPER, uc.LOWER, uc.LETTER, uc.CJK, uc.DIGIT)
# Characters that open a list item or heading. Every character with the class and category of
# one of them counts too, so all uncategorized symbols do, like ">": "$5 million" does not
# continue a wrapped paragraph. Matching these characters alone measured +0.002 held-out F1,
# but the model retrained with it kept two chrome lines of the rt-capture regression page.
_ITEM_CHARS = (*vocab.BULLET_CHARS, "#", "|", ">")
assert uc.N_CLASSES <= _KIND_MASK + 1 and SP_UNDERSCORE <= _SPECIAL_MASK >> _SPECIAL_SHIFT


def _code_table() -> npt.NDArray[np.uint16]:
    special = _special_table()[: uc.BMP].astype(np.uint16)
    special[ord("_")] = SP_UNDERSCORE
    kind = (_CLASS[: uc.BMP] & 15).astype(np.uint16)
    code = ((special << _SPECIAL_SHIFT) | kind).astype(np.uint16)
    code[np.isin(code, code[[ord(ch) for ch in _ITEM_CHARS]])] |= _ITEM_FLAG
    word = np.isin(kind, _WORD_KINDS) | (special == SP_UNDERSCORE)
    code[word] |= _kernel.WORD_FLAG
    code[(kind != uc.SPACE) & (kind != uc.NEWLINE)] |= _VISIBLE_FLAG
    code[kind == uc.UPPER] |= _kernel.UPPER_FLAG
    code[kind == uc.SPACE] |= _kernel.SPACE_FLAG
    code[special == SP_CLOSER] |= _kernel.CLOSER_FLAG
    code[(special == SP_BULLET) | (special == SP_BULLET_SEP)] |= _kernel.BULLET_FLAG
    return np.asarray(code, dtype=np.uint16)


_CODE = _code_table()


# Lower-case with digits folded to "0" ("2022" and "1999" hash alike), as 32-bit code units.
_LOWER_FOLD = np.where((_CLASS[: uc.BMP] & 15) == uc.DIGIT, ord("0"), _LOWER_BMP).astype(np.uint32)


def _word_hashes(words: Sequence[str]) -> U64:
    """Raw hashes of the given words, computed by the same code as page words."""
    # UTF-16 code units index the BMP tables directly; a character outside the BMP becomes two
    # surrogate units, classed OTHER, which is all the featurizer needs to know about it.
    return _kernel.word_hashes(_kernel.encode_lines(list(words))[0], _CODE, _LOWER_FOLD)


VOCAB_ICON, VOCAB_UI = _kernel.VOCAB_ICON, _kernel.VOCAB_UI
VOCAB_FUNCTION, VOCAB_WEB = _kernel.VOCAB_FUNCTION, _kernel.VOCAB_WEB
_VOCAB_SLOT_BITS = 16  # 65,536 slots for ~700 words: each word finds one of its two slots free


def _vocab_slots(mixed: U64) -> tuple[U64, U64]:
    mask = np.uint64((1 << _VOCAB_SLOT_BITS) - 1)
    return mixed >> np.uint64(64 - _VOCAB_SLOT_BITS), (mixed >> np.uint64(16)) & mask


def _vocab_tables() -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint8]]:
    """A two-choice hash table from word hash to VOCAB_* bits, for exact O(1) lookups."""
    flags: dict[int, int] = {}
    lists = (vocab.ICON_WORDS, vocab.UI_WORDS, vocab.FUNCTION_WORDS, _WEB_WORDS)
    for bit, words in zip((VOCAB_ICON, VOCAB_UI, VOCAB_FUNCTION, VOCAB_WEB), lists, strict=True):
        for h in _word_hashes(sorted(words)).tolist():
            flags[h] = flags.get(h, 0) | bit
    size = 1 << _VOCAB_SLOT_BITS
    keys = np.zeros(size, dtype=np.uint32)
    bits = np.zeros(size, dtype=np.uint8)  # 0 marks a free slot: every word has some bit
    hashes = np.array(sorted(flags), dtype=np.uint64)
    slots = _vocab_slots(_mix(hashes))
    for h, s1, s2 in zip(hashes.tolist(), *(x.tolist() for x in slots), strict=True):
        slot = s1 if bits[s1] == 0 else s2
        if bits[slot] != 0:
            raise RuntimeError("vocabulary hash table is full; raise _VOCAB_SLOT_BITS")
        keys[slot], bits[slot] = h, flags[h]
    return keys, bits


def _kernel_pass() -> _kernel.CharPass:
    keys, bits = _vocab_tables()
    # The hash of "0" * n at index n: a word of digits only hashes like that (digits are folded
    # before hashing). Words longer than 64 are compared with the last entry.
    zeros = np.concatenate([[np.uint64(0)], _word_hashes(["0" * n for n in range(1, 65)])])
    return _kernel.CharPass(
        _CODE,
        _LOWER_FOLD,
        keys,
        bits,
        zeros.astype(np.uint64),
        int(_word_hashes([vocab.ICON_SUFFIX])[0]),
        len(vocab.ICON_SUFFIX),
        long_word=LONG_WORD,
        short_unit_words=SHORT_UNIT_WORDS,
        prefix_words=PREFIX_WORDS,
        max_closers=MAX_CLOSERS,
        hash_bits=HASH_BITS,
    )


_CHAR_PASS = _kernel_pass()


def _char_pass(chunks: Sequence[_Chunk]) -> _UnitStats:
    """Count per unit of the chunks' code units, into one table; see :class:`_UnitStats`."""
    n_units = sum(len(c.lengths) for c in chunks)
    table = np.zeros((n_units, _kernel.N_COLUMNS), dtype=np.int32)
    unit_hash = np.zeros(n_units, dtype=np.uint64)
    prefix_hash = np.zeros(n_units, dtype=np.uint64)
    parts = []
    first = 0
    for chunk in chunks:
        parts.append(_CHAR_PASS.run(chunk.cu, table, unit_hash, prefix_hash, first))
        first += len(chunk.lengths)
    return _UnitStats(
        table,
        unit_hash,
        prefix_hash,
        lex_rows=tuple(np.concatenate([p[0][k] for p in parts]) for k in range(len(parts[0][0]))),
        lex_buckets=tuple(
            np.concatenate([p[1][k] for p in parts]) for k in range(len(parts[0][1]))
        ),
    )


# --- pages into units ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Chunk:
    """Code units of some pages' units (wrapped lines joined, long units sampled)."""

    cu: npt.NDArray[np.uint16]
    lengths: I64  # true character length of each unit
    sampled: I64  # length of each unit as featurized
    line_unit: I64  # chunk-local unit of each line
    unit_page: I64  # page of each unit


def _pieces(bodies: Sequence[str | None]) -> Iterator[list[tuple[int, str]]]:
    """Group pages' bodies into chunks of about CHUNK_CHARS; huge pages split at newlines."""
    pending: list[tuple[int, str]] = []
    size = 0
    for page, body in enumerate(bodies):
        if body is None:
            continue
        start = 0
        while True:
            stop = len(body)
            if stop - start > CHUNK_CHARS:
                cut = body.rfind("\n", start, start + CHUNK_CHARS)
                stop = cut if cut > start else body.find("\n", start + CHUNK_CHARS)
                stop = len(body) if stop < 0 else stop
            pending.append((page, body[start:stop]))
            size += stop - start + 1
            if size >= CHUNK_CHARS:
                yield pending
                pending, size = [], 0
            if stop >= len(body):
                break
            start = stop + 1
    if pending:
        yield pending


def _prepare(pieces: list[tuple[int, str]]) -> _Chunk:
    """Join hard-wrapped lines into units and sample long units (see _kernel.join_and_sample).

    A list item or heading never continues the line before it, and neither does a line of
    spaces only. A long unit keeps its first SAMPLE_HEAD and last SAMPLE_TAIL characters, a
    space between.
    """
    cu, nl, piece_lines = _kernel.encode_lines([text for _, text in pieces])
    line_len = np.diff(nl, prepend=-1) - 1
    line_piece = np.repeat(np.arange(len(pieces)), piece_lines)
    joins = wrap_joins(line_len, line_piece).view(np.uint8)
    cu, lengths, sampled, line_unit, unit_last_line = _kernel.join_and_sample(
        cu, nl, joins, _CODE, SAMPLE_LIMIT, SAMPLE_HEAD, SAMPLE_TAIL
    )
    pages = np.array([page for page, _ in pieces], dtype=np.int64)
    return _Chunk(cu, lengths, sampled, line_unit, pages[line_piece[unit_last_line]])


# --- feature names ---------------------------------------------------------------------------
BASE_FEATURES = (
    "log_chars",
    "log_tokens",
    "log_units",
    *(f"words_ge_{edge}" for edge in WORD_BINS),
    "frac_upper",
    "frac_lower",
    "frac_uncased",
    "frac_cjk",
    "frac_digit",
    "frac_punct",
    "frac_symbol",
    "frac_other",
    "has_private_use",
    "mean_word_len",
    "mean_token_len",
    "frac_cap_words",
    "frac_allcaps_words",
    "frac_digit_words",
    "frac_long_words",
    "icon_density",
    "has_glued_icon",
    "ui_density",
    "has_ui_word",
    "function_density",
    "cjk_function_density",
    "web_density",
    "ends_terminal",
    "ends_colon",
    "ends_comma",
    "ends_word",
    "ends_digit",
    "ends_closer",
    "ends_ellipsis",
    "starts_upper",
    "starts_lower",
    "starts_digit",
    "starts_bullet",
    "starts_hash",
    "starts_pipe",
    "starts_punct_symbol",
    "log_sentences",
    "separators_per_token",
    "commas_per_word",
    "colons",
    "links_per_word",
    "has_at",
    "log_wrapped_lines",
    "log_repeats",
    "first_occurrence",
    "repeats_nearby",
    "same_as_previous",
    "same_start_nearby",
    "blank_before",
    "blank_after",
    "log_block_rows",
    "log_block_words",
    "block_first",
    "block_last",
    "rel_position",
    "rel_char_position",
    "log_rows_before",
    "log_rows_after",
    "units_minus_page_mean",
)
NEIGHBOUR_FEATURES = (
    "log_units",
    "ends_terminal",
    "function_density",
    "ui_density",
    "frac_digit",
    "separators_per_token",
    "links_per_word",
    "frac_cap_words",
    "blank_before",
)
WINDOW_FEATURES = ("log_units", "ends_terminal", "function_density", "ui_density", "links_per_word")
# Page size is left out on purpose: how much chrome a dump holds depends on the tool that made
# it (html dumps carry hidden menus, a browser copy does not), so absolute sizes do not transfer.
PAGE_FEATURES = ("page_mean_terminal", "page_wrapped")
FEATURE_NAMES: tuple[str, ...] = (
    BASE_FEATURES
    + tuple(f"{name}@{off:+d}" for off in NEIGHBOUR_OFFSETS for name in NEIGHBOUR_FEATURES)
    + tuple(f"{name}~{w}" for w in WINDOWS for name in WINDOW_FEATURES)
    + PAGE_FEATURES
)
N_FEATURES = len(FEATURE_NAMES)
_FEATURE_INDEX = {name: k for k, name in enumerate(FEATURE_NAMES)}


@dataclass(frozen=True)
class Features:
    """Features of a batch of pages. Rows are the units that contain at least one word.

    ``dense`` has one column per name in :data:`FEATURE_NAMES`. The hashed lexical features
    are, per namespace of :data:`LEX_NAMESPACES`, the row of every occurrence (ascending) in
    ``lex_rows[k]`` and its bucket in ``range(N_HASH)`` in ``lex_buckets[k]``. ``line_rows``
    maps every input line to its row, or -1 for blank lines (``line_blank``) and lines
    without any word character. Pages are the slices ``page_lines[p]:page_lines[p + 1]`` of
    lines and ``page_rows[p]:page_rows[p + 1]`` of rows.
    """

    dense: F32
    lex_rows: tuple[I64, ...]
    lex_buckets: tuple[I32, ...]
    line_rows: I64
    line_blank: BoolArr
    page_lines: I64
    page_rows: I64
    row_words: F32  # words per row (CJK characters count half a word): weights for decoding

    @property
    def n_rows(self) -> int:
        return int(self.dense.shape[0])

    def column(self, name: str) -> F32:
        """The dense column named ``name`` (of :data:`FEATURE_NAMES`), shape ``(n_rows,)``;
        ``KeyError`` for other names."""
        return self.dense[:, _FEATURE_INDEX[name]]


def _safe_div(a: npt.ArrayLike, b: npt.ArrayLike) -> F32:
    num = np.asarray(a, dtype=np.float32)
    den = np.asarray(b, dtype=np.float32)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def _fill_context(dense: F32, f: dict[str, F32], before: I64, after: I64) -> None:
    """Write the neighbour and window columns of ``dense`` (after the base columns)."""
    neighbours = np.stack([f[name] for name in NEIGHBOUR_FEATURES])
    offsets = np.array(NEIGHBOUR_OFFSETS, dtype=np.int64)
    col = _kernel.neighbour_columns(dense, len(BASE_FEATURES), neighbours, offsets, before, after)
    windowed = np.stack([f[name] for name in WINDOW_FEATURES], axis=1)
    means = window_means(windowed, WINDOWS, before, after)
    for half in WINDOWS:
        dense[:, col : col + len(WINDOW_FEATURES)] = means[half]
        col += len(WINDOW_FEATURES)


def featurize(pages: Sequence[str]) -> Features:
    """Featurize a batch of pages (any line endings); see :class:`Features`.

    Batching many small pages in one call is much faster than one call per page.
    """
    bodies = [bodies_text(text) if text else None for text in pages]
    n_lines = np.array([0 if b is None else b.count("\n") + 1 for b in bodies], dtype=np.int64)
    page_lines = np.concatenate([[0], np.cumsum(n_lines)])
    chunks = [_prepare(pieces) for pieces in _pieces(bodies)]
    if not chunks:
        return _empty(page_lines, len(pages))
    stats = _char_pass(chunks)
    unit_offsets = np.cumsum([0] + [len(c.lengths) for c in chunks[:-1]])
    line_unit = np.concatenate(
        [c.line_unit + off for c, off in zip(chunks, unit_offsets, strict=True)]
    )
    lengths = np.concatenate([c.lengths for c in chunks])
    scale = lengths / np.maximum(np.concatenate([c.sampled for c in chunks]), 1)
    unit_page = np.concatenate([c.unit_page for c in chunks])
    n_phys = np.bincount(line_unit, minlength=len(lengths))
    page_wrapped = np.bincount(unit_page, weights=n_phys > 1, minlength=len(pages)) > 0
    return _unit_pass(stats, lengths, scale, unit_page, n_phys, page_wrapped, line_unit, page_lines)


def _empty(page_lines: I64, n_pages: int) -> Features:
    return Features(
        dense=np.zeros((0, N_FEATURES), dtype=np.float32),
        lex_rows=tuple(np.zeros(0, dtype=np.int64) for _ in LEX_NAMESPACES),
        lex_buckets=tuple(np.zeros(0, dtype=np.int32) for _ in LEX_NAMESPACES),
        line_rows=np.full(int(page_lines[-1]), -1, dtype=np.int64),
        line_blank=np.ones(int(page_lines[-1]), dtype=bool),
        page_lines=page_lines,
        page_rows=np.zeros(n_pages + 1, dtype=np.int64),
        row_words=np.zeros(0, dtype=np.float32),
    )


def _select_rows(st: _UnitStats, rows: I64) -> _UnitStats:
    """The per-unit arrays of ``st`` at ``rows`` (lexical occurrences are left as they are)."""
    fields: dict[str, object] = {}
    for name in _UnitStats.__dataclass_fields__:
        value = getattr(st, name)
        fields[name] = value if name.startswith("lex_") else value[rows]
    return _UnitStats(**fields)  # type: ignore[arg-type]


def _unit_pass(
    st: _UnitStats,
    lengths: I64,
    scale: npt.NDArray[np.float64],
    unit_page: I64,
    n_phys: I64,
    page_wrapped: BoolArr,
    line_unit: I64,
    page_lines: I64,
) -> Features:
    n_pages = len(page_lines) - 1
    blank_unit = st.count("first_kind") < 0
    is_row = st.count("n_words") > 0
    rows = np.flatnonzero(is_row)
    unit_row = np.full(len(is_row), -1, dtype=np.int64)
    unit_row[rows] = np.arange(len(rows))
    page = unit_page[rows]
    page_rows = np.concatenate([[0], np.cumsum(np.bincount(page, minlength=n_pages))])
    before, after = page_room(page_rows)
    # Shape features are computed for rows only (units with words).
    unit_lengths = lengths
    st = _select_rows(st, rows)
    lengths, scale, n_phys = lengths[rows], scale[rows], n_phys[rows]
    n_words = st.count("n_words")
    c = st.classes.astype(np.float32)

    def r(a: npt.ArrayLike) -> F32:
        return np.asarray(a, dtype=np.float32)

    # Counts of sampled units are scaled to their true length; shares need no scaling.
    visible = c[:, uc.UPPER :].sum(axis=1) - c[:, uc.NEWLINE]
    words = (n_words * scale).astype(np.float32)
    tokens = (st.count("n_tokens") * scale).astype(np.float32)
    cjk = c[:, uc.CJK]
    text_units = words + (0.5 * cjk * scale).astype(np.float32)
    sp = st.specials.astype(np.float32)
    f: dict[str, F32] = {}
    f["log_chars"] = r(np.log1p(lengths))
    f["log_tokens"] = r(np.log1p(tokens))
    f["log_units"] = r(np.log1p(text_units))
    for edge in WORD_BINS:
        f[f"words_ge_{edge}"] = r(text_units >= edge)
    f["frac_upper"] = r(_safe_div(c[:, uc.UPPER], visible))
    f["frac_lower"] = r(_safe_div(c[:, uc.LOWER], visible))
    f["frac_uncased"] = r(_safe_div(c[:, uc.LETTER] + c[:, uc.MARK], visible))
    f["frac_cjk"] = r(_safe_div(cjk, visible))
    f["frac_digit"] = r(_safe_div(c[:, uc.DIGIT], visible))
    f["frac_punct"] = r(_safe_div(c[:, uc.PUNCT], visible))
    f["frac_symbol"] = r(_safe_div(c[:, uc.SYMBOL], visible))
    f["frac_other"] = r(_safe_div(c[:, uc.OTHER] + c[:, uc.PRIVATE], visible))
    f["has_private_use"] = r(c[:, uc.PRIVATE] > 0)
    f["mean_word_len"] = r(_safe_div(st.count("word_chars"), n_words) / 10)
    f["mean_token_len"] = r(_safe_div(visible, st.count("n_tokens")) / 10)
    f["frac_cap_words"] = r(_safe_div(st.count("cap_words"), n_words))
    f["frac_allcaps_words"] = r(_safe_div(st.count("allcaps_words"), n_words))
    f["frac_digit_words"] = r(_safe_div(st.count("digit_words"), n_words))
    f["frac_long_words"] = r(_safe_div(st.count("long_words"), n_words))
    f["icon_density"] = r(_safe_div(st.count("icon_words") + st.count("glued_icons"), n_words))
    f["has_glued_icon"] = r(st.count("glued_icons") > 0)
    f["ui_density"] = r(_safe_div(st.count("ui_words"), n_words))
    f["has_ui_word"] = r(st.count("ui_words") > 0)
    f["function_density"] = r(_safe_div(st.count("function_words"), n_words))
    f["cjk_function_density"] = r(_safe_div(sp[:, SP_CJK_FUNCTION], cjk))
    f["web_density"] = r(_safe_div(st.count("web_words"), n_words))
    last = st.count("last_special")
    f["ends_terminal"] = r(last == SP_TERMINAL)
    f["ends_colon"] = r(last == SP_COLON)
    f["ends_comma"] = r(last == SP_COMMA)
    last_kind = st.count("last_kind")
    f["ends_word"] = r((last_kind >= uc.UPPER) & (last_kind <= uc.CJK))
    f["ends_digit"] = r(last_kind == uc.DIGIT)
    f["ends_closer"] = r(last == SP_CLOSER)
    f["ends_ellipsis"] = r(st.count("ellipsis"))
    first_kind = st.count("first_kind")
    f["starts_upper"] = r(first_kind == uc.UPPER)
    f["starts_lower"] = r(first_kind == uc.LOWER)
    f["starts_digit"] = r(first_kind == uc.DIGIT)
    bullet_space = st.count("bullet_space") > 0
    f["starts_bullet"] = r(bullet_space)
    f["starts_hash"] = r(st.count("first_special") == SP_HASH)
    f["starts_pipe"] = r(st.count("first_special") == SP_PIPE)
    f["starts_punct_symbol"] = r(
        ((first_kind == uc.PUNCT) | (first_kind == uc.SYMBOL)) & ~bullet_space
    )
    f["log_sentences"] = r(np.log1p(sp[:, SP_TERMINAL] * scale))
    separators = sp[:, SP_SEPARATOR] + sp[:, SP_BULLET_SEP] + sp[:, SP_PIPE]
    f["separators_per_token"] = r(_safe_div(separators, st.count("n_tokens")))
    f["commas_per_word"] = r(_safe_div(sp[:, SP_COMMA], n_words))
    f["colons"] = r(np.minimum(sp[:, SP_COLON] * scale, 3) / 3)
    f["links_per_word"] = r(_safe_div(st.count("md_links"), n_words))
    f["has_at"] = r(sp[:, SP_AT] > 0)
    f["log_wrapped_lines"] = r(np.log(np.maximum(n_phys, 1)))

    # Repetition inside the page: a line seen again (a headline in a card and in the article,
    # a menu repeated in the footer) is evidence of chrome; "Headline / Headline" pairs too.
    # One stable sort by (page, line) key: equal keys end up adjacent, in page order.
    key = _mix(st.unit_hash + page.astype(np.uint64) * _SALT_LINE)
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    same = sorted_key[1:] == sorted_key[:-1]
    group_start = np.r_[True, ~same]
    group_id = np.cumsum(group_start) - 1
    counts = np.bincount(group_id)
    repeats = np.empty(len(rows), dtype=np.int64)
    repeats[order] = counts[group_id]
    f["log_repeats"] = np.log(repeats).astype(np.float32)
    first_occurrence = np.empty(len(rows), dtype=bool)
    first_occurrence[order] = group_start
    gap = np.where(same, np.diff(order), np.iinfo(np.int64).max)
    nearest = np.full(len(rows), np.iinfo(np.int64).max, dtype=np.int64)
    nearest[order[1:]] = gap
    nearest[order[:-1]] = np.minimum(nearest[order[:-1]], gap)
    # Which copy comes first matters for repeats far apart (a headline, then the same headline
    # in a "most read" list) but not for a card's twin lines: nearby copies are all "not first".
    f["first_occurrence"] = (first_occurrence & (nearest > REPEAT_NEAR)).astype(np.float32)
    f["repeats_nearby"] = (nearest <= REPEAT_NEAR).astype(np.float32)
    prev_same = np.zeros(len(rows), dtype=bool)
    prev_same[1:] = (key[1:] == key[:-1]) & (page[1:] == page[:-1])
    f["same_as_previous"] = prev_same.astype(np.float32)
    # Near-duplicates: a card's headline and the same headline with a label or teaser added.
    prefix = st.prefix_hash
    near = np.zeros(len(rows), dtype=bool)
    for off in range(1, PREFIX_NEAR + 1):
        match = (prefix[off:] == prefix[:-off]) & (prefix[off:] != 0) & (page[off:] == page[:-off])
        near[off:] |= match
        near[:-off] |= match
    f["same_start_nearby"] = near.astype(np.float32)

    # Blank lines and blocks (runs of lines between blank lines).
    n_units = len(blank_unit)
    unit_first = np.zeros(n_units, dtype=bool)
    unit_first[0] = True
    unit_first[1:] = unit_page[1:] != unit_page[:-1]
    unit_last = np.zeros(n_units, dtype=bool)
    unit_last[-1] = True
    unit_last[:-1] = unit_first[1:]
    blank_before = unit_first.copy()
    blank_before[1:] |= blank_unit[:-1]
    blank_after = unit_last.copy()
    blank_after[:-1] |= blank_unit[1:]
    f["blank_before"] = r(blank_before[rows])
    f["blank_after"] = r(blank_after[rows])
    block = np.cumsum(blank_before)[rows]
    block_rows = np.bincount(block, minlength=int(block.max(initial=0)) + 1)[block]
    block_words = np.bincount(block, weights=words)[block]
    f["log_block_rows"] = np.log(np.maximum(block_rows, 1)).astype(np.float32)
    f["log_block_words"] = np.log1p(block_words).astype(np.float32)
    first_in_block = np.ones(len(rows), dtype=bool)
    first_in_block[1:] = block[1:] != block[:-1]
    last_in_block = np.ones(len(rows), dtype=bool)
    last_in_block[:-1] = block[1:] != block[:-1]
    f["block_first"] = first_in_block.astype(np.float32)
    f["block_last"] = last_in_block.astype(np.float32)

    # Position in the page.
    n_in_page = (before + after + 1).astype(np.float32)
    f["rel_position"] = _safe_div(before, np.maximum(n_in_page - 1, 1))
    chars_cs = np.cumsum(unit_lengths + 1)
    unit_start_char = (chars_cs - (unit_lengths + 1))[rows]
    page_first_unit = np.concatenate([[0], np.cumsum(np.bincount(unit_page, minlength=n_pages))])
    page_start_char = np.concatenate([[0], chars_cs])[page_first_unit[:-1]]
    page_chars = np.concatenate([[0], chars_cs])[page_first_unit[1:]] - page_start_char
    f["rel_char_position"] = r(_safe_div(unit_start_char - page_start_char[page], page_chars[page]))
    # Distances to the page's edges matter only close to them: capped (see PAGE_FEATURES).
    f["log_rows_before"] = np.log1p(np.minimum(before, EDGE_ROWS)).astype(np.float32)
    f["log_rows_after"] = np.log1p(np.minimum(after, EDGE_ROWS)).astype(np.float32)
    page_sum_units = np.bincount(page, weights=f["log_units"], minlength=n_pages)
    page_mean_units = _safe_div(page_sum_units, np.diff(page_rows))[page]
    f["units_minus_page_mean"] = f["log_units"] - page_mean_units

    if tuple(f) != BASE_FEATURES:  # names and columns in the same order, or no features
        raise RuntimeError("BASE_FEATURES out of step with the columns computed")
    dense = np.empty((len(rows), N_FEATURES), dtype=np.float32, order="F")
    for k, name in enumerate(BASE_FEATURES):
        dense[:, k] = f[name]
    _fill_context(dense, f, before, after)
    page_n = np.diff(page_rows).astype(np.float32)
    page_terminal = np.bincount(page, weights=f["ends_terminal"], minlength=n_pages)
    page_cols = [_safe_div(page_terminal, page_n), page_wrapped.astype(np.float32)]
    first_page_col = N_FEATURES - len(PAGE_FEATURES)
    for k, values in enumerate(page_cols):
        dense[:, first_page_col + k] = values[page]

    # Every lexical occurrence belongs to a unit with words, hence to a row.
    return Features(
        dense=dense,
        lex_rows=tuple(unit_row[rows_k] for rows_k in st.lex_rows),
        lex_buckets=st.lex_buckets,
        line_rows=unit_row[line_unit],
        line_blank=blank_unit[line_unit],
        page_lines=page_lines,
        page_rows=page_rows,
        row_words=r(text_units),
    )
