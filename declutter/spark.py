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

from declutter.batch import Options
from declutter.cleaner import Cleaner
from declutter.errors import DeclutterError, UsageError
from declutter.model import load_model

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
        target = output_column or column
        names = batch.schema.names
        if target in names:
            yield batch.set_column(names.index(target), target, cleaned)
        else:
            yield batch.append_column(target, cleaned)


def clean_dataframe(
    df: DataFrame,
    column: str = "text",
    output_column: str | None = None,
    model: str | Path | None = None,
    threshold: float | None = None,
    smoothing: float | None = None,
) -> DataFrame:
    """``df`` with ``column`` cleaned (or the cleaned text in ``output_column``), lazily.

    ``model``: a model file from ``declutter train``, shipped to the executors with
    ``addFile`` (default: the shipped model of the executors' installed declutter). Raises
    :class:`UsageError` when ``column`` is missing or not a string column, or the threshold or
    smoothing is out of range; :class:`~declutter.errors.ModelError` for a bad model file.
    """
    from pyspark.sql.types import StringType, StructField, StructType  # noqa: PLC0415

    fields = {f.name: f for f in df.schema.fields}
    if column not in fields:
        raise UsageError(f"no column {column!r}; the columns are {', '.join(fields)}")
    if not isinstance(fields[column].dataType, StringType):
        raise UsageError(f"column {column!r} holds {fields[column].dataType.simpleString()}")
    Cleaner(load_model(model), threshold=threshold, smoothing=smoothing)  # fail early, here
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
    func = partial(
        clean_arrow,
        column=column,
        output_column=output_column,
        model_path=model_path,
        threshold=threshold,
        smoothing=smoothing,
    )
    return df.mapInArrow(func, schema)


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
        cleaned = clean_dataframe(df, field, output_field, model, threshold, smoothing)
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
