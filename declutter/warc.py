"""WARC and WET files in and out (Common Crawl's formats), read and written with fastwarc.

fastwarc is an optional extra (``pip install 'declutter[warc]'``); it was chosen over warcio for
speed (3.6x on gzipped WET files, ``benchmarks/warc_readers.py``), at 11 MB installed against
0.4 MB. Which records are pages:

- ``conversion`` records (the text of a WET file) and ``resource`` records of ``text/plain``;
- ``response`` records whose HTTP ``Content-Type`` is ``text/plain`` (HTTP encodings undone).

Every other record is skipped and counted. A record's text is decoded with the charset its
content type names, else as the run's encoding (UTF-8 with ``surrogateescape`` by default, so
undecodable bytes pass through unchanged, with a warning). A truncated record, or a file that
stops inside a record, is reported; the records before it are still cleaned and written.

Output is JSON Lines, one object per page with the record's metadata and the cleaned text
(:data:`JSON_FIELDS`), or a WET file of ``conversion`` records: each cleaned page with a new
``WARC-Record-ID`` (derived from the source record's id and the cleaned text, so a re-run gives
the same ids), ``WARC-Refers-To`` the source record, the source's ``WARC-Target-URI``,
``WARC-Date`` and language, and its own ``Content-Length`` and ``WARC-Block-Digest``; a file
whose name ends in ``.gz`` gets one gzip member per record, as Common Crawl's files do.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import re
import uuid
import zlib
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, BinaryIO

from declutter.batch import (
    BATCH_BYTES,
    BATCH_ITEMS,
    JsonlOutcome,
    Options,
    Reporter,
    RunSummary,
    _cleaner,
    _flag,
    _json_line,
    record_outcome,
    run_ordered,
)
from declutter.cleaner import Cleaner
from declutter.errors import DeclutterError, InputError, UsageError
from declutter.site import site_of_url
from declutter.textio import Decoded, atomic_output, decode, open_binary

if TYPE_CHECKING:
    from fastwarc.warc import WarcRecord

# File names read as WARC (Common Crawl names its text files .warc.wet.gz).
WARC_SUFFIXES = (".warc", ".warc.gz", ".wet", ".wet.gz")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".json", ".json.gz")
# The JSON Lines output fields, from the WARC headers of the same meaning.
JSON_FIELDS = {
    "url": "WARC-Target-URI",
    "record_id": "WARC-Record-ID",
    "date": "WARC-Date",
    "language": "WARC-Identified-Content-Language",  # only when present
}
TEXT_TYPES = ("text/plain",)
# A fixed namespace for the ids of cleaned records (uuid5 of the source id and the text).
RECORD_NAMESPACE = uuid.UUID("6f1d3c1e-5b0a-4f5e-9a53-0d1e7c1a2b3c")
TAIL_CHUNK = 1 << 20  # bytes per read when checking that a file's last gzip member is whole
_CHARSET = re.compile(r";\s*charset\s*=\s*\"?([^\s\";]+)", re.IGNORECASE)


def is_warc_name(name: str) -> bool:
    """Whether a file name is read as WARC (``.warc``, ``.warc.gz``, ``.warc.wet.gz``, ...)."""
    return name.lower().endswith(WARC_SUFFIXES)


def is_warc_plan(pairs: Sequence[tuple[str, Path | None, Path | None]]) -> bool:
    """Whether every input of a plan is a WARC file by its name.

    Raises :class:`UsageError` when some are and others are not: WARC files are cleaned into
    JSON Lines or WET records, text files into text, and one run writes one kind.
    """
    warc = [s is not None and is_warc_name(s.name) for _, s, _ in pairs]
    if any(warc) and not all(warc):
        first = next(s for (_, s, _), w in zip(pairs, warc, strict=True) if w)
        raise UsageError(
            f"{first} is a WARC file and other inputs are not: clean WARC files and text "
            "files in separate runs"
        )
    return bool(pairs) and all(warc)


def writes_warc(target: Path | None) -> bool:
    """Whether output to ``target`` is a WET file (by its name); standard output is JSON Lines."""
    return target is not None and is_warc_name(target.name)


def _require_fastwarc() -> None:
    try:
        import fastwarc  # noqa: F401, PLC0415 - an optional extra
    except ImportError:
        raise UsageError(
            "reading WARC files needs fastwarc: pip install 'declutter[warc]'"
        ) from None


# --- reading ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PageRecord:
    """One page-bearing record as read from the file: its headers of note and its bytes."""

    number: int  # 1-based position among the file's records
    record_id: str
    url: str | None
    date: str | None
    language: str | None
    charset: str | None  # from the content type, when it names one
    data: bytes
    truncated: str | None = None  # what is missing, when the record is cut short


@dataclass
class ReadStats:
    """What a file held besides pages: skipped records by type, and a read error."""

    skipped: Counter[str] = field(default_factory=Counter)
    records: int = 0
    error: str | None = None


def charset_of(content_type: str | None) -> str | None:
    """The ``charset`` parameter of a content type, or None.

    >>> charset_of('text/plain; charset="ISO-8859-1"')
    'ISO-8859-1'
    """
    if not content_type:
        return None
    match = _CHARSET.search(content_type)
    return match.group(1) if match else None


def _media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _page(record: WarcRecord, number: int, stats: ReadStats) -> PageRecord | None:
    from fastwarc.warc import WarcRecordType  # noqa: PLC0415 - an optional extra

    kind = record.record_type
    headers = record.headers
    if record.record_id is None or headers.get("Content-Length") is None:
        # The file ends inside this record's headers.
        return PageRecord(number, "", None, None, None, None, b"", "only part of its headers")
    content_type = headers.get("Content-Type")
    charset = charset_of(content_type)
    if kind == WarcRecordType.response:
        try:
            record.parse_http(auto_decode="all")
        except OSError:
            stats.skipped["response (unreadable HTTP headers)"] += 1
            return None
        content_type = record.http_content_type
        charset = record.http_charset
        if _media_type(content_type) not in TEXT_TYPES:
            stats.skipped[f"response ({_media_type(content_type) or 'no type'})"] += 1
            return None
    elif kind == WarcRecordType.resource:
        if _media_type(content_type) not in TEXT_TYPES:
            stats.skipped[f"resource ({_media_type(content_type) or 'no type'})"] += 1
            return None
    elif kind != WarcRecordType.conversion:
        stats.skipped[str(kind)] += 1
        return None
    data = record.reader.read()
    truncated = None
    if kind != WarcRecordType.response and len(data) < record.content_length:
        truncated = f"{len(data)} of its {record.content_length} bytes"
    return PageRecord(
        number,
        record.record_id or "",
        headers.get("WARC-Target-URI"),
        headers.get("WARC-Date"),
        headers.get("WARC-Identified-Content-Language"),
        charset,
        data,
        truncated,
    )


def read_pages(stream: BinaryIO, stats: ReadStats) -> Iterator[PageRecord]:
    """The page-bearing records of a WARC stream (gzip detected), in order.

    Skipped records are counted in ``stats``; a read error ends the stream and is recorded
    there (the records before it are yielded).
    """
    _require_fastwarc()
    from fastwarc.warc import ArchiveIterator  # noqa: PLC0415 - an optional extra

    number = 0
    last_offset = 0
    try:
        for record in ArchiveIterator(stream, parse_http=False):
            number += 1
            stats.records = number
            last_offset = record.stream_pos
            page = _page(record, number, stats)
            if page is not None:
                yield page
    except (OSError, ValueError) as exc:
        where = f"after record {number}" if number else "not a WARC file?"
        stats.error = f"unreadable, {where} ({exc})"
        return
    if not _gzip_tail_complete(stream, last_offset):
        stats.error = f"the file ends inside a gzip member after record {number} (truncated)"


def _gzip_tail_complete(stream: BinaryIO, offset: int) -> bool:
    """Whether the gzip members from ``offset`` (the last record's) to the end are whole.

    A file cut inside a gzip member before any of its WARC headers can be read gives the
    reader no record at all; only decompressing the tail tells. Not gzip: True.
    """
    try:
        stream.seek(offset)
        if stream.read(2) != b"\x1f\x8b":
            return True
        stream.seek(offset)
        with gzip.GzipFile(fileobj=stream, mode="rb") as gz:
            while gz.read(TAIL_CHUNK):
                pass
    except (EOFError, OSError, zlib.error):
        return False
    return True


# --- cleaning -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class WarcBatch:
    name: str
    records: list[PageRecord]
    to_warc: bool  # write WET records (gzip members when gzip) rather than JSON Lines
    gzip: bool


def _where(name: str, record: PageRecord) -> str:
    return f"{name}: record {record.number} {record.record_id}" + (
        f" ({record.url})" if record.url else ""
    )


def decode_record(record: PageRecord, where: str, options: Options) -> Decoded:
    """A record's text: by the charset its content type names, else by ``options``."""
    if record.charset:
        try:
            return decode(record.data, where, record.charset, "strict")
        except (InputError, LookupError, UnicodeError):
            pass  # an unknown or wrong charset: fall back to the run's encoding, with a warning
    return decode(record.data, where, options.encoding, options.errors)


def record_id(source_id: str, block: bytes) -> str:
    """The id of a cleaned record: a uuid5 of its source's id and its block, as a WARC URN."""
    digest = hashlib.sha1(block).hexdigest()
    return f"<urn:uuid:{uuid.uuid5(RECORD_NAMESPACE, source_id + ' ' + digest)}>"


def wet_record(source: PageRecord, block: bytes) -> bytes:
    """A WET ``conversion`` record of ``block`` that refers to ``source``; raw WARC bytes."""
    from fastwarc.warc import WarcRecord, WarcRecordType  # noqa: PLC0415 - an optional extra

    record = WarcRecord()
    new_id = record_id(source.record_id, block)
    record.init_headers(WarcRecordType.conversion, new_id[len("<urn:") : -1].encode())
    headers = record.headers
    if source.url is not None:
        headers["WARC-Target-URI"] = source.url
    if source.date is not None:
        headers["WARC-Date"] = source.date
    if source.record_id:
        headers["WARC-Refers-To"] = source.record_id
    if source.language is not None:
        headers["WARC-Identified-Content-Language"] = source.language
    headers["Content-Type"] = "text/plain"
    record.set_bytes_content(block)
    out = io.BytesIO()
    record.write(out, checksum_data=True)
    return out.getvalue()


def warcinfo_record(filename: str) -> bytes:
    """The ``warcinfo`` record that opens a WET file declutter writes."""
    from fastwarc.warc import WarcRecord, WarcRecordType  # noqa: PLC0415 - an optional extra

    from declutter import __version__  # noqa: PLC0415 - avoids an import cycle

    record = WarcRecord()
    block = f"software: declutter {__version__}\r\nformat: WARC File Format 1.1\r\n".encode()
    rid = uuid.uuid5(RECORD_NAMESPACE, "warcinfo " + filename + " " + block.decode())
    record.init_headers(WarcRecordType.warcinfo, f"uuid:{rid}".encode())
    record.headers["WARC-Filename"] = filename
    record.headers["Content-Type"] = "application/warc-fields"
    record.set_bytes_content(block)
    out = io.BytesIO()
    record.write(out, checksum_data=True)
    return out.getvalue()


def _clean_warc_batch(args: tuple[WarcBatch, Options]) -> JsonlOutcome:
    batch, options = args
    errors: list[str] = []
    warnings: list[str] = []
    todo: list[tuple[PageRecord, Decoded]] = []
    for record in batch.records:
        where = _where(batch.name, record)
        if record.truncated:
            errors.append(f"{where}: truncated, holds {record.truncated}; record skipped")
            continue
        try:
            decoded = decode_record(record, where, options)
        except DeclutterError as exc:
            errors.append(f"{exc}; record skipped")
            continue
        if decoded.undecodable:
            warnings.append(
                f"{where}: some bytes are not valid {decoded.encoding}; "
                + (
                    "they are kept unchanged"
                    if decoded.errors == "surrogateescape"
                    else "they were replaced by U+FFFD"
                )
            )
        if record.url is None:
            warnings.append(f"{where}: has no WARC-Target-URI")
        todo.append((record, decoded))
    sites = [_record_site(batch.name, r, options) for r, _ in todo]
    texts = [d.text for _, d in todo]
    results = _cleaner().process(texts, sites if options.site_context else None) if todo else []
    out: list[bytes] = []
    lines = kept = dropped = 0
    flagged: list[tuple[str, float]] = []
    for (record, decoded), result in zip(todo, results, strict=True):
        lines += len(result.lines)
        kept += result.n_kept
        is_flagged, share = _flag(result, decoded.text, options)
        if is_flagged:
            flagged.append((_where(batch.name, record), share))
            if options.drop_flagged:
                dropped += 1
                continue
        if batch.to_warc:
            raw = wet_record(record, result.text.encode("utf-8", decoded.errors))
            out.append(gzip.compress(raw, mtime=0) if batch.gzip else raw)
        else:
            row: dict[str, Any] = {
                "url": record.url,
                "record_id": record.record_id,
                "date": record.date,
            }
            if record.language is not None:
                row["language"] = record.language
            row[options.output_field or options.field] = result.text
            out.append(_json_line(row).encode("utf-8", "surrogateescape"))
    return JsonlOutcome(b"".join(out), len(todo), lines, kept, flagged, dropped, errors, warnings)


def _record_site(name: str, record: PageRecord, options: Options) -> str | None:
    """A record's site: its file's folder with ``site_from_folder``, else the host of its
    ``WARC-Target-URI``."""
    if options.site_from_folder:
        return str(Path(name).parent)
    return site_of_url(record.url)


def warc_site_pages(
    pairs: Sequence[tuple[str, Path | None, Path | None]], options: Options
) -> Iterator[tuple[str | None, str]]:
    """The ``(site, text)`` of WARC inputs' pages, for site context's first pass
    (:func:`declutter.batch.count_sites`). Records and files that cannot be read are left to
    the second pass to report."""
    _require_fastwarc()
    for name, source, _ in pairs:
        if source is None:
            raise UsageError("WARC input must be a file, not standard input")
        try:
            stream = open_binary(source)
        except DeclutterError:
            continue
        with stream:
            for record in read_pages(stream, ReadStats()):
                if record.truncated:
                    continue
                try:
                    text = decode_record(record, name, options).text
                except DeclutterError:
                    continue
                yield _record_site(name, record, options), text


def _batches(
    name: str, pages: Iterator[PageRecord], to_warc: bool, gz: bool
) -> Iterator[WarcBatch]:
    records: list[PageRecord] = []
    size = 0
    for page in pages:
        records.append(page)
        size += len(page.data)
        if size >= BATCH_BYTES or len(records) >= BATCH_ITEMS:
            yield WarcBatch(name, records, to_warc, gz)
            records, size = [], 0
    if records:
        yield WarcBatch(name, records, to_warc, gz)


@contextlib.contextmanager
def _output(target: Path | None, stdout: BinaryIO | None, gzip_stream: bool) -> Iterator[IO[bytes]]:
    if target is None:
        assert stdout is not None
        yield stdout
        stdout.flush()
        return
    with atomic_output(target) as raw:
        if gzip_stream:
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
                yield gz  # type: ignore[misc]
        else:
            yield raw


def clean_warc_jobs(
    pairs: Sequence[tuple[str, Path | None, Path | None]],
    cleaner: Cleaner,
    options: Options,
    n_jobs: int = 1,
    reporter: Reporter | None = None,
    stdout: BinaryIO | None = None,
) -> RunSummary:
    """Clean the pages of WARC files; each ``(name, source, target)`` writes JSON Lines
    (standard output when ``target`` is None) or, for a WARC-named target, a WET file.

    Raises :class:`UsageError` when fastwarc is not installed, a source is standard input, or
    ``options.scores`` is set; problems with one file or record are reported and the run goes on.
    """
    _require_fastwarc()
    if options.scores:
        raise UsageError("--scores does not apply to WARC input")
    reporter = reporter or Reporter()
    summary = RunSummary()
    done = 0
    for name, source, target in pairs:
        if source is None:
            raise UsageError("WARC input must be a file, not standard input")
        to_warc = writes_warc(target)
        gz = target is not None and target.name.endswith(".gz")
        try:
            stream = open_binary(source)
        except DeclutterError as exc:
            summary.failures.append(str(exc))
            reporter.failure(str(exc))
            continue
        stats = ReadStats()
        pages_before = summary.pages
        with stream, _output(target, stdout, gz and not to_warc) as out:
            if to_warc:
                info = warcinfo_record(target.name if target else name)
                out.write(gzip.compress(info, mtime=0) if gz else info)
            tasks = ((b, options) for b in _batches(name, read_pages(stream, stats), to_warc, gz))
            for outcome in run_ordered(_clean_warc_batch, tasks, cleaner, n_jobs):
                out.write(outcome.output)
                done += outcome.records
                record_outcome(outcome, summary, reporter)
                reporter.progress(done, None)
        summary.files += 1
        if stats.error is not None:
            message = f"{name}: {stats.error}"
            summary.failures.append(message)
            reporter.failure(message)
        elif stats.records == 0:
            message = f"{name}: no WARC records found (not a WARC file?)"
            summary.failures.append(message)
            reporter.failure(message)
        if stats.skipped:
            counts = ", ".join(f"{n} {kind}" for kind, n in sorted(stats.skipped.items()))
            reporter.warning(
                f"{name}: {summary.pages - pages_before} page(s) cleaned; records that are not "
                f"text pages skipped: {counts}"
            )
    return summary
