"""Clean page texts in PySpark (or any engine that hands out partitions as iterators).

Use :func:`clean_partition` with ``mapPartitions``: each executor process loads the model once
and cleans its partition in batches. PySpark itself is not a dependency of declutter.

>>> list(clean_partition(["", None]))
['', None]
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice
from pathlib import Path

from declutter.cleaner import Cleaner
from declutter.model import load_model

SPARK_BATCH = 256  # pages cleaned per call: amortizes numpy overhead, bounds memory

_cleaners: dict[tuple[str | None, float | None], Cleaner] = {}


def _cleaner(model_path: str | None, threshold: float | None) -> Cleaner:
    key = (model_path, threshold)
    if key not in _cleaners:
        model = load_model(Path(model_path) if model_path else None)
        _cleaners[key] = Cleaner(model, threshold=threshold)
    return _cleaners[key]


def clean_partition(
    texts: Iterable[str | None],
    model_path: str | None = None,
    threshold: float | None = None,
    batch_size: int = SPARK_BATCH,
) -> Iterator[str | None]:
    """Clean every text of a partition, in order; ``None`` stays ``None``.

    ``model_path`` must be readable on the executors (e.g. shipped with ``--files``); by
    default the installed declutter's shipped model is used.
    """
    cleaner = _cleaner(model_path, threshold)
    it = iter(texts)
    while batch := list(islice(it, batch_size)):
        present = [t for t in batch if t is not None]
        cleaned = iter(cleaner.clean_many(present))
        for t in batch:
            yield None if t is None else next(cleaned)
