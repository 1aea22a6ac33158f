from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from declutter.cli import app
from declutter.model import LineModel

runner = CliRunner()
ARTICLE = (
    "Home | News | Sport | Weather\n"
    "\n"
    "The council voted on Tuesday to extend the tram line to the harbour, ending years of "
    "debate about the route.\n"
    "\n"
    "Work will start next spring and the first trams should run within three years, officials "
    "said at a meeting in the town hall.\n"
    "\n"
    "Share this article\n"
    "© 2024 Example News. All rights reserved.\n"
)
KEEP_ALL = ["--threshold", "0.001", "--smoothing", "0"]


def invoke(args: list[str], input: bytes | str | None = None):  # type: ignore[no-untyped-def]
    return runner.invoke(app, args, input=input)


@pytest.fixture()
def model_file(tiny_model: LineModel, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("model") / "tiny.joblib"
    tiny_model.save(path)
    return path


# --- clean: text ---------------------------------------------------------------------------------
def test_clean_stdin_to_stdout() -> None:
    result = invoke(["clean"], ARTICLE)
    assert result.exit_code == 0, result.stderr
    assert "The council voted" in result.stdout
    assert result.stderr == ""


def test_clean_dash_reads_stdin() -> None:
    assert invoke(["clean", "-"], ARTICLE).stdout == invoke(["clean"], ARTICLE).stdout


def test_clean_output_is_a_subsequence_of_input_lines() -> None:
    out = invoke(["clean"], ARTICLE).stdout.splitlines(keepends=True)
    lines = iter(ARTICLE.splitlines(keepends=True))
    assert all(any(o == line for line in lines) for o in out)


def test_clean_file_to_stdout_and_to_file(tmp_path: Path) -> None:
    src = tmp_path / "page.txt"
    src.write_text(ARTICLE)
    to_stdout = invoke(["clean", str(src)])
    assert to_stdout.exit_code == 0
    out = tmp_path / "out.txt"
    to_file = invoke(["clean", str(src), "-o", str(out)])
    assert to_file.exit_code == 0
    assert to_file.stdout == ""
    assert out.read_text() == to_stdout.stdout


def test_crlf_and_lone_cr_are_preserved(tmp_path: Path) -> None:
    src = tmp_path / "page.txt"
    src.write_bytes(b"first line here\r\nsecond line\rthird line\n")
    result = invoke(["clean", str(src), *KEEP_ALL])
    assert result.stdout_bytes == b"first line here\r\nsecond line\rthird line\n"


def test_invalid_utf8_is_kept_byte_for_byte(tmp_path: Path) -> None:
    src = tmp_path / "latin1.txt"
    data = "Le café était fermé ce matin-là, à cause de la grève.\n".encode("latin-1")
    src.write_bytes(data)
    result = invoke(["clean", str(src), *KEEP_ALL])
    assert result.exit_code == 0
    assert result.stdout_bytes == data
    assert "not valid utf-8" in result.stderr


def test_binary_file_is_skipped_with_a_message(tmp_path: Path) -> None:
    src = tmp_path / "image.txt"
    src.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00")
    result = invoke(["clean", str(src)])
    assert result.exit_code == 1
    assert "binary" in result.stderr
    assert result.stdout == ""


def test_empty_and_whitespace_files(tmp_path: Path) -> None:
    for content in ("", "  \n\t\n"):
        src = tmp_path / "e.txt"
        src.write_text(content)
        result = invoke(["clean", str(src)])
        assert result.exit_code == 0
        assert result.stdout == ""


def test_missing_input_is_a_data_error(tmp_path: Path) -> None:
    result = invoke(["clean", str(tmp_path / "nope.txt")])
    assert result.exit_code == 1
    assert "nope.txt: no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_folder_needs_an_output_folder(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE)
    result = invoke(["clean", str(tmp_path)])
    assert result.exit_code == 2
    assert "-o/--output DIR" in result.stderr


def test_folder_to_folder_keeps_relative_names(tmp_path: Path) -> None:
    src = tmp_path / "in"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text(ARTICLE)
    (src / "sub" / "b.txt").write_text(ARTICLE)
    (src / "notes.md").write_text("ignored")
    out = tmp_path / "out"
    result = invoke(["clean", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == [
        "a.txt",
        "sub",
        "sub/b.txt",
    ]


def test_output_folder_inside_input_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE)
    result = invoke(["clean", str(tmp_path), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "must not be" in result.stderr
    assert not (tmp_path / "out").exists()


def test_output_folder_equal_to_input_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE)
    result = invoke(["clean", str(tmp_path), "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert (tmp_path / "a.txt").read_text() == ARTICLE


def test_output_file_equal_to_input_is_refused(tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text(ARTICLE)
    result = invoke(["clean", str(src), "-o", str(src)])
    assert result.exit_code == 2
    assert "never overwrites" in result.stderr
    assert src.read_text() == ARTICLE


def test_output_file_that_is_a_folder(tmp_path: Path) -> None:
    src = tmp_path / "a.txt"
    src.write_text(ARTICLE)
    result = invoke(["clean", str(src), "-o", str(tmp_path)])
    assert result.exit_code == 2
    assert "is a folder" in result.stderr


def test_one_bad_file_does_not_stop_the_others(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "good.txt").write_text(ARTICLE)
    (src / "bad.txt").write_bytes(b"\x00\x01binary")
    out = tmp_path / "out"
    result = invoke(["clean", str(src), "-o", str(out)])
    assert result.exit_code == 1
    assert (out / "good.txt").exists()
    assert not (out / "bad.txt").exists()
    assert result.stderr.count("bad.txt") == 1  # listed once
    assert "bad.txt: binary file" in result.stderr


def test_jobs_give_identical_output(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for i in range(12):
        (src / f"p{i:02}.txt").write_text(ARTICLE.replace("Tuesday", f"day {i}"))
    one, two = tmp_path / "one", tmp_path / "two"
    assert invoke(["clean", str(src), "-o", str(one)]).exit_code == 0
    assert invoke(["clean", str(src), "-o", str(two), "--jobs", "2"]).exit_code == 0
    for path in one.iterdir():
        assert (two / path.name).read_bytes() == path.read_bytes()


def test_threshold_out_of_range_is_a_usage_error() -> None:
    result = invoke(["clean", "--threshold", "1.5"], ARTICLE)
    assert result.exit_code == 2
    assert "threshold" in result.stderr


def test_flagged_pages_are_reported_and_can_be_dropped(tmp_path: Path) -> None:
    # The article page drops its menu and footer: it keeps less than 99% of its text.
    src = tmp_path / "page.txt"
    src.write_text(ARTICLE)
    strict = ["--flag-below", "0.99"]
    reported = invoke(["clean", str(src), *strict])
    assert reported.exit_code == 0
    assert "flagged: " in reported.stderr and "page.txt" in reported.stderr
    assert "page(s) flagged" in reported.stderr
    out = tmp_path / "out.txt"
    dropped = invoke(["clean", str(src), "-o", str(out), *strict, "--drop-flagged"])
    assert dropped.exit_code == 0
    assert not out.exists()
    assert invoke(["clean", str(src), *strict, "--quiet"]).stderr == ""
    assert "flagged" not in invoke(["clean", str(src)]).stderr


def test_scores_tsv() -> None:
    result = invoke(["clean", "--scores", "tsv", *KEEP_ALL], "One line of words.\n\nmore\n")
    rows = result.stdout.splitlines()
    assert rows[0] == "line\tprobability\tkeep\ttext"
    first = rows[1].split("\t")
    assert first[0] == "1" and float(first[1]) > 0 and first[2] == "1"
    assert first[3] == "One line of words."
    assert rows[2] == "2\t\t1\t"  # a blank line between kept lines is kept, unscored


def test_scores_jsonl() -> None:
    result = invoke(["clean", "--scores", "jsonl"], "A\tB line\n")
    (row,) = [json.loads(x) for x in result.stdout.splitlines()]
    assert row["line"] == 1 and row["text"] == "A\tB line"
    assert 0 <= row["probability"] <= 1 and isinstance(row["keep"], bool)


def test_bad_scores_format() -> None:
    result = invoke(["clean", "--scores", "csv"], "x\n")
    assert result.exit_code == 2


# --- clean: JSON Lines ---------------------------------------------------------------------------
def records(*texts: object) -> str:
    return "".join(
        json.dumps({"id": i, "text": t, "lang": "en"}) + "\n" for i, t in enumerate(texts)
    )


def test_jsonl_cleans_the_field_and_keeps_the_rest() -> None:
    result = invoke(["clean", "--jsonl", *KEEP_ALL], records(ARTICLE, "Short page here."))
    assert result.exit_code == 0, result.stderr
    out = [json.loads(x) for x in result.stdout.splitlines()]
    assert [r["id"] for r in out] == [0, 1]
    assert all(r["lang"] == "en" for r in out)
    assert "The council voted" in out[0]["text"]


def test_jsonl_output_field_keeps_the_original() -> None:
    result = invoke(["clean", "--jsonl", "--output-field", "clean"], records(ARTICLE))
    (record,) = [json.loads(x) for x in result.stdout.splitlines()]
    assert record["text"] == ARTICLE
    assert "clean" in record


def test_jsonl_custom_field() -> None:
    line = json.dumps({"body": ARTICLE}) + "\n"
    result = invoke(["clean", "--jsonl", "--field", "body"], line)
    assert result.exit_code == 0
    assert "body" in json.loads(result.stdout)


def test_jsonl_bad_records_are_reported_and_the_rest_cleaned() -> None:
    good = json.dumps({"text": ARTICLE})
    data = "\n".join([good, "{broken", json.dumps({"other": 1}), json.dumps({"text": 5}), good])
    result = invoke(["clean", "--jsonl"], data + "\n")
    assert result.exit_code == 1
    assert "<stdin>:2: not valid JSON" in result.stderr
    assert "<stdin>:3: has no field 'text'" in result.stderr
    assert "<stdin>:4: has a non-string field 'text'" in result.stderr
    out = [json.loads(x) for x in result.stdout.splitlines()]
    assert len(out) == 4  # the broken line cannot be written back; the others are
    assert out[1] == {"other": 1} and out[2] == {"text": 5}


def test_jsonl_gzip_in_and_out(tmp_path: Path) -> None:
    src = tmp_path / "pages.jsonl.gz"
    with gzip.open(src, "wt") as f:
        f.write(records(ARTICLE, ARTICLE))
    out = tmp_path / "clean.jsonl.gz"
    result = invoke(["clean", "--jsonl", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    with gzip.open(out, "rt") as f:
        assert len(f.read().splitlines()) == 2


def test_jsonl_folder(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.jsonl").write_text(records(ARTICLE))
    (src / "b.txt").write_text("not jsonl")
    out = tmp_path / "out"
    result = invoke(["clean", "--jsonl", str(src), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert [p.name for p in out.iterdir()] == ["a.jsonl"]


def test_jsonl_jobs_give_identical_output(tmp_path: Path) -> None:
    src = tmp_path / "p.jsonl"
    src.write_text(records(*[ARTICLE.replace("Tuesday", f"day {i}") for i in range(600)]))
    one = invoke(["clean", "--jsonl", str(src)])
    two = invoke(["clean", "--jsonl", str(src), "--jobs", "2"])
    assert one.exit_code == two.exit_code == 0
    assert one.stdout == two.stdout


def test_field_options_need_jsonl() -> None:
    assert invoke(["clean", "--output-field", "x"], "a\n").exit_code == 2


# --- models, train, eval, explain ----------------------------------------------------------
def test_corrupt_model_is_a_one_line_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.joblib"
    bad.write_bytes(b"garbage")
    result = invoke(["clean", "--model", str(bad)], ARTICLE)
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "bad.joblib" in result.stderr


def test_clean_with_a_trained_model(model_file: Path) -> None:
    result = invoke(["clean", "--model", str(model_file)], ARTICLE)
    assert result.exit_code == 0


def test_train_writes_a_model_and_a_summary(tmp_path: Path) -> None:
    data = Path(__file__).resolve().parent.parent / "training_data"
    out = tmp_path / "m.joblib"
    result = invoke(["train", str(data), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    assert out.exists()
    for word in ("pages", "class balance", "held-out sites", "decoder"):
        assert word in result.stdout


@pytest.mark.parametrize("where", ["the file", "a page name in the folder"])
def test_train_never_writes_its_model_over_the_training_data(tmp_path: Path, where: str) -> None:
    # Found by a hostile tester: `train drafts/ --base default -o drafts/x.draft.txt` replaced
    # a person's corrected draft with a model file, exit 0.
    (tmp_path / "p.txt").write_text("Menu\nThe story itself.\n", encoding="utf-8")
    (tmp_path / "p.clean.txt").write_text("The story itself.\n", encoding="utf-8")
    out = tmp_path / ("p.clean.txt" if where == "the file" else "q.txt")
    data = tmp_path / "p.clean.txt" if where == "the file" else tmp_path
    result = invoke(["train", str(data), "-o", str(out)])
    assert result.exit_code == 2
    assert "would write over the training data" in result.stderr
    assert (tmp_path / "p.clean.txt").read_text(encoding="utf-8") == "The story itself.\n"


def test_train_defaults_are_the_trainers() -> None:
    import inspect

    from declutter import cli, train

    params = inspect.signature(cli.train).parameters
    assert params["c"].default == train.LINE_C
    assert params["context_c"].default == train.CONTEXT_C


def test_train_without_data(tmp_path: Path) -> None:
    result = invoke(["train", str(tmp_path), "-o", str(tmp_path / "m.joblib")])
    assert result.exit_code == 1
    assert "no labelled pages" in result.stderr


def test_train_refuses_an_output_folder_that_does_not_exist_before_training(
    tmp_path: Path,
) -> None:
    # The failing input: training ran for minutes, then could not write /tmp/newmodel/m.joblib.
    data = Path(__file__).resolve().parent.parent / "training_data"
    result = invoke(["train", str(data), "-o", str(tmp_path / "missing" / "m.joblib")])
    assert result.exit_code == 2
    assert "does not exist" in result.stderr
    assert "held-out" not in result.stdout  # refused before training, not after


def test_eval_prints_line_and_word_scores(model_file: Path) -> None:
    data = Path(__file__).resolve().parent.parent / "training_data"
    result = invoke(["eval", str(data), "--model", str(model_file)])
    assert result.exit_code == 0, result.stderr
    header, overall = result.stdout.splitlines()[:2]
    assert "word F1" in header and "line F1" in header
    assert overall.startswith("all")


def test_explain_shows_reasons_per_line(model_file: Path) -> None:
    result = invoke(["explain", "-", "--model", str(model_file)], ARTICLE)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == ARTICLE.count("\n")
    assert "(not scored)" in lines[1]
    assert "+ " in lines[2] and "context" in lines[2]


def test_help_explains_the_threshold() -> None:
    result = invoke(["clean", "--help"])
    assert "precision" in result.stdout and "recall" in result.stdout


# --- a real process --------------------------------------------------------------------------
def test_subprocess_pipeline_and_closed_pipe(tmp_path: Path) -> None:
    big = tmp_path / "big.txt"
    big.write_text(ARTICLE * 2000)
    # The pipeline's own status is head's: ask bash for declutter's (141: output closed early).
    cmd = f"{sys.executable} -m declutter clean {big} {' '.join(KEEP_ALL)} | head -1"
    cmd += "; exit ${PIPESTATUS[0]}"
    done = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=120)
    assert done.returncode == 141
    assert done.stdout.count("\n") == 1
    assert done.stderr == ""


def test_model_that_is_a_folder(tmp_path: Path) -> None:
    result = invoke(["clean", "--model", str(tmp_path)], ARTICLE)
    assert result.exit_code == 1
    assert "is a folder" in result.stderr


def test_unreadable_file_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "locked.txt"
    src.write_text(ARTICLE)
    original = Path.open

    def deny(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self.name == "locked.txt":
            raise PermissionError(13, "Permission denied")
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", deny)
    result = invoke(["clean", str(src)])
    assert result.exit_code == 1
    assert "locked.txt: permission denied" in result.stderr


def test_ten_megabyte_single_line(tmp_path: Path) -> None:
    src = tmp_path / "long.txt"
    line = ("word " * 2_000_000).encode()
    src.write_bytes(b"Menu\n" + line + b"\nFooter\n")
    result = invoke(["clean", str(src), *KEEP_ALL])
    assert result.exit_code == 0
    assert line in result.stdout_bytes


def test_failures_in_parallel_workers_are_collected(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    for i in range(6):
        (src / f"good{i}.txt").write_text(ARTICLE)
    (src / "bad.txt").write_bytes(b"\x00binary")
    out = tmp_path / "out"
    result = invoke(["clean", str(src), "-o", str(out), "--jobs", "2"])
    assert result.exit_code == 1
    assert len(list(out.iterdir())) == 6
    assert "bad.txt" in result.stderr


def test_utf16_file_keeps_its_encoding(tmp_path: Path) -> None:
    src = tmp_path / "u16.txt"
    src.write_bytes("First line of the text.\nSecond line.\n".encode("utf-16"))
    result = invoke(["clean", str(src), *KEEP_ALL])
    assert result.exit_code == 0
    assert result.stdout_bytes.decode("utf-16") == "First line of the text.\nSecond line.\n"


def test_interrupted_run_leaves_no_partial_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from declutter import batch

    src = tmp_path / "in"
    src.mkdir()
    for i in range(3):
        (src / f"p{i}.txt").write_text(ARTICLE)
    calls = {"n": 0}
    real = batch.atomic_write  # type: ignore[attr-defined]

    def interrupt_second(path: Path, data: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        real(path, data)

    monkeypatch.setattr(batch, "atomic_write", interrupt_second)
    out = tmp_path / "out"
    result = invoke(["clean", str(src), "-o", str(out)])
    assert result.exit_code == 130
    assert "interrupted" in result.stderr
    assert [p.name for p in out.iterdir()] == ["p0.txt"]  # complete files only, no temp files


def test_progress_only_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from declutter.cli import _Reporter

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    fake = Tty()
    monkeypatch.setattr(sys, "stderr", fake)
    _Reporter(quiet=False).progress(3, 10)
    assert "\rdeclutter: 3/10 cleaned" in fake.getvalue()
    quiet = Tty()
    monkeypatch.setattr(sys, "stderr", quiet)
    _Reporter(quiet=True).progress(3, 10)
    assert quiet.getvalue() == ""


def test_explain_a_folder_is_a_one_line_error(tmp_path: Path) -> None:
    result = invoke(["explain", str(tmp_path)])
    assert result.exit_code == 1
    assert "is a directory" in result.stderr


def test_the_cli_does_not_import_scikit_learn() -> None:
    # Importing scikit-learn takes ~2 s; cleaning must start without it. A fresh interpreter:
    # this one has imported everything already.
    code = "import sys, declutter.cli; print(' '.join(sorted(sys.modules)))"
    loaded = set(
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout.split()
    )
    assert "sklearn" not in loaded
    assert "declutter.train" not in loaded


def test_cleaning_standard_input_imports_only_what_it_uses() -> None:
    # Start-up is part of every run (issue 17): modules of other commands stay unloaded.
    code = (
        "import sys\nfrom declutter.cli import main\ntry:\n    main()\nexcept SystemExit:\n"
        "    pass\nsys.stderr.write(' '.join(sorted(sys.modules)))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, "clean"],
        input="one line\n",
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout == "one line\n"
    loaded = set(result.stderr.split())
    others = {"declutter.warc", "declutter.explain", "declutter.corpus", "declutter.evaluate"}
    assert "declutter.batch" in loaded and not others & loaded
