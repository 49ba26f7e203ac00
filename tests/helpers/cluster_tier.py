"""The multi-process tier (tests/cluster): one ``local-cluster[2,1,1024]`` application per
module, the labelled rows its modules fit, and the estimators they fit on every engine."""
from contextlib import contextmanager

import numpy as np

from distml import DecisionTreeClassifier, KMeans, LogisticRegression

ROWS = 2000


@contextmanager
def cluster_session(app_name: str, **conf: str):
    """A local-cluster session with ``conf``, stopped at the end without leaving its confs to
    the module after it: pyspark's session builder also sets them as Java system properties,
    which the next SparkContext in this JVM would load as its own."""
    from distml.frames import local_session
    session = local_session("local-cluster[2,1,1024]", app_name=app_name,
                            **{"spark.driver.memory": "1g", **conf})
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        jvm = session.sparkContext._jvm
        session.stop()
        for key in conf:
            jvm.System.clearProperty(key)


def labelled_rows(spark):
    """(X, y, a DataFrame of them in two partitions holding rows [0, n/2) and [n/2, n): the
    split an in-process fit of the same rows in two partitions makes; parallelize slices a
    list contiguously)."""
    rng = np.random.default_rng(8)
    X = rng.normal(size=(ROWS, 4))
    y = (X[:, 0] - X[:, 1] + 0.5 * rng.normal(size=ROWS) > 0).astype(float)
    from pyspark.ml.linalg import Vectors
    rdd = spark.sparkContext.parallelize([(Vectors.dense(r), float(t)) for r, t in zip(X, y)],
                                         2)
    return X, y, spark.createDataFrame(rdd, ["features", "label"])


# name -> (the estimator on an engine, the arrays that make its model)
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
