# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The model stage's and the decoder's loops over rows, compiled (Cython).

Each function walks the rows of every page once, in place of a dozen or more numpy passes:
numpy's fixed cost per call dominated cleaning one page at a time. Pages are the slices
``page_rows[p]:page_rows[p + 1]`` of the rows; every output is written into an array the
caller allocates. Tests hold plain-Python references of every function
(``tests/test_rowkernel.py``).
"""

from libc.math cimport log1p
from libc.stdint cimport int32_t, int64_t, uint8_t

import numpy as np


def main_region(const int64_t[::1] v, const int64_t[::1] page_rows, int64_t cap,
                uint8_t[::1] inside, float[::1] log_distance, float[::1] share):
    """Per page, the contiguous run of rows with the largest sum of ``v`` (Kadane)."""
    cdef Py_ssize_t p, i, s, e, end, begin
    cdef int64_t end_sum, start_sum, run_min, gain, best, low, away, dist
    cdef double positive, sh
    cdef bint found
    for p in range(page_rows.shape[0] - 1):
        s = page_rows[p]
        e = page_rows[p + 1]
        if e <= s:
            continue
        end_sum = 0
        run_min = 0
        best = 0
        end = -1
        positive = 0.0
        for i in range(s, e):
            start_sum = end_sum
            end_sum = end_sum + v[i]
            if i == s or start_sum < run_min:
                run_min = start_sum
            gain = end_sum - run_min
            if end < 0 or gain > best:
                best = gain
                end = i
            if v[i] > 0:
                positive += <double>v[i]
        # The run begins at the last row up to `end` whose prefix sum before it is lowest.
        end_sum = 0
        low = 0
        begin = s
        for i in range(s, end + 1):
            start_sum = end_sum
            end_sum = end_sum + v[i]
            if i == s or start_sum <= low:
                low = start_sum
                begin = i
        found = best > 0
        sh = <double>best / positive if positive > 0 else 0.0
        for i in range(s, e):
            if found:
                inside[i] = begin <= i <= end
                away = (begin - i if begin > i else 0) + (i - end if i > end else 0)
                dist = away if away < cap else cap
            else:
                inside[i] = 0
                dist = cap
            log_distance[i] = <float>log1p(<double>dist)
            share[i] = <float>sh


def context_columns(const float[::1] z, const float[::1] mass, const int64_t[::1] page_rows,
                    const int64_t[::1] offsets, const int64_t[::1] halves, int64_t reach,
                    float fill, float clip, float[:, ::1] out):
    """The context stage's row columns, one row of ``out`` per column, in this order: ``z``;
    ``z`` at each offset (``fill`` beyond the page); the window mean at each half-width;
    the highest ``z`` within ``reach`` rows before and after (at least ``fill``); the shares
    of the page's ``mass`` before and after the row; the page's mean ``z``; its share of
    positive ``z``; ``z`` minus the page's highest (at least ``-clip``).

    Sums are float64 running sums from each page's first row, so a page's columns do not
    depend on the pages beside it in a batch.
    """
    cdef Py_ssize_t n = z.shape[0]
    cdef Py_ssize_t n_off = offsets.shape[0], n_half = halves.shape[0]
    cdef Py_ssize_t p, i, j, k, s, e, a, b, col
    cdef int64_t off, h
    cdef double total, psum, ppos
    cdef float best, zmax
    cdef double[::1] cz = np.empty(n + 1, dtype=np.float64)
    cdef double[::1] cm = np.empty(n + 1, dtype=np.float64)
    for p in range(page_rows.shape[0] - 1):
        s = page_rows[p]
        e = page_rows[p + 1]
        if e <= s:
            continue
        # Sums start from 0 on every page: a page's columns do not depend on its batch.
        cz[s] = 0.0
        cm[s] = 0.0
        for i in range(s, e):
            cz[i + 1] = cz[i] + <double>z[i]
            cm[i + 1] = cm[i] + <double>mass[i]
        psum = 0.0
        ppos = 0.0
        zmax = -clip
        for i in range(s, e):
            psum += <double>z[i]
            ppos += 1.0 if z[i] > 0 else 0.0
            if z[i] > zmax:
                zmax = z[i]
        psum /= <double>(e - s)
        ppos /= <double>(e - s)
        for i in range(s, e):
            out[0, i] = z[i]
            col = 1
            for k in range(n_off):
                j = i + offsets[k]
                out[col, i] = z[j] if s <= j < e else fill
                col += 1
            for k in range(n_half):
                h = halves[k]
                a = i - h if i - h > s else s
                b = i + 1 + h if i + 1 + h < e else e
                out[col, i] = <float>((cz[b] - cz[a]) / <double>(b - a))
                col += 1
            best = fill
            for j in range(i - reach if i - reach > s else s, i):
                if z[j] > best:
                    best = z[j]
            out[col, i] = best
            best = fill
            for j in range(i + 1, i + 1 + reach if i + 1 + reach < e else e):
                if z[j] > best:
                    best = z[j]
            out[col + 1, i] = best
            total = cm[e] - cm[s]
            out[col + 2, i] = <float>((cm[i] - cm[s]) / total) if total > 0 else 0.0
            out[col + 3, i] = <float>((cm[e] - cm[i + 1]) / total) if total > 0 else 0.0
            out[col + 4, i] = <float>psum
            out[col + 5, i] = <float>ppos
            out[col + 6, i] = z[i] - zmax


def viterbi(const double[::1] gain, const int64_t[::1] page_rows, double penalty,
            uint8_t[::1] keep):
    """Best two-state (content, chrome) path of every page, switching at ``penalty``.

    ``d[t] = clip(d[t-1], -penalty, penalty) + gain[t]`` is the forward pass (the score of
    content at row t minus that of chrome on the best paths so far; a page's first row starts
    from 0); backwards, a row whose ``|d| > penalty``, or the page's last row, fixes its state
    (content if ``d > 0``), and every other row takes the state of the row after it.
    """
    cdef Py_ssize_t p, i, s, e
    cdef double d
    cdef double[::1] ds = np.empty(gain.shape[0], dtype=np.float64)
    cdef uint8_t state
    for p in range(page_rows.shape[0] - 1):
        s = page_rows[p]
        e = page_rows[p + 1]
        if e <= s:
            continue
        d = gain[s]
        ds[s] = d
        for i in range(s + 1, e):
            d = (penalty if d > penalty else (-penalty if d < -penalty else d)) + gain[i]
            ds[i] = d
        state = ds[e - 1] > 0
        for i in range(e - 1, s - 1, -1):
            if ds[i] > penalty or ds[i] < -penalty:
                state = ds[i] > 0
            keep[i] = state


def topical(const float[::1] p, const int64_t[::1] row, const int64_t[::1] group,
            const float[::1] weight, const double[::1] total, Py_ssize_t n_groups,
            float[::1] out):
    """Per row: the weighted share of its words that other rows' content uses too (each word
    counts up to one other row's probability ``p``); occurrences ordered by ``group``."""
    cdef Py_ssize_t i, m = row.shape[0], n = out.shape[0]
    cdef double[::1] group_p = np.zeros(n_groups, dtype=np.float64)
    cdef double[::1] used = np.zeros(n, dtype=np.float64)
    cdef double elsewhere
    for i in range(m):
        group_p[group[i]] += <double>p[row[i]]
    for i in range(m):
        elsewhere = group_p[group[i]] - <double>p[row[i]]
        used[row[i]] += <double>weight[i] * (elsewhere if elsewhere < 1.0 else 1.0)
    for i in range(n):
        out[i] = <float>(used[i] / total[i]) if total[i] > 0 else 0.0


def lexical_columns(const int64_t[::1] rows, const float[::1] values, const double[::1] counts,
                    bint min_max, float[:, ::1] out, Py_ssize_t col):
    """One lexical namespace's columns from its occurrences: ``rows`` (ascending) and
    ``values`` (log-odds) of every occurrence, ``counts`` how many occurrences each stands for
    (None: one). Column ``col`` of ``out`` (rows x columns) gets each row's mean value, and with
    ``min_max`` the next two columns its smallest and largest; rows without occurrences keep
    what ``out`` holds."""
    cdef Py_ssize_t i, r, n = out.shape[0], m = rows.shape[0]
    cdef double[::1] total = np.zeros(n, dtype=np.float64)
    cdef double[::1] count = np.zeros(n, dtype=np.float64)
    cdef bint weighted = counts is not None
    cdef double w
    cdef float v
    for i in range(m):
        r = rows[i]
        v = values[i]
        w = counts[i] if weighted else 1.0
        if min_max:
            if count[r] == 0:
                out[r, col + 1] = v
                out[r, col + 2] = v
            else:
                if v < out[r, col + 1]:
                    out[r, col + 1] = v
                if v > out[r, col + 2]:
                    out[r, col + 2] = v
        count[r] += w
        total[r] += <double>v * w if weighted else <double>v
    for r in range(n):
        if count[r] > 0:
            out[r, col] = <float>(total[r] / count[r])


def page_stage_features(const float[::1] z, const double[::1] p, const float[::1] row_words,
                        const uint8_t[::1] inside, const float[::1] region_share,
                        const float[::1] shared_words, const float[:, ::1] word_means,
                        const float[:, ::1] row_means, const int64_t[::1] page_rows,
                        float[:, ::1] out):
    """Whole-page features of :data:`declutter.page.PAGE_STAGE_NAMES`, one row of ``out`` per
    page: the ten region and score columns, then the word-weighted means of ``word_means``'
    rows and the plain means of ``row_means``' rows. Pages without rows get zeros."""
    cdef Py_ssize_t q, i, s, e, k, c
    cdef Py_ssize_t n_word = word_means.shape[0], n_row = row_means.shape[0]
    cdef Py_ssize_t first, last
    cdef double rows, wsum, page_words, mass, total_mass, before, after, runs
    cdef double[:] acc = np.zeros(10 + n_word + n_row, dtype=np.float64)
    cdef bint pos, prev
    cdef double w
    for q in range(page_rows.shape[0] - 1):
        s = page_rows[q]
        e = page_rows[q + 1]
        if e <= s:
            for c in range(out.shape[1]):
                out[q, c] = 0
            continue
        acc[:] = 0.0
        first, last = e, -1
        for i in range(s, e):
            if inside[i]:
                if i < first:
                    first = i
                last = i
        page_words = 0.0
        total_mass = 0.0
        before = 0.0
        after = 0.0
        runs = 0.0
        prev = False
        for i in range(s, e):
            w = <double>row_words[i]
            pos = z[i] > 0
            mass = p[i] * w
            page_words += w
            total_mass += mass
            acc[0] += <double>z[i]
            acc[1] += 1.0 if pos else 0.0
            acc[2] += (1.0 if pos else 0.0) * w
            acc[3] += <double>region_share[i]
            acc[4] += 1.0 if inside[i] else 0.0
            acc[5] += (1.0 if inside[i] else 0.0) * w
            if last >= 0 and i < first:
                before += mass
            if last >= 0 and i > last:
                after += mass
            if pos and (i == s or not prev):
                runs += 1.0
            prev = pos
            acc[9] += <double>shared_words[i] * w
            for k in range(n_word):
                acc[10 + k] += <double>word_means[k, i] * w
            for k in range(n_row):
                acc[10 + n_word + k] += <double>row_means[k, i]
        rows = <double>(e - s)
        page_words = page_words if page_words > 1e-9 else 1e-9
        total_mass = total_mass if total_mass > 1e-9 else 1e-9
        out[q, 0] = <float>(acc[0] / rows)
        out[q, 1] = <float>(acc[1] / rows)
        out[q, 2] = <float>(acc[2] / page_words)
        out[q, 3] = <float>(acc[3] / rows)
        out[q, 4] = <float>(acc[4] / rows)
        out[q, 5] = <float>(acc[5] / page_words)
        out[q, 6] = <float>(before / total_mass)
        out[q, 7] = <float>(after / total_mass)
        out[q, 8] = <float>log1p(100 * runs / rows)
        out[q, 9] = <float>(acc[9] / page_words)
        for k in range(n_word):
            out[q, 10 + k] = <float>(acc[10 + k] / page_words)
        for k in range(n_row):
            out[q, 10 + n_word + k] = <float>(acc[10 + n_word + k] / rows)


def page_type_columns(const float[:, ::1] proba, const int64_t[::1] page_rows,
                      const float[:, ::1] interact, float[:, ::1] out):
    """Each row's page-type probabilities (``proba``, pages x types), then each probability
    times each row of ``interact``: ``out`` has ``types * (1 + len(interact))`` rows."""
    cdef Py_ssize_t q, i, t, m, s, e
    cdef Py_ssize_t n_types = proba.shape[1], n_inter = interact.shape[0]
    cdef float pt
    for q in range(page_rows.shape[0] - 1):
        s = page_rows[q]
        e = page_rows[q + 1]
        for t in range(n_types):
            pt = proba[q, t]
            for i in range(s, e):
                out[t, i] = pt
                for m in range(n_inter):
                    out[n_types + t * n_inter + m, i] = pt * interact[m, i]


def after_region(const uint8_t[::1] inside, const int64_t[::1] page_rows, float[::1] out):
    """1 for the rows after the last row of their page's main region (``inside``), else 0."""
    cdef Py_ssize_t q, i, s, e, last
    for q in range(page_rows.shape[0] - 1):
        s = page_rows[q]
        e = page_rows[q + 1]
        last = e
        for i in range(s, e):
            if inside[i]:
                last = i
        for i in range(s, e):
            out[i] = 1.0 if i > last else 0.0
