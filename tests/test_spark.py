from __future__ import annotations

import sys

import pytest

from declutter.cleaner import Cleaner
from declutter.spark import clean_partition

PAGES = ["Menu\nThe river rose by two metres overnight, officials said.\n", None, ""]


def test_clean_partition_matches_the_cleaner_and_keeps_nones() -> None:
    out = list(clean_partition(iter(PAGES * 3), batch_size=2))
    expected = Cleaner().clean(str(PAGES[0]))
    assert out == [expected, None, ""] * 3


def test_with_pyspark(monkeypatch: pytest.MonkeyPatch) -> None:
    pyspark = pytest.importorskip("pyspark")
    # Executors must run a Python with declutter installed: this one.
    monkeypatch.setenv("PYSPARK_PYTHON", sys.executable)
    spark = pyspark.sql.SparkSession.builder.master("local[1]").getOrCreate()
    try:
        rdd = spark.sparkContext.parallelize(PAGES, 2)
        assert rdd.mapPartitions(clean_partition).collect() == list(clean_partition(PAGES))
    finally:
        spark.stop()
