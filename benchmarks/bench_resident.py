"""A later fit on the same cached DataFrame (resident partitions, issue 20) beside a first fit
and pyspark.ml's fit: LogisticRegression (regParam 1e-4) and LinearRegression (ordinary least
squares, one pass of statistics), each on the same data and params as pyspark.ml's.

"distml first fit" frees the resident partitions before fitting, so it ingests (and stores
them again); "distml later fit" finds them. The other suites run with resident partitions
off (``benchmarks/run.py``), so their figures stay first fits.
"""
from __future__ import annotations

import numpy as np
from pyspark.ml.classification import LogisticRegression as SparkLogisticRegression
from pyspark.ml.regression import LinearRegression as SparkLinearRegression

import distml
from benchmarks.common import add_speedups, best_of, dense_frame, frame_of, report
from distml import LinearRegression, LogisticRegression
from distml.engine import resident

REG_PARAM = 1e-4


def run(spark, n: int, d: int, rounds: int, out: str) -> dict:
    spark.conf.set(resident.LIMIT_CONF, resident.DEFAULT_LIMIT)  # on, for this suite
    try:
        classified, _, _ = dense_frame(spark, n, d)
        rng = np.random.default_rng(0)
        X = rng.normal(size=(n, d))
        regressed = frame_of(spark, X, X @ rng.normal(size=d) + rng.normal(size=n))
        return {
            "LogisticRegression": _compare(
                spark, classified, LogisticRegression, SparkLogisticRegression,
                {"regParam": REG_PARAM}, rounds, out, n, d),
            "LinearRegression": _compare(
                spark, regressed, LinearRegression, SparkLinearRegression, {}, rounds,
                out.replace(".json", "_linear_regression.json"), n, d)}
    finally:
        spark.conf.set(resident.LIMIT_CONF, "0")


def _compare(spark, df, ours, theirs, params: dict, rounds: int, out: str, n: int, d: int
             ) -> dict:
    def distml_fit(first: bool):
        def fit():
            if first:
                distml.release(df)
            reused = resident.counts()["reused"]
            m = ours(**params).fit(df)
            resident_now = resident.counts()["reused"] > reused
            return lambda: {"iterations": m.summary.totalIterations,
                            "resident": str(resident_now)}
        return fit

    def pyspark_ml():
        m = theirs(**params).fit(df)
        return lambda: {"iterations": m.summary.totalIterations, "resident": "-"}

    results = best_of({"distml first fit": distml_fit(True),
                       "distml later fit": distml_fit(False),
                       "pyspark.ml": pyspark_ml}, rounds)
    add_speedups(results)
    report(f"{ours.__name__} fit on a cached DataFrame seen before, {n:,} x {d} dense, "
           f"{params or 'defaults'}, {spark.sparkContext.master}", results, out,
           {"rows": n, "features": d, "rounds": rounds, **params})
    distml.release(df)
    df.unpersist()
    return results
