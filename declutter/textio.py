"""Bytes in, bytes out: decode page dumps so that kept lines are written back unchanged.

- UTF-8 is the default, decoded with ``surrogateescape``: bytes that are not valid UTF-8
  (a Latin-1 file, a damaged byte) survive decoding and re-encoding unchanged, so every kept
  line is byte-identical to the input even then. ``errors="replace"`` or ``"strict"`` and
  another ``encoding`` can be chosen instead.
- A UTF-16 byte-order mark selects UTF-16 (a UTF-32 one UTF-32, when ``encoding`` is a UTF-32);
  the output is in the same encoding with the same mark. A UTF-8 byte-order mark stays part of
  the first line. UTF-16 and UTF-32 cannot keep undecodable bytes: they are replaced by U+FFFD.
- A NUL character in the decoded text means the file is binary: it is refused, not cleaned.
  The check runs after decoding, so UTF-16 and UTF-32 text (full of NUL bytes) is text.
- Outputs appear whole or not at all: a regular file is written beside its target and renamed
  over it, keeping an existing file's mode (a new file gets 0666 less the umask, as ``cp``
  does); a symbolic link is followed, and a FIFO or device is written through, never replaced.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import signal
import stat
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from declutter.errors import InputError, OutputError

DEFAULT_ENCODING = "utf-8"
DEFAULT_ERRORS = "surrogateescape"
ERROR_HANDLERS = ("surrogateescape", "replace", "strict")
# Byte-order marks, UTF-32 first: a UTF-32 LE mark begins with the UTF-16 LE one.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# Codecs that decode without a byte-order mark as little-endian (Python's choice), written back
# without one.
_BOM_LESS = {"utf-16": "utf-16-le", "utf-32": "utf-32-le"}


@dataclass(frozen=True)
class Decoded:
    """A page's text and how to encode kept lines back to the input's bytes."""

    text: str
    encoding: str
    errors: str
    bom: bytes = b""
    undecodable: bool = False  # some bytes were not valid in the encoding

    def encode(self, text: str) -> bytes:
        """Encode output text exactly as the input was encoded (with its BOM, if any)."""
        return self.bom + text.encode(self.encoding, self.errors) if text else b""


def check_codec(encoding: str, errors: str) -> None:
    """Raise :class:`InputError` for an unknown encoding or error handler."""
    try:
        codecs.lookup(encoding)
        # Codecs such as "undefined" refuse every input; four NULs decode in every text
        # encoding that can carry a page (UTF-8, UTF-16, UTF-32, single-byte codecs).
        (b"\x00" * 4).decode(encoding)
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r}") from None
    except (UnicodeError, TypeError):  # TypeError: a bytes-to-bytes codec (base64, zlib)
        raise InputError(f"{encoding!r} is not a text encoding") from None
    if errors not in ERROR_HANDLERS:
        raise InputError(f"--errors must be one of {', '.join(ERROR_HANDLERS)}, not {errors!r}")


def decode(
    data: bytes, name: str, encoding: str = DEFAULT_ENCODING, errors: str = DEFAULT_ERRORS
) -> Decoded:
    """Decode one page's bytes; raises :class:`InputError` for binary or undecodable data."""
    codec = codecs.lookup(encoding).name
    for bom, bom_codec in _BOMS:
        if bom_codec.startswith("utf-32") and not codec.startswith("utf-32"):
            continue  # FF FE 00 00 is also a UTF-16 mark and a NUL: only UTF-32 input reads it
        if data.startswith(bom):
            family = bom_codec[:6].upper()
            try:
                text = data[len(bom) :].decode(bom_codec)
            except UnicodeDecodeError:
                raise InputError(
                    f"{name}: has a {family} byte-order mark but is not {family}"
                ) from None
            return _not_binary(Decoded(text, bom_codec, "strict", bom), name)
    codec = _BOM_LESS.get(codec, codec)
    try:
        return _not_binary(Decoded(data.decode(codec), codec, errors), name)
    except UnicodeDecodeError as exc:
        if errors == "strict":
            if "\x00" in data.decode(codec, "replace"):
                _not_binary(Decoded("\x00", codec, errors), name)
            raise InputError(
                f"{name}: not valid {codec} at byte {exc.start} "
                "(try --errors surrogateescape or --encoding latin-1)"
            ) from None
    except UnicodeError as exc:  # codecs such as idna raise it, not UnicodeDecodeError
        raise InputError(f"{name}: cannot be decoded as {codec} ({exc})") from None
    if errors == "surrogateescape" and codec.startswith(("utf-16", "utf-32")):
        errors = "replace"  # these codecs cannot carry stray bytes through (see above)
    try:
        text = data.decode(codec, errors)
    except UnicodeError as exc:  # codecs such as idna raise it whatever the error handler
        raise InputError(f"{name}: cannot be decoded as {codec} ({exc})") from None
    return _not_binary(Decoded(text, codec, errors, b"", undecodable=True), name)


def _not_binary(decoded: Decoded, name: str) -> Decoded:
    if "\x00" in decoded.text:
        raise InputError(f"{name}: binary file (contains NUL characters), skipped")
    return decoded


def open_binary(path: Path, buffering: int = -1) -> BinaryIO:
    """Open a file for reading (``buffering`` as :func:`open` takes it), with failures as
    :class:`InputError` naming the file."""
    try:
        return path.open("rb", buffering=buffering)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{path}: is a directory, expected a file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read ({exc.strerror})") from None


def read_bytes(path: Path) -> bytes:
    """A file's bytes, with failures as :class:`InputError` naming the file."""
    with open_binary(path) as f:
        try:
            return f.read()
        except OSError as exc:
            raise InputError(f"{path}: cannot read ({exc.strerror})") from None


def _umask() -> int:
    mask = os.umask(0o022)  # reading the umask means setting it; put it straight back
    os.umask(mask)
    return mask


class _Creating:
    """Whether a temporary output file is being created, and a signal that came meanwhile."""

    active = False
    pending: int | None = None


def defer_signal(signum: int) -> bool:
    """For signal handlers that raise (Ctrl-C, SIGTERM): True when the signal must wait because
    a temporary output file is being created and could not yet be removed. It is raised again
    (``signal.raise_signal``) as soon as the file is known."""
    if _Creating.active:
        _Creating.pending = signum
        return True
    return False


def _created() -> None:
    _Creating.active = False
    signum, _Creating.pending = _Creating.pending, None
    if signum is not None:
        signal.raise_signal(signum)


def _cannot_write(path: Path, exc: OSError) -> OutputError:
    if isinstance(exc, FileExistsError | NotADirectoryError):
        return OutputError(f"{path}: cannot write (a file is in the way of its folder)")
    return OutputError(f"{path}: cannot write ({exc.strerror or exc})")


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[BinaryIO]:
    """A binary file that appears at ``path`` only when the block completes.

    A regular file (new or existing) is written to a temporary file beside it, renamed over it
    at the end with the existing file's mode (0666 less the umask for a new one); on any error
    or interruption the temporary file is removed, so no half-written output ever exists.
    A symbolic link is followed to its target; a FIFO, device or other special file is written
    through (``-o /dev/stdout``, ``-o /dev/null``), never replaced. Raises
    :class:`OutputError` when the output cannot be created.
    """
    try:
        st: os.stat_result | None = path.stat()  # follows symbolic links
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise _cannot_write(path, exc) from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{path}: is a folder, expected a file")
    if st is not None and not stat.S_ISREG(st.st_mode):
        try:
            special = path.open("wb")
        except OSError as exc:
            raise _cannot_write(path, exc) from None
        with special:
            yield special
        return
    real = Path(os.path.realpath(path))  # a dangling link creates the file it points to
    mode = stat.S_IMODE(st.st_mode) if st is not None else 0o666 & ~_umask()
    # A signal between creating the temporary file and the `try` that removes it would leave
    # it behind: handlers that use defer_signal() wait until it is known.
    _Creating.active = True
    try:
        real.parent.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix=f".{real.name}.", suffix=".part", dir=real.parent)
    except OSError as exc:
        _created()
        raise _cannot_write(path, exc) from None
    except BaseException:
        _created()
        raise
    tmp = Path(name)
    try:
        _created()
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            yield f
        tmp.replace(real)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (see :func:`atomic_output`)."""
    with atomic_output(path) as f:
        f.write(data)
