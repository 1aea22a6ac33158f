"""Write examples/sample.warc.wet.gz: the project's own pages as a Common Crawl-style WET file.

    python examples/make_sample_wet.py   # needs the [warc] extra

One ``warcinfo`` record, then one ``conversion`` record per page of ``training_data/pages``
(gzip per record, as Common Crawl's files), with fixed dates and ids derived from the page
names, so the file is the same every time it is written. The README's "Common Crawl and
Spark" examples read it.
"""

from __future__ import annotations

import gzip
import io
import uuid
from pathlib import Path

from fastwarc.warc import WarcRecord, WarcRecordType

ROOT = Path(__file__).resolve().parent.parent
PAGES = ROOT / "training_data" / "pages"
OUTPUT = Path(__file__).resolve().parent / "sample.warc.wet.gz"
DATE = "2024-12-01T00:00:00Z"
NAMESPACE = uuid.UUID("0b7d6c0e-2f5e-4a8b-9a61-7d3c2e1f0a95")
# ISO 639-3 codes, as Common Crawl's WARC-Identified-Content-Language gives them.
LANGUAGES = {
    "ar": "ara", "de": "deu", "en": "eng", "es": "spa", "fr": "fra", "it": "ita",
    "nl": "nld", "pl": "pol", "pt": "por", "ru": "rus", "zh": "zho",
}  # fmt: skip


def _record(kind: WarcRecordType, name: str, block: bytes, headers: dict[str, str]) -> bytes:
    record = WarcRecord()
    record.init_headers(kind, f"uuid:{uuid.uuid5(NAMESPACE, name)}".encode())
    record.headers["WARC-Date"] = DATE
    for key, value in headers.items():
        record.headers[key] = value
    record.set_bytes_content(block)
    out = io.BytesIO()
    record.write(out, checksum_data=True)
    return gzip.compress(out.getvalue(), mtime=0)


def sample_wet() -> bytes:
    """The sample file's bytes."""
    info = b"software: examples/make_sample_wet.py\r\ndescription: declutter's own pages\r\n"
    parts = [
        _record(
            WarcRecordType.warcinfo,
            "warcinfo",
            info,
            {"WARC-Filename": OUTPUT.name, "Content-Type": "application/warc-fields"},
        )
    ]
    for page in sorted(PAGES.glob("*.txt")):
        if ".clean." in page.name:
            continue
        lang, kind, number = page.stem.split("-")
        parts.append(
            _record(
                WarcRecordType.conversion,
                page.stem,
                page.read_bytes(),
                {
                    "WARC-Target-URI": f"https://{kind}.example.org/{lang}/{number}",
                    "Content-Type": "text/plain",
                    "WARC-Identified-Content-Language": LANGUAGES[lang],
                },
            )
        )
    return b"".join(parts)


if __name__ == "__main__":
    OUTPUT.write_bytes(sample_wet())
    print(f"wrote {OUTPUT}")
