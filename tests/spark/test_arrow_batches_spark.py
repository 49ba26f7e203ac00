"""On Spark, a fit's stages bound their Arrow batches by rows of the input's width, without
Spark's per-row byte check, and leave the session's confs as the user set them
(``frames.arrow_batches``; the speed it buys is in docs/design-notes.md)."""
import numpy as np
import pytest
from pyspark.sql import functions as F

from distml import KMeans
from distml.engine.progress import add_listener
from distml.frames import InputSpec
from distml.frames.arrow_batches import MAX_BYTES, MAX_RECORDS, NO_BYTE_LIMIT
from distml.frames.spark_input import row_bytes
from frames import to_df  # tests/helpers is on sys.path (conftest)


@pytest.fixture(scope="module")
def blobs(spark):
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(c, 1.0, (300, 4)) for c in (0.0, 5.0, 10.0)])
    return to_df(spark, X, np.zeros(len(X)))


def test_row_width_is_known_ahead_for_dense_vectors_and_column_lists(spark, blobs):
    dense = row_bytes(blobs, InputSpec("features", label="label"))
    assert dense is not None and 8 * 5 <= dense <= 8 * 5 + 64  # 4 values and a label
    columns = spark.createDataFrame([(1.0, 2.0, 3.0, 4.0, 0.5)], ["a", "b", "c", "d", "w"])
    listed = row_bytes(columns, InputSpec(("a", "b", "c", "d"), label="c", weight="w"))
    assert listed - dense == 8  # one value more: the same 4 features and label, and a weight
    sparse = to_df(spark, np.eye(3), np.zeros(3), sparse=True)
    assert row_bytes(sparse, InputSpec("features")) is None  # nnz varies row to row
    arrays = columns.select(F.array("a", "b").alias("features"))
    assert row_bytes(arrays, InputSpec("features")) is None  # known only after a pass


@pytest.mark.parametrize("engine", ["barrier", "jobs", "local"])
def test_a_fit_bounds_its_batches_by_rows_and_restores_the_confs(spark, blobs, engine):
    reference = KMeans(k=3, maxIter=5, tol=0.0, seed=1, engine=engine).fit(blobs)
    seen = []
    remove = add_listener(lambda label, entry: seen.append(
        (spark.conf.get(MAX_BYTES), int(spark.conf.get(MAX_RECORDS)))))
    spark.conf.set(MAX_BYTES, "4k")
    try:
        model = KMeans(k=3, maxIter=5, tol=0.0, seed=1, engine=engine).fit(blobs)
        assert spark.conf.get(MAX_BYTES, None) == "4k"
        assert spark.conf.get(MAX_RECORDS, None) is None  # never set by the user: unset again
    finally:
        remove()
        spark.conf.unset(MAX_BYTES)
    assert seen, "KMeans reports every iteration"
    # A row is its 4 doubles (32 bytes) and at most 64 bytes of bookkeeping, so a batch
    # within the user's 4 kB holds 4096 // 96 = 42 to 4096 // 32 = 128 rows. Spark's own
    # 10,000-row default (the confs left alone) or a needlessly small count fails here.
    assert {records for _, records in seen} <= set(range(42, 129)), seen
    assert {byte_limit for byte_limit, _ in seen} == {str(NO_BYTE_LIMIT)}  # no per-row check
    # Batches of ~80 rows instead of 10,000 give the same partitions, hence the same model.
    np.testing.assert_array_equal(np.array(model.clusterCenters()),
                                  np.array(reference.clusterCenters()))
