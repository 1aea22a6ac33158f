"""The page-level stage: what kind of page this is, from the whole page's lines.

Comments are content on a forum page and chrome under an article; a list of teasers is the
content of a listing page and chrome beside an article. A line alone cannot tell which, so a
multinomial logistic regression reads whole-page features (how much of the page the line
stage finds content-like, how concentrated that content is in one region, how prose-like the
page is) and gives every page a probability for each page type of WCXB's labels
(:data:`PAGE_TYPES`). The context stages read those probabilities, alone and multiplied with
where a row sits relative to the page's main region (:data:`PAGE_INTERACTIONS`), so what a
region means can depend on the kind of page.

Absolute page sizes are left out, as in :data:`declutter.features.PAGE_FEATURES`: how much
chrome a dump holds depends on the tool that made it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from declutter.features import FEATURE_NAMES, Features
from declutter.rows import row_pages

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
BoolArr = npt.NDArray[np.bool_]

# WCXB's page types (Foley, 2026), in the order of the model's probability columns.
PAGE_TYPES = ("article", "collection", "documentation", "forum", "listing", "product", "service")
UNKNOWN_PAGE_TYPE = -1  # the code of a page without a known type (training data)

# Row columns multiplied by each page type's probability in the context stages (names as in
# context.CONTEXT_NAMES, plus "after_main_region": the row lies after the page's main region).
PAGE_INTERACTIONS = ("logit", "in_main_region", "after_main_region", "log_rows_to_main_region")

_INDEX = {name: k for k, name in enumerate(FEATURE_NAMES)}
# Dense line features averaged over a page's rows, each row weighing its words.
_PAGE_MEANS = (
    "ends_terminal",
    "function_density",
    "ui_density",
    "links_per_word",
    "frac_digit",
    "frac_cap_words",
    "log_units",
    "words_ge_16",
    "words_ge_4",
    "log_repeats",
    "starts_bullet",
    "blank_before",
)
PAGE_STAGE_NAMES: tuple[str, ...] = (
    "mean_logit",
    "share_positive",
    "word_share_positive",
    "main_region_share",
    "region_row_share",
    "region_word_share",
    "positive_mass_before_region",
    "positive_mass_after_region",
    "log_positive_runs_per_100_rows",
    "mean_shared_words",
    *(f"mean_{name}" for name in _PAGE_MEANS),
    *(f"row_mean_{name}" for name in ("log_units", "ends_terminal", "ui_density")),
)


def page_stage_features(
    z: F32,
    features: Features,
    inside: BoolArr,
    region_share: F32,
    shared_words: F32,
) -> F32:
    """Whole-page features (columns :data:`PAGE_STAGE_NAMES`), shape ``(n_pages, k)``.

    ``z`` are the rows' line-stage logits; ``inside`` and ``region_share`` the main region of
    :func:`declutter.context.main_region` on them; ``shared_words`` the rows' share of words
    other rows use (:class:`declutter.context.PageWords`). Pages without rows get zeros.
    """
    page_rows = features.page_rows
    n_pages = len(page_rows) - 1
    counts = np.diff(page_rows)
    page = row_pages(page_rows)
    rows = np.maximum(counts, 1).astype(np.float64)
    words = features.row_words.astype(np.float64)
    page_words = np.maximum(np.bincount(page, weights=words, minlength=n_pages), 1e-9)

    def row_mean(x: npt.ArrayLike) -> npt.NDArray[np.float64]:
        return np.bincount(page, weights=np.asarray(x, dtype=np.float64), minlength=n_pages) / rows

    def word_mean(x: npt.ArrayLike) -> npt.NDArray[np.float64]:
        weighted = np.asarray(x, dtype=np.float64) * words
        return np.bincount(page, weights=weighted, minlength=n_pages) / page_words

    positive = z > 0
    p = 1.0 / (1.0 + np.exp(-z.astype(np.float64)))
    mass = p * words
    total_mass = np.maximum(np.bincount(page, weights=mass, minlength=n_pages), 1e-9)
    before, after = region_sides(inside, page_rows)
    run_starts = positive & ~np.r_[False, positive[:-1]]
    run_starts[page_rows[:-1][counts > 0]] = positive[page_rows[:-1][counts > 0]]
    cols = [
        row_mean(z),
        row_mean(positive),
        word_mean(positive),
        np.bincount(page, weights=region_share, minlength=n_pages) / rows,
        row_mean(inside),
        word_mean(inside),
        np.bincount(page, weights=mass * before, minlength=n_pages) / total_mass,
        np.bincount(page, weights=mass * after, minlength=n_pages) / total_mass,
        np.log1p(100 * np.bincount(page, weights=run_starts, minlength=n_pages) / rows),
        word_mean(shared_words),
    ]
    cols += [word_mean(features.dense[:, _INDEX[name]]) for name in _PAGE_MEANS]
    cols += [
        row_mean(features.dense[:, _INDEX[name]])
        for name in ("log_units", "ends_terminal", "ui_density")
    ]
    out = np.stack(cols, axis=1).astype(np.float32)
    out[counts == 0] = 0
    return out


def region_sides(inside: BoolArr, page_rows: I64) -> tuple[BoolArr, BoolArr]:
    """Rows before the first and after the last row of their page's main region (``inside``);
    none on a page without one."""
    n_pages = len(page_rows) - 1
    page = row_pages(page_rows)
    idx = np.arange(len(inside))
    first_inside = np.full(n_pages, len(inside), dtype=np.int64)
    last_inside = np.full(n_pages, -1, dtype=np.int64)
    np.minimum.at(first_inside, page[inside], idx[inside])
    np.maximum.at(last_inside, page[inside], idx[inside])
    has_region = (last_inside >= 0)[page]
    before = has_region & (idx < first_inside[page])
    after = has_region & (idx > last_inside[page])
    return np.asarray(before, dtype=bool), np.asarray(after, dtype=bool)


@dataclass(frozen=True)
class PageTypeParams:
    """A standardized multinomial logistic regression over :data:`PAGE_STAGE_NAMES`.

    ``proba(x) = softmax(((x - mean) / scale) @ coef + intercept)``, with ``coef`` of shape
    ``(k, len(types))``.
    """

    mean: F32
    scale: F32
    coef: F32
    intercept: F32
    types: tuple[str, ...] = PAGE_TYPES

    def proba(self, x: F32) -> F32:
        """Page-type probabilities, shape ``(n_pages, len(types))``; rows sum to 1."""
        logits = ((x - self.mean) / self.scale).astype(np.float64) @ self.coef + self.intercept
        logits -= logits.max(axis=1, keepdims=True) if len(logits) else 0
        e = np.exp(logits)
        return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float32)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mean": self.mean,
            "scale": self.scale,
            "coef": self.coef,
            "intercept": self.intercept,
            "types": list(self.types),
        }
