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

from declutter import _rowkernel
from declutter.features import Features

F32 = npt.NDArray[np.float32]
I64 = npt.NDArray[np.int64]
BoolArr = npt.NDArray[np.bool_]

# WCXB's page types (Foley, 2026), in the order of the model's probability columns.
PAGE_TYPES = ("article", "collection", "documentation", "forum", "listing", "product", "service")
UNKNOWN_PAGE_TYPE = -1  # the code of a page without a known type (training data)

# Row columns multiplied by each page type's probability in the context stages (names as in
# context.CONTEXT_NAMES, plus "after_main_region": the row lies after the page's main region).
PAGE_INTERACTIONS = ("logit", "in_main_region", "after_main_region", "log_rows_to_main_region")

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
_ROW_MEANS = ("log_units", "ends_terminal", "ui_density")  # dense features averaged per row
# In the row kernel's order (_rowkernel.page_stage_features).
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
    *(f"row_mean_{name}" for name in _ROW_MEANS),
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
    Means weighted by words weigh each row by its words; "mass" is a row's probability of
    content times its words.
    """
    out = np.empty((len(features.page_rows) - 1, len(PAGE_STAGE_NAMES)), dtype=np.float32)
    _rowkernel.page_stage_features(
        z,
        1.0 / (1.0 + np.exp(-z.astype(np.float64))),
        features.row_words,
        np.ascontiguousarray(inside).view(np.uint8),
        region_share,
        shared_words,
        np.stack([features.column(name) for name in _PAGE_MEANS]),
        np.stack([features.column(name) for name in _ROW_MEANS]),
        features.page_rows,
        out,
    )
    return out


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
