"""WARC readers for the ``[warc]`` extra: fastwarc against warcio, written to BENCHMARKS.md.

    python benchmarks/warc_readers.py                  # ~1 min
    python benchmarks/warc_readers.py --quick --out /tmp/b.md   # seconds (CI)

A WET file is written (warcio's writer, one gzip member per record, as Common Crawl's) from the
project's own pages in ``training_data/pages``, repeated under distinct URIs; each library then
reads every ``conversion`` record's headers and its whole text block, medians of ``--repeats``
alternating runs, on the gzipped file and on the same records uncompressed. Install weight is
the size on disk of each library and of the packages it pulls in that declutter does not
already need, from their installed file lists.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from collections.abc import Callable
from functools import partial
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _common as C

PAGES = C.ROOT / "training_data" / "pages"
RECORDS = 4000  # ~30 MB of text: long enough that start-up costs vanish
QUICK_RECORDS = 100
# What each library pulls in beyond declutter's own dependencies (click and typing-extensions
# come with typer), from their install metadata.
EXTRA_PACKAGES = {"fastwarc": ("fastwarc", "brotli", "tqdm"), "warcio": ("warcio", "six")}


def write_wet(path: Path, n_records: int, gzip: bool) -> int:
    """A WET file of ``n_records`` conversion records; returns the text bytes written."""
    from warcio.warcwriter import WARCWriter

    texts = [p.read_bytes() for p in sorted(PAGES.glob("*.txt")) if ".clean." not in p.name]
    total = 0
    with path.open("wb") as f:
        writer = WARCWriter(f, gzip=gzip)
        for i in range(n_records):
            text = texts[i % len(texts)]
            total += len(text)
            record = writer.create_warc_record(
                f"https://site-{i % 97}.example/page-{i}",
                "conversion",
                payload=io.BytesIO(text),
                warc_content_type="text/plain",
                warc_headers_dict={"WARC-Identified-Content-Language": "eng"},
            )
            writer.write_record(record)
    return total


def read_fastwarc(path: Path) -> int:
    from fastwarc.warc import ArchiveIterator, WarcRecordType

    n = 0
    with path.open("rb") as f:
        for record in ArchiveIterator(f, record_types=WarcRecordType.conversion, parse_http=False):
            _ = record.headers.get("WARC-Target-URI"), record.record_id
            n += len(record.reader.read())
    return n


def read_warcio(path: Path) -> int:
    from warcio.archiveiterator import ArchiveIterator

    n = 0
    with path.open("rb") as f:
        for record in ArchiveIterator(f):
            if record.rec_type != "conversion":
                continue
            _ = record.rec_headers.get_header("WARC-Target-URI")
            _ = record.rec_headers.get_header("WARC-Record-ID")
            n += len(record.content_stream().read())
    return n


def installed_mb(names: tuple[str, ...]) -> float:
    total = 0
    for name in names:
        dist = metadata.distribution(name)
        for file in dist.files or ():
            located = Path(str(dist.locate_file(file)))
            if located.is_file():
                total += located.stat().st_size
    return total / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few records (CI)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=C.BENCHMARKS_MD)
    args = parser.parse_args(argv)
    n = QUICK_RECORDS if args.quick else RECORDS
    repeats = 1 if args.quick else args.repeats
    readers: dict[str, Callable[[Path], int]] = {"fastwarc": read_fastwarc, "warcio": read_warcio}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, gz in (("gzip per record", True), ("uncompressed", False)):
            path = Path(tmp) / ("x.warc.wet.gz" if gz else "x.warc.wet")
            text_bytes = write_wet(path, n, gz)
            times: dict[str, list[float]] = {name: [] for name in readers}
            for read in readers.values():  # warm-up (imports, page cache)
                assert read(path) == text_bytes
            for _ in range(repeats):
                for name, read in readers.items():
                    times[name].append(C.timed(partial(read, path)))
            for name in readers:
                seconds = C.median(times[name])
                rows.append((name, label, path.stat().st_size / 1e6, text_bytes / 1e6 / seconds))
    fast = {label: mbs for name, label, _, mbs in rows if name == "fastwarc"}
    lines = [
        f"Measured {C.environment()}; fastwarc {metadata.version('fastwarc')}, warcio "
        f"{metadata.version('warcio')}. A WET file of {n} conversion records (the project's "
        f"pages repeated), every record's headers and text read; medians of {repeats} "
        "alternating runs. MB/s are of record text.",
        "",
        "| reader | file | file MB | MB/s of text | fastwarc's speed-up |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, label, size, mbs in rows:
        lines.append(f"| {name} | {label} | {size:.1f} | {mbs:.0f} | {fast[label] / mbs:.1f}x |")
    lines += [
        "",
        "| library | installed size with what it pulls in (MB) | packages |",
        "| --- | --- | --- |",
    ]
    for name, packages in EXTRA_PACKAGES.items():
        lines.append(f"| {name} | {installed_mb(packages):.1f} | {', '.join(packages)} |")
    C.replace_section(args.out, "warc-readers", "\n".join(lines), "WARC readers")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
