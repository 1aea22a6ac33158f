"""The shipped model on real pages: issue 2's acceptance case and a WCXB smoke test."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from declutter.cleaner import Cleaner
from declutter.textio import decode

from .conftest import needs_shared

REGRESSION = Path(__file__).resolve().parent / "regression"


@pytest.fixture(scope="module")
def cleaner() -> Cleaner:
    return Cleaner()


@pytest.mark.parametrize("case", sorted(REGRESSION.glob("*.json")), ids=lambda p: p.stem)
def test_regression_page(cleaner: Cleaner, case: Path) -> None:
    spec = json.loads(case.read_text(encoding="utf-8"))
    path = needs_shared(*spec["file"].split("/"))
    result = cleaner.process([decode(path.read_bytes(), str(path)).text])[0]
    kept = {i + 1 for i, k in enumerate(result.keep.tolist()) if k}
    assert sorted(set(spec["keep"]) - kept) == [], "content lines dropped"
    assert sorted(set(spec["drop"]) & kept) == [], "chrome lines kept"
