"""The multi-process tier (issue 21, first step): Spark's ``local-cluster[2,1,1024]`` master
runs a standalone master, a worker and two executor JVMs, each with its own Python workers,
as a cluster does; ``local[N]`` runs every task in the driver's JVM and hides that.

Run in a pytest process of its own (``make test`` runs this folder after the rest): one
SparkContext per process, and the rest of the suite holds a ``local[2,4]`` one. One cluster
session for the module keeps the tier's cost to its start (~10 s) and the fits.

Reference: the same estimator on the same rows as a pandas DataFrame, fitted in process with
as many partitions, which (as every engine) folds per-partition results in partition order:
the same partitions give the same bits, so the models must be identical.
"""
import numpy as np
import pandas as pd
import pytest
from pyspark.ml.linalg import Vectors

from distml import DecisionTreeClassifier, KMeans, LogisticRegression

pytestmark = pytest.mark.spark

ROWS = 2000


@pytest.fixture(scope="module")
def cluster():
    from distml.frames import local_session
    session = local_session("local-cluster[2,1,1024]", app_name="distml-cluster-tests",
                            **{"spark.driver.memory": "1g"})
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


@pytest.fixture(scope="module")
def data(cluster):
    rng = np.random.default_rng(8)
    X = rng.normal(size=(ROWS, 4))
    y = (X[:, 0] - X[:, 1] + 0.5 * rng.normal(size=ROWS) > 0).astype(float)
    frame = pd.DataFrame({"features": list(X), "label": y})
    # Two partitions holding rows [0, n/2) and [n/2, n): the pandas reference's split
    # (parallelize slices a list contiguously).
    rdd = cluster.sparkContext.parallelize([(Vectors.dense(r), float(t))
                                            for r, t in zip(X, y)], 2)
    assert rdd.glom().map(len).collect() == [ROWS // 2, ROWS - ROWS // 2]
    df = cluster.createDataFrame(rdd, ["features", "label"]).cache()
    df.count()
    executors = cluster.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1
    assert executors == 2  # separate executor JVMs (the driver's own entry excluded)
    yield df, frame
    df.unpersist()


ESTIMATORS = {
    "logistic_regression": (lambda engine: LogisticRegression(maxIter=30, regParam=0.01,
                                                              engine=engine, numWorkers=2),
                            lambda m: np.r_[m.coefficients.toArray(), m.intercept]),
    "kmeans": (lambda engine: KMeans(k=3, seed=4, maxIter=10, engine=engine, numWorkers=2),
               lambda m: np.concatenate(m.clusterCenters())),
    "decision_tree": (lambda engine: DecisionTreeClassifier(maxDepth=4, engine=engine,
                                                            numWorkers=2),
                      lambda m: np.r_[m.featureImportances.toArray(), m.numNodes]),
}


@pytest.mark.parametrize("engine", ["barrier", "jobs"])
@pytest.mark.parametrize("name", sorted(ESTIMATORS))
def test_every_engine_fits_the_in_process_model_across_executor_jvms(data, name, engine):
    df, frame = data
    make, arrays = ESTIMATORS[name]
    on_cluster = make(engine).fit(df)
    in_process = make("local").fit(frame)
    np.testing.assert_array_equal(arrays(on_cluster), arrays(in_process))
    assert on_cluster.trainingInfo.engine == engine
