"""LinearRegression fit: distml (barrier, jobs) vs pyspark.ml vs scikit-learn, at two sizes.

y = X b + noise with X standard normal (seed 0); ``--rows`` and twice that, ``--features``
columns. Three fits: ordinary least squares (pyspark.ml's "auto" takes its normal solver), an
elastic net (regParam 0.01, elasticNetParam 0.5: pyspark.ml's l-bfgs, at its defaults), where
distml takes one pass of sufficient statistics for both; and huber loss (epsilon 1.35, no
penalty), l-bfgs over the data for distml and pyspark.ml at their defaults (maxIter 100, tol
1e-6), scikit-learn's HuberRegressor at its own. Held-out-free quality: the training RMSE,
computed in numpy after the clock stops. The floor (moving the rows and labels into numpy)
is measured beside them.
"""
from __future__ import annotations

import numpy as np
from pyspark.ml.regression import LinearRegression as SparkLinearRegression
from sklearn.linear_model import ElasticNet, HuberRegressor
from sklearn.linear_model import LinearRegression as SkLinearRegression

from benchmarks.common import add_speedups, best_of, frame_of, ingestion_floor, report
from distml import LinearRegression

FITS = {"OLS": {}, "elastic net": {"regParam": 0.01, "elasticNetParam": 0.5},
        "huber": {"loss": "huber"}}


def _rmse(X, y, coefficients, intercept):
    return float(np.sqrt(np.mean((X @ coefficients + intercept - y) ** 2)))


def run(spark, n: int, d: int, rounds: int, out: str) -> dict:
    everything = {}
    for rows in (n, 2 * n):
        rng = np.random.default_rng(0)
        X = rng.normal(size=(rows, d))
        y = X @ rng.normal(size=d) + rng.normal(size=rows)
        df = frame_of(spark, X, y)
        for fit_name, params in FITS.items():
            def distml(engine, params=params):
                def fit():
                    m = LinearRegression(engine=engine, **params).fit(df)
                    return lambda: {"rmse": _rmse(X, y, m.coefficients.toArray(), m.intercept)}
                return fit

            def pyspark_ml(params=params):
                m = SparkLinearRegression(**params).fit(df)
                return lambda: {"rmse": _rmse(X, y, m.coefficients.toArray(), m.intercept)}

            def sklearn(params=params):
                if params.get("loss") == "huber":  # the same objective, alpha 0 (regParam 0)
                    m = HuberRegressor(epsilon=1.35, alpha=0.0).fit(X, y)
                elif params:
                    l1 = params["regParam"] * params["elasticNetParam"]
                    l2 = params["regParam"] * (1 - params["elasticNetParam"]) / y.std(ddof=1)
                    m = ElasticNet(alpha=l1 + l2, l1_ratio=l1 / (l1 + l2)).fit(X, y)
                else:
                    m = SkLinearRegression().fit(X, y)
                return lambda: {"rmse": _rmse(X, y, m.coef_, m.intercept_)}

            results = best_of({"distml (barrier)": distml("barrier"),
                               "distml (jobs)": distml("jobs"), "pyspark.ml": pyspark_ml,
                               "scikit-learn (in memory)": sklearn,
                               "rows+labels into numpy": ingestion_floor(df, "label")}, rounds)
            add_speedups(results)
            key = f"{fit_name}, {rows:,} rows"
            report(f"LinearRegression ({fit_name}) fit, {rows:,} x {d}, "
                   f"{spark.sparkContext.master}", results,
                   out.replace(".json", f"_{fit_name.replace(' ', '_')}_{rows}.json"),
                   {"rows": rows, "features": d, "rounds": rounds, **params})
            everything[key] = results
        df.unpersist()
    return everything
