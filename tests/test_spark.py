"""declutter.spark and `declutter spark`, run for real on one local[2] session.

Outside CI the Spark tests skip, saying why, when PySpark or Java is missing; under CI
(``CI=true``) they fail instead, so that CI never passes without running them.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from declutter.cleaner import Cleaner
from declutter.cli import app
from declutter.model import LineModel
from declutter.spark import clean_arrow, clean_partition, input_format, output_format

runner = CliRunner()
PAGES_DIR = Path(__file__).resolve().parent.parent / "training_data" / "pages"
PAGES = ["Menu\nThe river rose by two metres overnight, officials said.\n", None, ""]
EDGE_PAGES = {
    "empty": "",
    "blank": "\n\n",
    "crlf": "Home | About\r\nThe council voted on Tuesday to extend the tram line.\r\n",
    "no-final-newline": "Share\nThe harbour reopened after a week of repairs to its wall",
}


def project_pages() -> dict[str, str]:
    pages = {
        p.stem: p.read_text(encoding="utf-8")
        for p in sorted(PAGES_DIR.glob("*.txt"))
        if ".clean." not in p.name
    }
    return {**pages, **EDGE_PAGES}


def test_clean_partition_matches_the_cleaner_and_keeps_nones() -> None:
    out = list(clean_partition(iter(PAGES * 3), batch_size=2))
    expected = Cleaner().clean(str(PAGES[0]))
    assert out == [expected, None, ""] * 3


def test_clean_arrow_cleans_a_column_and_keeps_nulls() -> None:
    pa = pytest.importorskip("pyarrow")
    batch = pa.RecordBatch.from_pydict({"id": [1, 2, 3], "text": PAGES})
    (replaced,) = clean_arrow([batch])
    assert replaced.column("text").to_pylist() == list(clean_partition(PAGES))
    (added,) = clean_arrow([batch], output_column="clean")
    assert added.schema.names == ["id", "text", "clean"]
    assert added.column("text").to_pylist() == PAGES


@pytest.mark.parametrize(
    ("name", "fmt"),
    [
        ("a.jsonl", "json"),
        ("a.jsonl.gz", "json"),
        ("a.warc.wet.gz", "warc"),
        ("a.parquet", "parquet"),
    ],
)
def test_input_format_from_names(tmp_path: Path, name: str, fmt: str) -> None:
    (tmp_path / name).write_bytes(b"")
    assert input_format([str(tmp_path / name)]) == fmt
    assert input_format([str(tmp_path)]) == fmt


def test_output_format_from_names() -> None:
    assert output_format("out.jsonl") == "json" and output_format("out/") == "parquet"


# --- with Spark -----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def spark_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Spark session's working folder."""
    return tmp_path_factory.mktemp("spark")


@pytest.fixture(scope="session")
def spark(spark_dir: Path) -> Iterator[Any]:
    """One local[2] session for every Spark test (start-up costs seconds)."""
    reason = None
    try:
        import pyarrow  # noqa: F401
        import pyspark  # noqa: F401
    except ImportError:
        reason = "PySpark is not installed (pip install '.[spark]')"
    if reason is None and not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        reason = "no Java runtime (install one, e.g. apt-get install default-jre-headless)"
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}: CI must run the Spark tests")
        pytest.skip(reason)
    from declutter.spark import session

    # The JVM resolves relative paths against the folder it starts in: start it in its own
    # folder, which the README test then works in.
    here = Path.cwd()
    os.chdir(spark_dir)
    try:
        spark, created = session("local[2]")
    finally:
        os.chdir(here)
    yield spark
    if created:
        spark.stop()


def write_jsonl(path: Path, pages: dict[str, str]) -> Path:
    with path.open("w", encoding="utf-8") as f:
        for page_id, text in pages.items():
            f.write(json.dumps({"id": page_id, "text": text}, ensure_ascii=False) + "\n")
    return path


def read_json_dir(folder: Path, key: str) -> dict[str, Any]:
    rows = {}
    for part in sorted(folder.glob("part-*")):
        opener = gzip.open if part.name.endswith(".gz") else open
        with opener(part, "rt", encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                rows[row[key]] = row
    return rows


def test_spark_command_cleans_json_lines_exactly_as_the_cli(spark: Any, tmp_path: Path) -> None:
    pages = project_pages()
    source = write_jsonl(tmp_path / "pages.jsonl", pages)
    cli = runner.invoke(app, ["clean", "--jsonl", str(source)])
    assert cli.exit_code == 0, cli.stderr
    expected = {r["id"]: r["text"] for r in map(json.loads, cli.stdout.splitlines())}
    out = tmp_path / "cleaned.jsonl"
    result = runner.invoke(app, ["spark", str(source), str(out), "--master", "local[2]"])
    assert result.exit_code == 0, result.stderr
    assert f"{len(pages)} page(s) written" in result.stderr
    got = read_json_dir(out, "id")
    # Spark's JSON writer leaves out null fields only; every text here is a string.
    assert {k: v["text"] for k, v in got.items()} == expected


def test_spark_command_reads_wet_writes_parquet_as_the_cli(spark: Any, tmp_path: Path) -> None:
    pq = pytest.importorskip("pyarrow.parquet")
    pytest.importorskip("fastwarc")
    from fastwarc.warc import WarcRecord, WarcRecordType

    wet = tmp_path / "pages.warc.wet.gz"
    with wet.open("wb") as f:
        for page_id, text in project_pages().items():
            rec = WarcRecord()
            rec.init_headers(WarcRecordType.conversion, f"uuid:{uuid.uuid4()}".encode())
            rec.headers["WARC-Target-URI"] = f"https://example.org/{page_id}"
            rec.headers["Content-Type"] = "text/plain"
            rec.set_bytes_content(text.encode("utf-8"))
            raw = io.BytesIO()
            rec.write(raw, checksum_data=True)
            f.write(gzip.compress(raw.getvalue()))
    cli = runner.invoke(app, ["clean", str(wet)])
    assert cli.exit_code == 0, cli.stderr
    expected = {r["record_id"]: r for r in map(json.loads, cli.stdout.splitlines())}
    out = tmp_path / "cleaned"
    result = runner.invoke(app, ["spark", str(wet), str(out)])
    assert result.exit_code == 0, result.stderr
    rows = pq.read_table(out).to_pylist()
    assert len(rows) == len(expected)
    for row in rows:
        want = expected[row["record_id"]]
        assert (row["url"], row["date"], row["text"]) == (want["url"], want["date"], want["text"])


def test_clean_dataframe_ships_a_model_file_and_keeps_the_column(
    spark: Any, tiny_model: LineModel, tmp_path: Path
) -> None:
    from declutter.spark import clean_dataframe

    model = tmp_path / "tiny.joblib"
    tiny_model.save(model)
    texts = list(project_pages().values())[:8]
    df = spark.createDataFrame([(i, t) for i, t in enumerate(texts)], "id INT, text STRING")
    rows = clean_dataframe(df, output_column="clean", model=model, threshold=0.5).collect()
    cleaner = Cleaner(tiny_model, threshold=0.5)
    assert [r.text for r in sorted(rows)] == texts
    assert [r.clean for r in sorted(rows)] == cleaner.clean_many(texts)


def test_clean_partition_in_rdd_map_partitions(spark: Any) -> None:
    rdd = spark.sparkContext.parallelize(PAGES, 2)
    assert rdd.mapPartitions(clean_partition).collect() == list(clean_partition(PAGES))


def test_spark_command_never_writes_over_an_existing_output(spark: Any, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "pages.jsonl", EDGE_PAGES)
    (tmp_path / "out").mkdir()
    result = runner.invoke(app, ["spark", str(source), str(tmp_path / "out")])
    assert result.exit_code == 2 and "exists" in result.stderr


def test_a_missing_column_is_a_usage_error(spark: Any, tmp_path: Path) -> None:
    source = write_jsonl(tmp_path / "pages.jsonl", EDGE_PAGES)
    result = runner.invoke(app, ["spark", str(source), str(tmp_path / "o"), "--field", "body"])
    assert result.exit_code == 2 and "no column 'body'" in result.stderr


README = Path(__file__).resolve().parent.parent / "README.md"


def readme_examples() -> list[tuple[str, str]]:
    """The code blocks of the README's "Common Crawl and Spark" section: (language, code)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("<!-- cc-examples:start -->")[1].split("<!-- cc-examples:end -->")[0]
    return re.findall(r"```(\w*)\n(.*?)```", section, re.DOTALL)


def test_readme_common_crawl_and_spark_examples_run_as_written(
    spark: Any, spark_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tmp_path = spark_dir  # where the session's JVM resolves relative paths, as a user's would
    (tmp_path / "examples").symlink_to(README.parent / "examples")
    monkeypatch.chdir(tmp_path)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    blocks = readme_examples()
    assert [lang for lang, _ in blocks] == ["", "", "python"]
    for lang, code in blocks:
        if lang == "python":
            exec(compile(code, str(README), "exec"), {})
            continue
        for line in code.splitlines():
            if line.startswith("python -m pip install"):
                continue  # CI installs the extras
            if line.startswith("declutter "):  # in this process, on the test's Spark session
                result = runner.invoke(app, shlex.split(line)[1:])
                assert result.exit_code == 0, f"{line}\n{result.stderr}"
            else:
                subprocess.run(["bash", "-c", line], check=True, env=env)
    for name in ("cleaned.jsonl.gz", "cleaned.warc.wet.gz", "cleaned-pages", "submitted-pages"):
        assert (tmp_path / name).exists(), name


def test_spark_site_context_cleans_as_the_cli(spark: Any, tmp_path: Path) -> None:
    from dataclasses import replace

    import numpy as np

    from declutter.model import load_model
    from declutter.site import SiteStageParams

    model = tmp_path / "site.joblib"
    with_stage = replace(load_model(), site=SiteStageParams(np.array([-8.0, -1.0], np.float32)))
    with_stage.save(model)
    footer = (  # reads as prose: the shipped model keeps it on a page alone
        "The Valley Herald is an independent newsroom, and we rely on readers like you to keep "
        "reporting on the towns along the river.\n"
    )
    stories = [
        f"Home | News | Sport\n\nThe council met on day {k} to discuss the harbour plan.\n"
        f"Residents asked {k + 2} questions about the new ferry timetable and its costs.\n\n"
        + footer
        for k in range(7)
    ]
    hosts = ["a.org"] * 4 + ["www.b.org"] * 3
    project = list(project_pages().values())[:3]
    rows = [
        {"id": k, "url": f"https://{h}/{k}", "text": t}
        for k, (t, h) in enumerate(zip(stories + project, [*hosts, *["c.org"] * 3], strict=True))
    ]
    rows += [{**rows[0], "id": 100}, {"id": 101, "url": "https://lone.org/", "text": stories[1]}]
    rows += [{"id": 102, "url": None, "text": stories[2]}, {"id": 103, "url": "x", "text": None}]
    source = tmp_path / "pages.jsonl"
    source.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    cli = runner.invoke(app, ["clean", "--jsonl", "--site-context", "-m", str(model), str(source)])
    assert cli.exit_code == 1, cli.stderr  # the record without text is reported, the rest cleaned
    expected = {r["id"]: r["text"] for r in map(json.loads, cli.stdout.splitlines())}
    out = tmp_path / "cleaned.jsonl"
    args = ["spark", "--site-context", "--model", str(model), str(source), str(out)]
    result = runner.invoke(app, [*args, "--master", "local[2]"])
    assert result.exit_code == 0, result.stderr
    # Spark's JSON writer leaves out null fields: a missing text reads None, as the CLI's null.
    got: dict[Any, Any] = {k: v.get("text") for k, v in read_json_dir(out, "id").items()}
    assert got == expected
    assert footer in got[101] and not any(footer in got[k] for k in range(7))
