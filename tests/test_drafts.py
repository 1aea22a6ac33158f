from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from declutter.cleaner import Cleaner
from declutter.cli import app
from declutter.data import load_pages, read_draft
from declutter.drafts import (
    DRAFT_SUFFIX,
    draft_pages,
    draft_targets,
    format_draft,
    parse_draft,
)
from declutter.errors import TrainingDataError
from declutter.lines import split_lines
from declutter.model import LineModel
from declutter.textio import decode

from .conftest import TRAINING_DATA

runner = CliRunner()
PAGE = "Home | News\n\nThe council voted to extend the tram.\r\nShare\rFooter \xe9\n"

# Page text as files hold it: any characters and line endings, and bytes that are not UTF-8.
texts = st.lists(
    st.one_of(
        st.text(st.characters(codec="utf-8"), max_size=12),
        st.sampled_from(["\n", "\r\n", "\r", "+ ", "- ", "?+ ", "\udcff", " ", "\n\n"]),
    ),
    max_size=12,
).map("".join)


@given(texts, st.randoms())
def test_an_unedited_draft_gives_back_the_page(text: str, rnd: object) -> None:
    lines = split_lines(text)
    keep = [rnd.random() < 0.5 for _ in lines]  # type: ignore[attr-defined]
    unsure = [rnd.random() < 0.3 for _ in lines]  # type: ignore[attr-defined]
    draft = parse_draft(format_draft(lines, keep, unsure))
    assert draft.text == text
    marked = [bool(line.rstrip("\r\n")) for line in lines]
    assert draft.keep.tolist() == [k and m for k, m in zip(keep, marked, strict=True)]
    assert draft.uncertain.tolist() == [u and m for u, m in zip(unsure, marked, strict=True)]


def test_every_non_empty_line_gets_one_mark() -> None:
    lines = split_lines(PAGE)
    draft = format_draft(
        lines, [False, False, True, False, False], [False, False, True] + [False] * 2
    )
    assert draft.splitlines() == [
        "- Home | News",
        "",
        "?+ The council voted to extend the tram.",
        "- Share",
        "- Footer \xe9",
    ]


def test_a_line_without_a_mark_names_the_file_and_line() -> None:
    with pytest.raises(TrainingDataError, match=r"page\.draft\.txt:3: .*'Share'"):
        parse_draft("+ Title\n\nShare\n", "page.draft.txt")


def test_a_mark_without_its_space_is_an_error() -> None:
    with pytest.raises(TrainingDataError, match=":1:"):
        parse_draft("+Title\n", "d")


def test_a_bare_mark_is_a_line_whose_spaces_an_editor_stripped() -> None:
    draft = parse_draft("+ a\n-\n+ b\n")
    assert draft.text == "a\n\nb\n" and draft.keep.tolist() == [True, False, True]


def test_labels_leave_lines_without_words_unlabelled() -> None:
    draft = parse_draft("+ Text here\n\n- * * *\n- Menu\n")
    assert draft.labels.tolist() == [1, -1, -1, 0]


def test_draft_pages_mark_the_least_certain_lines_first(tiny_model: LineModel) -> None:
    text = (TRAINING_DATA / "pages" / "en-news-01.txt").read_text(encoding="utf-8")
    cleaner = Cleaner(tiny_model)
    drafted = draft_pages(cleaner, [text])[0]
    draft = parse_draft(drafted.text)
    assert draft.text == text
    assert drafted.lines == len(split_lines(text)) and drafted.kept == int(draft.keep.sum())
    assert drafted.unsure, "some lines should be uncertain"
    assert sorted(u.number - 1 for u in drafted.unsure) == np.flatnonzero(draft.uncertain).tolist()
    cut = np.log(cleaner.threshold / (1 - cleaner.threshold))
    gaps = [abs(np.log(u.probability / (1 - u.probability)) - cut) for u in drafted.unsure]
    assert gaps == sorted(gaps)


def test_draft_targets_keep_relative_names_and_skip_copies(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    for name in ("a/x.txt", "a/x.clean.txt", "a/y.draft.txt", "z.txt"):
        (tmp_path / name).write_text("t")
    out = tmp_path / "out"
    pairs = draft_targets([tmp_path / "a", tmp_path / "z.txt"], out)
    assert pairs == [
        (tmp_path / "a" / "x.txt", out / ("x" + DRAFT_SUFFIX)),
        (tmp_path / "z.txt", out / ("z" + DRAFT_SUFFIX)),
    ]


def test_label_writes_drafts_that_round_trip_bytes(tmp_path: Path, tiny_model: LineModel) -> None:
    model = tmp_path / "m.joblib"
    tiny_model.save(model)
    page = tmp_path / "pages" / "p.txt"
    page.parent.mkdir()
    raw = PAGE.encode("latin-1") + b"Caf\xe9 menu\r"
    page.write_bytes(raw)
    out = tmp_path / "drafts"
    result = runner.invoke(app, ["label", str(page.parent), "-o", str(out), "--model", str(model)])
    assert result.exit_code == 0, result.stderr
    draft = out / "p.draft.txt"
    assert f"{draft}: 6 lines" in result.stdout
    data = draft.read_bytes()
    decoded = decode(data, "d")
    assert decoded.encode(parse_draft(decoded.text).text) == raw


def test_read_draft_gives_a_labelled_page(tmp_path: Path) -> None:
    path = tmp_path / "p.draft.txt"
    path.write_bytes(b"- Menu\n\n+ Body text \xff here\n")
    page = read_draft(path)
    assert page.text == "Menu\n\nBody text \udcff here\n"
    assert page.labels.tolist() == [0, -1, 1]
    assert load_pages([tmp_path])[0].labels.tolist() == [0, -1, 1]


def test_a_bad_draft_fails_train_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "p.draft.txt").write_text("+ ok\noops\n")
    result = runner.invoke(app, ["train", str(tmp_path), "-o", str(tmp_path / "m.joblib")])
    assert result.exit_code == 1
    assert "p.draft.txt:2:" in result.stderr


def _drafts_of_training_pages(folder: Path) -> list[Path]:
    """Drafts of the project's pages with their true labels (as a corrected draft holds them)."""
    paths = []
    for page in load_pages([TRAINING_DATA])[:6]:
        lines = split_lines(page.text)
        path = folder / (Path(page.page_id).name[: -len(".txt")] + DRAFT_SUFFIX)
        path.write_text(format_draft(lines, (page.labels == 1).tolist(), [False] * len(lines)))
        paths.append(path)
    return paths


def test_train_and_eval_read_drafts_alone_and_with_pairs(tmp_path: Path) -> None:
    drafts = tmp_path / "drafts"
    drafts.mkdir()
    _drafts_of_training_pages(drafts)
    model = tmp_path / "m.joblib"
    result = runner.invoke(app, ["train", str(drafts), "-o", str(model)])
    assert result.exit_code == 0, result.stderr
    assert "pages            6" in result.stdout
    mixed = runner.invoke(app, ["train", str(drafts), str(TRAINING_DATA), "-o", str(model)])
    assert mixed.exit_code == 0, mixed.stderr
    assert f"pages            {6 + len(load_pages([TRAINING_DATA]))}" in mixed.stdout
    scored = runner.invoke(app, ["eval", str(drafts), "--model", str(model)])
    assert scored.exit_code == 0, scored.stderr
    assert scored.stdout.splitlines()[1].split()[:2] == ["all", "6"]


def test_drafts_label_like_the_pairs_they_came_from(tmp_path: Path) -> None:
    paths = _drafts_of_training_pages(tmp_path)
    pairs = load_pages([TRAINING_DATA])[:6]
    for path, page in zip(paths, pairs, strict=True):
        draft = read_draft(path)
        assert draft.text == page.text
        assert draft.labels.tolist() == page.labels.tolist()


def test_label_never_overwrites_a_draft_unless_asked(tmp_path: Path) -> None:
    page = tmp_path / "p.txt"
    page.write_text("Home\nSome text of the page that goes on.\n")
    out = tmp_path / "drafts"
    (out).mkdir()
    (out / "p.draft.txt").write_text("+ corrected\n")
    result = runner.invoke(app, ["label", str(page), "-o", str(out)])
    assert result.exit_code == 2 and "p.draft.txt exists" in result.stderr
    assert (out / "p.draft.txt").read_text() == "+ corrected\n"
    again = runner.invoke(app, ["label", str(page), "-o", str(out), "--overwrite"])
    assert again.exit_code == 0, again.stderr
    assert parse_draft((out / "p.draft.txt").read_text()).text == page.read_text()


def test_label_reports_an_unreadable_page_and_drafts_the_others(tmp_path: Path) -> None:
    # Found by a hostile tester: a binary page stopped the run before the pages after it.
    (tmp_path / "a.txt").write_bytes(b"bin\x00ary\n")
    (tmp_path / "b.txt").write_text("Home\nSome text of the page that goes on.\n")
    out = tmp_path / "drafts"
    result = runner.invoke(
        app, ["label", str(tmp_path / "a.txt"), str(tmp_path / "b.txt"), "-o", str(out)]
    )
    assert result.exit_code == 1
    assert "binary" in result.stderr
    assert (out / "b.draft.txt").is_file() and not (out / "a.draft.txt").exists()


def test_a_byte_order_mark_an_editor_saved_before_the_first_mark_is_ignored() -> None:
    draft = parse_draft("\ufeff+ Title\n- Menu\n")
    assert draft.text == "Title\nMenu\n"
