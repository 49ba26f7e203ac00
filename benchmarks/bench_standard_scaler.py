"""StandardScaler fit: distml (auto, barrier, jobs) vs pyspark.ml vs scikit-learn, same data.

A one-pass fit on an engine cannot beat MLlib by more than the cost of moving the rows into
numpy allows, so that floor (a barrier fit whose program does nothing) is measured beside them;
``engine="auto"`` fits the statistics as one Spark SQL aggregate instead
(``distml/pipeline/stat/statistics_in_jvm.py``), and the result says which ran.
"""
from __future__ import annotations

import numpy as np
from pyspark.ml.feature import StandardScaler as SparkStandardScaler
from sklearn.preprocessing import StandardScaler as SkStandardScaler

from benchmarks.common import best_of, dense_frame, ingestion_floor, report
from distml import StandardScaler


def run(spark, n: int, d: int, rounds: int, out: str) -> dict:
    df, X, _ = dense_frame(spark, n, d)
    std = X.std(axis=0, ddof=1)

    def distml(engine):
        def fit():
            model = StandardScaler(inputCol="features", outputCol="o", engine=engine).fit(df)
            return lambda: {"max_std_error": float(np.abs(model.std.toArray() - std).max()),
                            "ran_on": model.trainingInfo.engine}
        return fit

    def pyspark_ml():
        model = SparkStandardScaler(inputCol="features", outputCol="o").fit(df)
        return lambda: {"max_std_error": float(np.abs(model.std.toArray() - std).max())}

    def sklearn():
        model = SkStandardScaler().fit(X)
        # scikit-learn's scale_ is the biased (ddof=0) std; rescale to compare.
        return lambda: {"max_std_error": float(np.abs(model.scale_ * np.sqrt(n / (n - 1))
                                                      - std).max())}

    results = best_of({"distml (auto)": distml("auto"), "distml (barrier)": distml("barrier"), "distml (jobs)": distml("jobs"),
                       "pyspark.ml": pyspark_ml, "scikit-learn (in memory)": sklearn,
                       "rows into numpy only": ingestion_floor(df)}, rounds)
    report(f"StandardScaler fit, {n:,} x {d} dense, {spark.sparkContext.master}", results, out,
           {"rows": n, "features": d, "rounds": rounds})
    return results
