"""Fit the site stage (:class:`declutter.site.SiteStageParams`) on labelled sites.

Training only (imports scikit-learn). The stage is a logistic regression
(:class:`declutter.estimators.SiteStageRegression`) whose offset is the trained model's own
log-odds and which has no intercept, ``p = sigmoid(z + x @ coef)``: a row that no other page
of its site shares keeps its probability. It is fitted on the rows of labelled pages whose
site (the page's ``group`` and dump style: a batch holds one site's pages in one style) has at
least two distinct pages, each page's site context being the other pages of its site in the
training data; and, with ``templates``, on site batches built from the pages that are alone in
their site, wrapped in one of :data:`SITE_TEMPLATES` (a header and a footer whose first line
reads as prose, labelled chrome), as pages of one site share a template.
"""

from __future__ import annotations

import dataclasses
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from declutter.data import LabelledPage
from declutter.estimators import SITE_ALPHA, SiteStageRegression
from declutter.features import featurize
from declutter.model import LineModel
from declutter.site import SITE_FEATURES, SiteCounts, SiteStageParams, row_site_columns

F32 = npt.NDArray[np.float32]
F64 = npt.NDArray[np.float64]
MIN_SITE_PAGES = 2  # a site needs another page to give its pages context
SITE_BATCH = 64  # pages featurized together
# Templates of invented sites: header lines, then footer lines, all chrome. Each footer opens
# with a sentence that reads as prose (the hard case); three languages so that the stage does
# not learn one language's words.
SITE_TEMPLATES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (
        ("Riverside Weekly", "Home | Local | Business | Culture | Contact"),
        (
            "Riverside Weekly is funded by its readers: a monthly contribution keeps our "
            "reporters in the towns they cover.",
            "Get our morning briefing in your inbox every weekday.",
            "© Riverside Weekly. All rights reserved.",
        ),
    ),
    (
        ("Bergblick Magazin", "Start | Wandern | Reisen | Kontakt"),
        (
            "Bergblick Magazin erscheint seit 1998 und wird von einem kleinen Team in "
            "Innsbruck mit viel Liebe gemacht.",
            "Abonnieren Sie unseren Newsletter und verpassen Sie keine Tour mehr.",
            "Impressum | Datenschutz",
        ),
    ),
    (
        ("Le Carnet du Jardin", "Accueil | Potager | Verger | Contact"),
        (
            "Le Carnet du Jardin est une association de jardiniers amateurs qui partagent "
            "leurs conseils depuis vingt ans.",
            "Recevez nos fiches pratiques chaque mois en vous inscrivant à la lettre.",
            "Mentions légales | © 2024",
        ),
    ),
)
TEMPLATE_SITE_PAGES = 5  # pages per template site
# Template sites are a complement to real ones: at most this many pages (WCXB dev gives ~1,500
# pages of real multi-page sites).
MAX_TEMPLATE_PAGES = 120


@dataclass(frozen=True)
class SiteRows:
    """The site stage's training rows: inputs, labels, the model's log-odds, weights."""

    x: F32
    y: npt.NDArray[np.int8]
    z: F32
    weight: F32
    pages: int
    sites: int


def site_batches(pages: Sequence[LabelledPage]) -> list[list[LabelledPage]]:
    """The pages grouped by site (``group`` and ``style``), each distinct text once, keeping
    only sites of at least :data:`MIN_SITE_PAGES` pages."""
    sites: dict[tuple[str, str], dict[str, LabelledPage]] = defaultdict(dict)
    for page in pages:
        sites[(page.group, page.style or "")].setdefault(page.text, page)
    return [list(s.values()) for s in sites.values() if len(s) >= MIN_SITE_PAGES]


def template_batches(pages: Sequence[LabelledPage]) -> list[list[LabelledPage]]:
    """Site batches of :data:`TEMPLATE_SITE_PAGES` pages each, from the pages alone in their
    site (at most :data:`MAX_TEMPLATE_PAGES`, picked by a stable hash of their id), each batch
    wrapped in one of :data:`SITE_TEMPLATES`."""
    sites: dict[tuple[str, str], dict[str, LabelledPage]] = defaultdict(dict)
    for page in pages:
        sites[(page.group, page.style or "")].setdefault(page.text, page)
    alone = [next(iter(s.values())) for s in sites.values() if len(s) == 1]
    alone.sort(key=lambda p: (zlib.crc32(p.page_id.encode("utf-8", "surrogatepass")), p.page_id))
    alone = alone[:MAX_TEMPLATE_PAGES]
    batches = []
    for j in range(len(alone) // TEMPLATE_SITE_PAGES):
        header, footer = SITE_TEMPLATES[j % len(SITE_TEMPLATES)]
        batch = []
        for page in alone[j * TEMPLATE_SITE_PAGES : (j + 1) * TEMPLATE_SITE_PAGES]:
            text = (
                page.text if page.text.endswith(("\n", "\r")) or not page.text else page.text + "\n"
            )
            wrapped = "".join(f"{line}\n" for line in header) + text
            wrapped += "".join(f"{line}\n" for line in footer)
            labels = np.concatenate(
                [np.zeros(len(header), np.int8), page.labels, np.zeros(len(footer), np.int8)]
            )
            batch.append(
                dataclasses.replace(page, text=wrapped, labels=labels, group=f"template-{j}")
            )
        batches.append(batch)
    return batches


def site_rows(model: LineModel, batches: Sequence[Sequence[LabelledPage]]) -> SiteRows:
    """The labelled rows of the pages of site ``batches``, with their site columns."""
    from declutter.train import row_labels  # noqa: PLC0415 - the trainer imports this module

    xs, ys, zs, ws = [], [], [], []
    for site_pages in batches:
        counts = SiteCounts()
        for page in site_pages:
            counts.add(page.text)
        for i in range(0, len(site_pages), SITE_BATCH):
            chunk = site_pages[i : i + SITE_BATCH]
            features = featurize([p.text for p in chunk])
            if features.n_rows == 0:
                continue
            z = model.logits(features)
            shares = [counts.shares(p.text) for p in chunk]
            x, _ = row_site_columns(
                shares, features.line_rows, features.page_lines, features.n_rows
            )
            y = row_labels(features, np.concatenate([p.labels for p in chunk]))
            keep = y >= 0
            xs.append(x[keep])
            ys.append(y[keep])
            zs.append(z[keep])
            ws.append(features.row_words[keep])
    if not xs:
        empty = np.zeros(0, np.float32)
        return SiteRows(np.zeros((0, len(SITE_FEATURES)), np.float32), np.zeros(0, np.int8),
                        empty, empty, 0, 0)  # fmt: skip
    return SiteRows(
        np.concatenate(xs),
        np.concatenate(ys),
        np.concatenate(zs),
        np.maximum(np.concatenate(ws), 1.0),
        sum(len(b) for b in batches),
        len(batches),
    )


def fit_site_stage(
    model: LineModel,
    pages: Sequence[LabelledPage],
    alpha: float = SITE_ALPHA,
    templates: bool = True,
) -> tuple[SiteStageParams | None, dict[str, Any]]:
    """The site stage fitted on ``pages``' sites of two pages or more and, with ``templates``,
    on :func:`template_batches` (None when no site has two pages, or the rows hold one class
    only), and a summary for the model's metadata. Rows weigh their words, as the page word
    F1 the model is judged by does."""
    real = site_batches(pages)
    made = template_batches(pages) if templates else []
    rows = site_rows(model, real + made)
    summary: dict[str, Any] = {
        "sites": len(real),
        "template_sites": len(made),
        "pages": rows.pages,
        "rows": len(rows.y),
    }
    if len(np.unique(rows.y)) < 2:
        return None, summary
    fitted = SiteStageRegression(alpha=alpha).fit(rows.x, rows.y, rows.z, rows.weight)
    stage = SiteStageParams(fitted.coef_.astype(np.float32))
    summary["coef"] = dict(zip(SITE_FEATURES, map(float, fitted.coef_), strict=True))
    return stage, summary
