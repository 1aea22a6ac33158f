"""The ``declutter`` command line: argument parsing and wiring only.

Every command calls the library and turns a :class:`~declutter.errors.DeclutterError` into a
one-line message on stderr and an exit code: 0 success, 1 bad data or model (including some
inputs failing in a batch), 2 usage, 130 interrupted (SIGINT), 141 output closed early
(``| head``), 143 terminated (SIGTERM).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO, TypeVar

import typer

from declutter import __version__, batch
from declutter.cleaner import Cleaner
from declutter.errors import DeclutterError, InputError, ModelError, OutputError, UsageError
from declutter.model import load_model
from declutter.site import SiteIndex
from declutter.textio import (
    ERROR_HANDLERS,
    atomic_write,
    check_codec,
    decode,
    defer_signal,
    read_bytes,
)

if TYPE_CHECKING:
    from declutter.data import LabelledPage

# Modules that only some commands use are imported in those commands: `declutter clean`'s
# start-up is part of every run (issue 17 measures it).

app = typer.Typer(
    name="declutter",
    help="Keep the main content of plain-text web page dumps, dropping menus, share bars, "
    "related links, cookie banners and footers. Lines are kept byte-identical and in order.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

EXIT_OK, EXIT_DATA, EXIT_USAGE, EXIT_INTERRUPTED, EXIT_PIPE = 0, 1, 2, 130, 141
EXIT_TERMINATED = 143  # 128 + SIGTERM, as shells report it
F = TypeVar("F", bound=Callable[..., Any])

# Choices as enums: help lists them and typer refuses anything else (exit 2).
ScoreFormat = Enum("ScoreFormat", {f: f for f in batch.SCORE_FORMATS}, type=str)  # type: ignore[misc]
ErrorHandler = Enum("ErrorHandler", {e: e for e in ERROR_HANDLERS}, type=str)  # type: ignore[misc]
SURROGATEESCAPE = ErrorHandler("surrogateescape")


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"declutter {__version__}\n")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_version, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    pass


# Options shared by several commands, defined once.
ModelOpt = Annotated[
    Path | None,
    typer.Option(
        "--model",
        "-m",
        metavar="PATH",
        help="Model file from `declutter train` (default: the shipped model). "
        "Loading a model unpickles it: use only model files you trust.",
    ),
]
ThresholdOpt = Annotated[
    float | None,
    typer.Option(
        "--threshold",
        "-t",
        metavar="T",
        help="Content probability from which a line is kept, in (0, 1). Lower keeps more "
        "(recall), higher keeps less (precision). Default: the model's, chosen in training.",
    ),
]
SmoothingOpt = Annotated[
    float | None,
    typer.Option(
        metavar="S",
        help="Cost of switching between content and chrome when decoding a page, 0 or more; "
        "0 decides each line alone. Default: the model's.",
    ),
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress, warnings or summary on stderr.")
]


def _stderr(text: str) -> None:
    if sys.stderr is None:  # started with stderr closed (2>&-): the exit code must do
        return
    with contextlib.suppress(OSError, ValueError):
        sys.stderr.write(text)
        sys.stderr.flush()


def _err(message: str) -> None:
    _stderr(f"declutter: {message}\n")


class _Terminated(BaseException):
    """SIGTERM, raised like KeyboardInterrupt so that partial outputs are removed."""


def _on_signal(signum: int, frame: FrameType | None) -> None:
    if defer_signal(signum):  # an output's temporary file is being created: raised again soon
        return
    if signum == signal.SIGINT:
        raise KeyboardInterrupt
    raise _Terminated


def _drop_stdout() -> None:
    """Point standard output at /dev/null so that the interpreter's last flush of data the
    reader will never take (closed pipe, full disk) raises nothing at exit."""
    if sys.stdout is None:
        return
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _stdin() -> BinaryIO:
    if sys.stdin is None:  # started with standard input closed (<&-)
        raise InputError("standard input is closed")
    return sys.stdin.buffer


def _stdout() -> BinaryIO | None:
    return None if sys.stdout is None else sys.stdout.buffer


def _read_stdin() -> bytes:
    try:
        return _stdin().read()
    except OSError as exc:
        raise InputError(f"<stdin>: cannot read ({exc.strerror})") from None


def _run(body: Callable[[], int]) -> None:
    """Run a command body, mapping errors to messages and exit codes."""
    # Handlers can only be set from the main thread (the CLI called from a thread keeps them).
    signals = (signal.SIGINT, signal.SIGTERM)
    main = threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, _on_signal) for s in signals} if main else {}
    try:
        code = body()
    except DeclutterError as exc:
        _err(str(exc))
        if isinstance(exc, OutputError):
            _drop_stdout()
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        _err("interrupted")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except _Terminated:
        _err("terminated")
        raise typer.Exit(EXIT_TERMINATED) from None
    except BrokenPipeError:
        # The reader went away (e.g. `| head -1`): stop quietly, like other Unix filters.
        _drop_stdout()
        raise typer.Exit(EXIT_PIPE) from None
    except OSError as exc:  # writing a report to a full or failing standard output
        _err(f"{exc.filename or 'standard output'}: cannot write ({exc.strerror or exc})")
        _drop_stdout()
        raise typer.Exit(EXIT_DATA) from None
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    raise typer.Exit(code)


class _Reporter(batch.Reporter):
    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.tty = sys.stderr is not None and sys.stderr.isatty() and not quiet
        self.shown = False

    def progress(self, done: int, total: int | None) -> None:
        if self.tty:
            of = f"/{total}" if total else ""
            _stderr(f"\rdeclutter: {done}{of} cleaned")
            self.shown = True

    def _line(self, message: str) -> None:
        if self.shown:
            _stderr("\n")
            self.shown = False
        _err(message)

    def failure(self, message: str) -> None:
        """Failures are listed once, at the end (see :meth:`done`)."""

    def warning(self, message: str) -> None:
        if not self.quiet:
            self._line(f"warning: {message}")

    def flagged(self, name: str, share: float) -> None:
        if not self.quiet:
            self._line(f"flagged: {name} kept {share:.1%} of its text")

    def done(self, summary: batch.RunSummary, verbose: bool) -> None:
        if self.shown:
            _stderr("\n")
        if len(summary.failures) == 1:
            _err(summary.failures[0])
        elif summary.failures:
            _err(f"{len(summary.failures)} inputs failed:")
            for message in summary.failures:
                _stderr(f"  {message}\n")
        if self.quiet or not (verbose or summary.failures or summary.flagged):
            return
        dropped = summary.lines - summary.kept_lines
        _err(
            f"{summary.files} file(s), {summary.pages} page(s): kept {summary.kept_lines} "
            f"line(s), dropped {dropped}; {summary.flagged} page(s) flagged"
            + (f", {summary.dropped} dropped" if summary.dropped else "")
        )


@app.command()
def clean(
    inputs: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="INPUT",
            hidden=True,  # described in the docstring: typer would print its Python type
            help="Files or folders to clean; none or '-' reads standard input.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="Output file, or folder when cleaning a folder or several inputs "
            "(same relative names). Default: standard output. Never overwrites an input.",
        ),
    ] = None,
    model: ModelOpt = None,
    threshold: ThresholdOpt = None,
    smoothing: SmoothingOpt = None,
    jsonl: Annotated[
        bool,
        typer.Option(
            "--jsonl",
            help="Inputs are JSON Lines, one page per record (.jsonl or .jsonl.gz; gzip is "
            "detected). The field is cleaned; other fields and record order are kept.",
        ),
    ] = False,
    field: Annotated[
        str,
        typer.Option("--field", metavar="NAME", help="JSON Lines field holding the page text."),
    ] = "text",
    output_field: Annotated[
        str | None,
        typer.Option(
            "--output-field",
            metavar="NAME",
            help="Write the cleaned text to this field and keep the original field as is.",
        ),
    ] = None,
    glob: Annotated[
        str | None,
        typer.Option(
            "--glob",
            metavar="PATTERN",
            help="File pattern when walking folders (default *.txt, or *.jsonl and "
            "*.jsonl.gz with --jsonl).",
        ),
    ] = None,
    jobs: Annotated[
        int,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            metavar="N",
            help="Worker processes; output is identical to --jobs 1.",
        ),
    ] = 1,
    scores: Annotated[
        ScoreFormat | None,
        typer.Option(
            "--scores",
            help="Write per-line scores instead of text: tsv (line, probability, keep, "
            "text) or jsonl. Unscored lines (blank, no words) have no probability.",
        ),
    ] = None,
    flag_below: Annotated[
        float,
        typer.Option(
            "--flag-below",
            metavar="SHARE",
            min=0.0,
            max=1.0,
            help="Report pages that keep less than this share of their characters "
            "(nearly everything judged chrome). 0 turns the check off.",
        ),
    ] = 0.05,
    drop_flagged: Annotated[
        bool,
        typer.Option("--drop-flagged", help="Write nothing for flagged pages (files or records)."),
    ] = False,
    encoding: Annotated[
        str,
        typer.Option(
            metavar="CODEC",
            help="Text encoding of inputs, e.g. utf-8, latin-1, utf-16-le "
            "(a UTF-16 byte-order mark wins).",
        ),
    ] = "utf-8",
    errors: Annotated[
        ErrorHandler,
        typer.Option(
            help="Undecodable bytes: surrogateescape keeps them byte for byte, replace "
            "writes U+FFFD, strict fails the file."
        ),
    ] = SURROGATEESCAPE,
    site_context: Annotated[
        bool,
        typer.Option(
            "--site-context",
            help="Also judge each line by how many of its site's other pages in the input "
            "hold it (footers, disclaimers and appeals repeat across a site; content rarely "
            "does). The site is the host of the page's URL (--url-field of a JSON Lines "
            "record, a WARC record's target URI) or, with --site-from-folder, its file's "
            "folder. Reads the input twice: once to count lines per site, once to clean; "
            "standard input is refused. Memory: about 1 MB per site at most, plus ~100 bytes "
            "per page. A page with no other page of its site is cleaned as without it. Needs "
            "a model with a site stage (`declutter train` fits one).",
        ),
    ] = False,
    site_from_folder: Annotated[
        bool,
        typer.Option(
            "--site-from-folder",
            help="With --site-context: the pages of one folder are one site (needed for text "
            "files, which have no URL).",
        ),
    ] = False,
    url_field: Annotated[
        str,
        typer.Option(
            "--url-field",
            metavar="NAME",
            help="With --site-context: the JSON Lines field holding the page's URL.",
        ),
    ] = "url",
    quiet: QuietOpt = False,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Always print the run summary.")
    ] = False,
) -> None:
    """Keep the content lines of page dumps (text or JSON Lines), byte-identical and in order.

    INPUT: files or folders to clean; none or '-' reads standard input. WARC files (.warc,
    .warc.gz, .warc.wet.gz; the [warc] extra) are read record by record and written as JSON
    Lines, or as a WET file when -o names one."""

    def body() -> int:
        if drop_flagged and flag_below <= 0:
            raise UsageError("--drop-flagged needs --flag-below above 0")
        if (output_field or field != "text") and not jsonl:
            raise UsageError("--field and --output-field apply to --jsonl input only")
        check_codec(encoding, errors.value)
        score_format = None if scores is None else scores.value
        options = batch.Options(
            encoding=encoding,
            errors=errors.value,
            field=field,
            output_field=output_field,
            scores=score_format,
            flag_below=flag_below,
            drop_flagged=drop_flagged,
            site_context=site_context,
            site_from_folder=site_from_folder,
            url_field=url_field,
        )
        if (site_from_folder or url_field != "url") and not site_context:
            raise UsageError("--site-from-folder and --url-field apply with --site-context")
        cleaner = Cleaner(load_model(model), threshold=threshold, smoothing=smoothing)
        patterns = [glob] if glob else list(batch.JSONL_PATTERNS if jsonl else [batch.TEXT_PATTERN])
        suffix = f".scores.{score_format}" if score_format else ""
        the_plan = batch.plan(inputs or [], output, patterns, suffix)
        if site_context:
            index = _count_sites(the_plan.pairs, options, jsonl, cleaner, jobs)
            cleaner = Cleaner(cleaner.model, cleaner.threshold, cleaner.smoothing, index)
        reporter = _Reporter(quiet)
        stdout = _stdout()
        # Only a named file can be WARC: standard input never imports the WARC reader.
        if not jsonl and any(source is not None for _, source, _ in the_plan.pairs):
            from declutter import warc  # noqa: PLC0415

            if warc.is_warc_plan(the_plan.pairs):
                if stdout is None and output is None:
                    raise OutputError("standard output is closed; give -o FILE")
                summary = warc.clean_warc_jobs(
                    the_plan.pairs, cleaner, options, jobs, reporter, stdout
                )
                reporter.done(summary, verbose)
                return EXIT_OK if summary.ok else EXIT_DATA
        if jsonl:
            summary = batch.clean_jsonl_jobs(
                [batch.JsonlJob(n, s, t) for n, s, t in the_plan.pairs],
                cleaner,
                options,
                jobs,
                reporter,
                stdin=None if sys.stdin is None else sys.stdin.buffer,
                stdout=stdout,
            )
        else:
            text_jobs = [
                batch.TextJob(n, s, t, data=_read_stdin() if s is None else None)
                for n, s, t in the_plan.pairs
            ]
            summary = batch.clean_text_jobs(text_jobs, cleaner, options, jobs, reporter, stdout)
        summary.failures[:0] = the_plan.failures
        reporter.done(summary, verbose)
        return EXIT_OK if summary.ok else EXIT_DATA

    _run(body)


def _count_sites(
    pairs: list[tuple[str, Path | None, Path | None]],
    options: batch.Options,
    jsonl: bool,
    cleaner: Cleaner,
    jobs: int,
) -> SiteIndex:
    """``--site-context``'s first pass: the input's line counts per site."""
    if cleaner.model.site is None:
        raise ModelError(
            "--site-context needs a model with a site stage; this one has none "
            "(retrain it with `declutter train`)"
        )
    if any(source is None for _, source, _ in pairs):
        raise UsageError(batch.STDIN_TWICE)
    from declutter import warc  # noqa: PLC0415  (standard input was refused above)

    if not jsonl and warc.is_warc_plan(pairs):
        pages = warc.warc_site_pages(pairs, options)
    elif jsonl:
        pages = batch.jsonl_site_pages(pairs, options)
    elif not options.site_from_folder:
        raise UsageError(
            "--site-context with text files needs --site-from-folder (a text file has no URL)"
        )
    else:
        pages = batch.text_site_pages(pairs, options)
    return batch.count_sites(pages, cleaner, jobs)


@app.command()
def explain(
    file: Annotated[
        str,
        typer.Argument(
            metavar="FILE", hidden=True, help="A page dump to explain ('-' for standard input)."
        ),
    ],
    model: ModelOpt = None,
    threshold: ThresholdOpt = None,
    smoothing: SmoothingOpt = None,
    top: Annotated[
        int,
        typer.Option(min=1, metavar="N", help="Features to show per direction for each line."),
    ] = 3,
    as_html: Annotated[
        bool,
        typer.Option(
            "--html",
            help="Write a self-contained HTML page instead: every line shaded by its content "
            "probability, kept and dropped lines marked apart, the top features on hover.",
        ),
    ] = False,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Write to this file instead of standard output."),
    ] = None,
) -> None:
    """Show, for each line, its content probability, the decision, and the features that
    pushed it most toward content (+) or chrome (-), after the page types the page-level
    stage finds most likely. Coloured on a terminal (not with NO_COLOR set).

    FILE: a page dump to explain ('-' for standard input)."""

    def body() -> int:
        from declutter.explain import (  # noqa: PLC0415 - only this command
            explain_page,
            explanation_html,
            format_colored,
            format_explanation,
            page_summary,
            use_color,
        )

        data = _read_stdin() if file == "-" else read_bytes(Path(file))
        text = decode(data, file).text
        cleaner = Cleaner(load_model(model), threshold=threshold, smoothing=smoothing)
        result = cleaner.process([text])[0]
        rows = explain_page(cleaner, text, top, result)
        summary = page_summary(result)
        if output is not None and file != "-" and output.resolve() == Path(file).resolve():
            raise UsageError(f"output {output} is the input file; declutter never overwrites it")
        if as_html:
            report = explanation_html(rows, "stdin" if file == "-" else file, cleaner.threshold)
        else:
            color = output is None and use_color(sys.stdout.isatty(), os.environ)
            fmt = format_colored if color else format_explanation
            report = "".join(fmt(row) + "\n" for row in rows)
            if summary is not None:
                report = summary + "\n" + report
        encoded = report.encode("utf-8", "surrogateescape")
        if output is None:
            sys.stdout.buffer.write(encoded)
            sys.stdout.flush()
        else:
            atomic_write(output, encoded)
        return EXIT_OK

    _run(body)


@app.command()
def label(
    pages: Annotated[
        list[Path],
        typer.Argument(
            metavar="PAGES",
            hidden=True,
            help="Page dumps or folders of them (*.txt, without .clean.txt and .draft.txt).",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            metavar="DIR",
            help="Folder for the drafts: NAME.draft.txt for each NAME.txt.",
        ),
    ],
    model: ModelOpt = None,
    threshold: ThresholdOpt = None,
    smoothing: SmoothingOpt = None,
    encoding: Annotated[
        str, typer.Option(metavar="CODEC", help="Text encoding of the pages.")
    ] = "utf-8",
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite", help="Replace existing drafts (and any corrections in them)."),
    ] = False,
) -> None:
    """Draft labels for pages to correct by hand: every line marked '+ ' (keep) or '- ' (drop),
    '?+ ' or '?- ' where the model is least sure. Prints each draft's least certain lines.

    PAGES: page dumps or folders of them (*.txt, without .clean.txt and .draft.txt)."""

    def body() -> int:
        from declutter.drafts import SUMMARY_LINES, draft_pages, draft_targets  # noqa: PLC0415

        if output.exists() and not output.is_dir():
            raise UsageError(f"--output {output} exists and is not a folder")
        check_codec(encoding, "surrogateescape")
        cleaner = Cleaner(load_model(model), threshold=threshold, smoothing=smoothing)
        targets = draft_targets(pages, output)
        if not targets:
            raise UsageError("no pages to draft (*.txt files)")
        existing = [str(target) for _, target in targets if target.exists()]
        if existing and not overwrite:
            raise UsageError(
                f"{existing[0]} exists"
                + (f" (and {len(existing) - 1} more)" if existing[1:] else "")
                + ": its corrections would be lost; use --overwrite to replace drafts"
            )
        failed = 0
        for source, target in targets:
            try:
                decoded = decode(read_bytes(source), str(source), encoding)
            except InputError as exc:
                # One unreadable page is reported; the others are still drafted.
                _err(str(exc))
                failed += 1
                continue
            drafted = draft_pages(cleaner, [decoded.text])[0]
            atomic_write(target, decoded.encode(drafted.text))
            sys.stdout.write(
                f"{target}: {drafted.lines} lines, {drafted.kept} kept, "
                f"{len(drafted.unsure)} uncertain\n"
            )
            for line in drafted.unsure[:SUMMARY_LINES]:
                mark = ("?+" if line.keep else "?-") + f" {line.probability:.2f}"
                shown = line.text[:60].encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                sys.stdout.write(f"  {target}:{line.number}: {mark}  {shown}\n")
        if failed:
            _err(f"{failed} of {len(targets)} page(s) could not be drafted")
        return EXIT_DATA if failed else EXIT_OK

    _run(body)


# Names that `declutter train` and `eval` read as labelled pages inside a folder.
DATA_SUFFIXES = (".txt", ".jsonl", ".jsonl.gz")


def _refuse_output_over_data(output: Path, data: list[Path]) -> None:
    """A model written over a DATA file, or under a DATA folder with a name read as data,
    would destroy labelled pages (a person's corrected drafts): a usage error."""
    target = output.resolve()
    for path in data:
        source = path.resolve()
        inside = source.is_dir() and source in target.parents
        if target == source or (inside and output.name.endswith(DATA_SUFFIXES)):
            raise UsageError(
                f"--output {output} would write over the training data {path}; "
                "declutter never overwrites its inputs"
            )


@app.command()
def train(
    data: Annotated[
        list[Path],
        typer.Argument(
            metavar="DATA",
            hidden=True,
            help="Labelled pages: folders (searched recursively) or files; NAME.txt + "
            "NAME.clean.txt pairs, .jsonl/.jsonl.gz files and NAME.draft.txt drafts (see "
            "training_data/README.md).",
            show_default=False,
        ),
    ],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", metavar="MODEL", help="Where to write the model (.joblib)."),
    ],
    # The defaults are train.LINE_C and train.CONTEXT_C, written out: importing the training
    # module imports scikit-learn (~2 s), which `clean` must not pay. A test keeps them equal.
    c: Annotated[
        float,
        typer.Option(
            "--C", min=1e-6, metavar="C", help="Inverse regularization of the line stage."
        ),
    ] = 1.0,
    context_c: Annotated[
        float,
        typer.Option(
            "--context-C",
            min=1e-6,
            metavar="C",
            help="Inverse regularization of the context stage.",
        ),
    ] = 1.0,
    base: Annotated[
        str | None,
        typer.Option(
            "--base",
            metavar="MODEL",
            help="Adapt this model ('default' for the shipped one, or a model file) to the "
            "pages instead of training from scratch: seconds, no training corpus needed.",
        ),
    ] = None,
) -> None:
    """Fit a model from labelled pages and print a one-screen summary. The model's sha256 is
    written beside it (MODEL.joblib.sha256).

    DATA: labelled pages, folders (searched recursively) or files: NAME.txt + NAME.clean.txt
    pairs and .jsonl/.jsonl.gz files (see training_data/README.md)."""

    def body() -> int:
        # Training imports scikit-learn (~2 s): only this command pays for it.
        from declutter.data import load_pages  # noqa: PLC0415
        from declutter.train import DeclutterTrainer  # noqa: PLC0415
        from declutter.train import train as fit  # noqa: PLC0415

        if output.is_dir():
            raise UsageError(f"--output {output} is a folder; give a file name")
        # Checked before training, which takes minutes on a corpus, not after it.
        if not output.parent.is_dir():
            raise UsageError(f"--output {output}: folder {output.parent} does not exist")
        _refuse_output_over_data(output, data)
        pages = load_pages(data)
        if base is not None:
            return _adapt(pages, base, output)
        model, report = fit(pages, DeclutterTrainer(C=c, context_C=context_c))
        sha = model.save(output)
        output.with_name(output.name + ".sha256").write_text(f"{sha}  {output.name}\n")
        lines = [
            f"pages            {report.pages}",
            f"lines            {report.lines} ({report.rows} scored)",
            f"class balance    {report.content_rows} content / {report.chrome_rows} chrome rows"
            f" ({report.content_rows / max(report.rows, 1):.1%} content)",
            f"held-out sites   {report.validation_rows} rows: line precision "
            f"{report.validation_line_precision:.3f}  recall "
            f"{report.validation_line_recall:.3f}  F1 {report.validation_line_f1:.3f}; "
            f"mean page word F1 {report.validation_page_f1:.3f}",
            f"decoder          threshold {report.threshold:.2f}  smoothing {report.smoothing:.1f}"
            "  (chosen on the held-out sites)",
            _site_stage_line(report.site_stage),
            f"time             {report.seconds:.1f} s",
            f"model            {output} (sha256 {sha[:16]}...)",
        ]
        sys.stdout.write("\n".join(lines) + "\n")
        return EXIT_OK

    _run(body)


def _site_stage_line(summary: dict[str, Any]) -> str:
    """The summary line of the site stage's fit (for ``--site-context``)."""
    head = "site stage       "
    if "coef" not in summary:
        return head + "none (no site with two pages or more)"
    weights = "  ".join(f"{name} {w:+.2f}" for name, w in summary["coef"].items())
    return (
        f"{head}{summary['rows']} rows of {summary['pages']} pages in {summary['sites']} sites"
        f" + {summary['template_sites']} template sites; {weights}"
    )


def _adapt(pages: list[LabelledPage], base: str, output: Path) -> int:
    """``declutter train --base``: adapt a model to the pages and print a summary."""
    from declutter.adapt import adapt  # noqa: PLC0415 - imports scikit-learn
    from declutter.model import default_model_path, sha256_file  # noqa: PLC0415

    base_path = None if base == "default" else Path(base)
    base_model = load_model(base_path)
    base_sha = sha256_file(base_path or default_model_path())
    model, report = adapt(pages, base_model, base_name=base, base_sha256=base_sha)
    sha = model.save(output)
    output.with_name(output.name + ".sha256").write_text(f"{sha}  {output.name}\n")
    lines = [
        f"base             {base}",
        f"pages            {report.pages}",
        f"lines            {report.lines} ({report.rows} labelled)",
        f"class balance    {report.content_rows} content / {report.chrome_rows} chrome rows",
        f"site lexicon     {report.buckets} lexical buckets moved",
        f"decoder          threshold {model.threshold:.2f}  smoothing {model.smoothing:.1f}"
        "  (the base model's)",
        f"time             {report.seconds:.1f} s",
        f"model            {output} (sha256 {sha[:16]}...)",
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    return EXIT_OK


@app.command("eval")
def evaluate_cmd(
    data: Annotated[
        list[Path],
        typer.Argument(
            metavar="DATA",
            hidden=True,
            help="Labelled pages, as for `declutter train`.",
            show_default=False,
        ),
    ],
    model: ModelOpt = None,
    threshold: ThresholdOpt = None,
    smoothing: SmoothingOpt = None,
) -> None:
    """Score a model on labelled pages: line precision/recall/F1 of the content class and mean
    per-page word F1 (lower-cased \\w+ bag of words, as WCXB computes it).

    DATA: labelled pages, as for `declutter train`."""

    def body() -> int:
        from declutter.data import iter_pages  # noqa: PLC0415 - only this command
        from declutter.evaluate import evaluate  # noqa: PLC0415

        cleaner = Cleaner(load_model(model), threshold=threshold, smoothing=smoothing)
        result = evaluate(cleaner, iter_pages(data))
        if result.overall.pages == 0:
            raise DeclutterError("no labelled pages found")
        header = f"{'slice':<24}{'pages':>7}{'word P':>9}{'word R':>9}{'word F1':>9}"
        header += f"{'line P':>9}{'line R':>9}{'line F1':>9}"
        rows = [header]
        slices = [("all", result.overall)]
        slices += [(f"type {k}", v) for k, v in sorted(result.by_type.items())]
        slices += [(f"style {k}", v) for k, v in sorted(result.by_style.items())]
        for name, tally in slices:
            s = tally.summary()
            rows.append(
                f"{name:<24}{int(s['pages']):>7}{s['word_precision']:>9.3f}"
                f"{s['word_recall']:>9.3f}{s['word_f1']:>9.3f}{s['line_precision']:>9.3f}"
                f"{s['line_recall']:>9.3f}{s['line_f1']:>9.3f}"
            )
        sys.stdout.write("\n".join(rows) + "\n")
        return EXIT_OK

    _run(body)


@app.command()
def corpus(
    datasets: Annotated[
        Path,
        typer.Argument(
            metavar="DATASETS",
            hidden=True,
            help="Folder holding wcxb/ and readability/ (e.g. ../shared/datasets).",
            file_okay=False,
        ),
    ],
    output: Annotated[
        Path,
        typer.Option("--output", "-o", metavar="DIR", help="Cache folder for the labelled corpus."),
    ] = Path(".cache/corpus"),
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", min=1, metavar="N", help="Worker processes.")
    ] = 1,
) -> None:
    """Build labelled JSON Lines corpora from HTML pages with gold text (needs the [corpus]
    extra): train/ from WCXB dev and most Readability pages, test/ from the held-out rest.

    DATASETS: the folder holding wcxb/ and readability/ (e.g. ../shared/datasets)."""

    def body() -> int:
        from declutter.corpus import build_all  # noqa: PLC0415 - only this command

        for name, counts in build_all(datasets, output, jobs).items():
            sys.stdout.write(
                f"{output / name}: {counts['records']} dumps of {counts['pages']} pages"
                f" ({counts['dropped_low_coverage']} dropped for low gold coverage)\n"
            )
        return EXIT_OK

    _run(body)


@app.command()
def spark(
    inputs: Annotated[
        list[str],
        typer.Argument(
            help="JSON Lines, Parquet or WARC/WET files or folders, then the OUTPUT folder.",
            metavar="PATH",
            show_default=False,
        ),
    ],
    master: Annotated[
        str | None,
        typer.Option(
            help="Spark master URL (e.g. local[4], yarn). Default: spark-submit's, else local[*]."
        ),
    ] = None,
    model: ModelOpt = None,
    threshold: ThresholdOpt = None,
    smoothing: SmoothingOpt = None,
    field: Annotated[str, typer.Option("--field", help="Column holding the page text.")] = "text",
    output_field: Annotated[
        str | None,
        typer.Option("--output-field", help="Write the cleaned text to this column instead."),
    ] = None,
    input_format: Annotated[
        str | None,
        typer.Option(help="json, parquet or warc (default: from the input names)."),
    ] = None,
    output_format: Annotated[
        str | None,
        typer.Option(help="parquet or json (default: json when OUTPUT ends in .jsonl or .json)."),
    ] = None,
    partitions: Annotated[
        int | None, typer.Option(min=1, help="Repartition the pages into this many tasks.")
    ] = None,
    site_context: Annotated[
        bool,
        typer.Option(
            "--site-context",
            help="Also judge each line by how many of its site's other pages hold it, as "
            "`declutter clean --site-context`: Spark counts line keys grouped by the host of "
            "--url-field (a shuffle of every page's distinct lines) and joins them back.",
        ),
    ] = False,
    url_field: Annotated[
        str,
        typer.Option(
            "--url-field", metavar="NAME", help="With --site-context: the column of page URLs."
        ),
    ] = "url",
    quiet: QuietOpt = False,
) -> None:
    """Clean pages on Spark (the [spark] extra): INPUT... OUTPUT, OUTPUT a new folder of part
    files. Also runs under spark-submit (the script is declutter/__main__.py)."""

    def body() -> int:
        from declutter import spark as spark_lib  # noqa: PLC0415 - only this command

        if len(inputs) < 2:
            raise UsageError("give INPUT... and an OUTPUT folder")
        *sources, target = inputs
        session, created = spark_lib.session(master)
        try:
            run = spark_lib.clean_files(
                session,
                sources,
                target,
                in_format=input_format,
                out_format=output_format,
                field=field,
                output_field=output_field,
                model=model,
                threshold=threshold,
                smoothing=smoothing,
                partitions=partitions,
                site_column=url_field if site_context else None,
            )
        finally:
            if created:
                session.stop()
        if not quiet:
            _err(f"{run.rows} page(s) written to {target}")
        if run.warc_problems:
            _err(
                f"{run.warc_problems} WARC record(s) or file(s) truncated or unreadable, "
                "skipped; `declutter clean FILE` names them"
            )
            return EXIT_DATA
        return EXIT_OK

    _run(body)


def main() -> None:
    """Console-script entry point."""
    app()
