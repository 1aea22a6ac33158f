"""WARC/WET input and output of ``declutter clean``, on files written here with fastwarc."""

from __future__ import annotations

import gzip
import io
import json
import sys
import uuid
import zlib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from declutter.cleaner import Cleaner
from declutter.cli import app

pytest.importorskip("fastwarc")
from fastwarc.warc import ArchiveIterator, WarcRecord, WarcRecordType

from declutter import warc

runner = CliRunner()
PAGES = Path(__file__).resolve().parent.parent / "training_data" / "pages"
NEWS = (PAGES / "en-news-01.txt").read_bytes()
FORUM = (PAGES / "de-forum-01.txt").read_bytes()
LATIN1 = "Menu\nLe café de la gare ouvre à six heures, avec des croissants chauds.\n"


def record(
    block: bytes,
    url: str | None = "https://example.org/a",
    kind: WarcRecordType = WarcRecordType.conversion,
    content_type: str = "text/plain",
    language: str | None = None,
) -> bytes:
    """One raw WARC record."""
    rec = WarcRecord()
    rec.init_headers(kind, f"uuid:{uuid.uuid4()}".encode())
    if url is not None:
        rec.headers["WARC-Target-URI"] = url
    if language is not None:
        rec.headers["WARC-Identified-Content-Language"] = language
    rec.headers["Content-Type"] = content_type
    rec.set_bytes_content(block)
    out = io.BytesIO()
    rec.write(out, checksum_data=True)
    return out.getvalue()


def wet_file(path: Path, records: list[bytes], gz: bool = True) -> Path:
    """A WARC file of ``records``, one gzip member per record when ``gz``."""
    path.write_bytes(b"".join(gzip.compress(r) if gz else r for r in records))
    return path


def gzip_members(data: bytes) -> list[bytes]:
    """The gzip members of ``data``, each whole, in order."""
    members = []
    while data:
        d = zlib.decompressobj(31)
        d.decompress(data)
        assert d.eof, "a gzip member is cut short"
        end = len(data) - len(d.unused_data)
        members.append(data[:end])
        data = data[end:]
    return members


def read_records(path: Path) -> list[WarcRecord]:
    out = []
    with path.open("rb") as f:
        for rec in ArchiveIterator(f, parse_http=False):
            rec.freeze()
            out.append(rec)
    return out


def jsonl(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines()]


def test_records_to_json_lines_with_their_metadata(tmp_path: Path) -> None:
    path = wet_file(
        tmp_path / "a.warc.wet.gz",
        [
            record(NEWS, "https://news.example/1", language="eng"),
            record(FORUM, "https://forum.example/2"),
        ],
    )
    result = runner.invoke(app, ["clean", str(path)])
    assert result.exit_code == 0, result.stderr
    rows = jsonl(result.stdout)
    sources = read_records(path)
    assert [r["url"] for r in rows] == ["https://news.example/1", "https://forum.example/2"]
    assert [r["record_id"] for r in rows] == [s.record_id for s in sources]
    assert [r["date"] for r in rows] == [s.headers.get("WARC-Date") for s in sources]
    assert rows[0]["language"] == "eng" and "language" not in rows[1]
    cleaner = Cleaner()
    assert [r["text"] for r in rows] == [
        cleaner.clean(NEWS.decode()),
        cleaner.clean(FORUM.decode()),
    ]


def test_wet_output_refers_to_its_sources_with_length_and_digest(tmp_path: Path) -> None:
    path = wet_file(tmp_path / "a.warc.wet.gz", [record(NEWS, language="eng"), record(FORUM)])
    out = tmp_path / "clean.warc.wet.gz"
    result = runner.invoke(app, ["clean", str(path), "-o", str(out)])
    assert result.exit_code == 0, result.stderr
    sources = read_records(path)
    written = read_records(out)
    assert written[0].record_type == WarcRecordType.warcinfo
    cleaned = written[1:]
    assert [r.record_type for r in cleaned] == [WarcRecordType.conversion] * 2
    assert [r.headers.get("WARC-Refers-To") for r in cleaned] == [s.record_id for s in sources]
    assert not {r.record_id for r in cleaned} & {s.record_id for s in sources}
    assert [r.headers.get("WARC-Date") for r in cleaned] == [
        s.headers.get("WARC-Date") for s in sources
    ]
    assert cleaned[0].headers.get("WARC-Identified-Content-Language") == "eng"
    texts = [Cleaner().clean(NEWS.decode()), Cleaner().clean(FORUM.decode())]
    for rec, text in zip(cleaned, texts, strict=True):
        assert rec.verify_block_digest()
        block = rec.reader.read()
        assert block == text.encode() and rec.content_length == len(block)


def test_wet_output_has_one_gzip_member_per_record(tmp_path: Path) -> None:
    path = wet_file(tmp_path / "a.warc.gz", [record(NEWS), record(FORUM)])
    out = tmp_path / "clean.warc.gz"
    assert runner.invoke(app, ["clean", str(path), "-o", str(out)]).exit_code == 0
    assert len(gzip_members(out.read_bytes())) == 3  # warcinfo and two pages


def test_uncompressed_warc_in_and_out(tmp_path: Path) -> None:
    path = wet_file(tmp_path / "a.warc", [record(NEWS)], gz=False)
    out = tmp_path / "clean.warc"
    assert runner.invoke(app, ["clean", str(path), "-o", str(out)]).exit_code == 0
    assert out.read_bytes().startswith(b"WARC/1.1\r\n")
    assert read_records(out)[1].reader.read() == Cleaner().clean(NEWS.decode()).encode()


def test_truncated_last_record_is_reported_and_the_others_written(tmp_path: Path) -> None:
    whole = gzip.compress(record(NEWS)) + gzip.compress(record(FORUM, "https://b.example/"))
    path = tmp_path / "cut.warc.wet.gz"
    path.write_bytes(whole[:-200])
    result = runner.invoke(app, ["clean", str(path)])
    assert result.exit_code == 1
    assert "record 2" in result.stderr and "truncated" in result.stderr
    assert [r["url"] for r in jsonl(result.stdout)] == ["https://example.org/a"]


@pytest.mark.parametrize("keep", [5, 40, 120])
def test_file_cut_inside_the_last_records_headers_is_reported(tmp_path: Path, keep: int) -> None:
    first = gzip.compress(record(NEWS))
    path = tmp_path / "cut.warc.wet.gz"
    path.write_bytes(first + gzip.compress(record(FORUM))[:keep])
    result = runner.invoke(app, ["clean", str(path)])
    assert result.exit_code == 1
    assert "truncated" in result.stderr
    assert len(jsonl(result.stdout)) == 1


def test_file_cut_inside_the_headers_uncompressed(tmp_path: Path) -> None:
    path = tmp_path / "cut.warc"
    path.write_bytes(record(NEWS) + record(FORUM)[:60])
    result = runner.invoke(app, ["clean", str(path)])
    assert result.exit_code == 1 and "record 2" in result.stderr
    assert len(jsonl(result.stdout)) == 1


def test_undeclared_non_utf8_record_keeps_its_bytes_with_a_warning(tmp_path: Path) -> None:
    block = LATIN1.encode("latin-1")
    path = wet_file(tmp_path / "a.warc.wet.gz", [record(block), record(NEWS)])
    out = tmp_path / "clean.warc.wet.gz"
    result = runner.invoke(app, ["clean", str(path), "-o", str(out), "--threshold", "0.001"])
    assert result.exit_code == 0, result.stderr
    assert "record 1" in result.stderr and "not valid utf-8" in result.stderr
    assert b"caf\xe9 de la gare" in read_records(out)[1].reader.read()


def test_charset_of_a_text_plain_record_is_honoured(tmp_path: Path) -> None:
    block = LATIN1.encode("latin-1")
    content_type = "text/plain; charset=ISO-8859-1"
    path = wet_file(tmp_path / "a.warc.gz", [record(block, content_type=content_type)])
    result = runner.invoke(app, ["clean", str(path), "--threshold", "0.001"])
    assert result.exit_code == 0 and result.stderr == ""
    assert "Le café de la gare" in jsonl(result.stdout)[0]["text"]  # type: ignore[operator]


def test_a_charset_whose_codec_raises_unicode_error_falls_back(tmp_path: Path) -> None:
    # Found by a hostile tester: charset=idna gave a traceback and lost every record.
    content_type = "text/plain; charset=idna"
    good = record(NEWS)
    odd = record(LATIN1.encode("latin-1"), content_type=content_type)
    path = wet_file(tmp_path / "a.warc.gz", [odd, good])
    result = runner.invoke(app, ["clean", str(path), "--threshold", "0.001"])
    assert len(jsonl(result.stdout)) == 2
    assert "Traceback" not in result.stderr


def test_text_plain_response_records_are_pages_and_others_are_counted(tmp_path: Path) -> None:
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n"
    html = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n<p>hi</p>"
    kind = WarcRecordType.response
    http_type = "application/http; msgtype=response"
    path = wet_file(
        tmp_path / "a.warc.gz",
        [
            record(b"software: test\r\n", None, WarcRecordType.warcinfo, "application/warc-fields"),
            record(http + LATIN1.encode("latin-1"), kind=kind, content_type=http_type),
            record(html, kind=kind, content_type=http_type),
        ],
    )
    result = runner.invoke(app, ["clean", str(path), "--threshold", "0.001"])
    assert result.exit_code == 0, result.stderr
    assert "Le café de la gare" in jsonl(result.stdout)[0]["text"]  # type: ignore[operator]
    assert "1 page(s) cleaned" in result.stderr
    assert "1 response (text/html)" in result.stderr and "1 warcinfo" in result.stderr


def test_record_without_target_uri_is_cleaned_with_a_warning(tmp_path: Path) -> None:
    path = wet_file(tmp_path / "a.warc.wet.gz", [record(NEWS, url=None), record(FORUM)])
    out = tmp_path / "clean.warc.wet.gz"
    result = runner.invoke(app, ["clean", str(path), "-o", str(out)])
    assert result.exit_code == 0
    assert "record 1" in result.stderr and "no WARC-Target-URI" in result.stderr
    cleaned = read_records(out)[1:]
    assert len(cleaned) == 2 and cleaned[0].headers.get("WARC-Target-URI") is None
    rows = jsonl(runner.invoke(app, ["clean", str(path), "-q"]).stdout)
    assert rows[0]["url"] is None and rows[0]["text"] == Cleaner().clean(NEWS.decode())


def test_jobs_2_writes_what_jobs_1_writes(tmp_path: Path) -> None:
    path = wet_file(tmp_path / "a.warc.wet.gz", [record(p) for p in (NEWS, FORUM) * 40])
    outs = []
    for jobs in ("1", "2"):
        out = tmp_path / f"clean-{jobs}.warc.wet.gz"
        assert runner.invoke(app, ["clean", str(path), "-o", str(out), "-j", jobs]).exit_code == 0
        outs.append(gzip_members(out.read_bytes())[1:])
    assert outs[0] == outs[1]  # after the warcinfo record, whose WARC-Date is the run's


def test_json_lines_output_file_gzipped(tmp_path: Path) -> None:
    path = wet_file(tmp_path / "a.warc.wet.gz", [record(NEWS)])
    out = tmp_path / "clean.jsonl.gz"
    assert runner.invoke(app, ["clean", str(path), "-o", str(out)]).exit_code == 0
    rows = jsonl(gzip.decompress(out.read_bytes()).decode())
    assert rows[0]["text"] == Cleaner().clean(NEWS.decode())


def test_warc_and_text_inputs_in_one_run_are_a_usage_error(tmp_path: Path) -> None:
    # Found by a hostile tester: the WET file was read as text and skipped as binary.
    path = wet_file(tmp_path / "a.warc.wet.gz", [record(NEWS)])
    page = tmp_path / "page.txt"
    page.write_bytes(NEWS)
    result = runner.invoke(app, ["clean", str(path), str(page), "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "separate runs" in result.stderr


def test_a_file_that_is_not_warc(tmp_path: Path) -> None:
    path = tmp_path / "notes.warc"
    path.write_text("just some text\n")
    result = runner.invoke(app, ["clean", str(path)])
    assert result.exit_code == 1 and "not a WARC file" in result.stderr


def test_scores_do_not_apply_to_warc(tmp_path: Path) -> None:
    path = wet_file(tmp_path / "a.warc.wet.gz", [record(NEWS)])
    result = runner.invoke(app, ["clean", str(path), "--scores", "tsv"])
    assert result.exit_code == 2 and "--scores" in result.stderr


def test_without_fastwarc_the_extra_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = wet_file(tmp_path / "a.warc.wet.gz", [record(NEWS)])
    monkeypatch.setitem(sys.modules, "fastwarc", None)
    result = runner.invoke(app, ["clean", str(path)])
    assert result.exit_code == 2 and "pip install 'declutter[warc]'" in result.stderr


def test_cleaned_record_ids_follow_source_and_text() -> None:
    a = warc.record_id("<urn:uuid:1>", b"text")
    assert a == warc.record_id("<urn:uuid:1>", b"text")
    assert a != warc.record_id("<urn:uuid:2>", b"text")
    assert a != warc.record_id("<urn:uuid:1>", b"other")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("a.warc.wet.gz", True), ("a.WARC", True), ("a.wet", True), ("a.jsonl.gz", False)],
)
def test_warc_names(name: str, expected: bool) -> None:
    assert warc.is_warc_name(name) is expected


def test_the_sample_wet_file_is_what_its_script_writes() -> None:
    import importlib.util

    script = PAGES.parent.parent / "examples" / "make_sample_wet.py"
    spec = importlib.util.spec_from_file_location("make_sample_wet", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.OUTPUT.read_bytes() == module.sample_wet()
