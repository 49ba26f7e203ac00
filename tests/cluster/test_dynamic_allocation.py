"""A ``local-cluster[2,1,1024]`` application with dynamic allocation on, as EMR, Dataproc and
most YARN or Kubernetes clusters run by default (issue 21): Spark refuses barrier stages
there, so ``engine="auto"`` runs the gang engine, the barrier engine's ranks in an ordinary
stage. The application starts with no executor (minExecutors 0): the cluster grows as the
stages ask.

Reference: the same estimator on the same DataFrame with ``engine="local"``, which fits
Spark's own partitions in process; ``test_engines_on_local_cluster.py`` shows the barrier
engine gives that model bit for bit, so this is the barrier engine's model. LR, k-means and
the tree must be identical; ALS and LDA within 1e-8, as the engines agree on them on
``local[2]`` (``tests/spark/test_als_spark.py``, ``test_lda_spark.py``).
"""
import logging

import numpy as np
import pandas as pd
import pytest
from pyspark.ml.linalg import SparseVector

from cluster_tier import ESTIMATORS as ON_LABELLED_ROWS
from cluster_tier import cluster_session, labelled_rows
from distml import ALS, LDA, KMeans

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def cluster():
    with cluster_session("distml-dynamic-allocation-tests", **{
            "spark.dynamicAllocation.enabled": "true",
            "spark.dynamicAllocation.shuffleTracking.enabled": "true",
            "spark.dynamicAllocation.minExecutors": "0",
            "spark.dynamicAllocation.maxExecutors": "2",
            "spark.shuffle.service.enabled": "false"}) as session:
        yield session


@pytest.fixture(scope="module")
def data(cluster):
    rng = np.random.default_rng(9)
    _, _, labelled = labelled_rows(cluster)
    ratings = pd.DataFrame({"user": rng.integers(0, 60, 3000), "item": rng.integers(0, 40, 3000),
                            "rating": rng.normal(1.0, 2.0, 3000)})
    words = rng.poisson(0.4, size=(300, 30)) * (rng.random((300, 30)) < 0.5)
    documents = [(SparseVector(30, np.flatnonzero(w), w[np.flatnonzero(w)].astype(float)),)
                 for w in words]
    frames = {
        "labelled": labelled,
        "ratings": cluster.createDataFrame(ratings).repartition(2),
        "documents": cluster.createDataFrame(cluster.sparkContext.parallelize(documents, 2),
                                             ["features"]),
    }
    for df in frames.values():
        df.cache().count()
    yield frames
    for df in frames.values():
        df.unpersist()


# name -> (the data it fits, the tolerance against the in-process model, make, arrays)
ESTIMATORS = {
    **{name: ("labelled", 0.0, make, arrays)
       for name, (make, arrays) in ON_LABELLED_ROWS.items()},
    "als": ("ratings", 1e-8, lambda engine: ALS(rank=4, maxIter=3, seed=5, engine=engine,
                                                numWorkers=2),
            lambda m: np.concatenate([m._users[1].ravel(), m._items[1].ravel()])),
    "lda": ("documents", 1e-8, lambda engine: LDA(k=3, maxIter=5, seed=3, engine=engine,
                                                  numWorkers=2),
            lambda m: np.r_[m._topics.ravel(), m._alpha]),
}


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_auto_fits_on_the_gang_engine_the_barrier_engines_model(cluster, data, name, caplog):
    frame, atol, make, arrays = ESTIMATORS[name]
    df = data[frame]
    with caplog.at_level(logging.INFO, logger="distml"):
        model = make("auto").fit(df)
    assert model.trainingInfo.engine == "gang"
    assert "engine='gang'" in caplog.text and "gang stage of 2 ranks" in caplog.text
    np.testing.assert_allclose(arrays(model), arrays(make("local").fit(df)), rtol=0, atol=atol)


def test_barrier_is_refused_with_the_engines_to_use_instead(data):
    from distml.errors import ParamError
    with pytest.raises(ParamError, match="dynamic allocation is on.*engine='gang' or 'auto'"):
        KMeans(k=2, engine="barrier").fit(data["labelled"])


def test_the_gang_engine_sizes_itself_to_the_executors_it_gets(cluster, data, caplog):
    """numWorkers=0 asks for the input's partitions (3 here); the cluster grows to its
    maxExecutors (2), and after spark.distml.gang.allocationWait the fit runs on what is
    there, saying so in one line."""
    df = data["labelled"].repartition(3)
    cluster.conf.set("spark.distml.gang.allocationWait", "2")
    try:
        with caplog.at_level(logging.INFO, logger="distml"):
            model = KMeans(k=3, seed=4, maxIter=10).fit(df)
    finally:
        cluster.conf.unset("spark.distml.gang.allocationWait")
    assert model.trainingInfo.engine == "gang" and model.trainingInfo.numPartitions == 2
    assert "gang stage of 2 ranks (3 wanted; the cluster runs 2 tasks at once)" in caplog.text


def test_more_ranks_than_the_cluster_can_hold_fall_back_to_the_jobs_engine(cluster, data,
                                                                          caplog):
    df = data["labelled"]
    cluster.conf.set("spark.distml.gang.startTimeout", "3")
    cluster.conf.set("spark.distml.gang.allocationWait", "1")
    try:
        with caplog.at_level(logging.INFO, logger="distml"):
            model = KMeans(k=3, seed=4, maxIter=10, numWorkers=3).fit(df)
    finally:
        cluster.conf.unset("spark.distml.gang.startTimeout")
        cluster.conf.unset("spark.distml.gang.allocationWait")
    assert model.trainingInfo.engine == "jobs"
    assert "only 2 of 3 ranks started within 3 s of the first" in caplog.text
    assert "this fit runs on the jobs engine" in caplog.text
    jobs = KMeans(k=3, seed=4, maxIter=10, engine="jobs", numWorkers=3).fit(df)
    np.testing.assert_array_equal(np.concatenate(model.clusterCenters()),
                                  np.concatenate(jobs.clusterCenters()))
