"""Type stub of the compiled character pass (declutter/_kernel.pyx)."""

import numpy as np
import numpy.typing as npt

BASE: int
MIX1: int
MIX2: int
SALT_UNIGRAM: int
SALT_BIGRAM: int
SALT_FIRST: int
SALT_LINE: int
BIGRAM_MULT: int
KIND_MASK: int
SPECIAL_SHIFT: int
SPECIAL_MASK: int
WORD_FLAG: int
VISIBLE_FLAG: int
UPPER_FLAG: int
ITEM_FLAG: int
SPACE_FLAG: int
CLOSER_FLAG: int
BULLET_FLAG: int
VOCAB_ICON: int
VOCAB_UI: int
VOCAB_FUNCTION: int
VOCAB_WEB: int
N_CODE_FIELDS: int

COUNTS: tuple[str, ...]
CLASSES_AT: int
SPECIALS_AT: int
N_COLUMNS: int
LEX_NAMESPACES: tuple[str, ...]

def word_hashes(
    cu: npt.NDArray[np.uint16], code: npt.NDArray[np.uint16], fold: npt.NDArray[np.uint32]
) -> npt.NDArray[np.uint64]: ...

class CharPass:
    def __init__(
        self,
        code: npt.NDArray[np.uint16],
        fold: npt.NDArray[np.uint32],
        vocab_keys: npt.NDArray[np.uint32],
        vocab_bits: npt.NDArray[np.uint8],
        zeros_hash: npt.NDArray[np.uint64],
        icon_suffix_hash: int,
        icon_suffix_len: int,
        long_word: int,
        short_unit_words: int,
        prefix_words: int,
        max_closers: int,
        hash_bits: int,
    ) -> None: ...
    def run(
        self,
        cu: npt.NDArray[np.uint16],
        table: npt.NDArray[np.int32],
        unit_hash: npt.NDArray[np.uint64],
        prefix_hash: npt.NDArray[np.uint64],
        first_unit: int = 0,
    ) -> tuple[tuple[npt.NDArray[np.int64], ...], tuple[npt.NDArray[np.int32], ...]]: ...

def join_and_sample(
    cu: npt.NDArray[np.uint16],
    nl: npt.NDArray[np.int64],
    joins: npt.NDArray[np.uint8],
    code: npt.NDArray[np.uint16],
    limit: int,
    head: int,
    tail: int,
) -> tuple[
    npt.NDArray[np.uint16],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
]: ...
def neighbour_columns(
    dense: npt.NDArray[np.float32],
    col: int,
    columns: npt.NDArray[np.float32],
    offsets: npt.NDArray[np.int64],
    before: npt.NDArray[np.int64],
    after: npt.NDArray[np.int64],
) -> int: ...
def encode_lines(
    texts: list[str],
) -> tuple[npt.NDArray[np.uint16], npt.NDArray[np.int64], npt.NDArray[np.int64]]: ...
