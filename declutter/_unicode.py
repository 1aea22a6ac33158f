"""Character tables for the featurizer: a class and a lower-case code point for every BMP character.

Computing them from :mod:`unicodedata` takes ~0.1 s, a fifth of the start-up budget (issue 4),
so they are generated once into ``_unicode.bin`` (zlib-compressed, ~20 KB) and loaded in ~1 ms.
The shipped file also makes features identical across Python versions whose Unicode databases
differ. Regenerate with ``python -m declutter._unicode`` (a test checks it is current).

Code points above the BMP (emoji, rare CJK) share one extra table slot, classed as symbols.
"""

from __future__ import annotations

import importlib.resources
import unicodedata
import zlib
from pathlib import Path

import numpy as np
import numpy.typing as npt

# Character classes (low four bits of a table entry). Line features count each class per line.
OTHER = 0  # controls, format characters, unassigned
SPACE = 1
UPPER = 2  # upper- and title-case letters
LOWER = 3
LETTER = 4  # letters without case outside CJK: Arabic, Hebrew, Devanagari, Thai, Hangul...
CJK = 5  # ideographs and kana, written without spaces: counted apart to estimate word counts
DIGIT = 6
PUNCT = 7
SYMBOL = 8  # currency, arrows, bullets, box drawing, emoji
MARK = 9  # combining marks
PRIVATE = 10  # private use area: icon fonts put their glyphs here
NEWLINE = 11  # only "\n" itself: the featurizer's line separator
N_CLASSES = 12
WORD_BIT = 16  # set where the character matches Python's regex ``\w`` (isalnum() or "_")

BMP = 0x10000
TABLE_NAME = "_unicode.bin"
TABLE_PATH = Path(__file__).with_name(TABLE_NAME)  # where `python -m declutter._unicode` writes

# Ranges written without spaces between words (from the Unicode block chart).
_CJK_RANGES = (
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x3040, 0x30FF),  # hiragana, katakana
    (0x3100, 0x312F),  # bopomofo
    (0x31F0, 0x31FF),  # katakana phonetic extensions
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
)


def _classify(ch: str) -> int:
    code = ord(ch)
    if ch == "\n":
        kind = NEWLINE
    elif ch.isspace():
        kind = SPACE
    elif ch.isnumeric():
        kind = DIGIT
    elif ch.isalpha():
        if ch.isupper() or ch.istitle():
            kind = UPPER
        elif ch.islower():
            kind = LOWER
        elif any(lo <= code <= hi for lo, hi in _CJK_RANGES):
            kind = CJK
        else:
            kind = LETTER
    else:
        major = unicodedata.category(ch)[0]
        if 0xE000 <= code <= 0xF8FF:
            kind = PRIVATE
        else:
            kind = {"P": PUNCT, "S": SYMBOL, "M": MARK}.get(major, OTHER)
    if ch.isalnum() or ch == "_":
        kind |= WORD_BIT
    return kind


def build_tables() -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint16]]:
    """Compute the class table (BMP + 1 slot) and the lower-case table from unicodedata."""
    chars = [chr(code) for code in range(BMP)]
    classes = bytes(map(_classify, chars)) + bytes([SYMBOL])
    lower = [ord(ch.lower()[0]) for ch in chars]
    # A few BMP characters lower-case outside the BMP; keep them as they are.
    lower = [low if low < BMP else code for code, low in enumerate(lower)]
    return (
        np.frombuffer(classes, dtype=np.uint8).copy(),
        np.array(lower, dtype=np.uint16),
    )


def _serialize(classes: npt.NDArray[np.uint8], lower: npt.NDArray[np.uint16]) -> bytes:
    # The lower-case table is stored as the difference from the identity, which compresses well.
    delta = (lower.astype(np.int32) - np.arange(BMP, dtype=np.int32)).astype("<i4")
    return zlib.compress(classes.tobytes() + delta.tobytes(), 9)


def load_tables() -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.uint16]]:
    """Load the shipped tables, read as package data through ``importlib.resources``;
    regenerated in memory if the file is missing."""
    try:
        raw = zlib.decompress(
            importlib.resources.files("declutter").joinpath(TABLE_NAME).read_bytes()
        )
    except FileNotFoundError:
        return build_tables()
    classes = np.frombuffer(raw, dtype=np.uint8, count=BMP + 1)
    delta = np.frombuffer(raw, dtype="<i4", offset=BMP + 1)
    return classes, (delta + np.arange(BMP, dtype=np.int32)).astype(np.uint16)


def shipped_table_is_current() -> bool:
    """True when ``_unicode.bin`` equals what this Python's unicodedata produces."""
    return TABLE_PATH.read_bytes() == _serialize(*build_tables())


if __name__ == "__main__":
    TABLE_PATH.write_bytes(_serialize(*build_tables()))
    print(f"wrote {TABLE_PATH} (Unicode {unicodedata.unidata_version})")
