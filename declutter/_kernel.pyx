# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""The featurizer's loops over characters and rows, compiled (Cython).

- :func:`encode_lines`: pages' text into UTF-16 code units and line ends;
- :func:`join_and_sample`: lines into units (hard-wrapped lines joined, long units sampled);
- :class:`CharPass`: the character pass, one loop over a chunk's code units;
- :func:`neighbour_columns`: each row's neighbours' features, inside its page.

The character pass classifies each code unit through the featurizer's code table, finds the
``\\w+`` words, hashes them, looks them up in the word lists and reduces everything per unit
(the text between two ``"\\n"``) to raw counts and hashes. :mod:`declutter.features` turns
those into named features with numpy. The tables (the code of every BMP code unit, the folded
lower case, the word-list hash table) are built there and passed in, so that the word lists
stay in :mod:`declutter.vocabulary`.

Hashes, all modulo 2**32 or 2**64 and so identical on every platform:

- a word's ``raw`` hash is the polynomial ``sum(fold(c_k) * BASE**k)`` over its code units,
  where ``fold`` lower-cases and turns digits into "0";
- ``mix`` is MurmurHash3's 64-bit finalizer; a lexical bucket is the top ``hash_bits`` bits of
  ``mix(h ^ salt)``, with one salt per namespace;
- a unit's hash is the sum of its words' mixed hashes (order-free), its prefix hash the sum over
  its first ``prefix_words`` words.
"""

import numpy as np

from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.string cimport memcpy

# --- hashing constants (declutter.features reads them from here) ------------------------------
BASE = 0x01000193  # FNV-1 32-bit prime: odd, hence invertible modulo 2**32
MIX1 = 0xFF51AFD7ED558CCD  # MurmurHash3 fmix64 constants
MIX2 = 0xC4CEB9FE1A85EC53
SALT_UNIGRAM = 0x9E3779B97F4A7C15  # golden-ratio salts keep the lexical namespaces apart
SALT_BIGRAM = 0x3C6EF372FE94F82A
SALT_FIRST = 0xDAA66D2C7DDF743F
SALT_LINE = 0x78DDE6E5FD29F05C
BIGRAM_MULT = 0x2545F4914F6CDD1D

cdef uint32_t C_BASE = BASE
cdef uint64_t C_MIX1 = MIX1
cdef uint64_t C_MIX2 = MIX2
cdef uint64_t C_SALT_UNIGRAM = SALT_UNIGRAM
cdef uint64_t C_SALT_BIGRAM = SALT_BIGRAM
cdef uint64_t C_SALT_FIRST = SALT_FIRST
cdef uint64_t C_SALT_LINE = SALT_LINE
cdef uint64_t C_BIGRAM_MULT = BIGRAM_MULT

# --- the code table's layout (declutter.features builds the table with these) -----------------
# One 16-bit code per BMP code unit: bits 0-3 its class, bits 4-7 its special category, flags
# above.
KIND_MASK = 0x000F
SPECIAL_SHIFT = 4
SPECIAL_MASK = 0x00F0
WORD_FLAG = 1 << 8  # a \w character: letters, digits and "_"
VISIBLE_FLAG = 1 << 9  # neither a space nor the newline
UPPER_FLAG = 1 << 10  # class UPPER
ITEM_FLAG = 1 << 11  # may open a list item or heading (used when joining wrapped lines)
SPACE_FLAG = 1 << 12  # class SPACE
CLOSER_FLAG = 1 << 13  # special category CLOSER: skipped to find how a unit ends
BULLET_FLAG = 1 << 14  # special category BULLET or BULLET_SEP
# Word-list bits of the vocabulary hash table.
cdef enum:
    C_VOCAB_ICON = 1
    C_VOCAB_UI = 2
    C_VOCAB_FUNCTION = 4
    C_VOCAB_WEB = 8
VOCAB_ICON, VOCAB_UI = C_VOCAB_ICON, C_VOCAB_UI
VOCAB_FUNCTION, VOCAB_WEB = C_VOCAB_FUNCTION, C_VOCAB_WEB
N_CODE_FIELDS = 16  # columns of the class and special count matrices (4 bits each)

cdef uint16_t C_KIND_MASK = KIND_MASK
cdef uint16_t C_WORD_FLAG = WORD_FLAG
cdef uint16_t C_VISIBLE_FLAG = VISIBLE_FLAG
cdef uint16_t C_UPPER_FLAG = UPPER_FLAG
cdef uint16_t C_ITEM_FLAG = ITEM_FLAG
cdef uint16_t C_SPACE_FLAG = SPACE_FLAG
cdef uint16_t C_CLOSER_FLAG = CLOSER_FLAG
cdef uint16_t C_BULLET_FLAG = BULLET_FLAG


# --- per-unit counts: the columns of CharPass.run's count matrix -------------------------------
# Adding one is this name plus the line in CharPass.run that computes it.
cpdef enum Count:
    N_TOKENS  # runs of visible characters
    N_WORDS  # \w+ runs
    WORD_CHARS  # code units inside words
    CAP_WORDS  # words starting with an upper-case letter
    ALLCAPS_WORDS  # words of at least two code units, all upper-case
    DIGIT_WORDS  # words of digits only (their hash is that of "0" * length)
    LONG_WORDS  # words of at least long_word code units
    GLUED_ICONS  # words longer than the icon suffix and ending with it ("searchicon")
    ICON_WORDS  # words in the word lists, by VOCAB_* bit
    UI_WORDS
    FUNCTION_WORDS
    WEB_WORDS
    MD_LINKS  # "](" pairs
    FIRST_KIND  # class of the first visible code unit, -1 for a blank unit
    FIRST_SPECIAL  # its special category (0 for a blank unit)
    BULLET_SPACE  # 1 when the first visible code unit is a bullet followed by a space
    LAST_KIND  # class of the last visible code unit, -1 for a blank unit
    LAST_SPECIAL  # special category of the last visible one, closers skipped (0 when blank)
    ELLIPSIS  # 1 when the unit ends (closers skipped) with "…" or ".."


COUNTS = tuple(map(str.lower, Count.__members__))
# The count table of CharPass.run: the named counts, then the code units of each class, then
# those of each special category (column SPECIALS_AT stays 0: category 0 is "none").
CLASSES_AT = len(COUNTS)
SPECIALS_AT = CLASSES_AT + N_CODE_FIELDS
N_COLUMNS = SPECIALS_AT + N_CODE_FIELDS
LEX_NAMESPACES = ("word", "bigram", "first", "line")


cdef inline uint64_t mix(uint64_t h) noexcept nogil:
    h ^= h >> 33
    h *= C_MIX1
    h ^= h >> 33
    h *= C_MIX2
    return h ^ (h >> 33)


cdef inline int32_t bucket(uint64_t h, uint64_t salt, int shift) noexcept nogil:
    return <int32_t>(mix(h ^ salt) >> shift)


def word_hashes(const uint16_t[::1] cu, const uint16_t[::1] code, const uint32_t[::1] fold):
    """The ``raw`` hash of every word of ``cu``, in order: uint64 array of shape (n_words,)."""
    cdef Py_ssize_t n = cu.shape[0], i, k = 0
    out_arr = np.zeros((n + 1) // 2, dtype=np.uint64)
    cdef uint64_t[::1] out = out_arr
    cdef uint32_t h = 0, p = 1
    cdef bint inside = False
    for i in range(n):
        if code[cu[i]] & C_WORD_FLAG:
            h += fold[cu[i]] * p
            p *= C_BASE
            inside = True
        elif inside:
            out[k] = h
            k += 1
            h, p, inside = 0, 1, False
    if inside:
        out[k] = h
        k += 1
    return out_arr[:k]


cdef class CharPass:
    """The character pass with its tables; :meth:`run` does one chunk.

    ``code`` (uint16, one per BMP code unit, layout above), ``fold`` (uint32: lower case with
    digits as "0"), ``vocab_keys``/``vocab_bits`` (a two-choice hash table of 2**16 slots from
    a word's ``raw`` hash to its VOCAB_* bits), ``zeros_hash`` (uint64: the hash of "0" * n at
    index n, the last entry standing for all longer words), ``icon_suffix_hash`` and its length;
    the rest are the featurizer's tunables of the same names.
    """

    cdef const uint16_t[::1] code
    cdef const uint32_t[::1] fold
    cdef const uint32_t[::1] vocab_keys
    cdef const uint8_t[::1] vocab_bits
    cdef const uint64_t[::1] zeros_hash
    cdef uint32_t icon_suffix_hash
    cdef Py_ssize_t icon_suffix_len, long_word, short_unit_words, prefix_words, max_closers
    cdef int bucket_shift

    def __init__(
        self,
        const uint16_t[::1] code,
        const uint32_t[::1] fold,
        const uint32_t[::1] vocab_keys,
        const uint8_t[::1] vocab_bits,
        const uint64_t[::1] zeros_hash,
        uint32_t icon_suffix_hash,
        Py_ssize_t icon_suffix_len,
        Py_ssize_t long_word,
        Py_ssize_t short_unit_words,
        Py_ssize_t prefix_words,
        Py_ssize_t max_closers,
        int hash_bits,
    ):
        if code.shape[0] != 0x10000 or fold.shape[0] != 0x10000:
            raise ValueError("code and fold need one entry per BMP code unit")
        if vocab_keys.shape[0] != 0x10000 or vocab_bits.shape[0] != 0x10000:
            raise ValueError("the vocabulary table needs 2**16 slots")
        if zeros_hash.shape[0] < 2 or not 0 < hash_bits <= 32 or icon_suffix_len < 1:
            raise ValueError("bad zeros_hash, hash_bits or icon_suffix_len")
        self.code, self.fold = code, fold
        self.vocab_keys, self.vocab_bits = vocab_keys, vocab_bits
        self.zeros_hash = zeros_hash
        self.icon_suffix_hash, self.icon_suffix_len = icon_suffix_hash, icon_suffix_len
        self.long_word, self.short_unit_words = long_word, short_unit_words
        self.prefix_words, self.max_closers = prefix_words, max_closers
        self.bucket_shift = 64 - hash_bits

    def run(
        self,
        const uint16_t[::1] cu,
        int32_t[:, ::1] table,
        uint64_t[::1] unit_hash,
        uint64_t[::1] prefix_hash,
        Py_ssize_t first_unit=0,
    ):
        """Count per unit of ``cu``, code units that end with ``"\\n"`` (uint16, shape (n,)).

        The units are rows ``first_unit`` on of the outputs, which must hold zeros there: the
        int32 count ``table`` of shape (rows, N_COLUMNS), its first columns named by
        :data:`COUNTS`, then from CLASSES_AT and SPECIALS_AT each unit's code units (its "\\n"
        included) by class and by special category; uint64 ``unit_hash`` and ``prefix_hash``
        of shape (rows,) (0 for a unit without words, and for one with fewer than
        ``prefix_words`` words). Returns ``(lex_rows, lex_buckets)``: per namespace of
        :data:`LEX_NAMESPACES`, the row of each occurrence (int64, ascending) and its bucket
        (int32). Raises ``ValueError`` when ``cu`` does not end with ``"\\n"`` or the outputs
        have too few rows.
        """
        cdef Py_ssize_t n = cu.shape[0]
        if n == 0 or cu[n - 1] != 10:
            raise ValueError("the code units must end with a newline")
        cdef Py_ssize_t n_units = 0, i
        for i in range(n):
            if cu[i] == 10:
                n_units += 1
        cdef Py_ssize_t rows = first_unit + n_units
        if first_unit < 0 or table.shape[1] != N_COLUMNS or min(
            table.shape[0], unit_hash.shape[0], prefix_hash.shape[0]
        ) < rows:
            raise ValueError("the outputs need N_COLUMNS columns and a row for every unit")
        cdef Py_ssize_t max_words = (n + 1) // 2
        rows_arr = [np.empty(max_words, dtype=np.int64) for _ in range(2)]
        rows_arr += [np.empty(n_units, dtype=np.int64) for _ in range(2)]
        buckets_arr = [np.empty(len(r), dtype=np.int32) for r in rows_arr]
        cdef Py_ssize_t classes_at = CLASSES_AT, specials_at = SPECIALS_AT
        cdef int64_t[::1] word_rows = rows_arr[0], bigram_rows = rows_arr[1]
        cdef int64_t[::1] first_rows = rows_arr[2], line_rows = rows_arr[3]
        cdef int32_t[::1] word_buckets = buckets_arr[0], bigram_buckets = buckets_arr[1]
        cdef int32_t[::1] first_buckets = buckets_arr[2], line_buckets = buckets_arr[3]
        cdef Py_ssize_t n_word = 0, n_bigram = 0, n_first = 0, n_line = 0

        cdef const uint16_t[::1] code = self.code
        cdef const uint32_t[::1] fold = self.fold
        cdef int shift = self.bucket_shift
        cdef Py_ssize_t n_zeros = self.zeros_hash.shape[0]
        cdef Py_ssize_t s_len = self.icon_suffix_len
        cdef Py_ssize_t unit = first_unit, first_vis = -1, last_vis = -1, sig, j, k
        cdef Py_ssize_t word_start = -1, wlen, words_in_unit = 0
        cdef uint16_t c, cd, prev_cd = 0
        cdef uint32_t h = 0, p = 1, sh, sp, slot
        cdef uint64_t raw, mixed, prev_raw = 0, uhash = 0, phash = 0
        cdef uint8_t flags
        cdef int32_t n_upper = 0
        cdef int32_t* row
        with nogil:
            for i in range(n):
                c = cu[i]
                cd = code[c]
                row = &table[unit, 0]
                row[classes_at + (cd & C_KIND_MASK)] += 1
                if cd & 0x00F0:
                    row[specials_at + ((cd >> 4) & 15)] += 1
                if cd & C_VISIBLE_FLAG:
                    if first_vis < 0:
                        first_vis = i
                    last_vis = i
                    if not (prev_cd & C_VISIBLE_FLAG):
                        row[<int>N_TOKENS] += 1
                if c == 93 and cu[i + 1] == 40:  # "](" (c is not the final "\n")
                    row[<int>MD_LINKS] += 1
                if cd & C_WORD_FLAG:
                    if word_start < 0:
                        word_start = i
                        h, p, n_upper = 0, 1, 0
                    h += fold[c] * p
                    p *= C_BASE
                    if cd & C_UPPER_FLAG:
                        n_upper += 1
                elif word_start >= 0:
                    # A word ends before i: its counts, word-list flags and lexical features.
                    wlen = i - word_start
                    raw = h
                    mixed = mix(raw)
                    row[<int>N_WORDS] += 1
                    row[<int>WORD_CHARS] += wlen
                    if code[cu[word_start]] & C_UPPER_FLAG:
                        row[<int>CAP_WORDS] += 1
                    if n_upper == wlen and wlen >= 2:
                        row[<int>ALLCAPS_WORDS] += 1
                    if <uint32_t>self.zeros_hash[wlen if wlen < n_zeros else n_zeros - 1] == h:
                        row[<int>DIGIT_WORDS] += 1
                    if wlen >= self.long_word:
                        row[<int>LONG_WORDS] += 1
                    if wlen > s_len:
                        sh, sp = 0, 1
                        for j in range(i - s_len, i):
                            sh += fold[cu[j]] * sp
                            sp *= C_BASE
                        if sh == self.icon_suffix_hash:
                            row[<int>GLUED_ICONS] += 1
                    # Two-choice lookup: the first slot that holds this hash.
                    slot = <uint32_t>(mixed >> 48)
                    if self.vocab_keys[slot] == h:
                        flags = self.vocab_bits[slot]
                    else:
                        slot = <uint32_t>((mixed >> 16) & 0xFFFF)
                        flags = self.vocab_bits[slot] if self.vocab_keys[slot] == h else 0
                    if flags & C_VOCAB_ICON:
                        row[<int>ICON_WORDS] += 1
                    if flags & C_VOCAB_UI:
                        row[<int>UI_WORDS] += 1
                    if flags & C_VOCAB_FUNCTION:
                        row[<int>FUNCTION_WORDS] += 1
                    if flags & C_VOCAB_WEB:
                        row[<int>WEB_WORDS] += 1
                    word_rows[n_word] = unit
                    word_buckets[n_word] = bucket(raw, C_SALT_UNIGRAM, shift)
                    n_word += 1
                    if words_in_unit == 0:
                        first_rows[n_first] = unit
                        first_buckets[n_first] = bucket(raw, C_SALT_FIRST, shift)
                        n_first += 1
                    else:
                        bigram_rows[n_bigram] = unit
                        bigram_buckets[n_bigram] = bucket(
                            prev_raw * C_BIGRAM_MULT + raw, C_SALT_BIGRAM, shift
                        )
                        n_bigram += 1
                    uhash += mixed
                    words_in_unit += 1
                    if words_in_unit <= self.prefix_words:
                        phash += mixed
                    prev_raw = raw
                    word_start = -1
                prev_cd = cd
                if c != 10:
                    continue
                # The unit ends at this "\n": its first and last visible code units, hashes.
                unit_hash[unit] = uhash
                if words_in_unit >= self.prefix_words:
                    prefix_hash[unit] = phash
                if 0 < words_in_unit <= self.short_unit_words:
                    line_rows[n_line] = unit
                    line_buckets[n_line] = bucket(uhash, C_SALT_LINE, shift)
                    n_line += 1
                if first_vis < 0:
                    row[<int>FIRST_KIND] = -1
                    row[<int>LAST_KIND] = -1
                else:
                    cd = code[cu[first_vis]]
                    row[<int>FIRST_KIND] = cd & C_KIND_MASK
                    row[<int>FIRST_SPECIAL] = (cd >> 4) & 15
                    # first_vis < i, so first_vis + 1 is inside the unit.
                    row[<int>BULLET_SPACE] = (cd & C_BULLET_FLAG) != 0 and (
                        code[cu[first_vis + 1]] & C_SPACE_FLAG
                    ) != 0
                    row[<int>LAST_KIND] = code[cu[last_vis]] & C_KIND_MASK
                    # Skip up to max_closers closing quotes and brackets ('He said "yes."').
                    sig = last_vis
                    for k in range(self.max_closers):
                        if not (code[cu[sig]] & C_CLOSER_FLAG) or sig <= first_vis:
                            break
                        sig -= 1
                        while not (code[cu[sig]] & C_VISIBLE_FLAG):
                            sig -= 1
                    row[<int>LAST_SPECIAL] = (code[cu[sig]] >> 4) & 15
                    row[<int>ELLIPSIS] = cu[sig] == 0x2026 or (
                        cu[sig] == 46 and cu[sig - 1 if sig > 0 else 0] == 46
                    )
                unit += 1
                first_vis, last_vis = -1, -1
                uhash, phash, words_in_unit = 0, 0, 0
        used = (n_word, n_bigram, n_first, n_line)
        return (
            tuple(r[:m] for r, m in zip(rows_arr, used)),
            tuple(b[:m] for b, m in zip(buckets_arr, used)),
        )


def join_and_sample(
    uint16_t[::1] cu,
    const int64_t[::1] nl,
    uint8_t[::1] joins,
    const uint16_t[::1] code,
    Py_ssize_t limit,
    Py_ssize_t head,
    Py_ssize_t tail,
):
    """Lines into units: join hard-wrapped lines, keep only the ends of long units.

    ``cu`` holds lines each ended by ``"\\n"`` (at ``nl``, int64); ``joins`` (uint8, one per
    line) marks the lines that may join the next (declutter.lines.wrap_joins). A join is
    dropped when the next line has no visible code unit or starts with one carrying ITEM_FLAG;
    a kept join turns its ``"\\n"`` into a space, in ``cu`` and ``joins`` both changed in place.
    A unit longer than ``limit`` keeps its first ``head`` code units, the last of them made a
    space, and its last ``tail`` ones with its ``"\\n"``.

    Returns ``(units, lengths, sampled, line_unit, unit_last_line)``: the kept code units
    (uint16), each unit's true and kept length without its newline, each line's unit and each
    unit's last line (int64).
    """
    cdef Py_ssize_t n_lines = nl.shape[0], k, i, j, n_units = 0
    if joins.shape[0] != n_lines or (n_lines and nl[n_lines - 1] != cu.shape[0] - 1):
        raise ValueError("joins and newlines must match the lines of cu")
    if n_lines and joins[n_lines - 1]:
        raise ValueError("the last line cannot join a next one")
    for k in range(n_lines - 1):
        if joins[k]:
            # The next line's first visible code unit: a list item or heading never continues.
            j = -1
            for i in range(nl[k] + 1, nl[k + 1]):
                if code[cu[i]] & C_VISIBLE_FLAG:
                    j = i
                    break
            if j < 0 or code[cu[j]] & C_ITEM_FLAG:
                joins[k] = 0
            else:
                cu[nl[k]] = 32
        if not joins[k]:
            n_units += 1
    n_units += 1 if n_lines else 0
    lengths_arr = np.empty(n_units, dtype=np.int64)
    sampled_arr = np.empty(n_units, dtype=np.int64)
    line_unit_arr = np.empty(n_lines, dtype=np.int64)
    last_line_arr = np.empty(n_units, dtype=np.int64)
    out_arr = np.empty(cu.shape[0], dtype=np.uint16)
    cdef int64_t[::1] lengths = lengths_arr, sampled = sampled_arr
    cdef int64_t[::1] line_unit = line_unit_arr, last_line = last_line_arr
    cdef uint16_t[::1] out = out_arr
    cdef Py_ssize_t unit = 0, start = 0, end, length, m = 0
    for k in range(n_lines):
        line_unit[k] = unit
        if joins[k]:
            continue
        end = nl[k]  # the unit is cu[start:end], then its "\n"
        length = end - start
        lengths[unit] = length
        last_line[unit] = k
        if length > limit:
            cu[start + head - 1] = 32
            memcpy(&out[m], &cu[start], head * sizeof(uint16_t))
            m += head
            memcpy(&out[m], &cu[end - tail], (tail + 1) * sizeof(uint16_t))
            m += tail + 1
            sampled[unit] = head + tail
        else:
            memcpy(&out[m], &cu[start], (length + 1) * sizeof(uint16_t))
            m += length + 1
            sampled[unit] = length
        unit += 1
        start = end + 1
    return out_arr[:m], lengths_arr, sampled_arr, line_unit_arr, last_line_arr


def neighbour_columns(
    float[::1, :] dense,
    Py_ssize_t col,
    const float[:, ::1] columns,
    const int64_t[::1] offsets,
    const int64_t[::1] before,
    const int64_t[::1] after,
):
    """Write each row's neighbours into ``dense``: offset by offset, feature by feature.

    ``columns`` (float32, shape (k, n)) holds k features of n rows; ``before``/``after`` say
    how many rows of its page come before and after each row. For each offset in turn, the k
    columns of ``dense`` (float32, Fortran order, n rows) from ``col`` on get each row's values
    ``offset`` rows away, 0 where that is beyond the row's page. Returns the next free column.
    """
    cdef Py_ssize_t n = dense.shape[0], k = columns.shape[0], i, j, o, off, c = col
    if columns.shape[1] != n or before.shape[0] != n or after.shape[0] != n:
        raise ValueError("columns, before and after need one entry per row of dense")
    if col < 0 or col + k * offsets.shape[0] > dense.shape[1]:
        raise ValueError("dense has too few columns")
    with nogil:
        for o in range(offsets.shape[0]):
            off = offsets[o]
            for j in range(k):
                for i in range(n):
                    if (after[i] >= off) if off >= 0 else (before[i] >= -off):
                        dense[i, c] = columns[j, i + off]
                    else:
                        dense[i, c] = 0
                c += 1
    return c


def encode_lines(list texts):
    """The UTF-16 code units of ``texts``, each followed by ``"\\n"``, and where the lines end.

    Equal to ``"\\n".join(texts) + "\\n"`` encoded as UTF-16-LE with ``surrogatepass``: a
    character outside the BMP becomes two surrogate units, a lone surrogate stays one unit.
    Returns ``(cu, nl, lines)``: the code units (uint16, writable), the position of every
    ``"\\n"`` in them (int64) and how many lines each text has (int64).
    """
    cdef Py_ssize_t size = 0, m = 0, n_nl = 0, p = 0, before
    cdef str text
    cdef Py_UCS4 ch
    cdef uint32_t c
    for text in texts:
        size += 2 * len(text) + 1
    cu_arr = np.empty(size, dtype=np.uint16)
    nl_arr = np.empty(size, dtype=np.int64)
    lines_arr = np.empty(len(texts), dtype=np.int64)
    cdef uint16_t[::1] cu = cu_arr
    cdef int64_t[::1] nl = nl_arr
    cdef int64_t[::1] lines = lines_arr
    for text in texts:
        before = n_nl
        for ch in text:
            c = <uint32_t>ch
            if c >= 0x10000:
                cu[m] = 0xD800 + ((c - 0x10000) >> 10)
                cu[m + 1] = 0xDC00 + ((c - 0x10000) & 0x3FF)
                m += 2
            else:
                if c == 10:
                    nl[n_nl] = m
                    n_nl += 1
                cu[m] = c
                m += 1
        nl[n_nl] = m
        n_nl += 1
        cu[m] = 10
        m += 1
        lines[p] = n_nl - before
        p += 1
    return cu_arr[:m], nl_arr[:n_nl], lines_arr
