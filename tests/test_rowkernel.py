"""The compiled row loops against plain-Python references written from their definitions."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import numpy.typing as npt
from hypothesis import given, settings
from hypothesis import strategies as st

from declutter import _rowkernel as rk

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]


@st.composite
def pages(draw: st.DrawFn, max_rows: int = 12) -> tuple[I64, F32]:
    """Page offsets (some pages empty) and a float32 score per row."""
    sizes = draw(st.lists(st.integers(0, max_rows), min_size=1, max_size=5))
    page_rows = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    n = int(page_rows[-1])
    values = draw(
        st.lists(st.floats(-8, 8, width=32, allow_subnormal=False), min_size=n, max_size=n)
    )
    return page_rows, np.array(values, dtype=np.float32)


def spans(page_rows: I64) -> list[tuple[int, int]]:
    return list(pairwise(page_rows.tolist()))


# --- main region --------------------------------------------------------------------------------


def region_reference(v: list[int], cap: int) -> tuple[list[bool], list[int], float]:
    """The run with the largest sum (on ties the earliest-ending, then the shortest), by trying
    every run."""
    best, begin, end = None, 0, -1
    for e in range(len(v)):
        for b in range(e, -1, -1):  # shorter runs first: a tie keeps the shorter
            total = sum(v[b : e + 1])
            if best is None or total > best:
                best, begin, end = total, b, e
    positive = sum(x for x in v if x > 0)
    found = best is not None and best > 0
    inside = [found and begin <= i <= end for i in range(len(v))]
    away = [max(begin - i, 0) + max(i - end, 0) for i in range(len(v))]
    distance = [min(a, cap) if found else cap for a in away]
    share = best / positive if positive > 0 and best is not None else 0.0
    return inside, distance, share


@given(st.lists(st.lists(st.integers(-300, 300), max_size=10), min_size=1, max_size=4))
@settings(max_examples=200)
def test_main_region_is_the_best_run_of_each_page(page_values: list[list[int]]) -> None:
    v = np.array([x for page in page_values for x in page], dtype=np.int64)
    page_rows = np.concatenate([[0], np.cumsum([len(p) for p in page_values])]).astype(np.int64)
    n = len(v)
    inside = np.zeros(n, np.uint8)
    log_distance = np.zeros(n, np.float32)
    share = np.zeros(n, np.float32)
    rk.main_region(v, page_rows, 7, inside, log_distance, share)
    for (s, e), values in zip(spans(page_rows), page_values, strict=True):
        ins, dist, sh = region_reference(values, 7)
        assert inside[s:e].astype(bool).tolist() == ins
        assert log_distance[s:e].tolist() == [np.float32(math.log1p(d)) for d in dist]
        assert share[s:e].tolist() == [np.float32(sh)] * (e - s)


# --- context columns ----------------------------------------------------------------------------

OFFSETS = np.array([-2, -1, 1, 3], dtype=np.int64)
HALVES = np.array([1, 4], dtype=np.int64)
REACH, FILL, CLIP = 2, -4.0, 8.0


def context_reference(z: list[float], mass: list[float], s: int, e: int, i: int) -> list[float]:
    """Row ``i``'s columns from the definitions, its page being rows ``s:e``."""
    page = range(s, e)
    cols = [z[i]]
    cols += [z[i + off] if i + off in page else FILL for off in OFFSETS]
    for h in HALVES:
        near = [z[j] for j in page if abs(j - i) <= h]
        cols.append(sum(near) / len(near))
    cols.append(max([FILL] + [z[j] for j in page if 0 < i - j <= REACH]))
    cols.append(max([FILL] + [z[j] for j in page if 0 < j - i <= REACH]))
    total = sum(mass[s:e])
    cols.append(sum(mass[s:i]) / total if total > 0 else 0.0)
    cols.append(sum(mass[i + 1 : e]) / total if total > 0 else 0.0)
    cols.append(sum(z[s:e]) / (e - s))
    cols.append(sum(x > 0 for x in z[s:e]) / (e - s))
    cols.append(z[i] - max([-CLIP, *z[s:e]]))
    return cols


@given(pages(), st.data())
@settings(max_examples=150)
def test_context_columns_follow_their_definitions(
    paged: tuple[I64, F32], data: st.DataObject
) -> None:
    page_rows, z = paged
    n = len(z)
    mass = np.array(
        data.draw(st.lists(st.floats(0, 30, width=32), min_size=n, max_size=n)), dtype=np.float32
    )
    k = 1 + len(OFFSETS) + len(HALVES) + 7
    out = np.zeros((k, n), dtype=np.float32)
    rk.context_columns(z, mass, page_rows, OFFSETS, HALVES, REACH, FILL, CLIP, out)
    zl, ml = z.astype(np.float64).tolist(), mass.astype(np.float64).tolist()
    for s, e in spans(page_rows):
        for i in range(s, e):
            np.testing.assert_allclose(out[:, i], context_reference(zl, ml, s, e, i), atol=1e-5)


# --- lexical columns ----------------------------------------------


@given(st.data())
@settings(max_examples=150)
def test_lexical_columns_are_the_mean_min_and_max_per_row_and_the_weighted_mean(
    data: st.DataObject,
) -> None:
    n = data.draw(st.integers(1, 6))
    rows = np.array(sorted(data.draw(st.lists(st.integers(0, n - 1)))), dtype=np.int64)
    buckets = np.array(
        data.draw(st.lists(st.integers(0, 7), min_size=len(rows), max_size=len(rows))), np.int32
    )
    values = np.linspace(-2, 3, 8, dtype=np.float32)[buckets]
    counts = np.array(
        data.draw(st.lists(st.integers(1, 3), min_size=len(rows), max_size=len(rows))), np.float64
    )
    out = np.zeros((n, 5), np.float32)
    rk.lexical_columns(rows, values, None, True, out, 1)
    rk.lexical_columns(rows, values, counts, False, out, 4)
    for r in range(n):
        mine = [(float(v), c) for rr, v, c in zip(rows, values, counts, strict=True) if rr == r]
        vs = [v for v, _ in mine]
        expected = [sum(vs) / len(vs), min(vs), max(vs)] if vs else [0, 0, 0]
        weighted = sum(v * c for v, c in mine) / sum(c for _, c in mine) if mine else 0
        np.testing.assert_allclose(out[r, 1:], [*expected, weighted], atol=1e-6)
        assert out[r, 0] == 0


# --- page-level features ------------------------------------------------------------------------


@given(pages(max_rows=8), st.data())
@settings(max_examples=100)
def test_page_stage_features_follow_their_definitions(
    paged: tuple[I64, F32], data: st.DataObject
) -> None:
    page_rows, z = paged
    n = len(z)
    floats = st.lists(st.floats(0, 20, width=32), min_size=n, max_size=n)
    words = np.array(data.draw(floats), np.float32)
    inside = np.array(data.draw(st.lists(st.booleans(), min_size=n, max_size=n)), np.uint8)
    share, shared = np.full(n, 0.25, np.float32), np.array(data.draw(floats), np.float32)
    word_means, row_means = np.stack([words, shared]), z[None, :].copy()
    p = 1 / (1 + np.exp(-z.astype(np.float64)))
    out = np.full((len(page_rows) - 1, 13), np.nan, np.float32)
    rk.page_stage_features(
        z, p, words, inside, share, shared, word_means, row_means, page_rows, out
    )
    for q, (s, e) in enumerate(spans(page_rows)):
        if s == e:
            assert not out[q].any()
            continue
        rows = range(s, e)
        w = [float(words[i]) for i in rows]
        tw = max(sum(w), 1e-9)
        mass = [float(p[i]) * float(words[i]) for i in rows]
        tm = max(sum(mass), 1e-9)
        ins = [i for i in rows if inside[i]]
        pos = [bool(z[i] > 0) for i in rows]
        runs = sum(pos[k] and (k == 0 or not pos[k - 1]) for k in range(len(pos)))
        expected = [
            float(np.mean(z[s:e], dtype=np.float64)),
            sum(pos) / len(w),
            sum(wi for wi, po in zip(w, pos, strict=True) if po) / tw,
            0.25,
            len(ins) / len(w),
            sum(float(words[i]) for i in ins) / tw,
            sum(m for i, m in zip(rows, mass, strict=True) if ins and i < ins[0]) / tm,
            sum(m for i, m in zip(rows, mass, strict=True) if ins and i > ins[-1]) / tm,
            math.log1p(100 * runs / len(w)),
            sum(float(shared[i]) * wi for i, wi in zip(rows, w, strict=True)) / tw,
            sum(wi * wi for wi in w) / tw,
            sum(float(shared[i]) * wi for i, wi in zip(rows, w, strict=True)) / tw,
            float(np.mean(z[s:e], dtype=np.float64)),
        ]
        np.testing.assert_allclose(out[q], expected, rtol=1e-5, atol=1e-5)


def test_a_page_context_columns_do_not_depend_on_the_page_before() -> None:
    # Found by the property above: with sums running over the whole batch, the second page's
    # tiny mass vanished into the first page's total and its "content after" share became 0.
    z = np.zeros(3, np.float32)
    mass = np.array([1.0, 0.0, 1.1754943508222875e-38], np.float32)
    k = 1 + len(OFFSETS) + len(HALVES) + 7
    batch, alone = np.zeros((k, 3), np.float32), np.zeros((k, 2), np.float32)
    rk.context_columns(z, mass, np.array([0, 1, 3]), OFFSETS, HALVES, REACH, FILL, CLIP, batch)
    rk.context_columns(z[1:], mass[1:], np.array([0, 2]), OFFSETS, HALVES, REACH, FILL, CLIP, alone)
    np.testing.assert_array_equal(batch[:, 1:], alone)


@given(pages(max_rows=6), st.data())
@settings(max_examples=100)
def test_page_type_columns_are_probabilities_times_row_columns(
    paged: tuple[I64, F32], data: st.DataObject
) -> None:
    page_rows, z = paged
    n, n_pages = len(z), len(page_rows) - 1
    proba = np.array(
        data.draw(st.lists(st.floats(0, 1, width=32), min_size=2 * n_pages, max_size=2 * n_pages)),
        np.float32,
    ).reshape(n_pages, 2)
    interact = np.stack([z, z * 2])
    out = np.full((2 + 2 * 2, n), np.nan, np.float32)
    rk.page_type_columns(proba, page_rows, interact, out)
    for q, (s, e) in enumerate(spans(page_rows)):
        for i in range(s, e):
            p0, p1 = proba[q]
            a, b = interact[:, i]
            expected = [p0, p1, p0 * a, p0 * b, p1 * a, p1 * b]
            assert out[:, i].tolist() == np.array(expected, np.float32).tolist()


def test_after_region_marks_rows_after_the_last_inside_row_of_their_page() -> None:
    inside = np.array([0, 1, 0, 1, 0, 0, 0, 0], np.uint8)
    out = np.full(8, np.nan, np.float32)
    rk.after_region(inside, np.array([0, 5, 5, 8]), out)
    assert out.tolist() == [0, 0, 0, 0, 1, 0, 0, 0]
