"""The hostile-input suite (issue 16): what a pipeline may throw at `declutter clean` and the API.

Every case is one row of ``CASES``: encodings, line endings, sizes, JSON Lines, jobs, paths,
permissions, standard streams, signals, model files, options and the Python API. Most run
in-process through ``CliRunner`` (fast); cases that need a real process (closed or full
standard streams, pipes, signals, another user) run ``python -m declutter`` under bash.

Every case also checks what no case may do: print a traceback.

Permission cases run as ``nobody`` through ``setpriv`` when the suite runs as root (as CI does);
as another user they run as that user. They never skip under ``CI=true``.
"""

from __future__ import annotations

import gzip
import json
import os
import pickle
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import pytest
from typer.testing import CliRunner

import declutter
from declutter.cli import app
from declutter.model import FORMAT

ROOT = Path(__file__).resolve().parent.parent
KEEP_ALL = ("--threshold", "0.001", "--smoothing", "0")  # every line kept: output == input
PROSE = (
    "The council voted on Tuesday to extend the tram line to the harbour.\n"
    "Work will start next spring, officials said at a meeting.\n"
    "The first trams should run within three years.\n"
)
ARTICLE = (
    "Home | News | Sport | Weather\n\n"
    + PROSE.replace("\n", "\n\n")
    + "Share this article\n© 2024 Example News. All rights reserved.\n"
)
IN_CI = os.environ.get("CI", "").lower() == "true"
IS_ROOT = os.geteuid() == 0
NOBODY = "setpriv --reuid=nobody --regid=nogroup --clear-groups" if IS_ROOT else ""


def jsonl(*records: dict[str, object]) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode()


def page_records(n: int) -> bytes:
    return jsonl(*({"id": i, "text": ARTICLE.replace("Tuesday", f"day {i}")} for i in range(n)))


# --- the case table -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    """One hostile input. ``args`` run in-process; ``shell`` (bash, ``{D}`` = the command,
    ``{NOBODY}`` = run as another user) runs a real process in the case's folder."""

    id: str
    args: tuple[str, ...] = ()
    files: dict[str, bytes] = field(default_factory=dict)
    stdin: bytes | None = None
    shell: str | None = None
    code: int = 0
    stdout: bytes | None = None  # exact
    out_has: tuple[bytes, ...] = ()
    err_has: tuple[str, ...] = ()
    err_lacks: tuple[str, ...] = ()
    setup: Callable[[Path], None] | None = None
    after: Callable[[Path, bytes], None] | None = None  # (folder, stdout)
    call: Callable[[], None] | None = None  # a Python API case
    nobody: bool = False  # needs the other user (permission cases)
    env: dict[str, str] = field(default_factory=dict)


def same(case_id: str, data: bytes, *args: str, err_has: tuple[str, ...] = ()) -> Case:
    """Keep-all cleaning of one file: the output is the input, byte for byte."""
    return Case(
        case_id,
        args=("in.txt", *KEEP_ALL, *args),
        files={"in.txt": data},
        stdout=data,
        err_has=err_has,
    )


def raises(exc: type[BaseException], match: str, func: Callable[[], object]) -> Callable[[], None]:
    def check() -> None:
        with pytest.raises(exc, match=match):
            func()

    return check


def is_symlink(name: str, to: str) -> Callable[[Path, bytes], None]:
    def check(folder: Path, _: bytes) -> None:
        assert (folder / name).is_symlink()
        assert str((folder / name).readlink()) == to

    return check


def link_to_file(name: str, to: str, data: bytes) -> Callable[[Path, bytes], None]:
    def check(folder: Path, out: bytes) -> None:
        is_symlink(name, to)(folder, out)
        file_is(to, data)(folder, out)

    return check


def file_is(name: str, data: bytes | None = None, mode: int | None = None) -> Callable[..., None]:
    def check(folder: Path, _: bytes) -> None:
        path = folder / name
        assert path.is_file() and not path.is_symlink()
        if data is not None:
            assert path.read_bytes() == data
        if mode is not None:
            assert path.stat().st_mode & 0o7777 == mode, oct(path.stat().st_mode)

    return check


def no_file(*names: str) -> Callable[[Path, bytes], None]:
    def check(folder: Path, _: bytes) -> None:
        for name in names:
            assert not (folder / name).exists(), name
        leftovers = [p.name for p in folder.rglob("*.part")]
        assert not leftovers, leftovers

    return check


def jsonl_out(check: Callable[[list[dict[str, object]]], None]) -> Callable[[Path, bytes], None]:
    def run(_: Path, out: bytes) -> None:
        check([json.loads(line) for line in out.splitlines()])

    return run


def umask_then(mask: int) -> Callable[[Path], None]:
    def setup(folder: Path) -> None:
        os.umask(mask)  # restored by the runner

    return setup


def chmod(name: str, mode: int) -> Callable[[Path], None]:
    def setup(folder: Path) -> None:
        (folder / name).chmod(mode)

    return setup


def make_fifo_reader(folder: Path) -> None:
    os.mkfifo(folder / "fifo")


def _null_device(path: Path) -> None:
    """A character device node like /dev/null (as root), or a link to /dev/null, which another
    user cannot replace anyway."""
    if IS_ROOT:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    else:
        path.symlink_to("/dev/null")


def _links(folder: Path, links: dict[str, str]) -> None:
    for name, to in links.items():
        (folder / name).symlink_to(to)


def symlink(name: str, to: str) -> Callable[[Path], None]:
    def setup(folder: Path) -> None:
        (folder / name).symlink_to(to)

    return setup


def modes(by_path: dict[str, int]) -> Callable[[Path], None]:
    """chmod after the files are written."""

    def setup(folder: Path) -> None:
        for name, mode in by_path.items():
            (folder / name).chmod(mode)

    return setup


class _Huge:
    """Unpickles into a request for 2**62 bytes."""

    def __reduce__(self) -> tuple[object, tuple[int]]:
        return bytearray, (1 << 62,)


def model_pickle(obj: object) -> bytes:
    return pickle.dumps(obj)


def _gzip_cut(data: bytes) -> bytes:
    packed = gzip.compress(data, mtime=0)
    return packed[: len(packed) * 2 // 3]


def _gzip_corrupt(data: bytes) -> bytes:
    packed = bytearray(gzip.compress(data, mtime=0))
    middle = len(packed) // 2
    packed[middle : middle + 64] = b"\xff" * 64
    return bytes(packed)


def _records_ok(n: int) -> Callable[[Path, bytes], None]:
    def check(folder: Path, out: bytes) -> None:
        assert len(out.splitlines()) == n

    return check


def _ids_prefix(folder: Path, out: bytes) -> None:
    ids = [json.loads(line)["id"] for line in (folder / "out.jsonl").read_bytes().splitlines()]
    assert ids and ids == list(range(len(ids)))  # every record before the damage, in order


def _same_as_jobs_1(
    folder: Path, args: list[str], one: str = "", two: str = "", stdout: bytes | None = None
) -> None:
    result = CliRunner().invoke(app, ["clean", *args])
    assert result.exit_code == 0, result.stderr
    if stdout is not None:
        assert result.stdout_bytes == stdout
        return
    names = sorted(p.name for p in (folder / one).iterdir())
    assert names == sorted(p.name for p in (folder / two).iterdir())
    for name in names:
        assert (folder / one / name).read_bytes() == (folder / two / name).read_bytes()


def _cli_in_a_thread() -> None:
    """Signal handlers can only be set from the main thread: the CLI run from another one
    still works."""
    import threading

    results = []
    thread = threading.Thread(
        target=lambda: results.append(CliRunner().invoke(app, ["clean"], input="Some words.\n"))
    )
    thread.start()
    thread.join()
    assert results[0].exit_code == 0, results[0].stderr


def _help_has_no_python_types(folder: Path, out: bytes) -> None:
    text = out.decode()
    for python_type in ("<str>", "<list", "<int", "<float", "<path>", "<Path", "<dir>"):
        assert python_type not in text, python_type
    assert "tsv|jsonl" in text


BIG_JSONL = page_records(400)
NUMBERS = b'{"id": 7, "x": 1e400, "y": 1.10, "z": 1E5, "n": NaN, "i": -Infinity, "text": "a b"}\n'

CASES: list[Case] = [
    # --- encodings --------------------------------------------------------------------------------
    same("enc-utf8-identity", PROSE.encode()),
    same(
        "enc-latin1-bytes-kept",
        PROSE.replace("voted", "vot\xe9").encode("latin-1"),
        err_has=("not valid utf-8",),
    ),
    same("enc-utf16-bom-le", PROSE.encode("utf-16")),
    same("enc-utf16-bom-be", b"\xfe\xff" + PROSE.encode("utf-16-be")),
    same("enc-utf16-le-option", PROSE.encode("utf-16-le"), "--encoding", "utf-16-le"),
    same("enc-utf16-be-option", PROSE.encode("utf-16-be"), "--encoding", "utf-16-be"),
    same("enc-utf16-generic-no-bom", PROSE.encode("utf-16-le"), "--encoding", "utf-16"),
    same("enc-utf32-bom", PROSE.encode("utf-32"), "--encoding", "utf-32"),
    same("enc-utf32-be-option", PROSE.encode("utf-32-be"), "--encoding", "utf-32-be"),
    same("enc-utf32-le-option", PROSE.encode("utf-32-le"), "--encoding", "utf-32-le"),
    same("enc-utf8-bom-stays", b"\xef\xbb\xbf" + PROSE.encode()),
    same("enc-latin1-option", "Le café était fermé.\n".encode("latin-1"), "--encoding", "latin-1"),
    same("enc-cp1252-option", "“Quoted” text — here.\n".encode("cp1252"), "--encoding", "cp1252"),
    same("enc-shift-jis", "今日は良い天気です。\n".encode("shift_jis"), "--encoding", "shift_jis"),
    same("enc-surrogate-bytes-kept", b"abc \xed\xa0\x80 def\n"),
    Case(
        "enc-nul-is-binary",
        args=("in.txt",),
        files={"in.txt": b"PNG\x00\x00data\n"},
        code=1,
        stdout=b"",
        err_has=("in.txt: binary file",),
    ),
    Case(
        "enc-utf16-nul-char-is-binary",
        args=("in.txt", "--encoding", "utf-16-le"),
        files={"in.txt": "a\x00b\n".encode("utf-16-le")},
        code=1,
        err_has=("binary file",),
    ),
    Case(
        "enc-utf16-odd-length-replaced",
        args=("in.txt", *KEEP_ALL, "--encoding", "utf-16-le"),
        files={"in.txt": "Some words here.\n".encode("utf-16-le") + b"x"},
        out_has=("Some words here.\n".encode("utf-16-le"),),
        err_has=("replaced by U+FFFD",),
    ),
    Case(
        "enc-utf16-bom-not-utf16",
        args=("in.txt",),
        files={"in.txt": b"\xff\xfeabc"},
        code=1,
        err_has=("byte-order mark but is not UTF-16",),
    ),
    Case(
        "enc-strict-fails-the-file",
        args=("in.txt", "--errors", "strict"),
        files={"in.txt": b"caf\xe9\n"},
        code=1,
        err_has=("not valid utf-8 at byte 3",),
    ),
    Case(
        "enc-strict-binary-says-binary",
        args=("in.txt", "--errors", "strict"),
        files={"in.txt": b"\x89PNG\x00\xff\xfe\n"},
        code=1,
        err_has=("binary file",),
    ),
    Case(
        "enc-replace",
        args=("in.txt", *KEEP_ALL, "--errors", "replace"),
        files={"in.txt": b"caf\xe9 au lait\n"},
        stdout="caf\ufffd au lait\n".encode(),
    ),
    Case(
        "enc-unknown-codec",
        args=("-", "--encoding", "klingon"),
        stdin=b"x\n",
        code=1,
        err_has=("unknown encoding",),
    ),
    Case("enc-unknown-errors", args=("-", "--errors", "ignore"), stdin=b"x\n", code=2),
    # --- line endings -----------------------------------------------------------------------------
    same("eol-crlf", PROSE.replace("\n", "\r\n").encode()),
    same("eol-lone-cr", PROSE.replace("\n", "\r").encode()),
    same("eol-mixed", b"first line here\r\nsecond line\rthird line\nfourth\n"),
    same("eol-no-final-newline", PROSE.rstrip("\n").encode()),
    same("eol-unicode-separators-inside-lines", "one\u2028two\x85three\x0cfour\x0bfive\n".encode()),
    same("eol-utf16-crlf", PROSE.replace("\n", "\r\n").encode("utf-16")),
    Case("eol-only-newlines", args=("in.txt",), files={"in.txt": b"\n\n\r\n\r"}, stdout=b""),
    same("eol-blank-lines-between", b"A line of words.\n\n\nAnother line of words.\n"),
    # --- sizes ------------------------------------------------------------------------------------
    Case("size-empty-file", args=("in.txt",), files={"in.txt": b""}, stdout=b""),
    Case("size-whitespace-file", args=("in.txt",), files={"in.txt": b" \t\n  \n"}, stdout=b""),
    same("size-one-char", b"a"),
    Case("size-empty-stdin", args=(), stdin=b"", stdout=b""),
    same("size-4mb-single-line", b"word " * 800_000 + b"\n"),
    same("size-50k-short-lines", b"".join(b"line %d of the list\n" % i for i in range(50_000))),
    Case("size-long-line-of-symbols", args=("in.txt",), files={"in.txt": b"=" * 100_000 + b"\n"}),
    # --- JSON Lines -------------------------------------------------------------------------------
    Case(
        "jsonl-numbers-keep-their-text",
        args=("--jsonl", "-"),
        stdin=NUMBERS,
        stdout=NUMBERS,
    ),
    Case(
        "jsonl-duplicate-keys-kept",
        args=("--jsonl", "-"),
        stdin=b'{"k": 1, "k": 2, "text": "a b"}\n',
        stdout=b'{"k": 1, "k": 2, "text": "a b"}\n',
    ),
    Case(
        "jsonl-duplicate-text-field-last-wins",
        args=("--jsonl", "-", *KEEP_ALL),
        stdin=b'{"text": 5, "text": "Some words here."}\n',
        stdout=b'{"text": 5, "text": "Some words here."}\n',
    ),
    Case(
        "jsonl-spacing-and-escapes-kept",
        args=("--jsonl", "-", *KEEP_ALL),
        stdin=b'{ "meta" :{"a":[1 ,2],"b":"caf\\u00e9"} ,"text":"Some words here."}\n',
        stdout=b'{ "meta" :{"a":[1 ,2],"b":"caf\\u00e9"} ,"text":"Some words here."}\n',
    ),
    Case(
        "jsonl-cleaned-field-spliced",
        args=("--jsonl", "-"),
        stdin=b'{"x": 1e400, "text": ' + json.dumps(ARTICLE).encode() + b', "y": 1.10}\n',
        out_has=(b'{"x": 1e400, "text": "The council voted', b', "y": 1.10}\n'),
        after=lambda _, out: None if b"Home | News" not in out else pytest.fail("menu kept"),
    ),
    Case(
        "jsonl-output-field-added-at-the-end",
        args=("--jsonl", "-", "--output-field", "clean", *KEEP_ALL),
        stdin=b'{"n": NaN, "text": "Words here."}\n',
        stdout=b'{"n": NaN, "text": "Words here.", "clean": "Words here."}\n',
    ),
    Case(
        "jsonl-output-field-replaced-in-place",
        args=("--jsonl", "-", "--output-field", "clean", *KEEP_ALL),
        stdin=b'{"clean": null, "text": "Words here.", "z": 1E5}\n',
        stdout=b'{"clean": "Words here.", "text": "Words here.", "z": 1E5}\n',
    ),
    Case(
        "jsonl-empty-object-gets-output-field-error",
        args=("--jsonl", "-"),
        stdin=b"{}\n",
        code=1,
        stdout=b"{}\n",
        err_has=("<stdin>:1: has no field 'text'; record passed unchanged",),
    ),
    Case(
        "jsonl-crlf-record-ending-kept",
        args=("--jsonl", "-", *KEEP_ALL),
        stdin=b'{"text": "Words here."}\r\n',
        stdout=b'{"text": "Words here."}\r\n',
    ),
    Case(
        "jsonl-last-record-without-newline",
        args=("--jsonl", "-", *KEEP_ALL),
        stdin=b'{"text": "Words here."}',
        stdout=b'{"text": "Words here."}\n',
    ),
    Case(
        "jsonl-utf8-bom-first-record",
        args=("--jsonl", "-", *KEEP_ALL),
        stdin=b'\xef\xbb\xbf{"text": "Words here."}\n',
        stdout=b'\xef\xbb\xbf{"text": "Words here."}\n',
    ),
    Case(
        "jsonl-missing-field-passed-byte-exact",
        args=("--jsonl", "-"),
        stdin=b'{"other": 1.50}\n',
        code=1,
        stdout=b'{"other": 1.50}\n',
        err_has=("has no field 'text'",),
    ),
    Case(
        "jsonl-non-string-field-passed",
        args=("--jsonl", "-"),
        stdin=b'{"text": 1E5}\n',
        code=1,
        stdout=b'{"text": 1E5}\n',
        err_has=("has a non-string field 'text'",),
    ),
    Case(
        "jsonl-invalid-record-reported-once",
        args=("--jsonl", "-", *KEEP_ALL),
        stdin=b'{"text": "Words here."}\n{broken\n{"text": "More words."}\n',
        code=1,
        stdout=b'{"text": "Words here."}\n{"text": "More words."}\n',
        err_has=(
            "<stdin>:2: not valid JSON (Expecting property name enclosed in double quotes "
            "at column 2)",
        ),
    ),
    Case(
        "jsonl-control-character-message-says-at-once",
        args=("--jsonl", "-"),
        stdin=b'{"text": "a\tb"}\n',
        code=1,
        err_has=("Invalid control character at column",),
        err_lacks=("at at",),
    ),
    Case(
        "jsonl-not-an-object",
        args=("--jsonl", "-"),
        stdin=b'{"text": "a"}\n[1, 2]\n',
        code=1,
        err_has=("<stdin>:2: not a JSON object; record skipped",),
    ),
    Case(
        "jsonl-plain-text-file-said-once",
        args=("--jsonl", "page.txt"),
        files={"page.txt": ARTICLE.encode()},
        code=1,
        stdout=b"",
        err_has=("page.txt: not JSON Lines",),
        err_lacks=("page.txt:2", "page.txt:3"),
    ),
    Case(
        "jsonl-raw-non-utf8-byte-kept",
        args=("--jsonl", "-", *KEEP_ALL),
        stdin=b'{"text": "caf\xe9 au lait here.", "k": "\xff"}\n',
        stdout=b'{"text": "caf\xe9 au lait here.", "k": "\xff"}\n',
        err_has=("<stdin>:1: some bytes are not valid UTF-8; they are kept unchanged",),
    ),
    Case(
        "jsonl-raw-byte-strict-is-a-failure",
        args=("--jsonl", "-", "--errors", "strict"),
        stdin=b'{"text": "caf\xe9"}\n',
        code=1,
        stdout=b"",
        err_has=("not valid UTF-8 at byte",),
    ),
    Case(
        "jsonl-escaped-lone-surrogate-stays-escaped",
        args=("--jsonl", "-", *KEEP_ALL),
        stdin=b'{"text": "odd \\ud800 char here."}\n',
        stdout=b'{"text": "odd \\ud800 char here."}\n',
    ),
    Case(
        "jsonl-escaped-dc80-is-not-a-raw-byte",
        args=("--jsonl", "-", *KEEP_ALL),
        stdin=b'{"text": "odd \\udc80 char here."}\n',
        stdout=b'{"text": "odd \\udc80 char here."}\n',
    ),
    Case(
        "jsonl-blank-lines-skipped",
        args=("--jsonl", "-", *KEEP_ALL),
        stdin=b'\n  \n{"text": "Words here."}\n\n',
        stdout=b'{"text": "Words here."}\n',
    ),
    Case(
        "jsonl-deeply-nested-other-field",
        args=("--jsonl", "-"),
        stdin=b'{"x": ' + b"[" * 200_000 + b"]" * 200_000 + b', "text": "a"}\n',
        code=1,
        err_has=("<stdin>:1: not valid JSON",),
    ),
    Case("jsonl-empty-input", args=("--jsonl", "-"), stdin=b"", stdout=b""),
    Case(
        "jsonl-gzip-in-gzip-out",
        args=("--jsonl", "in.jsonl.gz", "-o", "out.jsonl.gz"),
        files={"in.jsonl.gz": gzip.compress(page_records(3))},
        after=lambda folder, _: _records_ok(3)(
            folder, gzip.decompress((folder / "out.jsonl.gz").read_bytes())
        ),
    ),
    Case(
        "jsonl-truncated-gzip-keeps-complete-records",
        args=("--jsonl", "in.jsonl.gz", "-o", "out.jsonl"),
        files={"in.jsonl.gz": _gzip_cut(BIG_JSONL)},
        code=1,
        err_has=("in.jsonl.gz: damaged or unreadable after line", "complete records before it"),
        after=_ids_prefix,
    ),
    Case(
        "jsonl-truncated-gzip-jobs-2",
        args=("--jsonl", "in.jsonl.gz", "-o", "out.jsonl", "--jobs", "2"),
        files={"in.jsonl.gz": _gzip_cut(BIG_JSONL)},
        code=1,
        err_has=("damaged or unreadable after line",),
        after=_ids_prefix,
    ),
    Case(
        "jsonl-corrupt-gzip-reported",
        args=("--jsonl", "in.jsonl.gz", "-o", "out.jsonl"),
        files={"in.jsonl.gz": _gzip_corrupt(BIG_JSONL)},
        code=1,
        err_has=("in.jsonl.gz: damaged or unreadable",),
    ),
    Case(
        "jsonl-scores-tsv",
        args=("--jsonl", "-", "--scores", "tsv"),
        stdin=b'{"text": "Words here.\\nMore."}\n',
        out_has=(b"record\tline\tprobability\tkeep\ttext\n1\t1\t",),
    ),
    Case(
        "jsonl-drop-flagged",
        args=("--jsonl", "-", "--flag-below", "0.99", "--drop-flagged"),
        stdin=jsonl({"text": ARTICLE}),
        stdout=b"",
        err_has=("flagged: <stdin>:1",),
    ),
    Case(
        "jsonl-output-cannot-be-created-file-in-the-way",
        args=("--jsonl", "in.jsonl", "-o", "in.jsonl/x.jsonl"),
        files={"in.jsonl": jsonl({"text": "a"})},
        code=1,
        err_has=("in.jsonl/x.jsonl: cannot write",),
    ),
    Case(
        "text-output-cannot-be-created-file-in-the-way",
        args=("in.txt", "-o", "in.txt/x.txt"),
        files={"in.txt": PROSE.encode()},
        code=1,
        err_has=("in.txt/x.txt: cannot write",),
    ),
    # --- jobs -------------------------------------------------------------------------------------
    Case(
        "jobs-2-text-folder-identical",
        args=("in", "-o", "two", "--jobs", "2"),
        files={
            f"in/p{i:02}.txt": ARTICLE.replace("Tuesday", f"day {i}").encode() for i in range(9)
        },
        after=lambda folder, _: _same_as_jobs_1(folder, ["in", "-o", "one"], "one", "two"),
    ),
    Case(
        "jobs-2-jsonl-identical",
        args=("--jsonl", "in.jsonl", "--jobs", "2"),
        files={"in.jsonl": page_records(150)},
        after=lambda folder, out: _same_as_jobs_1(folder, ["--jsonl", "in.jsonl"], stdout=out),
    ),
    Case(
        "jobs-3-one-bad-file",
        args=("in", "-o", "out", "--jobs", "3"),
        files={**{f"in/p{i}.txt": PROSE.encode() for i in range(5)}, "in/bad.txt": b"\x00"},
        code=1,
        err_has=("bad.txt: binary file",),
        after=lambda folder, _: (
            None if len(list((folder / "out").iterdir())) == 5 else pytest.fail("count")
        ),
    ),
    Case(
        "jobs-2-closed-pipe-jsonl",
        shell="{D} clean --jsonl big.jsonl --jobs 2 | head -1 > /dev/null; exit ${{PIPESTATUS[0]}}",
        files={"big.jsonl": BIG_JSONL},
        code=141,
    ),
    Case("jobs-zero-is-usage", args=("-", "--jobs", "0"), stdin=b"x\n", code=2),
    # --- paths ------------------------------------------------------------------------------------
    Case(
        "path-symlink-to-stdout-not-replaced",
        shell="ln -s /proc/self/fd/1 so && {D} clean in.txt -o so | wc -c",
        files={"in.txt": PROSE.encode()},
        out_has=(str(len(PROSE)).encode(),),
        after=is_symlink("so", "/proc/self/fd/1"),
    ),
    Case(
        "path-symlink-to-file-followed",
        args=("in.txt", "-o", "link", *KEEP_ALL),
        files={"in.txt": PROSE.encode(), "target.txt": b"old\n"},
        setup=symlink("link", "target.txt"),
        after=link_to_file("link", "target.txt", PROSE.encode()),
    ),
    Case(
        "path-dangling-symlink-creates-target",
        args=("in.txt", "-o", "link", *KEEP_ALL),
        files={"in.txt": PROSE.encode()},
        setup=symlink("link", "new.txt"),
        after=link_to_file("link", "new.txt", PROSE.encode()),
    ),
    Case(
        "path-fifo-written-through",
        shell="mkfifo ff && (cat ff > got &) && {D} clean in.txt -o ff {KEEP} && sleep 0.2 "
        "&& test -p ff && cat got",
        files={"in.txt": PROSE.encode()},
        stdout=PROSE.encode(),
    ),
    Case(
        # A private copy of /dev/null (the same device numbers): were declutter to replace the
        # device, the machine's own /dev/null must not be the one lost.
        "path-device-stays-a-device",
        args=("in.txt", "-o", "null"),
        files={"in.txt": PROSE.encode()},
        setup=lambda folder: _null_device(folder / "null"),
        after=lambda folder, _: None if (folder / "null").is_char_device() else pytest.fail("gone"),
    ),
    Case(
        "path-new-file-respects-umask-022",
        args=("in.txt", "-o", "out.txt"),
        files={"in.txt": PROSE.encode()},
        setup=umask_then(0o022),
        after=file_is("out.txt", mode=0o644),
    ),
    Case(
        "path-new-file-respects-umask-077",
        args=("in.txt", "-o", "out.txt"),
        files={"in.txt": PROSE.encode()},
        setup=umask_then(0o077),
        after=file_is("out.txt", mode=0o600),
    ),
    Case(
        "path-existing-file-keeps-its-mode",
        args=("in.txt", "-o", "out.txt"),
        files={"in.txt": PROSE.encode(), "out.txt": b"old\n"},
        setup=chmod("out.txt", 0o640),
        after=file_is("out.txt", mode=0o640),
    ),
    Case(
        "path-jsonl-new-file-respects-umask",
        args=("--jsonl", "in.jsonl", "-o", "out.jsonl"),
        files={"in.jsonl": jsonl({"text": "a"})},
        setup=umask_then(0o022),
        after=file_is("out.jsonl", mode=0o644),
    ),
    Case(
        "path-nested-output-folder-created",
        args=("in.txt", "-o", "a/b/c/out.txt", *KEEP_ALL),
        files={"in.txt": PROSE.encode()},
        after=file_is("a/b/c/out.txt", PROSE.encode()),
    ),
    Case(
        "path-odd-file-names",
        args=("in", "-o", "out", *KEEP_ALL),
        files={
            "in/a b.txt": PROSE.encode(),
            "in/new\nline.txt": PROSE.encode(),
            "in/ü-页.txt": PROSE.encode(),
        },
        after=lambda folder, _: (
            None
            if sorted(p.name for p in (folder / "out").iterdir())
            == ["a b.txt", "new\nline.txt", "ü-页.txt"]
            else pytest.fail("names")
        ),
    ),
    Case(
        "path-empty-folder",
        args=("in", "-o", "out"),
        setup=lambda folder: (folder / "in").mkdir(),
        code=1,
        err_has=("in: no files match *.txt",),
    ),
    Case(
        "path-glob-matches-nothing",
        args=("in", "-o", "out", "--glob", "*.md"),
        files={"in/a.txt": PROSE.encode()},
        code=1,
        err_has=("in: no files match *.md",),
    ),
    Case(
        "path-glob-with-subfolder",
        args=("in", "-o", "out", "--glob", "sub/*.txt"),
        files={"in/a.txt": PROSE.encode(), "in/x/sub/b.txt": PROSE.encode()},
        after=lambda folder, _: (
            None
            if [p.relative_to(folder / "out").as_posix() for p in (folder / "out").rglob("*.txt")]
            == ["x/sub/b.txt"]
            else pytest.fail("glob")
        ),
    ),
    Case(
        "path-one-empty-folder-among-inputs",
        args=("in", "empty", "-o", "out"),
        files={"in/a.txt": PROSE.encode()},
        setup=lambda folder: (folder / "empty").mkdir(),
        code=1,
        err_has=("empty: no files match",),
        after=file_is("out/a.txt"),
    ),
    Case(
        "path-linked-folders-followed-cycles-ended",
        args=("in", "-o", "out"),
        files={"in/real/page.txt": PROSE.encode()},
        setup=lambda folder: _links(
            folder, {"in/real/loop": "..", "in/real/self": ".", "in/alias": "real"}
        ),
        after=lambda folder, _: (
            None
            if sorted(
                p.relative_to(folder / "out").as_posix() for p in (folder / "out").rglob("*.txt")
            )
            == ["alias/page.txt", "real/page.txt"]
            else pytest.fail("walk")
        ),
    ),
    Case("path-missing-input", args=("nope.txt",), code=1, err_has=("nope.txt: no such file",)),
    Case(
        "path-input-is-a-folder-of-one",
        args=("in",),
        files={"in/a.txt": b"x\n"},
        code=2,
        err_has=("-o/--output DIR",),
    ),
    Case(
        "path-output-is-the-input",
        args=("in.txt", "-o", "in.txt"),
        files={"in.txt": PROSE.encode()},
        code=2,
        after=file_is("in.txt", PROSE.encode()),
    ),
    Case(
        "path-output-is-a-symlink-to-the-input",
        args=("in.txt", "-o", "link"),
        files={"in.txt": PROSE.encode()},
        setup=symlink("link", "in.txt"),
        code=2,
        after=file_is("in.txt", PROSE.encode()),
    ),
    Case(
        "path-output-folder-is-a-file",
        args=("a.txt", "b.txt", "-o", "a.txt"),
        files={"a.txt": b"x\n", "b.txt": b"y\n"},
        code=2,
        err_has=("exists and is not a folder",),
    ),
    Case(
        "path-two-inputs-one-output",
        args=("a/p.txt", "b/p.txt", "-o", "out"),
        files={"a/p.txt": b"x\n", "b/p.txt": b"y\n"},
        code=2,
        err_has=("would both write",),
    ),
    Case(
        "path-stdin-with-others", args=("-", "x.txt", "-o", "out"), files={"x.txt": b"x\n"}, code=2
    ),
    Case(
        "path-model-is-a-folder",
        args=("-", "--model", "."),
        stdin=b"x\n",
        code=1,
        err_has=("is a folder",),
    ),
    # --- permissions (another user) ---------------------------------------------------------------
    Case(
        "perm-unreadable-subfolder-reported",
        shell="{NOBODY} {D} clean in -o out -v",
        files={"in/page.txt": PROSE.encode(), "in/locked/page.txt": PROSE.encode()},
        setup=modes({"in/locked": 0o000}),
        nobody=True,
        code=1,
        err_has=("in/locked: cannot read folder (Permission denied)",),
        after=file_is("out/page.txt"),
    ),
    Case(
        "perm-unreadable-file-in-folder",
        shell="{NOBODY} {D} clean in -o out",
        files={"in/page.txt": PROSE.encode(), "in/locked.txt": PROSE.encode()},
        setup=modes({"in/locked.txt": 0o000}),
        nobody=True,
        code=1,
        err_has=("locked.txt: permission denied",),
        after=file_is("out/page.txt"),
    ),
    Case(
        "perm-unreadable-single-file",
        shell="{NOBODY} {D} clean page.txt",
        files={"page.txt": PROSE.encode()},
        setup=modes({"page.txt": 0o000}),
        nobody=True,
        code=1,
        err_has=("page.txt: permission denied",),
    ),
    Case(
        "perm-readonly-output-folder-text",
        shell="{NOBODY} {D} clean page.txt -o ro/out.txt",
        files={"page.txt": PROSE.encode(), "ro/.keep": b""},
        setup=modes({"ro": 0o555}),
        nobody=True,
        code=1,
        err_has=("ro/out.txt: cannot write (Permission denied)",),
    ),
    Case(
        "perm-readonly-output-folder-jsonl",
        shell="{NOBODY} {D} clean --jsonl in.jsonl -o ro/out.jsonl",
        files={"in.jsonl": jsonl({"text": "a"}), "ro/.keep": b""},
        setup=modes({"ro": 0o555}),
        nobody=True,
        code=1,
        err_has=("ro/out.jsonl: cannot write (Permission denied)",),
    ),
    Case(
        "perm-unreadable-model",
        shell="{NOBODY} {D} clean --model m.joblib page.txt",
        files={"page.txt": PROSE.encode(), "m.joblib": b"whatever"},
        setup=modes({"m.joblib": 0o000}),
        nobody=True,
        code=2,  # typer checks that the path is readable
        err_has=("m.joblib' is not readable",),
    ),
    # --- standard streams -------------------------------------------------------------------------
    Case(
        "stream-stdout-full",
        shell="{D} clean in.txt > /dev/full",
        files={"in.txt": PROSE.encode()},
        code=1,
        err_has=("standard output: cannot write (No space left on device)",),
    ),
    Case(
        "stream-stdout-full-jsonl",
        shell="{D} clean --jsonl in.jsonl > /dev/full",
        files={"in.jsonl": jsonl({"text": "a"})},
        code=1,
        err_has=("standard output: cannot write (No space left on device)",),
    ),
    Case(
        "stream-explain-stdout-full",
        shell="{D} explain in.txt > /dev/full",
        files={"in.txt": PROSE.encode()},
        code=1,
        err_has=("standard output: cannot write (No space left on device)",),
    ),
    Case(
        "stream-stdout-closed-with-output-file",
        shell="{D} clean in.txt -o out.txt >&-",
        files={"in.txt": PROSE.encode()},
        after=file_is("out.txt"),
    ),
    Case(
        "stream-stdout-closed-with-output-file-jsonl",
        shell="{D} clean --jsonl in.jsonl -o out.jsonl >&-",
        files={"in.jsonl": jsonl({"text": "a"})},
        after=file_is("out.jsonl"),
    ),
    Case(
        "stream-stdout-closed-without-output",
        shell="{D} clean in.txt >&-",
        files={"in.txt": PROSE.encode()},
        code=1,
        err_has=("standard output is closed",),
    ),
    Case(
        "stream-stdin-closed",
        shell="{D} clean <&-",
        code=1,
        err_has=("standard input is closed",),
    ),
    Case(
        "stream-stdin-closed-jsonl",
        shell="{D} clean --jsonl <&-",
        code=1,
        err_has=("standard input is closed",),
    ),
    Case(
        "stream-stderr-closed",
        shell="{D} clean missing.txt 2>&-",
        code=1,
    ),
    Case(
        "stream-closed-pipe-text",
        shell="{D} clean big.txt {KEEP} | head -1 > /dev/null; exit ${{PIPESTATUS[0]}}",
        files={"big.txt": PROSE.encode() * 3_000},
        code=141,
        env={"PYTHONUNBUFFERED": ""},
    ),
    Case(
        "stream-closed-pipe-text-unbuffered",
        shell="{D} clean big.txt {KEEP} | head -1 > /dev/null; exit ${{PIPESTATUS[0]}}",
        files={"big.txt": PROSE.encode() * 3_000},
        code=141,
        env={"PYTHONUNBUFFERED": "1"},
    ),
    Case(
        "stream-closed-pipe-jsonl",
        shell="{D} clean --jsonl big.jsonl | head -1 > /dev/null; exit ${{PIPESTATUS[0]}}",
        files={"big.jsonl": BIG_JSONL},
        code=141,
    ),
    Case(
        "stream-closed-pipe-jsonl-unbuffered",
        shell="{D} clean --jsonl big.jsonl | head -1 > /dev/null; exit ${{PIPESTATUS[0]}}",
        files={"big.jsonl": BIG_JSONL},
        code=141,
        env={"PYTHONUNBUFFERED": "1"},
    ),
    Case(
        "stream-dash-output-is-stdout",
        args=("in.txt", "-o", "-", *KEEP_ALL),
        files={"in.txt": PROSE.encode()},
        stdout=PROSE.encode(),
    ),
    # --- signals ----------------------------------------------------------------------------------
    # (run by test_signal_cleans_up below: they need to wait for the run to start)
    # --- model files ------------------------------------------------------------------------------
    Case(
        "model-garbage",
        args=("-", "--model", "m.joblib"),
        stdin=b"x\n",
        files={"m.joblib": b"garbage"},
        code=1,
        err_has=("m.joblib: not a readable model file",),
    ),
    Case(
        "model-empty-file",
        args=("-", "--model", "m.joblib"),
        stdin=b"x\n",
        files={"m.joblib": b""},
        code=1,
        err_has=("m.joblib",),
    ),
    Case(
        "model-missing",
        args=("-", "--model", "nope.joblib"),
        stdin=b"x\n",
        code=1,
        err_has=("model file not found",),
    ),
    Case(
        "model-decimal-invalid-operation",
        args=("-", "--model", "m.joblib"),
        stdin=b"x\n",
        files={"m.joblib": model_pickle({"format": FORMAT, "format_version": Decimal("sNaN")})},
        code=1,
        err_has=("m.joblib: not a readable model file (InvalidOperation)",),
    ),
    Case(
        "model-huge-allocation",
        args=("-", "--model", "m.joblib"),
        stdin=b"x\n",
        files={"m.joblib": model_pickle({"format": FORMAT, "lexicon": _Huge()})},
        code=1,
        err_has=("m.joblib: not a readable model file",),
    ),
    Case(
        "model-a-list",
        args=("-", "--model", "m.joblib"),
        stdin=b"x\n",
        files={"m.joblib": model_pickle([1, 2])},
        code=1,
        err_has=("not a declutter model",),
    ),
    Case(
        "model-future-format",
        args=("-", "--model", "m.joblib"),
        stdin=b"x\n",
        files={"m.joblib": model_pickle({"format": FORMAT, "format_version": 99})},
        code=1,
        err_has=("model format 99 is not supported",),
    ),
    Case(
        "model-truncated-shipped",
        args=("-", "--model", "m.joblib"),
        stdin=b"x\n",
        setup=lambda folder: _write_files(
            folder, {"m.joblib": declutter.model.default_model_path().read_bytes()[:5000]}
        ),
        code=1,
        err_has=("m.joblib: not a readable model file",),
    ),
    Case(
        "model-deep-recursion",
        args=("-", "--model", "m.joblib"),
        stdin=b"x\n",
        files={"m.joblib": b"(" * 100_000 + b"."},
        code=1,
        err_has=("m.joblib",),
    ),
    # --- options ----------------------------------------------------------------------------------
    Case(
        "opt-smoothing-inf",
        args=("-", "--smoothing", "inf"),
        stdin=b"x\n",
        code=2,
        err_has=("smoothing must be a finite number",),
    ),
    Case(
        "opt-smoothing-nan",
        args=("-", "--smoothing", "nan"),
        stdin=b"x\n",
        code=2,
        err_has=("smoothing",),
    ),
    Case("opt-smoothing-negative", args=("-", "--smoothing", "-1"), stdin=b"x\n", code=2),
    Case(
        "opt-threshold-nan",
        args=("-", "--threshold", "nan"),
        stdin=b"x\n",
        code=2,
        err_has=("threshold",),
    ),
    Case("opt-threshold-zero", args=("-", "--threshold", "0"), stdin=b"x\n", code=2),
    Case("opt-threshold-one", args=("-", "--threshold", "1"), stdin=b"x\n", code=2),
    Case(
        "opt-scores-choice",
        args=("-", "--scores", "csv"),
        stdin=b"x\n",
        code=2,
        err_has=("tsv", "jsonl"),
    ),
    Case("opt-flag-below-above-one", args=("-", "--flag-below", "2"), stdin=b"x\n", code=2),
    Case(
        "opt-drop-flagged-without-flag",
        args=("-", "--flag-below", "0", "--drop-flagged"),
        stdin=b"x\n",
        code=2,
    ),
    Case("opt-field-without-jsonl", args=("-", "--field", "body"), stdin=b"x\n", code=2),
    Case("opt-help-without-python-types", args=("--help",), after=_help_has_no_python_types),
    Case(
        "opt-version", shell="{D} --version", stdout=f"declutter {declutter.__version__}\n".encode()
    ),
    # --- the Python API ---------------------------------------------------------------------------
    Case(
        "api-clean-bytes",
        call=raises(
            TypeError,
            "clean\\(\\) takes one page as str; got bytes",
            lambda: declutter.clean(cast(Any, b"abc")),
        ),
    ),
    Case(
        "api-clean-many-str",
        call=raises(TypeError, "not one str", lambda: declutter.Cleaner().clean_many("abc")),
    ),
    Case(
        "api-clean-many-bytes-item",
        call=raises(
            TypeError,
            "page 1 is bytes",
            lambda: declutter.Cleaner().clean_many(cast(Any, ["a", b"b"])),
        ),
    ),
    Case(
        "api-clean-none",
        call=raises(TypeError, "got NoneType", lambda: declutter.clean(cast(Any, None))),
    ),
    Case("api-cli-from-a-thread", call=lambda: _cli_in_a_thread()),
    Case(
        "api-threshold-is-value-error",
        call=raises(ValueError, "threshold", lambda: declutter.Cleaner(threshold=1.5)),
    ),
    Case(
        "api-threshold-nan",
        call=raises(ValueError, "threshold", lambda: declutter.Cleaner(threshold=float("nan"))),
    ),
    Case(
        "api-smoothing-inf",
        call=raises(ValueError, "smoothing", lambda: declutter.Cleaner(smoothing=float("inf"))),
    ),
    Case(
        "api-smoothing-nan",
        call=raises(ValueError, "smoothing", lambda: declutter.Cleaner(smoothing=float("nan"))),
    ),
    Case(
        "api-threshold-is-still-a-declutter-error",
        call=raises(declutter.DeclutterError, "threshold", lambda: declutter.Cleaner(threshold=-1)),
    ),
]


# --- running a case -------------------------------------------------------------------------------
@dataclass
class Outcome:
    code: int
    stdout: bytes
    stderr: str


def _write_files(folder: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _command() -> str:
    return f"{shlex.quote(sys.executable)} -m declutter"


def _run_shell(case: Case, folder: Path) -> Outcome:
    assert case.shell is not None
    command = case.shell.format(D=_command(), NOBODY=NOBODY, KEEP=" ".join(KEEP_ALL))
    env = {**os.environ, **case.env}
    env = {k: v for k, v in env.items() if v != ""}
    done = subprocess.run(
        ["bash", "-c", command], cwd=folder, capture_output=True, timeout=120, env=env
    )
    return Outcome(done.returncode, done.stdout, done.stderr.decode(errors="replace"))


def _run_in_process(case: Case, folder: Path, monkeypatch: pytest.MonkeyPatch) -> Outcome:
    monkeypatch.chdir(folder)
    result = CliRunner().invoke(app, ["clean", *case.args], input=case.stdin)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Outcome(result.exit_code, result.stdout_bytes, result.stderr)


@pytest.fixture(scope="session")
def other_user() -> None:
    """Whether permission cases can run: as root through setpriv (CI), or as a non-root user."""
    if not IS_ROOT:
        return
    probe = subprocess.run(
        [*NOBODY.split(), sys.executable, "-c", "import declutter.cli"],
        capture_output=True,
        cwd="/",
        text=True,
    )
    if probe.returncode != 0:
        reason = f"cannot run declutter as nobody: {probe.stderr.strip()[-300:]}"
        if IN_CI:
            pytest.fail(reason + " (CI must run the permission cases)")
        pytest.skip(reason)


@pytest.fixture()
def case_folder() -> Iterator[Path]:
    """A folder another user can enter (pytest's own tmp_path is private to its user)."""
    folder = Path(tempfile.mkdtemp(prefix="declutter-hostile-"))
    folder.chmod(0o777)
    yield folder
    for path in [folder, *folder.rglob("*")]:
        if path.is_dir() and not path.is_symlink():
            path.chmod(0o777)
    shutil.rmtree(folder)


def test_the_suite_is_big_enough() -> None:
    assert len(CASES) + len(SIGNAL_CASES) + 1 >= 100  # +1: the archived-model tests
    assert len({c.id for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_hostile(
    case: Case, case_folder: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    if case.call is not None:
        case.call()
        return
    if case.nobody:
        request.getfixturevalue("other_user")
    _write_files(case_folder, case.files)
    for path in case_folder.rglob("*"):
        path.chmod(0o777 if path.is_dir() else 0o666)
    mask = os.umask(0o022)
    try:
        if case.setup is not None:
            case.setup(case_folder)
        if case.shell is not None:
            outcome = _run_shell(case, case_folder)
        else:
            outcome = _run_in_process(case, case_folder, monkeypatch)
    finally:
        os.umask(mask)
    assert "Traceback" not in outcome.stderr, outcome.stderr
    assert outcome.code == case.code, outcome.stderr
    if case.stdout is not None:
        assert outcome.stdout == case.stdout
    for part in case.out_has:
        assert part in outcome.stdout, part
    for text in case.err_has:
        assert text in outcome.stderr, outcome.stderr
    for text in case.err_lacks:
        assert text not in outcome.stderr, outcome.stderr
    if case.after is not None:
        case.after(case_folder, outcome.stdout)


# --- signals: wait for the run to be writing, then signal it --------------------------------------
SIGNAL_CASES = [
    ("sigterm-jsonl", signal.SIGTERM, 143, ["--jsonl", "big.jsonl", "-o", "out/big.jsonl"]),
    (
        "sigterm-jsonl-jobs-2",
        signal.SIGTERM,
        143,
        ["--jsonl", "big.jsonl", "-o", "out/big.jsonl", "-j", "2"],
    ),
    ("sigint-jsonl", signal.SIGINT, 130, ["--jsonl", "big.jsonl", "-o", "out/big.jsonl"]),
    ("sigterm-text-folder", signal.SIGTERM, 143, ["in", "-o", "out"]),
]


@pytest.mark.parametrize(
    ("sig", "code", "args"), [c[1:] for c in SIGNAL_CASES], ids=[c[0] for c in SIGNAL_CASES]
)
def test_signal_cleans_up(sig: int, code: int, args: list[str], case_folder: Path) -> None:
    if "--jsonl" in args:
        _write_files(case_folder, {"big.jsonl": page_records(4000)})
    else:
        _write_files(case_folder, {f"in/p{i:04}.txt": ARTICLE.encode() for i in range(2000)})
    process = subprocess.Popen(
        [sys.executable, "-m", "declutter", "clean", *args],
        cwd=case_folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    out = case_folder / "out"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        if list(out.rglob("*.part")) or list(out.rglob("*.txt")):
            break
        time.sleep(0.02)
    assert process.poll() is None, "the run ended before it could be signalled"
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == code, stderr
    assert b"Traceback" not in stderr
    assert not list(out.rglob("*.part"))  # no hidden partial file is left behind
    assert not (out / "big.jsonl").exists()


# --- package data through importlib.resources: a model that is not a plain file ------------------
def _ship_model_in_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sha256_record: str
) -> None:
    """Make the shipped model an entry of a zip archive, its sha256 record beside it."""
    from declutter import model as model_module

    archive = tmp_path / "declutter.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(model_module.default_model_path(), "declutter/models/default.joblib")
        zf.writestr("declutter/models/default.joblib.sha256", sha256_record)
    entry = zipfile.Path(archive, "declutter/models/default.joblib")
    monkeypatch.setattr(model_module, "shipped_model", lambda: entry)


def test_shipped_model_loads_from_a_resource_inside_an_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # importlib.resources may hand the shipped model over as an entry of an archive rather than
    # a file; it is read through as_file and checked against its sha256 all the same. (The code
    # itself no longer imports from a zip: its compiled kernels are extension modules, which
    # Python loads from files only.)
    record = Path(f"{declutter.model.default_model_path()}.sha256").read_text("ascii")
    _ship_model_in_archive(tmp_path, monkeypatch, record)
    loaded = declutter.model.load_model()
    text = "The council voted on Tuesday to extend the line.\n"
    assert "council" in declutter.Cleaner(loaded).clean(text)


def test_shipped_model_in_an_archive_is_checked_against_its_sha256(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ship_model_in_archive(tmp_path, monkeypatch, "0" * 64 + "  default.joblib\n")
    with pytest.raises(declutter.ModelError, match="sha256"):
        declutter.model.load_model()
