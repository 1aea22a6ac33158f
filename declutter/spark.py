"""Clean page texts in Spark: a DataFrame column through Arrow batches, or files in one call.

- :func:`clean_dataframe` cleans a string column of a DataFrame with ``mapInArrow``: every
  executor's Python process loads the model once (the installed package's shipped model, or a
  model file shipped to the executors with ``SparkContext.addFile``) and cleans Arrow batches
  of pages, a :data:`SPARK_BATCH` at a time; the output equals :class:`~declutter.Cleaner`'s
  on every page, byte for byte.
- :func:`clean_files` is what ``declutter spark INPUT OUTPUT`` runs: JSON Lines, Parquet or
  WARC/WET files in (WET files are read on the executors, one task per file), Parquet or JSON
  Lines out.
- :func:`clean_partition` cleans an iterator of strings, for ``RDD.mapPartitions``.
- :func:`clean_dataframe` with ``site_column`` cleans with site context
  (:mod:`declutter.site`): Spark aggregations count, per site (the host of the URL in
  ``site_column``), in how many distinct pages each line key occurs, and join each page to the
  counts of its own keys before cleaning. Grouping by host shuffles every page's distinct line
  keys once (16 bytes and the host per key). Counts here are always exact, where ``declutter
  clean`` sketches the counts of a site past :data:`declutter.site.EXACT_KEYS` keys: on such
  large sites the two may differ slightly; below it they are the same, byte for byte.

PySpark and pyarrow are needed only where these run (``pip install 'declutter[spark]'``); this
module imports them lazily, and never imports typer.

>>> list(clean_partition(["", None]))
['', None]
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from declutter.batch import Options
from declutter.cleaner import Cleaner
from declutter.errors import DeclutterError, ModelError, UsageError
from declutter.lines import split_lines
from declutter.model import load_model
from declutter.site import LineShares, line_keys, page_digest, site_of_url

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

SPARK_BATCH = 256  # pages cleaned per call: amortizes numpy overhead, bounds memory
# Rows per Arrow batch handed to Python: ~10 MB of Common Crawl text (about 10 KB a page);
# Spark's default of 10,000 rows would hold ~100 MB per batch.
ARROW_BATCH_ROWS = 1024
INPUT_FORMATS = ("json", "parquet", "warc")
OUTPUT_FORMATS = ("parquet", "json")
# The columns of pages read from WARC files, as `declutter clean` writes them to JSON Lines.
WARC_COLUMNS = ("url", "record_id", "date", "language", "text")

_cleaners: dict[tuple[str | None, float | None, float | None], Cleaner] = {}


def _model_file(model_path: str) -> str:
    """A model file's path on this machine: as given, or as shipped with ``addFile``."""
    if Path(model_path).is_file():
        return model_path
    from pyspark import SparkFiles  # noqa: PLC0415 - only on executors

    return str(SparkFiles.get(Path(model_path).name))


def _cleaner(
    model_path: str | None, threshold: float | None, smoothing: float | None = None
) -> Cleaner:
    """The process's cleaner for these settings: the model is loaded once per process."""
    key = (model_path, threshold, smoothing)
    if key not in _cleaners:
        model = load_model(_model_file(model_path) if model_path else None)
        _cleaners[key] = Cleaner(model, threshold=threshold, smoothing=smoothing)
    return _cleaners[key]


def clean_partition(
    texts: Iterable[str | None],
    model_path: str | None = None,
    threshold: float | None = None,
    batch_size: int = SPARK_BATCH,
    smoothing: float | None = None,
) -> Iterator[str | None]:
    """Clean every text of a partition, in order; ``None`` stays ``None``.

    ``model_path`` must be readable on the executors (or shipped there with ``addFile``); by
    default the installed declutter's shipped model is used.
    """
    cleaner = _cleaner(model_path, threshold, smoothing)
    it = iter(texts)
    while batch := list(islice(it, batch_size)):
        present = [t for t in batch if t is not None]
        cleaned = iter(cleaner.clean_many(present))
        for t in batch:
            yield None if t is None else next(cleaned)


def _with_column(batch: pa.RecordBatch, name: str, values: pa.Array) -> pa.RecordBatch:
    """``batch`` with column ``name`` replaced by ``values``, or appended when it has none."""
    names = batch.schema.names
    if name in names:
        return batch.set_column(names.index(name), name, values)
    return batch.append_column(name, values)


def clean_arrow(
    batches: Iterable[pa.RecordBatch],
    column: str = "text",
    output_column: str | None = None,
    model_path: str | None = None,
    threshold: float | None = None,
    smoothing: float | None = None,
) -> Iterator[pa.RecordBatch]:
    """The ``mapInArrow`` function: each batch with ``column`` cleaned (nulls stay null).

    The cleaned text replaces ``column``, or goes to ``output_column`` (replaced when the batch
    has it, appended otherwise).
    """
    import pyarrow as pa  # noqa: PLC0415 - only where Spark runs

    for batch in batches:
        texts = batch.column(column).to_pylist()
        cleaned = pa.array(
            list(clean_partition(texts, model_path, threshold, SPARK_BATCH, smoothing)),
            type=pa.string(),
        )
        yield _with_column(batch, output_column or column, cleaned)


def clean_dataframe(
    df: DataFrame,
    column: str = "text",
    output_column: str | None = None,
    model: str | Path | None = None,
    threshold: float | None = None,
    smoothing: float | None = None,
    site_column: str | None = None,
) -> DataFrame:
    """``df`` with ``column`` cleaned (or the cleaned text in ``output_column``), lazily.

    ``model``: a model file from ``declutter train``, shipped to the executors with
    ``addFile`` (default: the shipped model of the executors' installed declutter).
    ``site_column``: a column of page URLs; pages are then cleaned with site context, their
    site the URL's host (see the module docstring; rows come out in another order). Raises
    :class:`UsageError` when ``column`` or ``site_column`` is missing or not a string column,
    or the threshold or smoothing is out of range; :class:`~declutter.errors.ModelError` for a
    bad model file, or one without a site stage when ``site_column`` is given.
    """
    from pyspark.sql.types import StringType, StructField, StructType  # noqa: PLC0415

    fields = {f.name: f for f in df.schema.fields}
    for name in (column, site_column):
        if name is None:
            continue
        if name not in fields:
            raise UsageError(f"no column {name!r}; the columns are {', '.join(fields)}")
        if not isinstance(fields[name].dataType, StringType):
            raise UsageError(f"column {name!r} holds {fields[name].dataType.simpleString()}")
    line_model = load_model(model)
    Cleaner(line_model, threshold=threshold, smoothing=smoothing)  # fail early, here
    if site_column is not None and line_model.site is None:
        raise ModelError("site context needs a model with a site stage; this one has none")
    model_path = None
    if model is not None:
        model_path = str(Path(model).resolve())
        df.sparkSession.sparkContext.addFile(model_path)
    target = output_column or column
    # The cleaned column stays where it was (now nullable), or comes last.
    schema = StructType(
        [
            f if f.name != target else StructField(target, StringType(), True)
            for f in fields.values()
        ]
    )
    if target not in fields:
        schema = schema.add(target, StringType(), True)
    if site_column is not None:
        site_func = partial(
            clean_arrow_sites,
            column=column,
            output_column=output_column,
            model_path=model_path,
            threshold=threshold,
            smoothing=smoothing,
        )
        return with_site_counts(df, column, site_column).mapInArrow(site_func, schema)
    func = partial(
        clean_arrow,
        column=column,
        output_column=output_column,
        model_path=model_path,
        threshold=threshold,
        smoothing=smoothing,
    )
    return df.mapInArrow(func, schema)


# --- site context -------------------------------------------------------------------------------
# Helper columns, dropped before the cleaned rows come out.
SITE, DIGEST, KEY, PAGES, COUNT, COUNTS = (
    f"_declutter_{name}" for name in ("site", "digest", "key", "pages", "count", "counts")
)


def _site_and_digest(text: str | None, url: str | None) -> tuple[str | None, bytes | None]:
    site = site_of_url(url)
    if text is None or site is None:
        return None, None
    return site, page_digest(text)


def _page_keys(text: str) -> list[int]:
    """A page's distinct line keys (exact and masked), as signed 64-bit integers."""
    exact, masked, has = line_keys(split_lines(text))
    keys: list[int] = np.unique(np.concatenate([exact[has], masked[has]])).view(np.int64).tolist()
    return keys


def site_keys_arrow(
    batches: Iterable[pa.RecordBatch], column: str, site_column: str
) -> Iterator[pa.RecordBatch]:
    """Per page with a site: a row ``(site, digest, null)`` for the page and one
    ``(site, digest, key)`` per distinct line key."""
    import pyarrow as pa  # noqa: PLC0415 - only where Spark runs

    schema = pa.schema([(SITE, pa.string()), (DIGEST, pa.binary()), (KEY, pa.int64())])
    for batch in batches:
        sites: list[str] = []
        digests: list[bytes] = []
        keys: list[int | None] = []
        texts = batch.column(column).to_pylist()
        urls = batch.column(site_column).to_pylist()
        for text, url in zip(texts, urls, strict=True):
            site, digest = _site_and_digest(text, url)
            if site is None or digest is None or text is None:
                continue
            page_keys: list[int | None] = [None, *_page_keys(text)]
            sites += [site] * len(page_keys)
            digests += [digest] * len(page_keys)
            keys += page_keys
        yield pa.RecordBatch.from_pydict({SITE: sites, DIGEST: digests, KEY: keys}, schema)


def page_ids_arrow(
    batches: Iterable[pa.RecordBatch], column: str, site_column: str
) -> Iterator[pa.RecordBatch]:
    """Each batch with its pages' site and digest appended (null without a site)."""
    import pyarrow as pa  # noqa: PLC0415

    for batch in batches:
        pairs = [
            _site_and_digest(t, u)
            for t, u in zip(
                batch.column(column).to_pylist(), batch.column(site_column).to_pylist(), strict=True
            )
        ]
        batch = batch.append_column(SITE, pa.array([p[0] for p in pairs], pa.string()))
        yield batch.append_column(DIGEST, pa.array([p[1] for p in pairs], pa.binary()))


def with_site_counts(df: DataFrame, column: str, site_column: str) -> DataFrame:
    """``df`` with, per page, its site's number of distinct pages (``PAGES``) and a map of
    its line keys to the number of the site's distinct pages holding them (``COUNTS``): the
    first pass of site context, as Spark aggregations grouped by site."""
    from pyspark.sql import functions as F  # noqa: PLC0415
    from pyspark.sql.types import (  # noqa: PLC0415
        BinaryType,
        LongType,
        StringType,
        StructField,
        StructType,
    )

    key_schema = StructType(
        [
            StructField(SITE, StringType(), True),
            StructField(DIGEST, BinaryType(), True),
            StructField(KEY, LongType(), True),
        ]
    )
    keys = df.mapInArrow(
        partial(site_keys_arrow, column=column, site_column=site_column), key_schema
    ).distinct()  # a page repeated byte for byte in a site counts once
    pages = keys.where(F.col(KEY).isNull()).groupBy(SITE).agg(F.count("*").alias(PAGES))
    held = keys.where(F.col(KEY).isNotNull())
    counts = held.groupBy(SITE, KEY).agg(F.count("*").alias(COUNT))
    page_counts = (
        held.join(counts, [SITE, KEY])
        .groupBy(SITE, DIGEST)
        .agg(F.map_from_entries(F.collect_list(F.struct(KEY, COUNT))).alias(COUNTS))
    )
    # A new schema: StructType.add changes the one it is called on (the frame's own).
    id_schema = StructType(
        [
            *df.schema.fields,
            StructField(SITE, StringType(), True),
            StructField(DIGEST, BinaryType(), True),
        ]
    )
    with_ids = df.mapInArrow(
        partial(page_ids_arrow, column=column, site_column=site_column), id_schema
    )
    return with_ids.join(pages, [SITE], "left").join(page_counts, [SITE, DIGEST], "left")


def _shares(text: str, pages: int | None, counts: Any) -> LineShares | None:
    """A page's shares from its site's page count and its keys' counts (the page's own
    occurrence subtracted), as :meth:`declutter.site.SiteCounts.shares` gives them."""
    if pages is None or pages < 2 or text is None:
        return None
    table = dict(counts or [])
    others = pages - 1
    exact, masked, has = line_keys(split_lines(text))
    out = []
    for keys in (exact, masked):
        found = np.array([table.get(k, 0) for k in keys[has].view(np.int64).tolist()])
        share = np.zeros(len(has), dtype=np.float32)
        share[has] = np.clip(found - 1, 0, others) / others
        out.append(share)
    return LineShares(out[0], out[1], others)


def clean_arrow_sites(
    batches: Iterable[pa.RecordBatch],
    column: str = "text",
    output_column: str | None = None,
    model_path: str | None = None,
    threshold: float | None = None,
    smoothing: float | None = None,
) -> Iterator[pa.RecordBatch]:
    """As :func:`clean_arrow`, for batches of :func:`with_site_counts`: each page cleaned
    with its site context, the helper columns dropped."""
    import pyarrow as pa  # noqa: PLC0415

    cleaner = _cleaner(model_path, threshold, smoothing)
    for batch in batches:
        texts = batch.column(column).to_pylist()
        pages = batch.column(PAGES).to_pylist()
        counts = batch.column(COUNTS).to_pylist()
        present = [k for k, t in enumerate(texts) if t is not None]
        cleaned: list[str | None] = [None] * len(texts)
        for start in range(0, len(present), SPARK_BATCH):
            chunk = present[start : start + SPARK_BATCH]
            shares = [_shares(texts[k], pages[k], counts[k]) for k in chunk]
            results = cleaner.process_shares([texts[k] for k in chunk], shares)
            for k, result in zip(chunk, results, strict=True):
                cleaned[k] = result.text
        names = [n for n in batch.schema.names if n not in (SITE, DIGEST, PAGES, COUNTS)]
        array = pa.array(cleaned, type=pa.string())
        yield _with_column(batch.select(names), output_column or column, array)


# --- files ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SparkRun:
    """What :func:`clean_files` did: rows written and WARC records it could not read."""

    rows: int
    warc_problems: int


def input_format(paths: Sequence[str]) -> str:
    """``json``, ``parquet`` or ``warc`` from the inputs' names (a folder: the files in it)."""
    from declutter.warc import is_warc_name  # noqa: PLC0415 - avoids loading batch early

    names: list[str] = []
    for p in paths:
        path = Path(p)
        names += [f.name for f in path.rglob("*") if f.is_file()] if path.is_dir() else [path.name]
    lowered = [n.lower() for n in names if not n.startswith((".", "_"))]
    if lowered and all(is_warc_name(n) for n in lowered):
        return "warc"
    if any(n.endswith(".parquet") for n in lowered) or any(p.endswith(".parquet") for p in paths):
        return "parquet"
    if lowered and all(n.endswith((".jsonl", ".jsonl.gz", ".json", ".json.gz")) for n in lowered):
        return "json"
    raise UsageError(f"cannot tell the format of {', '.join(paths)}: give --input-format")


def output_format(path: str) -> str:
    """``json`` for names ending in .jsonl or .json, else ``parquet``."""
    return "json" if path.rstrip("/").endswith((".jsonl", ".json")) else "parquet"


def _warc_files(paths: Sequence[str]) -> list[str]:
    from declutter.warc import is_warc_name  # noqa: PLC0415

    files: list[str] = []
    for p in paths:
        path = Path(p)
        found = (
            sorted(f for f in path.rglob("*") if is_warc_name(f.name)) if path.is_dir() else [path]
        )
        files += [str(f.resolve()) for f in found]
    return files


def warc_rows(path: str, problems: Any = None) -> Iterator[tuple[str | None, ...]]:
    """The pages of one WARC file as rows of :data:`WARC_COLUMNS` (on an executor).

    Text is decoded as ``declutter clean`` decodes it, except that undecodable bytes become
    U+FFFD (Spark's strings are UTF-8). Truncated records and read errors are counted in the
    ``problems`` accumulator and skipped.
    """
    from declutter.warc import ReadStats, decode_record, read_pages  # noqa: PLC0415

    stats = ReadStats()
    options = Options(errors="replace")
    with Path(path).open("rb") as f:
        for page in read_pages(f, stats):
            if page.truncated:
                if problems is not None:
                    problems.add(1)
                continue
            text = decode_record(page, path, options).text
            yield (page.url, page.record_id, page.date, page.language, text)
    if stats.error is not None and problems is not None:
        problems.add(1)


def _absolute(path: str) -> str:
    return path if "://" in path else str(Path(path).resolve())


def _read(spark: SparkSession, paths: Sequence[str], fmt: str, problems: Any) -> DataFrame:
    if fmt == "json":
        return spark.read.json(list(paths))
    if fmt == "parquet":
        return spark.read.parquet(*paths)
    from pyspark.sql.types import StringType, StructField, StructType  # noqa: PLC0415

    files = _warc_files(paths)
    if not files:
        raise UsageError(f"no WARC files in {', '.join(paths)}")
    schema = StructType([StructField(c, StringType(), True) for c in WARC_COLUMNS])
    rdd = spark.sparkContext.parallelize(files, len(files))
    return spark.createDataFrame(rdd.flatMap(partial(warc_rows, problems=problems)), schema)


def clean_files(
    spark: SparkSession,
    inputs: Sequence[str],
    output: str,
    *,
    in_format: str | None = None,
    out_format: str | None = None,
    field: str = "text",
    output_field: str | None = None,
    model: str | Path | None = None,
    threshold: float | None = None,
    smoothing: float | None = None,
    partitions: int | None = None,
    site_column: str | None = None,
) -> SparkRun:
    """Read pages, clean ``field``, write them to ``output`` (a folder of part files).

    WARC input has the columns :data:`WARC_COLUMNS`. Raises :class:`UsageError` for an
    unknown format or an existing output; :class:`DeclutterError` when Spark fails.
    """
    fmt = in_format or input_format(inputs)
    out_fmt = out_format or output_format(output)
    if fmt not in INPUT_FORMATS or out_fmt not in OUTPUT_FORMATS:
        raise UsageError(
            f"formats: input one of {', '.join(INPUT_FORMATS)}, output one of "
            f"{', '.join(OUTPUT_FORMATS)}"
        )
    # The JVM resolves relative paths against its own working directory: make local ones
    # absolute (URIs such as s3a://... stay as they are).
    inputs = [_absolute(p) for p in inputs]
    output = _absolute(output)
    if "://" not in output and Path(output).exists():
        raise UsageError(f"output {output} exists; declutter never writes over it")
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(ARROW_BATCH_ROWS))
    problems = spark.sparkContext.accumulator(0)
    try:
        df = _read(spark, inputs, fmt, problems)
        if partitions:
            df = df.repartition(partitions)
        cleaned = clean_dataframe(
            df, field, output_field, model, threshold, smoothing, site_column=site_column
        )
        writer = cleaned.write.mode("errorifexists")
        if out_fmt == "json":
            writer.json(output)
        else:
            writer.parquet(output)
    except DeclutterError:
        raise
    except Exception as exc:  # Spark's errors come through py4j with many types
        raise DeclutterError(f"Spark failed: {str(exc).splitlines()[0]}") from None
    rows = spark.read.parquet(output).count() if out_fmt == "parquet" else -1
    if rows < 0:
        rows = spark.read.json(output).count()
    return SparkRun(rows, int(problems.value))


def session(master: str | None, app_name: str = "declutter") -> tuple[SparkSession, bool]:
    """The active Spark session, or a new one on ``master``; and whether it was created here.

    In local mode the executors run this Python (``PYSPARK_PYTHON``), which has declutter.
    Raises :class:`UsageError` without PySpark, :class:`DeclutterError` when Spark cannot
    start (most often: no Java).
    """
    try:
        from pyspark.sql import SparkSession  # noqa: PLC0415 - optional
    except ImportError:
        raise UsageError("Spark needs PySpark: pip install 'declutter[spark]'") from None
    active = SparkSession.getActiveSession()
    if active is not None:
        return active, False
    if master is None or master.startswith("local"):
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.appName(app_name)
        .config("spark.ui.showConsoleProgress", "false")  # messages on stderr are declutter's
        .config("spark.ui.enabled", "false")
    )
    if master:
        builder = builder.master(master)
    try:
        created = builder.getOrCreate()
        created.sparkContext.setLogLevel("ERROR")
        return created, True
    except Exception as exc:  # py4j and Java start-up errors have no common base
        raise DeclutterError(
            f"Spark could not start ({str(exc).splitlines()[0]}); is Java installed?"
        ) from None
