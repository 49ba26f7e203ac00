"""Issue 19: ``distml.frames`` is one interface with a pandas and a Spark side. Every operation
runs here on the same rows through both, and the answers must agree (pandas' exact results are
the reference; Spark's quantile sketch is asked for relative error 0, which is exact)."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from pyspark.ml.feature import StringIndexer as SparkStringIndexer
from pyspark.ml.feature import VectorAssembler as SparkAssembler
from pyspark.ml.linalg import DenseVector
from pyspark.sql import functions as F

from distml import frames
from distml.errors import DataError
from distml.frames import (DOUBLE, FLOAT, NULLABLE_DOUBLE, OBJECT, STRING, VECTOR, InputSpec,
                           Output)


@pytest.fixture(scope="module")
def rows():
    rng = np.random.default_rng(7)
    n = 40
    x = rng.normal(size=n)
    x[[3, 11]] = np.nan
    return pd.DataFrame({
        "features": [DenseVector(v) for v in rng.normal(size=(n, 3))],
        "x": x,
        "i": rng.integers(0, 5, n).astype(np.int64),
        "s": [str(v) for v in rng.choice(["a", "b", "c"], n)],
        "tokens": [[str(t) for t in rng.choice(["u", "v", "w"], 2)] for _ in range(n)],
        "flag": rng.integers(0, 2, n).astype(bool),
    })


@pytest.fixture(scope="module")
def both(spark, rows):
    """(pandas Frame, Spark Frame) of the same rows, Spark's in 3 partitions; pandas' NaN in
    ``x`` is Spark's null (what toPandas() gives back as NaN)."""
    df = spark.createDataFrame(rows).repartition(3)
    df = df.withColumn("x", F.when(F.isnan("x"), None).otherwise(F.col("x")))
    return frames.of(rows), frames.of(df)


def _pandas(result):
    return result if isinstance(result, pd.DataFrame) else result.toPandas()


def test_of_names_what_it_cannot_read():
    with pytest.raises(DataError, match="expected a Spark or pandas DataFrame, got list"):
        frames.of([1, 2])


def test_sessions(spark, both):
    local, remote = both
    assert local.session is None and remote.session is spark
    assert local.columns == remote.columns


def test_read_partitions_give_the_same_rows(both):
    spec = InputSpec("features", label="i")
    got = [frame.read_partitions(spec, 2) for frame in both]
    assert [len(parts) for parts in got] == [2, 2]
    for parts in got[1:]:
        stacked = np.vstack([p.X for p in parts])
        order = np.lexsort(stacked.T)
        reference = np.vstack([p.X for p in got[0]])
        np.testing.assert_array_equal(stacked[order], reference[np.lexsort(reference.T)])


def test_map_partitions_reads_every_kind(both):
    columns = {"f": ("features", VECTOR), "i": ("i", DOUBLE), "x": ("x", NULLABLE_DOUBLE),
               "s": ("s", STRING), "t": ("tokens", OBJECT)}

    def summary(a):
        return (a["f"].sum(axis=0), a["i"].sum(), int(np.isnan(a["x"]).sum()),
                sorted(a["s"].tolist()), sorted(t for cell in a["t"] for t in cell))

    got = []
    for frame in both:
        parts = frame.map_partitions(columns, summary)
        got.append((sum(p[0] for p in parts), sum(p[1] for p in parts),
                    sum(p[2] for p in parts), sorted(v for p in parts for v in p[3]),
                    sorted(v for p in parts for v in p[4])))
    np.testing.assert_allclose(got[1][0], got[0][0], rtol=1e-12)
    assert got[1][1:] == got[0][1:]


def test_map_partitions_names_a_null_column(both):
    for frame in both:
        with pytest.raises(DataError, match=r"column 'x' has \d+ null values"):  # per partition
            frame.map_partitions({"x": ("x", DOUBLE)}, lambda a: None)


def test_statistics_agree(both):
    sums = [frame.column_sums(["i"]) for frame in both]
    np.testing.assert_array_equal(sums[1], sums[0])
    for missing in (None, 0.0):
        quantiles = [frame.quantiles("x", [0.0, 0.25, 0.5, 1.0], 0.0, missing)
                     for frame in both]
        assert quantiles[1] == quantiles[0]
    ids = [frame.distinct_integers("i") for frame in both]
    np.testing.assert_array_equal(ids[1], ids[0])
    arrays = [frame.collect_arrays({"f1": ("features", 1)}, {"i": "i"}) for frame in both]
    for key in ("f1", "i"):
        np.testing.assert_array_equal(np.sort(arrays[1][key]), np.sort(arrays[0][key]))


def test_schema_reads_agree(both):
    for column in ("x", "i", "s", "flag", "missing"):
        local, remote = (frame.numeric_type(column) for frame in both)
        assert (local is None) == (remote is None)
        assert local is None or local[0] == remote[0], column
    for column in ("features", "x", "missing"):
        assert both[0].is_vector_column(column) == both[1].is_vector_column(column)
    # pandas frames carry no ML attributes; a plain Spark column has none either
    for frame in both:
        assert frame.category_count("i") is None and frame.categorical_arities("features") == {}
        assert not frame.vector_size_unknown("x")
    assert both[1].vector_size_unknown("features")  # no size in its metadata


def test_ml_attributes_are_read_on_spark(spark, rows):
    indexed = SparkStringIndexer(inputCol="s", outputCol="si").fit(
        spark.createDataFrame(rows[["s", "x"]])).transform(spark.createDataFrame(rows[["s", "x"]]))
    assembled = SparkAssembler(inputCols=["si", "x"], outputCol="v",
                               handleInvalid="keep").transform(indexed)
    frame = frames.of(assembled)
    assert frame.category_count("si") == 3
    assert frame.categorical_arities("v") == {0: 3}
    assert not frame.vector_size_unknown("v")


def test_transform_appends_the_same_columns(both):
    outputs = [Output("norm", FLOAT), Output("scaled", VECTOR)]

    def fn(X):
        return {"norm": np.linalg.norm(X, axis=1), "scaled": 2 * X}

    got = [_pandas(frame.transform(InputSpec("features"), fn, outputs)).sort_values("norm")
           for frame in both]
    np.testing.assert_array_equal(got[1]["norm"].to_numpy(), got[0]["norm"].to_numpy())
    assert got[1]["norm"].dtype == got[0]["norm"].dtype == np.float32
    np.testing.assert_array_equal(np.stack(got[1]["scaled"].map(lambda v: v.toArray())),
                                  np.stack(got[0]["scaled"].map(lambda v: v.toArray())))
    for frame in both:
        with pytest.raises(DataError, match="output column 'x' already exists"):
            frame.transform(InputSpec("features"), fn, [Output("x", FLOAT)])


def test_rewrites_agree(both):
    replaced = [_pandas(frame.replace_missing({"y": ("x", -1.0)}, math.nan)) for frame in both]
    np.testing.assert_array_equal(np.sort(replaced[1]["y"]), np.sort(replaced[0]["y"]))
    kept = [len(_pandas(frame.drop_nan_rows("x"))) for frame in both]
    assert kept == [38, 38]
    message = lambda column, count: f"no nulls in {column}"  # noqa: E731
    with pytest.raises(DataError, match="no nulls in x"):
        both[0].fail_on_nulls(["x"], message)
    with pytest.raises(Exception, match="no nulls in x"):  # raised as Spark reads the rows
        both[1].fail_on_nulls(["x"], message).collect()


def test_with_mllib_picks_the_side(both):
    assert both[0].with_mllib(lambda df: "spark", lambda df: "pandas") == "pandas"
    assert both[1].with_mllib(lambda df: "spark", lambda df: "pandas") == "spark"


def test_persist_for_reuse_releases_what_it_persisted(both):
    local, remote = both
    same, release = local.persist_for_reuse()
    assert same is local.dataset
    release()
    persisted, release = remote.persist_for_reuse()
    assert persisted.is_cached
    release()
    assert not persisted.is_cached


def test_tables_on_both_sides(spark):
    import pyarrow as pa
    table = pa.table({"id": pa.array(np.arange(3, dtype=np.int32))})
    assert frames.new_table(None, table)["id"].tolist() == [0, 1, 2]
    assert [r.id for r in frames.new_table(spark, table, "id int").collect()] == [0, 1, 2]

    def batches(positions):
        yield pa.RecordBatch.from_arrays([pa.array(positions * 10)], ["v"])

    assert sorted(frames.generate(None, 4, batches, "v long")["v"]) == [0, 10, 20, 30]
    assert sorted(r.v for r in frames.generate(spark, 4, batches, "v long").collect()) == \
        [0, 10, 20, 30]


@pytest.mark.parametrize("struct_route", [True, False])
def test_dense_read_of_a_column_mixing_dense_and_sparse_rows(spark, monkeypatch, struct_route):
    """A column whose first row is dense is read as dense arrays: its dense rows straight from
    the vector's struct form, its sparse rows (VectorAssembler's output mixes both) through
    vector_to_array, and where the struct form is unavailable, every row through it. The
    reference is the numpy matrix the rows were made from."""
    from pyspark.ml.linalg import Vectors

    from distml.frames import spark_input
    if not struct_route:
        monkeypatch.setattr(spark_input, "_vector_struct", lambda df, column: None)
    rng = np.random.default_rng(3)
    X = rng.normal(size=(30, 4))
    X[1::3, 1:3] = 0.0
    rows = [(i, Vectors.sparse(4, {j: v for j, v in enumerate(x) if v}) if i % 3 == 1
             else Vectors.dense(x)) for i, x in enumerate(X)]
    df = spark.createDataFrame(rows, ["i", "features"]).coalesce(2)
    parts = frames.of(df).read_partitions(InputSpec("features", label="i"), 2)
    assert sum(p.X.shape[0] for p in parts) == 30
    for p in parts:
        assert isinstance(p.X, np.ndarray)  # dense, not CSR
        np.testing.assert_array_equal(p.X, X[p.y.astype(int)])
