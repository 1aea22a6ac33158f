"""The shipped model on line-labelled regression pages: ours (tests/cases) and ../shared/cases.

A case passes when every ``must_keep`` line is kept and every ``must_drop`` line dropped.
Cases the shipped model still fails are listed in tests/cases/KNOWN_FAILURES.json and run as
strict expected failures, so a fix shows up as a failure to update the list.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from declutter.cleaner import Cleaner
from tests.conftest import SHARED

OURS = Path(__file__).resolve().parent / "cases"
KNOWN_FAILURES: dict[str, str] = json.loads(
    (OURS / "KNOWN_FAILURES.json").read_text(encoding="utf-8")
)


def _cases(folder: Path, prefix: str) -> list[tuple[str, Path]]:
    if not folder.is_dir():
        return []
    return [
        (prefix + p.name.removesuffix(".expect.json"), p)
        for p in sorted(folder.glob("*.expect.json"))
    ]


CASES = _cases(OURS, "") + _cases(SHARED / "cases", "shared/")


def wrong_lines(cleaner: Cleaner, expect_path: Path) -> list[str]:
    """The judged lines the cleaner gets wrong, as readable strings."""
    expect = json.loads(expect_path.read_text(encoding="utf-8"))
    page = expect_path.with_name(expect_path.name.removesuffix(".expect.json") + ".txt")
    result = cleaner.process([page.read_text(encoding="utf-8")])[0]
    keep, proba = result.keep.tolist(), result.proba.tolist()
    wrong = [
        f"lost content line {n} (p={proba[n - 1]:.2f})"
        for n in expect["must_keep"]
        if not keep[n - 1]
    ]
    wrong += [
        f"kept chrome line {n} (p={proba[n - 1]:.2f})" for n in expect["must_drop"] if keep[n - 1]
    ]
    return wrong


@pytest.fixture(scope="module")
def cleaner() -> Cleaner:
    return Cleaner()


@pytest.mark.parametrize(
    ("name", "expect_path"),
    [
        pytest.param(
            name,
            path,
            id=name,
            marks=[pytest.mark.xfail(reason=KNOWN_FAILURES[name], strict=True)]
            if name in KNOWN_FAILURES
            else [],
        )
        for name, path in CASES
    ],
)
def test_case(cleaner: Cleaner, name: str, expect_path: Path) -> None:
    assert wrong_lines(cleaner, expect_path) == []


def test_our_cases_are_there() -> None:
    assert len(_cases(OURS, "")) >= 12


def test_known_failures_name_real_cases() -> None:
    names = {name for name, _ in _cases(OURS, "")} | {
        "shared/" + p.name.removesuffix(".expect.json")
        for p in (SHARED / "cases").glob("*.expect.json")
    }
    if not (SHARED / "cases").is_dir():
        names |= {n for n in KNOWN_FAILURES if n.startswith("shared/")}
    assert set(KNOWN_FAILURES) <= names


def test_labels_cover_every_non_blank_line_once() -> None:
    for _, expect_path in _cases(OURS, ""):
        expect = json.loads(expect_path.read_text(encoding="utf-8"))
        page = expect_path.with_name(expect_path.name.removesuffix(".expect.json") + ".txt")
        lines = page.read_text(encoding="utf-8").splitlines()
        judged = expect["must_keep"] + expect["must_drop"] + expect["optional"]
        assert sorted(judged) == [n for n, x in enumerate(lines, 1) if x.strip()], expect_path
