from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from declutter.errors import InputError
from declutter.textio import atomic_write, check_codec, decode, read_bytes


def test_utf8_round_trips() -> None:
    data = "Grüße, 世界\r\n".encode()
    decoded = decode(data, "x")
    assert decoded.encode(decoded.text) == data
    assert not decoded.undecodable


def test_invalid_utf8_bytes_survive_by_default() -> None:
    data = b"caf\xe9 au lait\n"  # Latin-1
    decoded = decode(data, "x")
    assert decoded.undecodable
    assert decoded.encode(decoded.text) == data


def test_replace_writes_replacement_characters() -> None:
    decoded = decode(b"caf\xe9\n", "x", errors="replace")
    assert decoded.text == "caf\ufffd\n"


def test_strict_refuses_invalid_bytes() -> None:
    with pytest.raises(InputError, match="not valid utf-8 at byte 3"):
        decode(b"caf\xe9\n", "x", errors="strict")


def test_latin1_encoding_option() -> None:
    decoded = decode(b"caf\xe9\n", "x", encoding="latin-1")
    assert decoded.text == "café\n"
    assert decoded.encode("café\n") == b"caf\xe9\n"


def test_utf8_bom_stays_with_the_first_line() -> None:
    data = codecs.BOM_UTF8 + b"Title\nBody\n"
    decoded = decode(data, "x")
    assert decoded.text.startswith("\ufeff")
    assert decoded.encode(decoded.text) == data


@pytest.mark.parametrize("bom", [codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE])
def test_utf16_is_detected_by_its_bom(bom: bytes) -> None:
    codec = "utf-16-le" if bom == codecs.BOM_UTF16_LE else "utf-16-be"
    data = bom + "Zeile eins\nZeile zwei\n".encode(codec)
    decoded = decode(data, "x")
    assert decoded.text == "Zeile eins\nZeile zwei\n"
    assert decoded.encode("Zeile zwei\n") == bom + "Zeile zwei\n".encode(codec)


def test_nul_bytes_mean_binary() -> None:
    with pytest.raises(InputError, match="binary"):
        decode(b"\x89PNG\x00\x00", "img.png")


def test_empty_output_is_empty_bytes() -> None:
    decoded = decode(codecs.BOM_UTF16_LE + "x".encode("utf-16-le"), "x")
    assert decoded.encode("") == b""


def test_unknown_codec() -> None:
    with pytest.raises(InputError, match="unknown encoding"):
        check_codec("no-such-codec", "strict")


def test_read_bytes_errors_name_the_path(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_bytes(tmp_path / "missing.txt")
    with pytest.raises(InputError, match="is a directory"):
        read_bytes(tmp_path)


def test_atomic_write_leaves_no_temporary_file(tmp_path: Path) -> None:
    target = tmp_path / "sub" / "out.txt"
    atomic_write(target, b"data")
    assert target.read_bytes() == b"data"
    assert [p.name for p in target.parent.iterdir()] == ["out.txt"]


def test_atomic_write_removes_its_temporary_file_when_interrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(self: Path, target: object) -> Path:
        raise KeyboardInterrupt

    monkeypatch.setattr(Path, "replace", boom)
    with pytest.raises(KeyboardInterrupt):
        atomic_write(tmp_path / "out.txt", b"data")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("encoding", ["undefined", "punycode"])
def test_a_codec_that_decodes_no_text_is_refused(encoding: str) -> None:
    # Found by a hostile tester: --encoding undefined gave a traceback.
    with pytest.raises(InputError, match="not a text encoding"):
        check_codec(encoding, "surrogateescape")


def test_a_codec_raising_unicode_error_is_an_input_error() -> None:
    # idna raises UnicodeError, not UnicodeDecodeError, whatever the error handler.
    with pytest.raises(InputError, match="cannot be decoded as"):
        decode("Café\n".encode("latin-1"), "page.txt", "idna")
