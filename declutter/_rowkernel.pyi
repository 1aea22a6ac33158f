import numpy as np
import numpy.typing as npt

_F32 = npt.NDArray[np.float32]
_F64 = npt.NDArray[np.float64]
_I32 = npt.NDArray[np.int32]
_I64 = npt.NDArray[np.int64]
_U8 = npt.NDArray[np.uint8]

def main_region(
    v: _I64, page_rows: _I64, cap: int, inside: _U8, log_distance: _F32, share: _F32
) -> None: ...
def context_columns(
    z: _F32,
    mass: _F32,
    page_rows: _I64,
    offsets: _I64,
    halves: _I64,
    reach: int,
    fill: float,
    clip: float,
    out: _F32,
) -> None: ...
def viterbi(gain: _F64, page_rows: _I64, penalty: float, keep: _U8) -> None: ...
def topical(
    p: _F32, row: _I64, group: _I64, weight: _F32, total: _F64, n_groups: int, out: _F32
) -> None: ...
def lexical_columns(
    rows: _I64, values: _F32, counts: _F64 | None, min_max: bool, out: _F32, col: int
) -> None: ...
def page_stage_features(
    z: _F32,
    p: _F64,
    row_words: _F32,
    inside: _U8,
    region_share: _F32,
    shared_words: _F32,
    word_means: _F32,
    row_means: _F32,
    page_rows: _I64,
    out: _F32,
) -> None: ...
def page_type_columns(proba: _F32, page_rows: _I64, interact: _F32, out: _F32) -> None: ...
def after_region(inside: _U8, page_rows: _I64, out: _F32) -> None: ...
