from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from declutter import batch
from declutter.cleaner import Cleaner
from declutter.errors import UsageError
from declutter.model import LineModel


def test_stdin_plan() -> None:
    assert batch.plan([], None, ["*.txt"]).pairs == [("<stdin>", None, None)]
    assert batch.plan(["-"], "-", ["*.txt"]).pairs == [("<stdin>", None, None)]


def test_stdin_cannot_mix_with_files(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="standard input"):
        batch.plan(["-", str(tmp_path)], str(tmp_path / "o"), ["*.txt"])


def test_same_names_from_two_inputs_collide(tmp_path: Path) -> None:
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "page.txt").write_text("x")
    with pytest.raises(UsageError, match="would both write"):
        batch.plan(
            [str(tmp_path / "a" / "page.txt"), str(tmp_path / "b" / "page.txt")],
            str(tmp_path / "out"),
            ["*.txt"],
        )


def test_output_folder_containing_the_input_is_refused(tmp_path: Path) -> None:
    inner = tmp_path / "data" / "in"
    inner.mkdir(parents=True)
    with pytest.raises(UsageError, match="must not be"):
        batch.plan([str(inner)], str(tmp_path / "data"), ["*.txt"])


def test_suffix_is_added_to_output_names(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "p.txt").write_text("x")
    pairs = batch.plan(
        [str(tmp_path / "in")], str(tmp_path / "out"), ["*.txt"], ".scores.tsv"
    ).pairs
    assert [t.name for _, _, t in pairs if t] == ["p.txt.scores.tsv"]


def test_escape_tsv() -> None:
    assert batch.escape_tsv("a\tb\\c\r\n") == "a\\tb\\\\c\\r\\n"


class Recorder(batch.Reporter):
    def __init__(self) -> None:
        self.events: list[tuple[str, object]] = []

    def progress(self, done: int, total: int | None) -> None:
        self.events.append(("progress", (done, total)))

    def failure(self, message: str) -> None:
        self.events.append(("failure", message))


def test_reporter_hears_progress_and_failures(tmp_path: Path) -> None:
    from declutter.cleaner import Cleaner

    good = tmp_path / "good.txt"
    good.write_text("A line of text here.\n")
    jobs = [
        batch.TextJob("good", good, tmp_path / "out" / "good.txt"),
        batch.TextJob("gone", tmp_path / "missing.txt", tmp_path / "out" / "gone.txt"),
    ]
    recorder = Recorder()
    summary = batch.clean_text_jobs(jobs, Cleaner(), batch.Options(), 1, recorder)
    assert ("progress", (2, 2)) in recorder.events
    assert any(kind == "failure" and "missing.txt" in str(m) for kind, m in recorder.events)
    assert summary.files == 1 and not summary.ok


def test_jsonl_scores_name_the_page_type_of_the_page_stage(typed_model: LineModel) -> None:
    result = Cleaner(typed_model).process(["Home\nThe council met on Tuesday to vote.\n"])[0]
    rows = [json.loads(x) for x in batch.score_rows(result, "jsonl").splitlines()]
    best = result.page_type
    assert best is not None and {r["page_type"] for r in rows} == {best}
    assert rows[0]["page_type_probability"] == result.page_types[best]


def test_jsonl_scores_without_a_page_stage_have_no_page_type(tiny_model: LineModel) -> None:
    result = Cleaner(tiny_model).process(["Home\nThe council met on Tuesday to vote.\n"])[0]
    assert "page_type" not in json.loads(batch.score_rows(result, "jsonl").splitlines()[0])


# --- JSON Lines records keep their text (issue 16) -----------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3)
    ),
    max_leaves=8,
)


@given(st.dictionaries(st.text(max_size=8), json_values, max_size=5), st.text())
def test_parse_record_agrees_with_json_and_splice_changes_one_value(
    obj: dict[str, object], new: str
) -> None:
    import json

    text = json.dumps(obj, ensure_ascii=False) + "\n"
    record = batch.parse_record(text)
    assert record.values == json.loads(text)
    spliced = batch.splice(record, "k", new)
    assert json.loads(spliced) == {**obj, "k": new}
    if "k" in obj:  # everything but the value is the original text
        start, end = record.spans["k"]
        assert spliced[:start] == text[:start] and spliced.endswith(text[end:])


def test_parse_record_refuses_what_json_refuses() -> None:
    for text in ['{"a": 1,}', '{"a" 1}', "[1]", '{"a": 1} x', "{", '{"a": 1}{}', "{,}"]:
        with pytest.raises(ValueError):
            batch.parse_record(text)


# --- JSON Lines read by the workers (--jobs on a plain file) ----------------------------------
MIXED_JSONL = (
    b'{"id": 0, "text": "Home\\nThe council met on Tuesday to vote.\\n"}\n'
    b"\n"
    b"not json\n"
    b'{"id": 2, "text": 5}\r\n'
    b'{"id": 3, "text": "caf\xe9 \\u00e9t\xc3\xa9\\nMore words in a sentence here."}\n'
    b'{"id": 4}\n'
    b'{"id": 5, "text": "Last record without a line end."}'
)


class Collected(batch.Reporter):
    def __init__(self) -> None:
        self.failures: list[str] = []
        self.warnings: list[str] = []

    def failure(self, message: str) -> None:
        self.failures.append(message)

    def warning(self, message: str) -> None:
        self.warnings.append(message)


def _clean_file(src: Path, out: Path, jobs: int) -> tuple[bytes, batch.RunSummary, Collected]:
    reporter = Collected()
    job = batch.JsonlJob(str(src), src, out)
    summary = batch.clean_jsonl_jobs([job], Cleaner(), batch.Options(), jobs, reporter)
    return out.read_bytes(), summary, reporter


def test_workers_reading_byte_ranges_match_one_job(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch, "BATCH_ITEMS", 2)  # many ranges, some cut at blank/bad lines
    src = tmp_path / "in.jsonl"
    src.write_bytes(MIXED_JSONL * 3)
    one = _clean_file(src, tmp_path / "one.jsonl", 1)
    two = _clean_file(src, tmp_path / "two.jsonl", 2)
    assert one[0] == two[0]
    assert one[1] == two[1]
    assert (one[2].failures, one[2].warnings) == (two[2].failures, two[2].warnings)
    assert f"{src}:3: not valid JSON" in two[2].failures[0]


def test_plain_files_are_read_by_the_workers_and_gzip_by_the_parent(tmp_path: Path) -> None:
    import gzip

    plain, packed = tmp_path / "a.jsonl", tmp_path / "a.jsonl.gz"
    plain.write_bytes(MIXED_JSONL)
    packed.write_bytes(gzip.compress(MIXED_JSONL))
    with batch.open_input(plain, None) as stream:
        assert batch._is_regular_file(stream)
    with batch.open_input(packed, None) as stream:
        assert not batch._is_regular_file(stream)


def test_a_range_that_changed_before_its_worker_read_it_is_a_failure(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    src.write_bytes(MIXED_JSONL)
    span = batch.JsonlRange(str(src), str(src), 1, 0, len(MIXED_JSONL), 7)
    src.write_bytes(MIXED_JSONL[:20])  # truncated after the parent found the range
    batch._init_worker_inline(Cleaner())
    outcome = batch._clean_jsonl_range((span, batch.Options()))
    assert outcome.output == b""
    assert outcome.errors == [
        f"{src}:1-7: cannot read again (it changed while being cleaned); records skipped"
    ]


def test_surrogate_escapes_are_found_in_either_hex_case() -> None:
    def may(line: str, undecodable: bool = False) -> bool:
        return batch._may_hold_surrogates(batch.parse_record(line), undecodable)

    assert may('{"t": "odd \\udc80 here"}') and may('{"t": "odd \\uDC80 here"}')
    assert not may('{"t": "café \\u00e9 😀"}')
    assert may('{"t": "caf\udce9"}', undecodable=True)


def test_an_upper_case_lone_surrogate_escape_stays_escaped() -> None:
    batch._init_worker_inline(Cleaner())
    line = b'{"text": "odd \\uDC80 char here."}\n'
    outcome = batch._clean_jsonl_batch((batch.JsonlBatch("in", 1, [line]), batch.Options()))
    assert outcome.output.lower() == line.lower()
