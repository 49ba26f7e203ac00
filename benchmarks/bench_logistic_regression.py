"""LogisticRegression fit: distml (barrier, jobs) vs pyspark.ml vs scikit-learn, same data.

Same regParam and tol for all, at pyspark.ml's defaults otherwise (standardization=True: the
penalty applies to standardized coefficients). The features are N(0, 1), so scikit-learn's
C = 1 / (regParam * n) on the raw coefficients is the same objective up to the sample std's
distance from 1. Accuracy is measured on the training rows, in numpy, after the clock stops.
"""
from __future__ import annotations

from pyspark.ml.classification import LogisticRegression as SparkLogisticRegression
from sklearn.linear_model import LogisticRegression as SkLogisticRegression

from benchmarks.common import add_speedups, best_of, dense_frame, report
from distml import LogisticRegression

REG_PARAM = 0.001
TOL = 1e-6


def _accuracy(X, y, coef, intercept):
    return float(((X @ coef + intercept > 0) == (y > 0.5)).mean())


def run(spark, n: int, d: int, rounds: int, out: str) -> dict:
    df, X, y = dense_frame(spark, n, d)
    common = {"regParam": REG_PARAM, "tol": TOL}

    def distml(engine):
        def fit():
            m = LogisticRegression(engine=engine, **common).fit(df)
            return lambda: {"accuracy": _accuracy(X, y, m.coefficients.toArray(), m.intercept),
                            "iterations": m.summary.totalIterations}
        return fit

    def pyspark_ml():
        m = SparkLogisticRegression(**common).fit(df)
        return lambda: {"accuracy": _accuracy(X, y, m.coefficients.toArray(), m.intercept),
                        "iterations": m.summary.totalIterations}

    def sklearn():
        m = SkLogisticRegression(C=1.0 / (REG_PARAM * n), tol=TOL, max_iter=1000).fit(X, y)
        return lambda: {"accuracy": _accuracy(X, y, m.coef_[0], m.intercept_[0]),
                        "iterations": int(m.n_iter_[0])}

    results = best_of({"distml (barrier)": distml("barrier"), "distml (jobs)": distml("jobs"),
                       "pyspark.ml": pyspark_ml, "scikit-learn (in memory)": sklearn}, rounds)
    add_speedups(results)
    report(f"LogisticRegression fit, {n:,} x {d} dense binary, regParam={REG_PARAM}, "
           f"tol={TOL}, {spark.sparkContext.master}", results, out,
           {"rows": n, "features": d, "rounds": rounds, "regParam": REG_PARAM, "tol": TOL})
    return results
