"""Turn page text into one row of numbers per line: the featurizer.

How it works, in order:

1. Each page is split into lines (:mod:`declutter.lines`). Lines that a hard-wrapping converter
   broke out of one paragraph are joined back into one *unit*; every other line is its own unit.
   Units are what the model scores; each line takes its unit's decision.
2. A *character pass* classifies every UTF-16 code unit once through lookup tables
   (:mod:`declutter._unicode`) and reduces per unit with cumulative sums: counts of each
   character class, tokens, ``\\w+`` words and their shapes, special punctuation, the first and
   last visible character, and a rolling hash of every lower-cased word. The word hashes give
   the vocabulary densities (:mod:`declutter.vocabulary`), a hash of the whole unit for
   repetition, and hashed lexical features (unigrams, bigrams, first word, short whole lines).
   There is no per-line Python loop: speed is a feature (issue 4).
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

from declutter import _unicode as uc
from declutter import vocabulary as vocab
from declutter.lines import bodies_text, wrap_joins
from declutter.rows import page_room, shifted, window_means

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

# --- hashing ---------------------------------------------------------------------------------
_BASE = 0x01000193  # FNV-1 32-bit prime: odd, hence invertible modulo 2**32
_INV_BASE = pow(_BASE, -1, 1 << 32)
_MIX1 = np.uint64(0xFF51AFD7ED558CCD)  # MurmurHash3 fmix64 constants
_MIX2 = np.uint64(0xC4CEB9FE1A85EC53)
_SALT_UNIGRAM = np.uint64(0x9E3779B97F4A7C15)  # golden-ratio salts keep namespaces apart
_SALT_BIGRAM = np.uint64(0x3C6EF372FE94F82A)
_SALT_FIRST = np.uint64(0xDAA66D2C7DDF743F)
_SALT_LINE = np.uint64(0x78DDE6E5FD29F05C)
_BIGRAM_MULT = np.uint64(0x2545F4914F6CDD1D)

# --- character categories for punctuation that matters (exclusive, one bincount) -------------
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
_pow_cache: dict[str, npt.NDArray[np.uint32]] = {}


def _powers(n: int) -> tuple[npt.NDArray[np.uint32], npt.NDArray[np.uint32]]:
    """BASE**i and BASE**-i modulo 2**32 for i < n (cached, grown by doubling).

    Word hashes are polynomial in 32-bit arithmetic: enough to bucket words and to compare
    them, at half the memory traffic of 64 bits.
    """
    have = _pow_cache.get("base")
    if have is None or len(have) < n:
        size = max(n, 2 * (0 if have is None else len(have)), 1 << 12)
        base = np.full(size, _BASE, dtype=np.uint32)
        base[0] = 1
        inv = np.full(size, _INV_BASE, dtype=np.uint32)
        inv[0] = 1
        _pow_cache["base"] = np.cumprod(base, dtype=np.uint32)
        _pow_cache["inv"] = np.cumprod(inv, dtype=np.uint32)
    return _pow_cache["base"], _pow_cache["inv"]


def _mix(h: U64) -> U64:
    """MurmurHash3's 64-bit finalizer: spreads every input bit over the high bits we bucket."""
    h = h ^ (h >> np.uint64(33))
    h = h * _MIX1
    h = h ^ (h >> np.uint64(33))
    h = h * _MIX2
    return np.asarray(h ^ (h >> np.uint64(33)), dtype=np.uint64)


def _bucket(h: U64, salt: np.uint64) -> I32:
    return np.asarray(_mix(h ^ salt) >> np.uint64(64 - HASH_BITS), dtype=np.int32)


# --- the character pass ----------------------------------------------------------------------
@dataclass(frozen=True)
class _UnitStats:
    """Per-unit counts from one character pass (rows = units, in text order)."""

    classes: npt.NDArray[np.int16]  # (n, N_CLASSES) counts of each character class
    specials: npt.NDArray[np.int16]  # (n, N_SPECIAL + 1) counts of each special category
    n_tokens: I64
    n_words: I64
    word_chars: I64
    cap_words: I64
    allcaps_words: I64
    digit_words: I64
    long_words: I64
    icon_words: I64
    glued_icons: I64
    ui_words: I64
    function_words: I64
    web_words: I64
    md_links: I64
    first_kind: I64  # class of the first visible character (-1 when blank)
    first_special: I64
    bullet_space: BoolArr  # first visible character is a bullet followed by a space
    last_kind: I64
    last_special: I64  # special category of the last visible non-closing character
    ellipsis: BoolArr
    unit_hash: U64  # order-free hash of the unit's words (0 when it has none)
    prefix_hash: U64  # hash of the unit's first PREFIX_WORDS words (0 when it has fewer)
    # Hashed lexical features per namespace (LEX_NAMESPACES): the unit of each occurrence
    # (ascending) and its bucket.
    lex_rows: tuple[I64, ...]
    lex_buckets: tuple[I32, ...]


_WEB_WORDS = ("http", "https", "www", "com", "org", "net", "html", "php", "mailto")

# One 16-bit code per character packs all the passes ask of it, so that each question is a
# bit operation: a table lookup costs ~2 ns a character, a bit test ~0.1 ns (issue 4's profile).
# Bits 0-3 hold the class, bits 4-7 the special category, the bits above are flags. "_" gets a
# category of its own because it is a word character (regex \w) without being a letter or digit.
SP_UNDERSCORE = N_SPECIAL
_KIND_MASK = 0x000F
_SPECIAL_SHIFT = 4
_SPECIAL_MASK = 0x00F0
_WORD_FLAG = 1 << 8  # a \w character: letters, digits and "_"
_VISIBLE_FLAG = 1 << 9  # neither a space nor the newline
_UPPER_FLAG = 1 << 10
_ITEM_FLAG = 1 << 11  # may open a list item or heading: never continues a wrapped line
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
    code[word] |= _WORD_FLAG
    code[(kind != uc.SPACE) & (kind != uc.NEWLINE)] |= _VISIBLE_FLAG
    code[kind == uc.UPPER] |= _UPPER_FLAG
    return np.asarray(code, dtype=np.uint16)


_CODE = _code_table()


# Lower-case with digits folded to "0" ("2022" and "1999" hash alike), as 32-bit code units.
_LOWER_FOLD = np.where((_CLASS[: uc.BMP] & 15) == uc.DIGIT, ord("0"), _LOWER_BMP).astype(np.uint32)


@dataclass(frozen=True)
class _Scan:
    """UTF-16 code units of a text classified once, with its units, words and word hashes."""

    cu: npt.NDArray[np.uint16]
    code: U16
    starts: I64  # first code unit of each unit
    ends: I64  # the "\n" closing each unit
    ws: I64  # word starts
    we: I64  # word ends (exclusive)
    prefix: npt.NDArray[np.uint32]  # prefix sums of lower-cased code units times BASE**i
    raw: U64  # position-independent polynomial hash of each lower-cased word


def _encode(text: str) -> npt.NDArray[np.uint16]:
    # UTF-16 code units index the BMP tables directly; a character outside the BMP becomes two
    # surrogate units, classed OTHER, which is all the featurizer needs to know about it.
    return np.frombuffer(text.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)


def _scan(cu: U16, code: U16) -> _Scan:
    """Units and words of code units that end with a newline."""
    n = len(cu)
    isword = (code & _WORD_FLAG) > 0
    ends = np.flatnonzero(cu == 10)
    starts = np.empty(len(ends), dtype=np.int64)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    # Words: maximal runs of \w characters (Python's definition, as the WCXB metric uses).
    edge = isword[1:] != isword[:-1]
    ws = np.flatnonzero(edge & isword[1:]) + 1
    if isword[0]:
        ws = np.concatenate([[0], ws])
    we = np.flatnonzero(edge & isword[:-1]) + 1  # the last unit is "\n": words end before it
    pw, pinv = _powers(n + 1)
    prefix = np.zeros(n + 1, dtype=np.uint32)
    np.cumsum(_LOWER_FOLD[cu] * pw[:n], dtype=np.uint32, out=prefix[1:])
    raw = ((prefix[we] - prefix[ws]) * pinv[ws]).astype(np.uint64)
    return _Scan(cu, code, starts, ends, ws, we, prefix, raw)


def _word_hashes(words: Sequence[str]) -> U64:
    """Raw hashes of the given words, computed by the same code as page words."""
    cu = _encode("\n".join(words) + "\n")
    return _scan(cu, _CODE[cu]).raw


VOCAB_ICON, VOCAB_UI, VOCAB_FUNCTION, VOCAB_WEB = 1, 2, 4, 8
_VOCAB_SLOT_BITS = 16  # 65,536 slots for ~700 words: each word finds one of its two slots free
# Per-unit counts of per-word flags travel packed in one uint64 per word, a field of
# _FIELD_BITS bits per flag: a unit has at most SAMPLE_LIMIT / 2 words, so fields never carry.
_FIELD_BITS = 7
assert (SAMPLE_LIMIT + 1) // 2 < 1 << _FIELD_BITS
_F_CAP, _F_ALLCAPS, _F_DIGIT, _F_LONG, _F_GLUED, _F_ICON, _F_UI, _F_FUNCTION, _F_WEB = range(9)
_FIELD_ONE = np.array([1 << (_FIELD_BITS * k) for k in range(9)], dtype=np.uint64)
_FIELD_MASK = np.uint64((1 << _FIELD_BITS) - 1)
# The four word-list fields of a word, indexed by its VOCAB_* bits.
_VOCAB_FIELDS = np.zeros(16, dtype=np.uint64)
for _bit, _fld in (
    (VOCAB_ICON, _F_ICON),
    (VOCAB_UI, _F_UI),
    (VOCAB_FUNCTION, _F_FUNCTION),
    (VOCAB_WEB, _F_WEB),
):
    _VOCAB_FIELDS[(np.arange(16) & _bit) > 0] += _FIELD_ONE[_fld]


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


def _vocab_flags(raw: U64, mixed: U64) -> npt.NDArray[np.uint8]:
    """Which word lists each word is in (VOCAB_* bits); ``mixed`` is ``_mix(raw)``."""
    s1, s2 = _vocab_slots(mixed)
    raw32 = raw.astype(np.uint32)
    found1 = _VOCAB_KEYS[s1] == raw32
    found2 = _VOCAB_KEYS[s2] == raw32
    out = np.where(found1, _VOCAB_BITS[s1], 0)
    return np.where(found2 & ~found1, _VOCAB_BITS[s2], out).astype(np.uint8)


def _char_pass(cu: U16, code: U16) -> _UnitStats:
    """Count per unit of code units ending in newlines; see :class:`_UnitStats`."""
    sc = _scan(cu, code)
    cu, code, starts, ends, ws, we, prefix, raw = (
        sc.cu,
        sc.code,
        sc.starts,
        sc.ends,
        sc.ws,
        sc.we,
        sc.prefix,
        sc.raw,
    )
    n_units = len(ends)
    unit_lo = np.searchsorted(ws, starts)
    unit_hi = np.searchsorted(ws, ends)
    wlen = we - ws

    # Uppercase letters per word. Counts wrap at 2**16, but differences stay exact: no word is
    # that long once units are sampled (SAMPLE_LIMIT).
    upper_cs = np.zeros(len(cu) + 1, dtype=np.uint16)
    np.cumsum((code & _UPPER_FLAG) > 0, dtype=np.uint16, out=upper_cs[1:])
    n_upper = upper_cs[we] - upper_cs[ws]
    # A word of digits only hashes like "0" * length: digits are folded before hashing.
    is_digits = raw == _ZEROS_HASH[np.minimum(wlen, len(_ZEROS_HASH) - 1)]
    suffix = len(vocab.ICON_SUFFIX)
    glued_start = np.maximum(we - suffix, 0)
    _, pinv = _powers(len(cu) + 1)
    suffix_hash = ((prefix[we] - prefix[glued_start]) * pinv[glued_start]).astype(np.uint64)
    mixed = _mix(raw)
    flags = _vocab_flags(raw, mixed)

    # Class counts per unit with one bincount; special characters are rare, counted apart.
    unit_of = np.repeat(np.arange(n_units, dtype=np.int64), ends - starts + 1)
    kind = code & _KIND_MASK
    # int16 is enough: a sampled unit has at most SAMPLE_LIMIT characters.
    classes = np.bincount(unit_of * uc.N_CLASSES + kind, minlength=n_units * uc.N_CLASSES).astype(
        np.int16
    )
    special = (code & _SPECIAL_MASK) >> _SPECIAL_SHIFT
    at = np.flatnonzero(special)
    specials = np.bincount(
        unit_of[at] * (N_SPECIAL + 1) + special[at], minlength=n_units * (N_SPECIAL + 1)
    ).astype(np.int16)

    # First and last visible characters by binary search over the visible positions.
    visible = (code & _VISIBLE_FLAG) > 0
    vis = np.flatnonzero(visible)
    vis_lo = np.searchsorted(vis, starts)
    vis_hi = np.searchsorted(vis, ends)
    blank = vis_hi == vis_lo
    vis_ext = np.append(vis, 0)  # blank units index past the end harmlessly
    first_c = np.where(blank, 0, vis_ext[vis_lo])
    last_i = np.where(blank, len(vis), vis_hi - 1)
    last = vis_ext[last_i]
    # The last visible character that is not a closing quote or bracket ('He said "yes."').
    sig_i = last_i.copy()
    for _ in range(MAX_CLOSERS):
        closer = ~blank & (special[vis_ext[sig_i]] == SP_CLOSER) & (sig_i > vis_lo)
        sig_i = np.where(closer, sig_i - 1, sig_i)
    last_c = vis_ext[sig_i]
    tok = np.flatnonzero(visible[1:] & ~visible[:-1]) + 1
    if visible[0]:
        tok = np.concatenate([[0], tok])
    n_tokens = np.searchsorted(tok, ends) - np.searchsorted(tok, starts)
    brackets = np.flatnonzero(cu == ord("]"))
    links = brackets[cu[np.minimum(brackets + 1, len(cu) - 1)] == ord("(")]

    mixed_cs = np.zeros(len(ws) + 1, dtype=np.uint64)
    np.cumsum(mixed, out=mixed_cs[1:])
    n_words = unit_hi - unit_lo
    word_unit = np.repeat(np.arange(n_units, dtype=np.int64), n_words)

    # Lexical features: unigrams, in-unit bigrams, the first word, and short units whole.
    same_unit = word_unit[1:] == word_unit[:-1]
    bigram = raw[:-1][same_unit] * _BIGRAM_MULT + raw[1:][same_unit]
    has_words = n_words > 0
    short = has_words & (n_words <= SHORT_UNIT_WORDS)
    unit_hash = mixed_cs[unit_hi] - mixed_cs[unit_lo]
    long_enough = n_words >= PREFIX_WORDS
    prefix_end = np.minimum(unit_lo + PREFIX_WORDS, unit_hi)
    prefix_hash = np.where(long_enough, mixed_cs[prefix_end] - mixed_cs[unit_lo], 0)
    lex_rows = (
        word_unit,
        word_unit[1:][same_unit],
        np.flatnonzero(has_words),
        np.flatnonzero(short),
    )
    lex_buckets = (
        _bucket(raw, _SALT_UNIGRAM),
        _bucket(bigram, _SALT_BIGRAM),
        _bucket(raw[unit_lo[has_words]], _SALT_FIRST),
        _bucket(unit_hash[short], _SALT_LINE),
    )
    first_special = np.where(blank, SP_NONE, special[first_c].astype(np.int64))
    # Per-unit sums of per-word flags with one cumulative sum (see _FIELD_BITS).
    packed = _VOCAB_FIELDS[flags]
    for fld, hit in (
        (_F_CAP, kind[ws] == uc.UPPER),
        (_F_ALLCAPS, (n_upper == wlen) & (wlen >= 2)),
        (_F_DIGIT, is_digits),
        (_F_LONG, wlen >= LONG_WORD),
        (_F_GLUED, (wlen > suffix) & (suffix_hash == _ICON_SUFFIX_HASH)),
    ):
        packed += hit * _FIELD_ONE[fld]
    packed_cs = np.zeros(len(ws) + 1, dtype=np.uint64)
    np.cumsum(packed, out=packed_cs[1:])
    sums = packed_cs[unit_hi] - packed_cs[unit_lo]

    def count(fld: int) -> I64:
        return np.asarray((sums >> np.uint64(_FIELD_BITS * fld)) & _FIELD_MASK, dtype=np.int64)

    classes = classes.reshape(n_units, uc.N_CLASSES)
    specials = specials.reshape(n_units, N_SPECIAL + 1)
    # Words are the runs of word characters, so their total length is a count of classes.
    word_chars = classes[:, list(_WORD_KINDS)].sum(axis=1, dtype=np.int64)
    word_chars += specials[:, SP_UNDERSCORE]
    return _UnitStats(
        classes=classes,
        specials=specials,
        n_tokens=n_tokens,
        n_words=n_words,
        word_chars=word_chars,
        cap_words=count(_F_CAP),
        allcaps_words=count(_F_ALLCAPS),
        digit_words=count(_F_DIGIT),
        long_words=count(_F_LONG),
        icon_words=count(_F_ICON),
        glued_icons=count(_F_GLUED),
        ui_words=count(_F_UI),
        function_words=count(_F_FUNCTION),
        web_words=count(_F_WEB),
        md_links=np.searchsorted(links, ends) - np.searchsorted(links, starts),
        first_kind=np.where(blank, -1, kind[first_c].astype(np.int64)),
        first_special=first_special,
        bullet_space=~blank
        & ((first_special == SP_BULLET) | (first_special == SP_BULLET_SEP))
        & (kind[np.minimum(first_c + 1, len(cu) - 1)] == uc.SPACE),
        last_kind=np.where(blank, -1, kind[last].astype(np.int64)),
        last_special=np.where(blank, SP_NONE, special[last_c].astype(np.int64)),
        ellipsis=~blank
        & (
            (cu[last_c] == ord("…"))
            | ((cu[last_c] == ord(".")) & (cu[np.maximum(last_c - 1, 0)] == ord(".")))
        ),
        unit_hash=unit_hash,
        prefix_hash=prefix_hash.astype(np.uint64),
        lex_rows=lex_rows,
        lex_buckets=lex_buckets,
    )


_VOCAB_KEYS, _VOCAB_BITS = _vocab_tables()
_ZEROS_HASH = _word_hashes(["0" * n for n in range(1, 65)])
_ZEROS_HASH = np.concatenate([[np.uint64(0)], _ZEROS_HASH])  # index = word length
_ICON_SUFFIX_HASH = _word_hashes([vocab.ICON_SUFFIX])[0]


def _concat_stats(parts: list[_UnitStats]) -> _UnitStats:
    if len(parts) == 1:
        return parts[0]
    offsets = np.cumsum([0] + [len(p.n_words) for p in parts[:-1]])
    fields: dict[str, object] = {}
    for name in _UnitStats.__dataclass_fields__:
        values = [getattr(p, name) for p in parts]
        if name == "lex_rows":
            fields[name] = tuple(
                np.concatenate([v[k] + off for v, off in zip(values, offsets, strict=True)])
                for k in range(len(LEX_NAMESPACES))
            )
        elif name == "lex_buckets":
            fields[name] = tuple(
                np.concatenate([v[k] for v in values]) for k in range(len(LEX_NAMESPACES))
            )
        else:
            fields[name] = np.concatenate(values)
    return _UnitStats(**fields)  # type: ignore[arg-type]


# --- pages into units ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Chunk:
    """Code units of some pages' units (wrapped lines joined, long units sampled)."""

    cu: npt.NDArray[np.uint16]
    code: U16
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
    """Join hard-wrapped lines into units and sample long units, all in numpy."""
    cu = _encode("\n".join(text for _, text in pieces) + "\n").copy()
    nl = np.flatnonzero(cu == 10)
    line_start = np.concatenate([[0], nl[:-1] + 1])
    line_len = nl - line_start
    piece_lines = np.array([text.count("\n") + 1 for _, text in pieces], dtype=np.int64)
    line_piece = np.repeat(np.arange(len(pieces)), piece_lines)
    joins = wrap_joins(line_len, line_piece)
    if joins.any():
        # A list item or heading never continues the line before it, and neither does a line
        # of spaces only. The look-ahead stays inside the next line: past it lies another
        # line, or another page of the batch.
        vis = np.flatnonzero(_CODE[cu] & _VISIBLE_FLAG)
        nxt = np.flatnonzero(joins) + 1
        at = np.searchsorted(vis, line_start[nxt])
        first = vis[np.minimum(at, len(vis) - 1)]
        inside = (at < len(vis)) & (first < nl[nxt])
        joins[nxt - 1] &= inside & ((_CODE[cu[first]] & _ITEM_FLAG) == 0)
        cu[nl[joins]] = ord(" ")
    line_unit = np.zeros(len(nl), dtype=np.int64)
    np.cumsum(~joins[:-1], out=line_unit[1:])
    unit_end = nl[~joins]
    unit_start = np.concatenate([[0], unit_end[:-1] + 1])
    lengths = unit_end - unit_start
    sampled = lengths
    long = lengths > SAMPLE_LIMIT
    if long.any():
        # Keep a long unit's first SAMPLE_HEAD and last SAMPLE_TAIL characters, a space between.
        head_end = unit_start[long] + SAMPLE_HEAD
        tail_start = unit_end[long] - SAMPLE_TAIL
        cu[head_end - 1] = ord(" ")
        # Alternating kept and dropped runs: [0, head_end), [head_end, tail_start), ...
        bounds = np.empty(2 * len(head_end) + 2, dtype=np.int64)
        bounds[0], bounds[-1] = 0, len(cu)
        bounds[1:-1:2], bounds[2:-1:2] = head_end, tail_start
        runs = np.diff(bounds)
        keep = np.repeat(np.arange(len(runs)) % 2 == 0, runs)
        cu = cu[keep]
        sampled = np.where(long, SAMPLE_HEAD + SAMPLE_TAIL, lengths)
    pages = np.array([page for page, _ in pieces], dtype=np.int64)
    unit_page = pages[line_piece[np.flatnonzero(~joins)]]
    # Classified once the text is final: sampled away, a character costs nothing.
    return _Chunk(cu, _CODE[cu], lengths, sampled, line_unit, unit_page)


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


def _safe_div(a: npt.ArrayLike, b: npt.ArrayLike) -> F32:
    num = np.asarray(a, dtype=np.float32)
    den = np.asarray(b, dtype=np.float32)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def _fill_context(dense: F32, f: dict[str, F32], before: I64, after: I64) -> None:
    """Write the neighbour and window columns of ``dense`` (after the base columns)."""
    col = len(BASE_FEATURES)
    # Column-major, like dense: blocks are copied into it without a transpose.
    neighbours = np.stack([f[name] for name in NEIGHBOUR_FEATURES]).T
    for off in NEIGHBOUR_OFFSETS:
        dense[:, col : col + len(NEIGHBOUR_FEATURES)] = shifted(neighbours, off, before, after, 0.0)
        col += len(NEIGHBOUR_FEATURES)
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
    stats = _concat_stats([_char_pass(c.cu, c.code) for c in chunks])
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
    blank_unit = st.first_kind < 0
    is_row = st.n_words > 0
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
    c = st.classes.astype(np.float32)

    def r(a: npt.ArrayLike) -> F32:
        return np.asarray(a, dtype=np.float32)

    # Counts of sampled units are scaled to their true length; shares need no scaling.
    visible = c[:, uc.UPPER :].sum(axis=1) - c[:, uc.NEWLINE]
    words = (st.n_words * scale).astype(np.float32)
    tokens = (st.n_tokens * scale).astype(np.float32)
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
    f["mean_word_len"] = r(_safe_div(st.word_chars, st.n_words) / 10)
    f["mean_token_len"] = r(_safe_div(visible, st.n_tokens) / 10)
    f["frac_cap_words"] = r(_safe_div(st.cap_words, st.n_words))
    f["frac_allcaps_words"] = r(_safe_div(st.allcaps_words, st.n_words))
    f["frac_digit_words"] = r(_safe_div(st.digit_words, st.n_words))
    f["frac_long_words"] = r(_safe_div(st.long_words, st.n_words))
    f["icon_density"] = r(_safe_div(st.icon_words + st.glued_icons, st.n_words))
    f["has_glued_icon"] = r(st.glued_icons > 0)
    f["ui_density"] = r(_safe_div(st.ui_words, st.n_words))
    f["has_ui_word"] = r(st.ui_words > 0)
    f["function_density"] = r(_safe_div(st.function_words, st.n_words))
    f["cjk_function_density"] = r(_safe_div(sp[:, SP_CJK_FUNCTION], cjk))
    f["web_density"] = r(_safe_div(st.web_words, st.n_words))
    last = st.last_special
    f["ends_terminal"] = r(last == SP_TERMINAL)
    f["ends_colon"] = r(last == SP_COLON)
    f["ends_comma"] = r(last == SP_COMMA)
    last_kind = st.last_kind
    f["ends_word"] = r((last_kind >= uc.UPPER) & (last_kind <= uc.CJK))
    f["ends_digit"] = r(last_kind == uc.DIGIT)
    f["ends_closer"] = r(last == SP_CLOSER)
    f["ends_ellipsis"] = r(st.ellipsis)
    first_kind = st.first_kind
    f["starts_upper"] = r(first_kind == uc.UPPER)
    f["starts_lower"] = r(first_kind == uc.LOWER)
    f["starts_digit"] = r(first_kind == uc.DIGIT)
    f["starts_bullet"] = r(st.bullet_space)
    f["starts_hash"] = r(st.first_special == SP_HASH)
    f["starts_pipe"] = r(st.first_special == SP_PIPE)
    f["starts_punct_symbol"] = r(
        ((first_kind == uc.PUNCT) | (first_kind == uc.SYMBOL)) & ~st.bullet_space
    )
    f["log_sentences"] = r(np.log1p(sp[:, SP_TERMINAL] * scale))
    separators = sp[:, SP_SEPARATOR] + sp[:, SP_BULLET_SEP] + sp[:, SP_PIPE]
    f["separators_per_token"] = r(_safe_div(separators, st.n_tokens))
    f["commas_per_word"] = r(_safe_div(sp[:, SP_COMMA], st.n_words))
    f["colons"] = r(np.minimum(sp[:, SP_COLON] * scale, 3) / 3)
    f["links_per_word"] = r(_safe_div(st.md_links, st.n_words))
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
    f["repeats_nearby"] = (nearest <= REPEAT_NEAR).astype(np.float32)
    # Which copy comes first matters for repeats far apart (a headline, then the same headline
    # in a "most read" list) but not for a card's twin lines: nearby copies are all "not first".
    f["first_occurrence"] = (first_occurrence & (nearest > REPEAT_NEAR)).astype(np.float32)
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

    assert len(f) == len(BASE_FEATURES), "BASE_FEATURES out of step with the code"
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
