"""Issue 20, resident partitions: a second fit on the same cached DataFrame maps the converted
partitions back instead of ingesting, on every engine, and a changed, unpersisted, evicted or
missing entry is never served: that fit ingests, and its result is a fresh fit's."""
import shutil

import numpy as np
import pytest
from pyspark.ml.linalg import Vectors
from pyspark.sql import DataFrame

import distml
import programs
from distml import LogisticRegression
from distml.engine import partition_store, resident
from distml.engine.fit import fit_program
from distml.frames import InputSpec

pytestmark = pytest.mark.spark

ENGINES = ("local", "barrier", "jobs")
SPEC = InputSpec("features", label="label")


def _frame(spark, seed, rows=300):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 4))
    y = (X[:, 0] + 0.3 * rng.normal(size=rows) > 0).astype(float)
    data = [(Vectors.dense(r), float(t), float(t) * 2 + 1) for r, t in zip(X, y)]
    return spark.createDataFrame(data, ["features", "label", "other"]).repartition(2)


def _fit(df, engine):
    return fit_program(programs.primitives, {}, df, SPEC, engine=engine)


def _same(a, b):
    return all(a.values[k].tobytes() == b.values[k].tobytes() for k in a.values)


@pytest.fixture
def cached(spark):
    df = _frame(spark, 1).persist()
    df.count()
    yield df
    distml.release(df)
    df.unpersist()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_second_fit_reads_resident_partitions(cached, engine):
    before = resident.counts()
    first, second = _fit(cached, engine), _fit(cached, engine)
    assert not first.resident and second.resident
    after = resident.counts()
    assert after["reused"] == before["reused"] + 1
    assert after["ingested"] == before["ingested"] + 1
    assert _same(first, second)


def test_estimators_share_resident_partitions_and_give_the_same_model(cached):
    lr = LogisticRegression(maxIter=30, regParam=0.01)
    first = lr.fit(cached)
    reused = resident.counts()["reused"]
    second = lr.fit(cached)
    assert resident.counts()["reused"] == reused + 1
    assert first.coefficients.toArray().tobytes() == second.coefficients.toArray().tobytes()
    assert first.intercept == second.intercept
    # The models say how they were trained: the second from resident partitions.
    assert not first.trainingInfo.residentInput and second.trainingInfo.residentInput
    assert second.trainingInfo.numRows == 300 and second.trainingInfo.numPartitions == 2


@pytest.mark.parametrize("engine", ENGINES)
def test_changed_data_is_never_served_stale(spark, cached, engine):
    _fit(cached, engine)
    # another filter, persisted too: its own cache, its own key
    filtered = cached.filter("label > 0").persist()
    got = _fit(filtered, engine)
    assert not got.resident and got.summary.num_rows == filtered.count()
    # other columns of the same cached rows
    other = fit_program(programs.primitives, {}, cached, InputSpec("features", label="other"),
                        engine=engine)
    assert not other.resident
    assert not _same(other, _fit(cached, engine))
    # another Python object over the same plan (its own is_cached is False) finds the cache
    again = DataFrame(cached._jdf, spark)
    assert not again.is_cached and _fit(again, engine).resident
    # unpersisted, it has no key: it ingests; persisted again, a new cache: it ingests once
    filtered.unpersist()
    assert not _fit(filtered, engine).resident
    filtered.persist()
    assert not _fit(filtered, engine).resident
    assert _fit(filtered, engine).resident
    distml.release(filtered)
    filtered.unpersist()


@pytest.mark.parametrize("engine", ("barrier", "jobs"))
def test_a_missing_entry_is_ingested_again(cached, engine):
    """A task on a host without the entry (here: the entry deleted behind the driver's back)
    reads the DataFrame, and gives the fresh fit's result."""
    first = _fit(cached, engine)
    assert _fit(cached, engine).resident
    for _, _, path in partition_store.entries(resident.PREFIX):
        shutil.rmtree(path)
    again = _fit(cached, engine)
    assert not again.resident and _same(first, again)
    assert len(partition_store.entries(resident.PREFIX)) == 2  # stored again
    assert _fit(cached, engine).resident


def test_eviction_keeps_the_store_under_its_limit(spark):
    frames_ = [_frame(spark, seed, rows=2000).persist() for seed in (2, 3)]
    for df in frames_:
        df.count()
    # a DataFrame is 2 partitions of 1000 x 4 features + labels: 2 x 40 kB (+ file headers);
    # the limit leaves room for one DataFrame, not two
    limit = 120_000
    for _, _, path in partition_store.entries(resident.PREFIX):  # earlier tests' entries
        shutil.rmtree(path)
    spark.conf.set(resident.LIMIT_CONF, str(limit))
    try:
        _fit(frames_[0], "barrier")
        assert len(partition_store.entries(resident.PREFIX)) == 2
        _fit(frames_[1], "barrier")  # evicts the first DataFrame's partitions
        held = partition_store.entries(resident.PREFIX)
        assert sum(size for _, size, _ in held) <= limit and len(held) == 2
        again = _fit(frames_[0], "barrier")  # the driver thinks it is there: a miss, ingested
        assert not again.resident and again.summary.num_rows == 2000
    finally:
        spark.conf.unset(resident.LIMIT_CONF)
        for df in frames_:
            distml.release(df)
            df.unpersist()


def test_unpersisting_frees_the_entries_at_the_next_fit(spark, cached):
    df = _frame(spark, 7).persist()
    df.count()
    before = {path for _, _, path in partition_store.entries(resident.PREFIX)}
    _fit(df, "barrier")
    mine = {path for _, _, path in partition_store.entries(resident.PREFIX)} - before
    assert len(mine) == 2
    df.unpersist()
    _fit(cached, "barrier")  # any keyed fit notices
    left = {path for _, _, path in partition_store.entries(resident.PREFIX)}
    assert not mine & left


def test_release_frees_the_entries(spark, cached):
    _fit(cached, "barrier")
    _fit(cached, "local")
    assert partition_store.entries(resident.PREFIX)
    distml.release(cached)
    assert not partition_store.entries(resident.PREFIX)
    assert not _fit(cached, "barrier").resident


def test_release_of_pandas_or_of_data_never_fitted_does_nothing(spark, cached):
    import pandas as pd
    distml.release(pd.DataFrame({"x": [1.0]}))
    distml.release(cached.filter("label > 0"))


def test_turned_off_by_a_zero_limit(spark, cached):
    spark.conf.set(resident.LIMIT_CONF, "0")
    try:
        _fit(cached, "barrier")
        assert not _fit(cached, "barrier").resident
    finally:
        spark.conf.unset(resident.LIMIT_CONF)
