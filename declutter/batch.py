"""Clean many pages: files, folders, JSON Lines and standard streams, in one or more processes.

This is the library behind ``declutter clean``; it never prints. The caller passes a
:class:`Reporter` to hear about progress, per-item problems and flagged pages, and gets a
:class:`RunSummary` back. Guarantees:

- output never replaces an input, and every output file appears whole or not at all
  (written to a temporary file, then renamed);
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
import multiprocessing
import signal
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO, TypeVar, cast

from declutter.cleaner import Cleaner, PageResult
from declutter.errors import DeclutterError, UsageError
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
    if not text.strip() or options.flag_below <= 0:
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


def _init_worker(cleaner: Cleaner) -> None:
    global _worker_cleaner
    _worker_cleaner = cleaner
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops us
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
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    pool = multiprocessing.get_context(method).Pool(jobs, _init_worker, (cleaner,))
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
            data = job.data if job.data is not None else read_bytes(job.source)  # type: ignore[arg-type]
            decoded.append((job, decode(data, job.name, options.encoding, options.errors)))
        except DeclutterError as exc:
            outcomes[k] = TextOutcome(job, error=str(exc))
    results = _cleaner().process([d.text for _, d in decoded]) if decoded else []
    it = iter(zip(decoded, results, strict=True))
    out = []
    for k, job in enumerate(jobs):
        if k in outcomes:
            out.append(outcomes[k])
            continue
        (_, dec), result = next(it)
        out.append(_text_outcome(job, dec, result, options))
    return out


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
        assert stdout is not None
        stdout.write(outcome.output)
        stdout.flush()
    else:
        try:
            atomic_write(outcome.job.target, outcome.output)
        except OSError as exc:
            message = f"{outcome.job.target}: cannot write ({exc.strerror})"
            summary.failures.append(message)
            reporter.failure(message)


# --- JSON Lines ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class JsonlBatch:
    name: str
    first_line: int
    lines: list[bytes]


@dataclass(frozen=True)
class JsonlOutcome:
    output: bytes
    records: int = 0
    lines: int = 0
    kept_lines: int = 0
    flagged: list[tuple[str, float]] = field(default_factory=list)
    dropped: int = 0
    errors: list[str] = field(default_factory=list)


def _clean_jsonl_batch(args: tuple[JsonlBatch, Options]) -> JsonlOutcome:
    batch, options = args
    parsed: list[tuple[int, dict[str, Any] | None, str | None]] = []  # (line, record, error)
    texts: list[str] = []
    errors: list[str] = []
    for offset, raw in enumerate(batch.lines):
        number = batch.first_line + offset
        where = f"{batch.name}:{number}"
        if not raw.strip():
            continue
        try:
            record = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            errors.append(f"{where}: not valid JSON ({_short(exc)}); record skipped")
            continue
        if not isinstance(record, dict):
            errors.append(f"{where}: not a JSON object; record skipped")
            continue
        value = record.get(options.field)
        if not isinstance(value, str):
            problem = "has no" if options.field not in record else "has a non-string"
            errors.append(f"{where}: {problem} field {options.field!r}; record passed unchanged")
            parsed.append((number, record, "unchanged"))
            continue
        parsed.append((number, record, None))
        texts.append(value)
    results = iter(_cleaner().process(texts) if texts else [])
    out: list[str] = []
    lines = kept = dropped = 0
    flagged: list[tuple[str, float]] = []
    for number, record, status in parsed:
        assert record is not None
        if status == "unchanged":
            out.append(_json_line(record))
            continue
        result = next(results)
        text = record[options.field]
        lines += len(result.lines)
        kept += result.n_kept
        is_flagged, share = _flag(result, text, options)
        if is_flagged:
            flagged.append((f"{batch.name}:{number}", share))
            if options.drop_flagged:
                dropped += 1
                continue
        if options.scores:
            out.append(score_rows(result, options.scores, record=number))
            continue
        record[options.output_field or options.field] = result.text
        out.append(_json_line(record))
    payload = "".join(out).encode("utf-8", "surrogateescape")
    return JsonlOutcome(payload, len(texts), lines, kept, flagged, dropped, errors)


def _short(exc: Exception) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at column {exc.colno}"
    return "invalid UTF-8"


def open_input(path: Path | None, stdin: BinaryIO | None) -> IO[bytes]:
    """A binary stream of a JSON Lines input, gunzipped when it is gzip data."""
    raw: IO[bytes]
    if path is None:
        assert stdin is not None
        raw = stdin
    else:
        raw = open_binary(path)
    buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(cast(Any, raw))
    if buffered.peek(2)[:2] == b"\x1f\x8b":
        return cast(IO[bytes], gzip.GzipFile(fileobj=buffered, mode="rb"))
    return buffered


def _batches(name: str, stream: IO[bytes]) -> Iterator[JsonlBatch]:
    lines: list[bytes] = []
    size = 0
    first = 1
    number = 0
    for number, line in enumerate(stream, start=1):
        lines.append(line)
        size += len(line)
        if size >= BATCH_BYTES or len(lines) >= BATCH_ITEMS:
            yield JsonlBatch(name, first, lines)
            lines, size, first = [], 0, number + 1
    if lines:
        yield JsonlBatch(name, first, lines)


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
    """Clean JSON Lines inputs record by record, streaming; each output is written atomically."""
    reporter = reporter or Reporter()
    summary = RunSummary()
    done = 0
    for job in jobs:
        try:
            stream = open_input(job.source, stdin)
        except DeclutterError as exc:
            summary.failures.append(str(exc))
            reporter.failure(str(exc))
            continue
        with stream, _output(job.target, stdout) as out:
            if options.scores == "tsv":
                out.write(tsv_header(True).encode("utf-8"))
            tasks = ((b, options) for b in _batches(job.name, stream))
            try:
                for outcome in run_ordered(_clean_jsonl_batch, tasks, cleaner, n_jobs):
                    out.write(outcome.output)
                    done += outcome.records
                    _record_jsonl(outcome, summary, reporter)
                    reporter.progress(done, None)
            except (OSError, EOFError, gzip.BadGzipFile) as exc:
                message = f"{job.name}: cannot read ({exc})"
                summary.failures.append(message)
                reporter.failure(message)
        summary.files += 1
    return summary


def _record_jsonl(outcome: JsonlOutcome, summary: RunSummary, reporter: Reporter) -> None:
    summary.pages += outcome.records
    summary.lines += outcome.lines
    summary.kept_lines += outcome.kept_lines
    summary.dropped += outcome.dropped
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
        stdout.flush()
        return
    with atomic_output(target) as raw:
        if target.name.endswith(".gz"):
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
                yield gz  # type: ignore[misc]
        else:
            yield raw


# --- planning: which inputs, which outputs ------------------------------------------------------
@dataclass(frozen=True)
class Plan:
    """Inputs paired with outputs. ``target`` None means standard output."""

    pairs: list[tuple[str, Path | None, Path | None]]  # (name, source, target)


def _walk(folder: Path, patterns: Sequence[str]) -> list[Path]:
    found: set[Path] = set()
    for pattern in patterns:
        found.update(p for p in folder.rglob(pattern) if p.is_file())
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
    seen: dict[Path, str] = {}
    for path in paths:
        if path.is_dir():
            if _inside(out_path, path) or _inside(path, out_path):
                raise UsageError(
                    f"output folder {out_path} must not be {path} or inside it (or contain it)"
                )
            members = [(f, f.relative_to(path)) for f in _walk(path, patterns)]
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
    return Plan(pairs)


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
