"""Spark Connect (issue 24): a fit that loses a rank resumes from rank 0's checkpoint.

Over Connect the ranks cannot reach the client, so rank 0 writes the checkpoints itself into
a directory every executor reaches (``checkpoint.RankWriter``), and the client reads them for
the retry through the server. The failure is the ``distml.test.failOnce`` hook, set as a
session conf (``engine.faults``). Reference: the same fit over Connect without the failure,
within 1e-8 absolute as in ``tests/spark/test_recovery.py``.
"""
import logging
import os
from contextlib import contextmanager

import numpy as np
import pytest

from distml import FitError, KMeans, LogisticRegression

pytestmark = pytest.mark.spark

HOOK = "spark.distml.test.failOnce"


@contextmanager
def hook(spark, value):
    spark.conf.set(HOOK, value)
    try:
        yield
    finally:
        spark.conf.unset(HOOK)


@pytest.fixture(scope="module")
def frames(connect):
    from pyspark.ml.linalg import Vectors
    rng = np.random.default_rng(11)
    X = rng.normal(size=(400, 6))
    y = (X @ rng.normal(size=6) + 0.5 * rng.normal(size=400) > 0).astype(float)
    labelled = connect.createDataFrame([(Vectors.dense(r), float(v)) for r, v in zip(X, y)],
                                       ["features", "label"])
    U = rng.uniform(size=(2000, 2))  # Lloyd's iterations keep moving: all 20 run
    points = connect.createDataFrame([(Vectors.dense(r),) for r in U], ["features"])
    return {"lr": labelled, "kmeans": points}


def estimator(name, **checkpoints):
    if name == "lr":  # elastic net: OWL-QN runs all 20 iterations here (tol 0)
        return LogisticRegression(regParam=0.01, elasticNetParam=0.5, tol=0.0, maxIter=20,
                                  checkpointInterval=4, **checkpoints)
    return KMeans(k=8, initMode="random", tol=0.0, seed=3, maxIter=20, checkpointInterval=4,
                  **checkpoints)


def arrays(name, model):
    if name == "lr":
        return [model.coefficientMatrix.toArray(), model.interceptVector.toArray()]
    return [np.array(model.clusterCenters())]


@pytest.mark.parametrize("name", ["lr", "kmeans"])
def test_a_rank_lost_at_iteration_5_resumes_from_rank_0_s_checkpoint(
        connect, frames, tmp_path, caplog, name):
    df = frames[name]
    reference = estimator(name).fit(df)
    directory = tmp_path / "checkpoints"
    with caplog.at_level(logging.WARNING, logger="distml"), hook(connect, "rank=1,iteration=5"):
        recovered = estimator(name, checkpointDir=str(directory)).fit(df)
    # Spark reports whichever task failed first: rank 1's own error, or a peer's PeerAborted
    # naming it.
    assert "attempt 1 of 4 failed (" in caplog.text
    assert "InjectedFailure: distml.test.failOnce: rank 1 failed at iteration 5" in caplog.text
    assert "resumes from the checkpoint of iteration 4" in caplog.text
    assert "resumed from iteration 4 and completed" in caplog.text
    for got, want in zip(arrays(name, recovered), arrays(name, reference)):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-8)
    assert not any(name.endswith(".ckpt") for _, _, files in os.walk(directory)
                   for name in files)  # removed once the fit succeeded


def test_the_session_conf_names_the_directory_when_the_param_is_not_set(
        connect, frames, tmp_path, caplog):
    connect.conf.set("spark.distml.checkpointDir", str(tmp_path / "conf-dir"))
    try:
        with caplog.at_level(logging.WARNING, logger="distml"), \
                hook(connect, "rank=0,iteration=6"):
            estimator("kmeans").fit(frames["kmeans"])
    finally:
        connect.conf.unset("spark.distml.checkpointDir")
    assert "resumes from the checkpoint of iteration 4" in caplog.text
    assert f"'{tmp_path / 'conf-dir'}/KMeans-" in caplog.text


def test_without_a_directory_the_error_says_where_checkpoints_must_go(connect, frames):
    with hook(connect, "rank=1,iteration=5,attempts=9"), pytest.raises(FitError) as raised:
        estimator("lr").fit(frames["lr"])
    message = str(raised.value)
    assert "failed on all 4 attempts; the first failure: " in message
    assert "InjectedFailure: distml.test.failOnce: rank 1 failed at iteration 5" in message
    assert ("storage every executor reaches (the checkpointDir param, spark.distml.checkpointDir"
            " or spark.checkpoint.dir)" in message)
