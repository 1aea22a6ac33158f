from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from declutter.data import iter_pages, load_pages
from declutter.errors import TrainingDataError


def write_pair(folder: Path, name: str, raw: str, clean: str) -> None:
    (folder / f"{name}.txt").write_text(raw, encoding="utf-8")
    (folder / f"{name}.clean.txt").write_text(clean, encoding="utf-8")


def test_pairs_are_labelled_by_alignment(tmp_path: Path) -> None:
    write_pair(tmp_path, "p", "Menu\nThe story itself.\nShare\n", "The story itself.\n")
    (page,) = load_pages([tmp_path])
    assert page.labels.tolist() == [0, 1, 0]
    assert page.gold == "The story itself.\n"


def test_jsonl_pages(tmp_path: Path) -> None:
    path = tmp_path / "pages.jsonl.gz"
    record = {"lines": ["Menu", "Body text."], "labels": [0, 1], "id": "x", "style": "plain"}
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write(json.dumps(record) + "\n\n")
    (page,) = load_pages([path])
    assert page.text == "Menu\nBody text.\n"
    assert page.labels.tolist() == [0, 1]
    assert page.style == "plain"
    assert page.gold == "Body text."


def test_null_labels_are_unlabelled(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text(json.dumps({"lines": ["a", "b"], "labels": [None, 1]}) + "\n")
    (page,) = load_pages([path])
    assert page.labels.tolist() == [-1, 1]


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"lines": ["a"], "labels": [1, 0]}, "as long as"),
        ({"lines": "a", "labels": [1]}, "list of strings"),
        ({"lines": ["a", 3], "labels": [1, 1]}, "list of strings"),
        ({"lines": ["a"], "labels": [2]}, "1, 0, -1 or null"),
        ({"lines": ["a"], "labels": [True]}, "1, 0, -1 or null"),
        ({"lines": ["a"], "labels": [1.0]}, "1, 0, -1 or null"),
        ({"lines": ["a\nb"], "labels": [1]}, "line break"),
        ({"lines": ["a", "b\r"], "labels": [1, 1]}, "line break"),
        ([1, 2], "JSON object"),
    ],
)
def test_malformed_jsonl_records(tmp_path: Path, record: object, message: str) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(record) + "\n")
    with pytest.raises(TrainingDataError, match=message):
        load_pages([path])


def test_invalid_json_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("{not json\n")
    with pytest.raises(TrainingDataError, match=r"bad\.jsonl"):
        load_pages([path])


def test_raw_file_without_clean_copy(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(TrainingDataError, match=r"a\.clean\.txt"):
        list(iter_pages([tmp_path / "a.txt"]))


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(TrainingDataError, match="no such file"):
        list(iter_pages([tmp_path / "missing"]))


def test_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(TrainingDataError, match="no labelled pages"):
        load_pages([tmp_path])


def test_project_training_data_is_valid() -> None:
    root = Path(__file__).resolve().parent.parent / "training_data"
    pages = load_pages([root])
    assert len(pages) >= 30
    for page in pages:
        assert (page.labels == 1).any() and (page.labels == 0).any(), page.page_id


def test_jsonl_record_text_ends_every_line(tmp_path: Path) -> None:
    path = tmp_path / "pages.jsonl"
    records = [{"lines": ["a", "", "b"], "labels": [1, None, 0]}, {"lines": [], "labels": []}]
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    first, empty = load_pages([path])
    assert first.text == "a\n\nb\n"
    assert first.labels.tolist() == [1, -1, 0]
    assert empty.text == ""


def test_a_pair_named_by_both_its_files_is_one_page(tmp_path: Path) -> None:
    # Found by a newcomer: `declutter eval X.txt X.clean.txt` counted the page twice.
    write_pair(tmp_path, "p", "Menu\nThe story itself.\n", "The story itself.\n")
    pages = load_pages([tmp_path / "p.txt", tmp_path / "p.clean.txt", tmp_path / "p.txt"])
    assert len(pages) == 1
