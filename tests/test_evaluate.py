from __future__ import annotations

import numpy as np

from declutter.cleaner import Cleaner
from declutter.data import LabelledPage
from declutter.evaluate import evaluate
from declutter.model import LineModel


def test_evaluate_counts_lines_and_slices(tiny_model: LineModel) -> None:
    page = LabelledPage(
        "p",
        "Menu\nThe river rose by two metres overnight.\n",
        np.array([0, 1], dtype=np.int8),
        "g",
        style="plain",
        page_type="article",
    )
    result = evaluate(Cleaner(tiny_model, threshold=0.01, smoothing=0), [page, page])
    summary = result.overall.summary()
    assert summary["pages"] == 2
    assert summary["line_recall"] == 1.0
    assert result.by_type["article"].pages == 2
    assert result.by_style["plain"].pages == 2
