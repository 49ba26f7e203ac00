"""KMeans fit: distml (barrier, jobs) vs pyspark.ml vs scikit-learn, k-means|| / k-means++.

Ten Gaussian blobs in d dimensions (centres N(0, 4^2), unit spread), k = 10, each contender at
its defaults otherwise (maxIter 20 and tol 1e-4 for distml and pyspark.ml, as MLlib's;
scikit-learn's n_init=1). Inertia is the sum of squared distances from every row to the nearest
of the model's centres, computed in numpy after the clock stops, the same way for all.
"""
from __future__ import annotations

import numpy as np
from pyspark.ml.clustering import KMeans as SparkKMeans
from sklearn.cluster import KMeans as SkKMeans

from benchmarks.common import add_speedups, best_of, frame_of, report
from distml import KMeans

K = 10


def _inertia(X, centers):
    centers = np.asarray(centers)
    d2 = (X * X).sum(axis=1)[:, None] - 2 * X @ centers.T + (centers * centers).sum(axis=1)
    return float(np.maximum(d2, 0).min(axis=1).sum())


def run(spark, n: int, d: int, rounds: int, out: str) -> dict:
    rng = np.random.default_rng(1)
    labels = rng.integers(0, K, n)
    X = rng.normal(scale=4.0, size=(K, d))[labels] + rng.normal(size=(n, d))
    df = frame_of(spark, X, labels.astype(np.float64))

    def distml(engine):
        def fit():
            m = KMeans(k=K, seed=1, engine=engine).fit(df)
            return lambda: {"inertia": _inertia(X, m.clusterCenters()),
                            "iterations": m.summary.numIter}
        return fit

    def pyspark_ml():
        m = SparkKMeans(k=K, seed=1).fit(df)
        return lambda: {"inertia": _inertia(X, m.clusterCenters()),
                        "iterations": m.summary.numIter}

    def sklearn():
        m = SkKMeans(K, n_init=1, random_state=1).fit(X)
        return lambda: {"inertia": _inertia(X, m.cluster_centers_), "iterations": int(m.n_iter_)}

    results = best_of({"distml (barrier)": distml("barrier"), "distml (jobs)": distml("jobs"),
                       "pyspark.ml": pyspark_ml, "scikit-learn (in memory)": sklearn}, rounds)
    add_speedups(results)
    report(f"KMeans fit, {n:,} x {d} dense, k={K}, {spark.sparkContext.master}", results, out,
           {"rows": n, "features": d, "rounds": rounds, "k": K})
    return results
