from __future__ import annotations

from declutter.cleaner import Cleaner
from declutter.explain import page_summary
from declutter.model import LineModel

PAGE = "Home\nNews\nThe council met on Tuesday and agreed to extend the tram line.\n"


def test_page_summary_ranks_the_page_types(typed_model: LineModel) -> None:
    cleaner = Cleaner(typed_model)
    summary = page_summary(cleaner, PAGE, top=2)
    assert summary is not None
    best = cleaner.process([PAGE])[0].page_type
    assert summary.startswith(f"page type: {best} ")
    assert summary.count(",") == 1


def test_no_page_summary_without_a_page_stage(tiny_model: LineModel) -> None:
    assert page_summary(Cleaner(tiny_model), PAGE) is None
