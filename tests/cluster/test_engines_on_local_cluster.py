"""The multi-process tier (issue 21): Spark's ``local-cluster[2,1,1024]`` master runs a
standalone master, two workers and two executor JVMs, each with its own Python workers, as a
cluster does; ``local[N]`` runs every task in the driver's JVM and hides that. This module's
cluster has a static allocation; ``test_dynamic_allocation.py`` runs one with dynamic
allocation.

Run in a pytest process of its own (``make test`` runs this folder after the rest): one
SparkContext per process, and the rest of the suite holds a ``local[2,4]`` one. One cluster
session for the module keeps the tier's cost to its start (~10 s) and the fits.

Reference: the same estimator on the same rows as a pandas DataFrame, fitted in process with
as many partitions, which (as every engine) folds per-partition results in partition order:
the same partitions give the same bits, so the models must be identical.
"""
import logging
import time

import numpy as np
import pandas as pd
import pytest

from cluster_tier import ESTIMATORS, ROWS, cluster_session, labelled_rows
from distml.engine.faults import PROPERTY

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def cluster():
    with cluster_session("distml-cluster-tests") as session:
        yield session


@pytest.fixture(scope="module")
def data(cluster):
    X, y, df = labelled_rows(cluster)
    assert df.rdd.glom().map(len).collect() == [ROWS // 2, ROWS - ROWS // 2]
    df.cache().count()
    assert executor_count(cluster) == 2  # separate executor JVMs
    yield df, pd.DataFrame({"features": list(X), "label": y})
    df.unpersist()


def executor_count(spark) -> int:
    return spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1  # not the driver


@pytest.mark.parametrize("engine", ["barrier", "gang", "jobs"])
@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_every_engine_fits_the_in_process_model_across_executor_jvms(data, name, engine):
    df, frame = data
    make, arrays = ESTIMATORS[name]
    on_cluster = make(engine).fit(df)
    in_process = make("local").fit(frame)
    np.testing.assert_array_equal(arrays(on_cluster), arrays(in_process))
    assert on_cluster.trainingInfo.engine == engine


@pytest.mark.parametrize("engine", ["barrier", "gang", "jobs"])
def test_a_fit_survives_an_executor_killed_in_its_middle(cluster, data, engine, caplog):
    """Rank 1 ends its executor JVM (SIGHUP) at iteration 3. The barrier and gang engines
    fail the attempt (the rank's peers and the rendezvous see its connections close) and the
    driver runs it again once the standalone master has replaced the executor; on the jobs
    engine Spark reruns the lost tasks and recomputes the lost state. Either way the model is
    the one an undisturbed fit gives."""
    df, frame = data
    make, arrays = ESTIMATORS["kmeans"]
    sc = cluster.sparkContext
    sc.setLocalProperty(PROPERTY, "rank=1,iteration=3,kill=executor")
    try:
        with caplog.at_level(logging.WARNING, logger="distml"):
            model = make(engine).fit(df)
    finally:
        sc.setLocalProperty(PROPERTY, None)
    np.testing.assert_array_equal(arrays(model), arrays(make("local").fit(frame)))
    if engine == "jobs":
        assert "Spark ran its task again" in caplog.text
    else:
        # Whoever notices first names it: rank 0 (the connection closed) or the rendezvous.
        assert "attempt 1 of 4 failed" in caplog.text and "rank 1 " in caplog.text
    deadline = time.monotonic() + 60  # leave the cluster whole for the next test
    while executor_count(cluster) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert executor_count(cluster) == 2

