"""Truncated SVD: distml SVD (barrier, jobs) vs pyspark.mllib's RowMatrix.computeSVD vs scipy.

k = 10 of a matrix with a decaying spectrum. pyspark.ml has no SVD estimator; RowMatrix (the
RDD API) is what Spark users call, so its time includes turning the DataFrame's rows into an
RDD of mllib vectors. Quality: the largest relative error of the k singular values against
numpy's, after the clock stops.
"""
from __future__ import annotations

import numpy as np
from pyspark.mllib.linalg import Vectors as MllibVectors
from pyspark.mllib.linalg.distributed import RowMatrix

from benchmarks.common import add_speedups, best_of, frame_of, report
from distml import SVD

K = 10


def run(spark, n: int, d: int, rounds: int, out: str) -> dict:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(n, d)) * 0.9 ** np.arange(d)
    df = frame_of(spark, X, np.zeros(n))
    reference = np.linalg.svd(X, compute_uv=False)[:K]

    def error(values):
        return lambda: {"max_relative_error": float(np.max(np.abs(np.asarray(values)
                                                                  - reference) / reference))}

    def distml(engine):
        def fit():
            return error(SVD(k=K, inputCol="features", engine=engine).fit(df)
                         .singularValues.toArray())
        return fit

    def pyspark_row_matrix():
        rows = df.select("features").rdd.map(lambda r: MllibVectors.fromML(r.features))
        return error(RowMatrix(rows).computeSVD(K).s.toArray())

    def scipy_in_memory():
        return error(np.linalg.svd(X, full_matrices=False)[1][:K])

    results = best_of({"distml (barrier)": distml("barrier"), "distml (jobs)": distml("jobs"),
                       "pyspark.ml": pyspark_row_matrix,
                       "numpy svd (in memory)": scipy_in_memory}, rounds)
    add_speedups(results)
    report(f"Truncated SVD, {n:,} x {d} dense, k={K}, {spark.sparkContext.master} "
           "(pyspark.ml row: pyspark.mllib RowMatrix.computeSVD)", results, out,
           {"rows": n, "features": d, "rounds": rounds, "k": K})
    return results
