"""Bytes in, bytes out: decode page dumps so that kept lines are written back unchanged.

- UTF-8 is the default, decoded with ``surrogateescape``: bytes that are not valid UTF-8
  (a Latin-1 file, a damaged byte) survive decoding and re-encoding unchanged, so every kept
  line is byte-identical to the input even then. ``errors="replace"`` or ``"strict"`` and
  another ``encoding`` can be chosen instead.
- A UTF-16 byte-order mark selects UTF-16; the output is UTF-16 with the same mark.
  A UTF-8 byte-order mark stays part of the first line.
- A NUL byte outside UTF-16 means the file is binary: it is refused, not cleaned.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from declutter.errors import InputError

DEFAULT_ENCODING = "utf-8"
DEFAULT_ERRORS = "surrogateescape"
ERROR_HANDLERS = ("surrogateescape", "replace", "strict")


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
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r}") from None
    if errors not in ERROR_HANDLERS:
        raise InputError(f"--errors must be one of {', '.join(ERROR_HANDLERS)}, not {errors!r}")


def decode(
    data: bytes, name: str, encoding: str = DEFAULT_ENCODING, errors: str = DEFAULT_ERRORS
) -> Decoded:
    """Decode one page's bytes; raises :class:`InputError` for binary or undecodable data."""
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if data.startswith(bom) and not data.startswith(codecs.BOM_UTF32_LE):
            try:
                return Decoded(data[len(bom) :].decode(codec), codec, "strict", bom)
            except UnicodeDecodeError:
                raise InputError(
                    f"{name}: has a UTF-16 byte-order mark but is not UTF-16"
                ) from None
    if b"\x00" in data:
        raise InputError(f"{name}: binary file (contains NUL bytes), skipped")
    try:
        return Decoded(data.decode(encoding), encoding, errors)
    except UnicodeDecodeError as exc:
        if errors == "strict":
            raise InputError(
                f"{name}: not valid {encoding} at byte {exc.start} "
                "(try --errors surrogateescape or --encoding latin-1)"
            ) from None
    return Decoded(data.decode(encoding, errors), encoding, errors, b"", undecodable=True)


def open_binary(path: Path) -> BinaryIO:
    """Open a file for reading, with failures as :class:`InputError` naming the file."""
    try:
        return path.open("rb")
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


@contextlib.contextmanager
def atomic_output(path: Path) -> Iterator[BinaryIO]:
    """A binary file that appears at ``path`` only when the block completes.

    Data goes to a temporary file beside ``path``, renamed over it at the end; on any error or
    interruption the temporary file is removed, so no half-written output ever exists.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        tmp.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all (see :func:`atomic_output`)."""
    with atomic_output(path) as f:
        f.write(data)
