"""Clean many pages: files, folders, JSON Lines and standard streams, in one or more processes.

This is the library behind ``declutter clean``; it never prints. The caller passes a
:class:`Reporter` to hear about progress, per-item problems and flagged pages, and gets a
:class:`RunSummary` back. Guarantees:

- output never replaces an input, and every output file appears whole or not at all
  (written to a temporary file, then renamed; a link is followed and a FIFO or device
  written through, see :func:`declutter.textio.atomic_output`);
- JSON Lines records are copied as they came except for the one value written (see
  :func:`splice`); a damaged input keeps every complete record before the damage;
- one bad file or record never stops the others: failures are collected and reported;
- ``jobs > 1`` gives byte-identical output to ``jobs == 1`` (work is split in order and
  reassembled in order);
- memory stays bounded: JSON Lines are read, cleaned and written a batch at a time, and at
  most a few batches are in flight per worker.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import re
import signal
import stat
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, islice
from pathlib import Path, PurePath
from typing import IO, Any, BinaryIO, TypeVar, cast

from declutter.cleaner import Cleaner, PageResult
from declutter.errors import DeclutterError, InputError, OutputError, UsageError
from declutter.site import U64, SiteIndex, page_keys, site_of_url
from declutter.textio import (
    Decoded,
    atomic_output,
    atomic_write,
    decode,
    open_binary,
    read_bytes,
)

TEXT_PATTERN = "*.txt"
JSONL_PATTERNS = ("*.jsonl", "*.jsonl.gz")
# Input per unit of work: large enough to amortize numpy and process overhead, small enough
# that the working set (~50x the text) stays well under 200 MB (issue 4).
BATCH_BYTES = 1 << 20
BATCH_ITEMS = 64  # records or files per unit of work
# Bytes a JSON Lines input is read by: iterating a 300 MB file's lines took 0.35 s of CPU with
# the default 8 KB buffer and 0.08 s with this one (issue 17).
READ_BUFFER = 1 << 20
IN_FLIGHT_PER_JOB = 4  # units of work queued per worker: bounds memory with --jobs
SCORE_FORMATS = ("tsv", "jsonl")

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class Options:
    """How to clean and what to write; defaults match ``declutter clean``'s."""

    encoding: str = "utf-8"
    errors: str = "surrogateescape"
    field: str = "text"  # JSON Lines field to clean
    output_field: str | None = None  # write the cleaned text here, keeping the original field
    scores: str | None = None  # "tsv" or "jsonl": write per-line scores instead of text
    flag_below: float = 0.0  # flag pages keeping less than this share of their characters
    drop_flagged: bool = False  # flagged pages produce no output
    # Site context (declutter.site): the worker's Cleaner holds the input's site counts, and
    # each page's site is its input file's folder (site_from_folder) or the host of its URL
    # (url_field of a JSON Lines record; a WARC record's target URI).
    site_context: bool = False
    site_from_folder: bool = False
    url_field: str = "url"


@dataclass
class RunSummary:
    """Totals of a run: what ``declutter clean`` reports on stderr at the end."""

    files: int = 0
    pages: int = 0
    lines: int = 0
    kept_lines: int = 0
    flagged: int = 0
    dropped: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


class Reporter:
    """Receives events of a run; the CLI prints them, the default ignores them."""

    def progress(self, done: int, total: int | None) -> None:
        """``done`` units (files or records) handled so far, out of ``total`` if known."""

    def failure(self, message: str) -> None:
        """One file or record could not be cleaned; the run goes on."""

    def warning(self, message: str) -> None:
        """Something the user should know that did not stop the item."""

    def flagged(self, name: str, share: float) -> None:
        """A page kept less than the flag threshold of its characters."""


# --- one page ---------------------------------------------------------------------------------
def _flag(result: PageResult, text: str, options: Options) -> tuple[bool, float]:
    if options.flag_below <= 0 or not text or text.isspace():  # isspace: strip() without a copy
        return False, 1.0
    share = len(result.text) / len(text)
    return share < options.flag_below, share


def escape_tsv(text: str) -> str:
    r"""Escape a line for one TSV cell: backslash, tab, CR and LF become \\, \t, \r, \n."""
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\r", "\\r").replace("\n", "\\n")


def score_rows(result: PageResult, fmt: str, record: int | None = None) -> str:
    """Per-line scores of one page as TSV rows (no header) or JSON Lines."""
    out = []
    for number, (line, p, keep) in enumerate(
        zip(result.lines, result.proba.tolist(), result.keep.tolist(), strict=True), start=1
    ):
        text = line.rstrip("\r\n")
        prob = None if p != p else round(p, 4)  # NaN: the line is not scored
        if fmt == "tsv":
            cells = [] if record is None else [str(record)]
            cells += [str(number), "" if prob is None else f"{prob:.4f}", str(int(keep))]
            out.append("\t".join([*cells, escape_tsv(text)]) + "\n")
        else:
            row: dict[str, Any] = {} if record is None else {"record": record}
            row.update({"line": number, "probability": prob, "keep": keep, "text": text})
            if result.page_type is not None:
                row["page_type"] = result.page_type
                row["page_type_probability"] = result.page_types[result.page_type]
            out.append(_json_line(row))
    return "".join(out)


def tsv_header(jsonl: bool) -> str:
    return ("record\t" if jsonl else "") + "line\tprobability\tkeep\ttext\n"


def _json_line(obj: object) -> str:
    try:
        line = json.dumps(obj, ensure_ascii=False)
        line.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from escapes in the input: keep them escaped
        line = json.dumps(obj, ensure_ascii=True)
    return line + "\n"


# --- worker state -----------------------------------------------------------------------------
_worker_cleaner: Cleaner | None = None
_WORKER_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _start_pool(jobs: int, cleaner: Cleaner) -> Any:
    """A pool of ``jobs`` workers. SIGINT and SIGTERM are blocked while it forks, so that a
    worker never runs the parent's handlers before :func:`_init_worker` sets its own; the
    parent gets a signal that came meanwhile as soon as the pool is up."""
    import multiprocessing  # noqa: PLC0415 - only with --jobs above 1 (start-up, issue 17)

    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    if not hasattr(signal, "pthread_sigmask"):
        return context.Pool(jobs, _init_worker, (cleaner,))
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, _WORKER_SIGNALS)
    try:
        return context.Pool(jobs, _init_worker, (cleaner,))
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _init_worker(cleaner: Cleaner) -> None:
    global _worker_cleaner
    _worker_cleaner = cleaner
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # the parent's handler is not for workers
    if hasattr(signal, "pthread_sigmask"):  # blocked while the pool started (see _start_pool)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _WORKER_SIGNALS)
    with contextlib.suppress(ImportError):  # numpy's BLAS threads would fight the workers
        from threadpoolctl import threadpool_limits  # noqa: PLC0415 - only in workers

        threadpool_limits(1)


def _cleaner() -> Cleaner:
    assert _worker_cleaner is not None, "worker not initialized"
    return _worker_cleaner


def run_ordered(
    func: Callable[[T], R], tasks: Iterable[T], cleaner: Cleaner, jobs: int
) -> Iterator[R]:
    """``map(func, tasks)`` in ``jobs`` processes, results in task order, bounded read-ahead."""
    if jobs <= 1:
        _init_worker_inline(cleaner)
        yield from map(func, tasks)
        return
    pool = _start_pool(jobs, cleaner)
    pending: deque[Any] = deque()
    try:
        for task in tasks:
            pending.append(pool.apply_async(func, (task,)))
            if len(pending) >= jobs * IN_FLIGHT_PER_JOB:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()
        pool.close()
    finally:
        pool.terminate()
        pool.join()


def _init_worker_inline(cleaner: Cleaner) -> None:
    global _worker_cleaner
    _worker_cleaner = cleaner


# --- text files -------------------------------------------------------------------------------
@dataclass(frozen=True)
class TextJob:
    """One text input and where its output goes (``None``: standard output)."""

    name: str
    source: Path | None  # None: the bytes are given (standard input)
    target: Path | None
    data: bytes | None = None


@dataclass(frozen=True)
class TextOutcome:
    job: TextJob
    output: bytes | None = None  # None: nothing to write (failed or dropped)
    lines: int = 0
    kept_lines: int = 0
    flagged: bool = False
    share: float = 1.0
    error: str | None = None
    warning: str | None = None


def _clean_text_jobs(args: tuple[Sequence[TextJob], Options]) -> list[TextOutcome]:
    jobs, options = args
    decoded: list[tuple[TextJob, Decoded]] = []
    outcomes: dict[int, TextOutcome] = {}
    for k, job in enumerate(jobs):
        try:
            # No name keeps the bytes once decoded: a huge page's bytes are freed before cleaning.
            data = job.data if job.data is not None else read_bytes(job.source)  # type: ignore[arg-type]
            decoded.append((job, decode(data, job.name, options.encoding, options.errors)))
            del data
        except DeclutterError as exc:
            outcomes[k] = TextOutcome(job, error=str(exc))
    sites = [text_site(job, options) for job, _ in decoded] if options.site_context else None
    results = _cleaner().process([d.text for _, d in decoded], sites) if decoded else []
    it = iter(zip(decoded, results, strict=True))
    out = []
    for k, job in enumerate(jobs):
        if k in outcomes:
            out.append(outcomes[k])
            continue
        (_, dec), result = next(it)
        out.append(_text_outcome(job, dec, result, options))
    return out


def text_site(job: TextJob, options: Options) -> str | None:
    """A text input's site: its folder, with ``site_from_folder`` (else none)."""
    if not options.site_from_folder or job.source is None:
        return None
    return str(job.source.parent)


def _text_outcome(job: TextJob, dec: Decoded, result: PageResult, options: Options) -> TextOutcome:
    flagged, share = _flag(result, dec.text, options)
    warning = None
    if dec.undecodable:
        warning = f"{job.name}: some bytes are not valid {dec.encoding}; " + (
            "they are kept unchanged"
            if dec.errors == "surrogateescape"
            else "they were replaced by U+FFFD"
        )
    if options.scores:
        header = tsv_header(False) if options.scores == "tsv" else ""
        payload = (header + score_rows(result, options.scores)).encode("utf-8", "surrogateescape")
    elif flagged and options.drop_flagged:
        payload = None
    else:
        payload = dec.encode(result.text)
    return TextOutcome(
        job, payload, len(result.lines), result.n_kept, flagged, share, warning=warning
    )


def _chunk_jobs(jobs: Sequence[TextJob]) -> Iterator[list[TextJob]]:
    chunk: list[TextJob] = []
    size = 0
    for job in jobs:
        try:
            n = len(job.data) if job.data is not None else job.source.stat().st_size  # type: ignore[union-attr]
        except OSError:
            n = 0
        if chunk and (size + n > BATCH_BYTES or len(chunk) >= BATCH_ITEMS):
            yield chunk
            chunk, size = [], 0
        chunk.append(job)
        size += n
    if chunk:
        yield chunk


def clean_text_jobs(
    jobs: Sequence[TextJob],
    cleaner: Cleaner,
    options: Options,
    n_jobs: int = 1,
    reporter: Reporter | None = None,
    stdout: BinaryIO | None = None,
) -> RunSummary:
    """Clean text inputs; outputs go to their targets (or ``stdout`` when target is None)."""
    reporter = reporter or Reporter()
    summary = RunSummary()
    done = 0
    tasks = ((chunk, options) for chunk in _chunk_jobs(jobs))
    for outcomes in run_ordered(_clean_text_jobs, tasks, cleaner, n_jobs):
        for outcome in outcomes:
            done += 1
            _record_text(outcome, summary, reporter, stdout)
            reporter.progress(done, len(jobs))
    return summary


def _record_text(
    outcome: TextOutcome, summary: RunSummary, reporter: Reporter, stdout: BinaryIO | None
) -> None:
    name = outcome.job.name
    if outcome.error is not None:
        summary.failures.append(outcome.error)
        reporter.failure(outcome.error)
        return
    if outcome.warning:
        reporter.warning(outcome.warning)
    summary.files += 1
    summary.pages += 1
    summary.lines += outcome.lines
    summary.kept_lines += outcome.kept_lines
    if outcome.flagged:
        summary.flagged += 1
        reporter.flagged(name, outcome.share)
    if outcome.output is None:
        summary.dropped += 1
        return
    if outcome.job.target is None:
        write_stdout(stdout, outcome.output)
    else:
        try:
            atomic_write(outcome.job.target, outcome.output)
        except OutputError as exc:
            summary.failures.append(str(exc))
            reporter.failure(str(exc))
        except OSError as exc:
            message = f"{outcome.job.target}: cannot write ({exc.strerror})"
            summary.failures.append(message)
            reporter.failure(message)


def write_stdout(stdout: BinaryIO | None, data: bytes) -> None:
    """Write and flush standard output. A closed pipe raises ``BrokenPipeError`` (the caller
    stops quietly); a closed or failing standard output raises :class:`OutputError`."""
    if stdout is None:
        raise OutputError("standard output is closed; give -o FILE")
    try:
        write_all(stdout, data)
        stdout.flush()
    except BrokenPipeError:
        raise
    except (OSError, ValueError) as exc:  # ValueError: the stream was closed under us
        raise OutputError(f"standard output: cannot write ({_strerror(exc)})") from None


def write_all(stream: IO[bytes], data: bytes) -> None:
    """Write all of ``data``. An unbuffered stream (standard output under
    ``PYTHONUNBUFFERED``) may take part of it: a pipe whose reader left takes what fits, and
    only the next write fails."""
    view = memoryview(data)
    while view:
        n = stream.write(view)
        if n is None:  # a non-blocking stream that is full: no way to wait here
            raise BlockingIOError(11, "output would block")
        view = view[n:]


def _strerror(exc: Exception) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc)


# --- JSON Lines ----------------------------------------------------------------------------------
# Only the cleaned field's value is rewritten: the new string is spliced into the record's own
# text, so every other field comes out as it came in (numbers keep their text, 1e400 and NaN stay,
# duplicate keys stay), as json-stream style editors and `jq --seq`-free splicers do.
_JSON_SPACE = re.compile(r"[ \t\n\r]*")  # JSON's four whitespace characters (RFC 8259)
_SURROGATE = re.compile("[\ud800-\udfff]")
_DECODER = json.JSONDecoder()


@dataclass(frozen=True)
class JsonlBatch:
    name: str
    first_line: int
    lines: list[bytes]


@dataclass(frozen=True)
class JsonlOutcome:
    """What cleaning one batch of records (JSON Lines, or WARC in declutter.warc) gave: the
    output bytes and what to count and report (:func:`record_outcome`)."""

    output: bytes
    records: int = 0
    lines: int = 0
    kept_lines: int = 0
    flagged: list[tuple[str, float]] = field(default_factory=list)
    dropped: int = 0
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class JsonRecord:
    """One JSON Lines record as text, with where each top-level value lies in it."""

    text: str  # the decoded line, with its line ending
    values: dict[str, Any]  # as json.loads gives it: the last of duplicate keys wins
    spans: dict[str, tuple[int, int]]  # key -> (start, end) of its last value in ``text``
    close: int  # index of the closing brace


def parse_record(text: str) -> JsonRecord:
    """Parse one JSON object, keeping its text; raises ``ValueError`` when it is not one.

    ``json.loads`` accepts the same inputs (``NaN``, ``Infinity`` and duplicate keys included);
    a leading byte-order mark is skipped.
    """
    i = _skip_space(text, 1 if text.startswith("\ufeff") else 0)
    if text[i : i + 1] != "{":
        raise ValueError("not a JSON object")
    i = _skip_space(text, i + 1)
    values: dict[str, Any] = {}
    spans: dict[str, tuple[int, int]] = {}
    while text[i : i + 1] != "}":  # an empty object skips the loop
        if text[i : i + 1] != '"':
            raise ValueError("expecting a key")
        key, i = _DECODER.raw_decode(text, i)
        i = _skip_space(text, i)
        if text[i : i + 1] != ":":
            raise ValueError("expecting ':'")
        start = _skip_space(text, i + 1)
        values[key], end = _DECODER.raw_decode(text, start)
        spans[key] = (start, end)
        i = _skip_space(text, end)
        if text[i : i + 1] == ",":
            i = _skip_space(text, i + 1)
            if text[i : i + 1] != '"':
                raise ValueError("expecting a key after ','")
        elif text[i : i + 1] != "}":
            raise ValueError("expecting ',' or '}'")
    if _skip_space(text, i + 1) != len(text):
        raise ValueError("extra data")
    return JsonRecord(text, values, spans, i)


def _skip_space(text: str, i: int) -> int:
    match = _JSON_SPACE.match(text, i)
    assert match is not None  # the pattern matches the empty string
    return match.end()


def json_string(value: str, raw_bytes: bool = False, surrogates: bool = True) -> str:
    r"""``value`` as a JSON string. Lone surrogates are escaped (``\udc80``), except, when
    ``raw_bytes``, those that stand for undecodable bytes (``surrogateescape``): encoded with
    ``surrogateescape``, they become the input's bytes again. ``surrogates=False`` says that
    ``value`` has none, and skips looking for them."""
    out = json.dumps(value, ensure_ascii=False)
    if not surrogates or not _SURROGATE.search(out):
        return out

    def escape(match: re.Match[str]) -> str:
        ch = match.group()
        return ch if raw_bytes and "\udc80" <= ch <= "\udcff" else f"\\u{ord(ch):04x}"

    return _SURROGATE.sub(escape, out)


def splice(
    record: JsonRecord, key: str, value: str, raw_bytes: bool = False, surrogates: bool = True
) -> str:
    """The record's text with ``key``'s value replaced by the string ``value`` (the key added
    at the end when missing), ending in a newline; the rest of the text is unchanged.
    ``surrogates=False`` says that ``value`` holds no lone surrogates (see :func:`json_string`)."""
    new = json_string(value, raw_bytes, surrogates)
    if key in record.spans:
        start, end = record.spans[key]
        text = record.text[:start] + new + record.text[end:]
    else:
        comma = ", " if record.spans else ""
        insert = f"{comma}{json_string(key, raw_bytes)}: {new}"
        text = record.text[: record.close] + insert + record.text[record.close :]
    return text if text.endswith("\n") else text + "\n"


def _decode_line(raw: bytes, errors: str) -> tuple[str, bool]:
    """A JSON Lines line as text, and whether it held bytes that are not UTF-8."""
    try:
        return raw.decode("utf-8"), False
    except UnicodeDecodeError:
        if errors == "strict":
            raise
    return raw.decode("utf-8", errors), True


def _clean_jsonl_batch(args: tuple[JsonlBatch, Options]) -> JsonlOutcome:
    batch, options = args
    parsed: list[tuple[int, JsonRecord | bytes, bool]] = []  # (line, record or raw, raw bytes)
    texts: list[str] = []
    sites: list[str | None] = []
    errors: list[str] = []
    warnings: list[str] = []
    for offset, raw in enumerate(batch.lines):
        number = batch.first_line + offset
        where = f"{batch.name}:{number}"
        if not raw or raw.isspace():  # a blank line (strip() would copy every record)
            continue
        try:
            line, undecodable = _decode_line(raw, options.errors)
            record = parse_record(line)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            errors.append(f"{where}: {_why_not_json(raw, exc)}; record skipped")
            continue
        value = record.values.get(options.field)
        if not isinstance(value, str):
            problem = "has no" if options.field not in record.values else "has a non-string"
            errors.append(f"{where}: {problem} field {options.field!r}; record passed unchanged")
            parsed.append((number, raw if raw.endswith(b"\n") else raw + b"\n", False))
            continue
        if undecodable:
            warnings.append(
                f"{where}: some bytes are not valid UTF-8; "
                + (
                    "they are kept unchanged"
                    if options.errors == "surrogateescape"
                    else "they were replaced by U+FFFD"
                )
            )
        parsed.append((number, record, undecodable))
        texts.append(value)
        if options.site_context:
            sites.append(record_site(record.values, batch.name, options))
    site_list = sites if options.site_context else None
    results = iter(_cleaner().process(texts, site_list) if texts else [])
    out: list[bytes] = []
    lines = kept = dropped = 0
    flagged: list[tuple[str, float]] = []
    for number, item, undecodable in parsed:
        if isinstance(item, bytes):
            out.append(item)
            continue
        result = next(results)
        text = item.values[options.field]
        lines += len(result.lines)
        kept += result.n_kept
        is_flagged, share = _flag(result, text, options)
        if is_flagged:
            flagged.append((f"{batch.name}:{number}", share))
            if options.drop_flagged:
                dropped += 1
                continue
        if options.scores:
            rows = score_rows(result, options.scores, record=number)
            out.append(rows.encode("utf-8", "surrogateescape"))
            continue
        key = options.output_field or options.field
        new = splice(item, key, result.text, undecodable, _may_hold_surrogates(item, undecodable))
        out.append(new.encode("utf-8", "surrogateescape"))
    return JsonlOutcome(b"".join(out), len(texts), lines, kept, flagged, dropped, errors, warnings)


def record_site(values: dict[str, Any], name: str, options: Options) -> str | None:
    """A JSON Lines record's site: its file's folder with ``site_from_folder``, else the host
    of its ``url_field`` (none when the field is missing or not a URL)."""
    if options.site_from_folder:
        return str(Path(name).parent)
    return site_of_url(values.get(options.url_field))


def _may_hold_surrogates(record: JsonRecord, undecodable: bool) -> bool:
    """Whether values of ``record`` (and lines of them) may hold lone surrogates. Text decoded
    from valid UTF-8 holds them only where the JSON escapes them (``\\udc80``): two substring
    searches spare the cleaned text a regular expression's pass (issue 17)."""
    return undecodable or "\\ud" in record.text or "\\uD" in record.text


def _why_not_json(raw: bytes, exc: Exception) -> str:
    """Why a line is not a JSON object, in words (``json.loads``'s own message when it has one)."""
    if isinstance(exc, UnicodeDecodeError):
        return f"not valid UTF-8 at byte {exc.start}"
    if isinstance(exc, RecursionError):
        return "not valid JSON (nested too deeply)"
    try:
        json.loads(raw.decode("utf-8", "surrogateescape").lstrip("\ufeff"))
    except json.JSONDecodeError as err:
        return f"not valid JSON ({_short(err)})"
    except (ValueError, RecursionError):
        return "not valid JSON"
    return "not a JSON object"


def _short(exc: json.JSONDecodeError) -> str:
    # Some of json's messages end in "at" ("Invalid control character at"): say it once.
    at = " " if exc.msg.endswith(" at") else " at "
    return f"{exc.msg}{at}column {exc.colno}"


def open_input(path: Path | None, stdin: BinaryIO | None) -> IO[bytes]:
    """A binary stream of a JSON Lines input, gunzipped when it is gzip data."""
    raw: IO[bytes]
    if path is None:
        if stdin is None:
            raise InputError("standard input is closed")
        raw = stdin
    else:
        raw = open_binary(path, READ_BUFFER)
    buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(cast(Any, raw))
    try:
        magic = buffered.peek(2)[:2]
    except OSError as exc:
        raw.close()
        raise InputError(f"{path or '<stdin>'}: cannot read ({exc.strerror})") from None
    if magic == b"\x1f\x8b":
        return cast(IO[bytes], gzip.GzipFile(fileobj=buffered, mode="rb"))
    return buffered


# Reading a damaged input: gzip cut short (EOFError), corrupt (BadGzipFile, an OSError, or
# zlib.error), a failing disk (OSError).
_READ_ERRORS = (OSError, EOFError, zlib.error)


class _Lines:
    """The lines of a stream; a read error ends them and is kept in ``damage``."""

    def __init__(self, name: str, stream: IO[bytes]) -> None:
        self.name = name
        self.stream = stream
        self.read = 0  # complete lines read
        self.head: list[bytes] = []  # lines read ahead by :meth:`first_record`
        self.damage: str | None = None

    def first_record(self) -> bytes | None:
        """The first non-blank line (read ahead; iteration still yields it)."""
        for line in self._read():
            self.head.append(line)
            if line.strip():
                return line
        return None

    def _read(self) -> Iterator[bytes]:
        it = iter(self.stream)
        while self.damage is None:
            try:
                line = next(it)
            except StopIteration:
                return
            except _READ_ERRORS as exc:
                self.damage = (
                    f"{self.name}: damaged or unreadable after line {self.read} ({exc}); "
                    "the complete records before it were written"
                )
                return
            self.read += 1
            yield line

    def __iter__(self) -> Iterator[bytes]:
        head, self.head = self.head, []
        return chain(head, self._read())


def _not_jsonl(line: bytes | None) -> bool:
    """A first record that is neither an object's start nor JSON: not a JSON Lines file."""
    if line is None or line.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
        return False
    try:
        json.loads(line.decode("utf-8", "surrogateescape"))
    except (ValueError, RecursionError):
        return True
    return False


def _batches(name: str, lines: Iterable[bytes]) -> Iterator[JsonlBatch]:
    batch: list[bytes] = []
    size = 0
    first = 1
    number = 0
    for number, line in enumerate(lines, start=1):
        batch.append(line)
        size += len(line)
        if size >= BATCH_BYTES or len(batch) >= BATCH_ITEMS:
            yield JsonlBatch(name, first, batch)
            batch, size, first = [], 0, number + 1
    if batch:
        yield JsonlBatch(name, first, batch)


@dataclass(frozen=True)
class JsonlRange:
    """A batch of JSON Lines records as where they lie in a file. With ``--jobs`` the worker
    reads, parses, cleans and writes them itself: the parent only finds the batches' line
    boundaries and writes the outputs in order, instead of sending every record through a pipe
    (issue 17)."""

    name: str
    path: str
    first_line: int
    offset: int  # of the first line in the file, in bytes
    size: int  # bytes
    count: int  # lines


def _ranges(name: str, path: str, batches: Iterable[JsonlBatch]) -> Iterator[JsonlRange]:
    """The batches of a file read from its start, as byte ranges."""
    offset = 0
    for batch in batches:
        size = sum(map(len, batch.lines))
        yield JsonlRange(name, path, batch.first_line, offset, size, len(batch.lines))
        offset += size


def _clean_jsonl_range(args: tuple[JsonlRange, Options]) -> JsonlOutcome:
    span, options = args
    try:
        with Path(span.path).open("rb") as f:
            f.seek(span.offset)
            data = f.read(span.size)
    except OSError as exc:
        data, why = b"", _strerror(exc)
    else:
        why = "it changed while being cleaned"
    lines = io.BytesIO(data).readlines()  # split at b"\n" only, as the parent's reading did
    if len(data) != span.size or len(lines) != span.count:
        last = span.first_line + span.count - 1
        where = f"{span.name}:{span.first_line}-{last}"
        return JsonlOutcome(b"", errors=[f"{where}: cannot read again ({why}); records skipped"])
    return _clean_jsonl_batch((JsonlBatch(span.name, span.first_line, lines), options))


def _is_regular_file(stream: IO[bytes]) -> bool:
    """A plain (not gzip) stream of a regular file, which workers can read again by offset."""
    if not isinstance(stream, io.BufferedReader):
        return False
    try:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (OSError, ValueError):
        return False


@dataclass(frozen=True)
class JsonlJob:
    """One JSON Lines input and where its output goes (``None``: standard streams)."""

    name: str
    source: Path | None
    target: Path | None


def clean_jsonl_jobs(
    jobs: Sequence[JsonlJob],
    cleaner: Cleaner,
    options: Options,
    n_jobs: int = 1,
    reporter: Reporter | None = None,
    stdin: BinaryIO | None = None,
    stdout: BinaryIO | None = None,
) -> RunSummary:
    """Clean JSON Lines inputs record by record, streaming; each output is written atomically.

    A damaged input (a cut gzip stream, a read error) is a failure of that input: the complete
    records before the damage are written, and the message says where it is. A closed pipe on
    standard output raises ``BrokenPipeError``; standard output failing otherwise raises
    :class:`OutputError`. A file output that cannot be written is that input's failure.
    """
    reporter = reporter or Reporter()
    summary = RunSummary()

    def fail(message: str) -> None:
        summary.failures.append(message)
        reporter.failure(message)

    for job in jobs:
        try:
            stream = open_input(job.source, stdin)
        except DeclutterError as exc:
            fail(str(exc))
            continue
        with stream:
            lines = _Lines(job.name, stream)
            first = lines.first_record()
            if lines.damage is None and _not_jsonl(first):
                fail(f"{job.name}: not JSON Lines (its first record is not JSON); skipped")
                continue
            try:
                _clean_jsonl_job(job, lines, cleaner, options, n_jobs, reporter, summary, stdout)
            except OutputError as exc:
                if job.target is None:
                    raise  # standard output is gone for every input
                fail(str(exc))
                continue
            if lines.damage is not None:
                fail(lines.damage)
        summary.files += 1
    return summary


def _clean_jsonl_job(
    job: JsonlJob,
    lines: _Lines,
    cleaner: Cleaner,
    options: Options,
    n_jobs: int,
    reporter: Reporter,
    summary: RunSummary,
    stdout: BinaryIO | None,
) -> None:
    if job.target is None and stdout is None:
        raise OutputError("standard output is closed; give -o FILE")
    where = str(job.target) if job.target is not None else "standard output"
    try:
        with _output(job.target, stdout) as out:
            if options.scores == "tsv":
                write_all(out, tsv_header(True).encode("utf-8"))
            batches = _batches(job.name, lines)
            outcomes: Iterator[JsonlOutcome]
            if n_jobs > 1 and job.source is not None and _is_regular_file(lines.stream):
                spans = ((r, options) for r in _ranges(job.name, str(job.source), batches))
                outcomes = run_ordered(_clean_jsonl_range, spans, cleaner, n_jobs)
            else:
                tasks = ((b, options) for b in batches)
                outcomes = run_ordered(_clean_jsonl_batch, tasks, cleaner, n_jobs)
            for outcome in outcomes:
                write_all(out, outcome.output)
                record_outcome(outcome, summary, reporter)
                reporter.progress(summary.pages, None)
            out.flush()
    except BrokenPipeError:
        raise
    except (OSError, ValueError) as exc:  # ValueError: a stream closed under us
        raise OutputError(f"{where}: cannot write ({_strerror(exc)})") from None


def record_outcome(outcome: JsonlOutcome, summary: RunSummary, reporter: Reporter) -> None:
    """Add a batch's counts to ``summary`` and pass its messages to ``reporter``."""
    summary.pages += outcome.records
    summary.lines += outcome.lines
    summary.kept_lines += outcome.kept_lines
    summary.dropped += outcome.dropped
    for message in outcome.warnings:
        reporter.warning(message)
    for name, share in outcome.flagged:
        summary.flagged += 1
        reporter.flagged(name, share)
    for message in outcome.errors:
        summary.failures.append(message)
        reporter.failure(message)


@contextlib.contextmanager
def _output(target: Path | None, stdout: BinaryIO | None) -> Iterator[IO[bytes]]:
    """Standard output, or a file that appears at ``target`` only when all went well."""
    if target is None:
        assert stdout is not None
        yield stdout
        return
    with atomic_output(target) as raw:
        if target.name.endswith(".gz"):
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
                yield gz  # type: ignore[misc]
        else:
            yield raw


# --- site context: the first pass ------------------------------------------------------------
def _page_keys_chunk(pages: list[tuple[str, str]]) -> list[tuple[str, bytes, U64]]:
    return [(site, *page_keys(text)) for site, text in pages]


def count_sites(
    pages: Iterable[tuple[str | None, str]], cleaner: Cleaner, n_jobs: int = 1
) -> SiteIndex:
    """The site counts of ``(site, text)`` pages (None: no site, not counted): the first of
    site context's two passes. Pages are hashed in ``n_jobs`` processes and counted here, in
    the order given (the counts do not depend on it)."""
    index = SiteIndex()
    with_site: Iterator[tuple[str, str]] = (
        (site, text) for site, text in pages if site is not None
    )
    chunks = iter(lambda: list(islice(with_site, BATCH_ITEMS)), [])
    for counted in run_ordered(_page_keys_chunk, chunks, cleaner, n_jobs):
        for site, digest, keys in counted:
            index.add_keys(site, digest, keys)
    return index


def text_site_pages(
    pairs: Sequence[tuple[str, Path | None, Path | None]], options: Options
) -> Iterator[tuple[str | None, str]]:
    """The ``(site, text)`` of text inputs, each file a page of its folder's site (with
    ``site_from_folder``). Inputs that cannot be read are left to the second pass to report.
    Raises :class:`UsageError` for standard input (it cannot be read twice)."""
    for name, source, _ in pairs:
        if source is None:
            raise UsageError(STDIN_TWICE)
        try:
            text = decode(read_bytes(source), name, options.encoding, options.errors).text
        except DeclutterError:
            continue
        yield text_site(TextJob(name, source, None), options), text


def jsonl_site_pages(
    pairs: Sequence[tuple[str, Path | None, Path | None]], options: Options
) -> Iterator[tuple[str | None, str]]:
    """The ``(site, text)`` of JSON Lines records (:func:`record_site`), as
    :func:`text_site_pages`; records that are not JSON objects with a string field are skipped.
    """
    for name, source, _ in pairs:
        if source is None:
            raise UsageError(STDIN_TWICE)
        try:
            stream = open_input(source, None)
        except DeclutterError:
            continue
        with stream:
            for raw in _Lines(name, stream):
                if not raw.strip():
                    continue
                try:
                    values = json.loads(_decode_line(raw, options.errors)[0].lstrip("\ufeff"))
                except (ValueError, UnicodeDecodeError, RecursionError):
                    continue
                if isinstance(values, dict) and isinstance(values.get(options.field), str):
                    yield record_site(values, name, options), values[options.field]


STDIN_TWICE = (
    "--site-context reads the input twice (count, then clean), and standard input cannot be "
    "read twice: save it to a file first"
)


# --- planning: which inputs, which outputs ------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """Inputs paired with outputs. ``target`` None means standard output."""

    pairs: list[tuple[str, Path | None, Path | None]]  # (name, source, target)
    # Inputs that give nothing to clean: unreadable folders, folders without matching files.
    failures: list[str] = field(default_factory=list)


def _walk(folder: Path, patterns: Sequence[str], failures: list[str]) -> list[Path]:
    """Files under ``folder`` whose path ends like one of ``patterns`` (as ``rglob`` matches);
    every folder that cannot be read is added to ``failures``. Linked folders are followed,
    except a link back to a folder the walk is inside (a cycle)."""

    def unreadable(exc: OSError) -> None:
        failures.append(f"{exc.filename}: cannot read folder ({exc.strerror}); skipped")

    def cycle(top: str, name: str) -> bool:
        link = Path(top, name)
        if not link.is_symlink():
            return False
        return _inside(Path(top), link)  # the link leads to the walk's own ancestor

    found = []
    for top, folders, names in os.walk(folder, onerror=unreadable, followlinks=True):
        folders[:] = [name for name in folders if not cycle(top, name)]
        for name in names:
            path = Path(top, name)
            relative = PurePath(path.relative_to(folder))
            if any(relative.match(p) for p in patterns) and path.is_file():
                found.append(path)
    return sorted(found)


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True


def plan(
    inputs: Sequence[str],
    output: str | None,
    patterns: Sequence[str],
    suffix: str = "",
) -> Plan:
    """Pair inputs with outputs, refusing anything that could overwrite an input.

    - no input or ``-``: standard input to ``output`` (standard output when None or ``-``);
    - one file: to ``output`` (standard output when None or ``-``);
    - a folder or several inputs: ``output`` must be a folder; a file keeps its name, a folder's
      files keep their paths relative to it. ``suffix`` is appended to output names.
    """
    out_path = None if output is None or output == "-" else Path(output)
    if not inputs or list(inputs) == ["-"]:
        _check_output_file(out_path, [])
        return Plan([("<stdin>", None, out_path)])
    if "-" in inputs:
        raise UsageError("'-' (standard input) cannot be combined with other inputs")
    paths = [Path(p) for p in inputs]
    if len(paths) == 1 and not paths[0].is_dir():
        _check_output_file(out_path, paths)
        return Plan([(str(paths[0]), paths[0], out_path)])
    if out_path is None:
        raise UsageError("a folder or several inputs need -o/--output DIR")
    if out_path.exists() and not out_path.is_dir():
        raise UsageError(f"{out_path} exists and is not a folder")
    pairs: list[tuple[str, Path | None, Path | None]] = []
    failures: list[str] = []
    seen: dict[Path, str] = {}
    for path in paths:
        if path.is_dir():
            if _inside(out_path, path) or _inside(path, out_path):
                raise UsageError(
                    f"output folder {out_path} must not be {path} or inside it (or contain it)"
                )
            members = [(f, f.relative_to(path)) for f in _walk(path, patterns, failures)]
            if not members:
                failures.append(f"{path}: no files match {' or '.join(patterns)}")
        else:
            members = [(path, Path(path.name))]
        for source, relative in members:
            target = out_path / (str(relative) + suffix)
            if target.resolve() in seen:
                raise UsageError(f"{source} and {seen[target.resolve()]} would both write {target}")
            seen[target.resolve()] = str(source)
            if target.exists() and source.exists() and target.samefile(source):
                raise UsageError(f"output {target} is the input {source}")
            pairs.append((str(source), source, target))
    return Plan(pairs, failures)


def _check_output_file(out_path: Path | None, inputs: Sequence[Path]) -> None:
    if out_path is None:
        return
    if out_path.is_dir():
        raise UsageError(f"output {out_path} is a folder; one input writes one file")
    for source in inputs:
        same = out_path.resolve() == source.resolve() or (
            out_path.exists() and source.exists() and out_path.samefile(source)
        )
        if same:
            raise UsageError(f"output {out_path} is the input file; declutter never overwrites it")
