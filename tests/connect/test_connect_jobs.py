"""Spark Connect (issue 24): the jobs engine from a Connect client (``engine.frame_jobs``), a
DataFrame job a round, for servers whose dynamic allocation refuses barrier stages.

Reference: the barrier engine over Connect on the same DataFrame. Both fit the same
partitions (the same repartition of the same rows) and fold the partitions' results in
partition order, so the models agree bit for bit, as the classic jobs and barrier engines do
(``tests/spark/test_engines.py``).
"""
import logging
from contextlib import contextmanager

import numpy as np
import pandas as pd
import pytest

import programs
from distml import (ALS, LDA, DataError, DecisionTreeClassifier, GBTClassifier, KMeans,
                    LogisticRegression)
from distml.engine.fit import fit_program
from distml.frames import InputSpec

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def frames(connect):
    from pyspark.ml.linalg import Vectors
    rng = np.random.default_rng(21)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] - X[:, 1] + 0.3 * rng.normal(size=300) > 0).astype(float)
    labelled = connect.createDataFrame([(Vectors.dense(r), float(t)) for r, t in zip(X, y)],
                                       ["features", "label"])
    counts = connect.createDataFrame(
        [(Vectors.dense(np.abs(np.round(3 * r))),) for r in X], ["features"])
    ratings = connect.createDataFrame(pd.DataFrame({
        "user": rng.integers(0, 30, 500), "item": rng.integers(0, 20, 500),
        "rating": rng.uniform(1, 5, 500)}))
    return {"labelled": labelled, "counts": counts, "ratings": ratings}


CASES = {
    "lr": (lambda **e: LogisticRegression(maxIter=15, regParam=0.01, **e), "labelled",
           lambda m: [m.coefficientMatrix.toArray(), m.interceptVector.toArray()]),
    "kmeans": (lambda **e: KMeans(k=3, seed=1, maxIter=10, **e), "labelled",
               lambda m: [np.array(m.clusterCenters())]),
    "als": (lambda **e: ALS(rank=2, maxIter=4, seed=5, **e), "ratings",  # repartition
            lambda m: [m._users[1], m._items[1]]),
    "tree": (lambda **e: DecisionTreeClassifier(maxDepth=4, **e), "labelled",
             lambda m: [m._nodes[k] for k in ("feature", "threshold", "stats")]),
    "gbt": (lambda **e: GBTClassifier(maxIter=4, maxDepth=2, **e), "labelled",
            lambda m: [m._tree_weights] + [t["threshold"] for t in m._trees]),
    "lda": (lambda **e: LDA(k=2, maxIter=4, seed=1, **e), "counts",
            lambda m: [m.topicsMatrix().toArray()]),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_the_jobs_engine_gives_the_barrier_engine_s_model(frames, name):
    make, data, arrays = CASES[name]
    df = frames[data]
    jobs = make(engine="jobs").fit(df)
    barrier = make(engine="barrier").fit(df)
    assert jobs.trainingInfo.engine == "jobs"
    for got, want in zip(arrays(jobs), arrays(barrier)):
        np.testing.assert_array_equal(got, want)


def test_a_round_whose_host_lost_its_store_reads_the_dataframe(frames, caplog):
    """The host store vanishes mid-fit: the round runs again with the rows from the DataFrame
    (which refills the store), and every result is the barrier engine's."""
    df, spec = frames["labelled"], InputSpec("features", label="label")
    with caplog.at_level(logging.INFO, logger="distml"):
        got = fit_program(programs.survives_a_lost_store, {}, df, spec, engine="jobs").values
    want = fit_program(programs.survives_a_lost_store, {}, df, spec, engine="barrier").values
    for key in want:
        assert got[key].tobytes() == want[key].tobytes(), key
    assert got["update"].tolist() == [300.0, 900.0]
    assert "a task ran away from its stored partition" in caplog.text


@contextmanager
def hook(spark, value):
    spark.conf.set("spark.distml.test.failOnce", value)
    try:
        yield
    finally:
        spark.conf.unset("spark.distml.test.failOnce")


def test_a_failed_round_resumes_from_the_checkpoint_an_executor_wrote(
        connect, frames, tmp_path, caplog):
    """The loop runs on the client, the checkpoints go to storage the executors reach (an
    executor writes each). Reference: the same fit without the failure, within 1e-8."""
    df = frames["labelled"]

    def fit(**checkpoints):
        return LogisticRegression(maxIter=12, regParam=0.01, elasticNetParam=0.5, tol=0.0,
                                  engine="jobs", checkpointInterval=4, **checkpoints).fit(df)
    reference = fit()
    with caplog.at_level(logging.WARNING, logger="distml"), hook(connect, "rank=1,iteration=6"):
        recovered = fit(checkpointDir=str(tmp_path / "checkpoints"))
    assert "InjectedFailure: distml.test.failOnce: rank 1 failed at iteration 6" in caplog.text
    assert "resumes from the checkpoint of iteration 4" in caplog.text
    np.testing.assert_allclose(recovered.coefficients.toArray(),
                               reference.coefficients.toArray(), rtol=0, atol=1e-8)


def test_bad_data_on_the_jobs_engine_raises_the_column_s_error_at_once(connect):
    from pyspark.ml.linalg import Vectors
    df = connect.createDataFrame([(Vectors.dense([1.0, np.nan]), 1.0),
                                  (Vectors.dense([1.0, 2.0]), 0.0)] * 5, ["features", "label"])
    with pytest.raises(DataError, match=r"'features' has \d NaN or infinite"):
        LogisticRegression(maxIter=5, engine="jobs").fit(df)
