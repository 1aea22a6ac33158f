from __future__ import annotations

import pytest

from declutter.clean import Cleaner
from declutter.spark import clean_partition

PAGES = ["Menu\nThe river rose by two metres overnight, officials said.\n", None, ""]


def test_clean_partition_matches_the_cleaner_and_keeps_nones() -> None:
    out = list(clean_partition(iter(PAGES * 3), batch_size=2))
    expected = Cleaner().clean(PAGES[0])
    assert out == [expected, None, ""] * 3


def test_with_pyspark() -> None:
    pyspark = pytest.importorskip("pyspark")
    spark = pyspark.sql.SparkSession.builder.master("local[1]").getOrCreate()
    try:
        rdd = spark.sparkContext.parallelize(PAGES, 2)
        assert rdd.mapPartitions(clean_partition).collect() == list(clean_partition(PAGES))
    finally:
        spark.stop()
