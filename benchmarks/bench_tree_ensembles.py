"""Tree ensembles' fits: distml vs pyspark.ml vs XGBoost's Spark estimator vs scikit-learn.

The logistic benchmark's data (N(0, 1) features, a noisy linear 0/1 label) at ``--rows`` and
twice that, ``--features`` columns, maxBins 32 for the Spark contenders:
- RandomForestClassifier, 20 trees, depth 8 (distml, pyspark.ml; scikit-learn's
  RandomForestClassifier on both cores);
- GBTClassifier, 50 rounds, depth 5, step 0.1 (distml, pyspark.ml, xgboost.spark's
  SparkXGBClassifier with tree_method "hist" on as many workers as the session has cores;
  scikit-learn's HistGradientBoostingClassifier, no early stopping).
Fixed work for every contender (no early stopping). Accuracy on the training rows, after the
clock stops.
"""
from __future__ import annotations

from pyspark.ml.classification import GBTClassifier as SparkGBTClassifier
from pyspark.ml.classification import RandomForestClassifier as SparkRandomForestClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.ensemble import RandomForestClassifier as SkRandomForestClassifier

from benchmarks.common import add_speedups, best_of, dense_frame, report
from distml import GBTClassifier, RandomForestClassifier

TREES, FOREST_DEPTH = 20, 8
ROUNDS, GBT_DEPTH, STEP = 50, 5, 0.1


def _spark_accuracy(model, df):
    rows = model.transform(df).select("label", "prediction").toPandas()
    return {"accuracy": float((rows["label"] == rows["prediction"]).mean())}


def _contenders(spark, df, X, y, kind: str) -> dict:
    def timed(make):
        def fit():
            model = make().fit(df)
            return lambda: _spark_accuracy(model, df)
        return fit

    if kind == "forest":
        def sklearn():
            m = SkRandomForestClassifier(n_estimators=TREES, max_depth=FOREST_DEPTH, n_jobs=2,
                                         random_state=0).fit(X, y)
            return lambda: {"accuracy": float(m.score(X, y))}
        return {"distml (barrier)": timed(lambda: RandomForestClassifier(
                    numTrees=TREES, maxDepth=FOREST_DEPTH, seed=1, engine="barrier")),
                "distml (jobs)": timed(lambda: RandomForestClassifier(
                    numTrees=TREES, maxDepth=FOREST_DEPTH, seed=1, engine="jobs")),
                "pyspark.ml": timed(lambda: SparkRandomForestClassifier(
                    numTrees=TREES, maxDepth=FOREST_DEPTH, seed=1)),
                "scikit-learn (in memory)": sklearn}
    from xgboost.spark import SparkXGBClassifier

    def sklearn():
        m = HistGradientBoostingClassifier(max_iter=ROUNDS, max_depth=GBT_DEPTH,
                                           learning_rate=STEP, early_stopping=False,
                                           random_state=0).fit(X, y)
        return lambda: {"accuracy": float(m.score(X, y))}
    workers = spark.sparkContext.defaultParallelism
    return {"distml (barrier)": timed(lambda: GBTClassifier(
                maxIter=ROUNDS, maxDepth=GBT_DEPTH, stepSize=STEP, engine="barrier")),
            "distml (jobs)": timed(lambda: GBTClassifier(
                maxIter=ROUNDS, maxDepth=GBT_DEPTH, stepSize=STEP, engine="jobs")),
            "pyspark.ml": timed(lambda: SparkGBTClassifier(maxIter=ROUNDS, maxDepth=GBT_DEPTH,
                                                           stepSize=STEP)),
            "SparkXGBClassifier (hist)": timed(lambda: SparkXGBClassifier(
                n_estimators=ROUNDS, max_depth=GBT_DEPTH, learning_rate=STEP,
                tree_method="hist", max_bin=32, num_workers=workers)),
            "scikit-learn (in memory)": sklearn}


def run(spark, n: int, d: int, rounds: int, out: str) -> dict:
    everything = {}
    for rows in (n, 2 * n):
        df, X, y = dense_frame(spark, rows, d)
        for kind, title in (("forest", f"RandomForestClassifier, {TREES} trees, depth "
                             f"{FOREST_DEPTH}"),
                            ("gbt", f"GBTClassifier, {ROUNDS} rounds, depth {GBT_DEPTH}")):
            results = best_of(_contenders(spark, df, X, y, kind), rounds)
            add_speedups(results)
            report(f"{title} fit, {rows:,} x {d}, {spark.sparkContext.master}", results,
                   out.replace(".json", f"_{kind}_{rows}.json"),
                   {"rows": rows, "features": d, "rounds": rounds})
            everything[f"{kind}, {rows:,} rows"] = results
        df.unpersist()
    return everything
