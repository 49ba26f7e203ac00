"""DecisionTreeClassifier fit: distml (barrier, jobs) vs pyspark.ml vs scikit-learn, depth 8.

The logistic benchmark's data (N(0, 1) features, a noisy linear label), maxDepth 8 for all,
maxBins 32 (MLlib's default) for distml and pyspark.ml; scikit-learn sorts exactly. Accuracy on
the training rows, in numpy, after the clock stops.
"""
from __future__ import annotations

from pyspark.ml.classification import DecisionTreeClassifier as SparkDecisionTreeClassifier
from sklearn.tree import DecisionTreeClassifier as SkDecisionTreeClassifier

from benchmarks.common import add_speedups, best_of, dense_frame, report
from distml import DecisionTreeClassifier

DEPTH = 8


def run(spark, n: int, d: int, rounds: int, out: str) -> dict:
    df, X, y = dense_frame(spark, n, d)

    def spark_accuracy(model):
        # label and prediction from the same rows (the DataFrame's order is not X's)
        rows = model.transform(df).select("label", "prediction").toPandas()
        return {"accuracy": float((rows["label"] == rows["prediction"]).mean()),
                "nodes": model.numNodes}

    def distml(engine):
        def fit():
            m = DecisionTreeClassifier(maxDepth=DEPTH, engine=engine).fit(df)
            return lambda: spark_accuracy(m)
        return fit

    def pyspark_ml():
        m = SparkDecisionTreeClassifier(maxDepth=DEPTH).fit(df)
        return lambda: spark_accuracy(m)

    def sklearn():
        m = SkDecisionTreeClassifier(max_depth=DEPTH, random_state=0).fit(X, y)
        return lambda: {"accuracy": float(m.score(X, y)), "nodes": int(m.tree_.node_count)}

    results = best_of({"distml (barrier)": distml("barrier"), "distml (jobs)": distml("jobs"),
                       "pyspark.ml": pyspark_ml, "scikit-learn (in memory)": sklearn}, rounds)
    add_speedups(results)
    report(f"DecisionTreeClassifier fit, {n:,} x {d} dense, maxDepth={DEPTH}, "
           f"{spark.sparkContext.master}", results, out,
           {"rows": n, "features": d, "rounds": rounds, "maxDepth": DEPTH})
    return results
