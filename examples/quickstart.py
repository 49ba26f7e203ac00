"""The README's main job: data into a local Spark session, fit, save, load, transform.

Loads scikit-learn's bundled breast-cancer data into Spark, summarizes it, fits and saves a
StandardScaler, then a pyspark.ml Pipeline of distml stages whose held-out accuracy is printed
beside scikit-learn's on the same split.

Run it with ``make main`` (which sets up .venv first) or ``python examples/quickstart.py``.
It checks itself: every number it prints beside its reference must agree, or it exits 1.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time

import numpy as np
from pyspark.ml import Pipeline, PipelineModel
from pyspark.ml.evaluation import MulticlassClassificationEvaluator
from pyspark.ml.linalg import Vectors
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.preprocessing import StandardScaler as SkStandardScaler

from distml import LogisticRegression, StandardScaler, StandardScalerModel, Summarizer
from distml.engine.session import local_session


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--master", default="local[*]")
    parser.add_argument("--output", default=None, help="where to save the model")
    args = parser.parse_args(argv)
    output = args.output or tempfile.mkdtemp(prefix="distml-quickstart-") + "/scaler"

    spark = local_session(args.master, app_name="distml-quickstart")
    spark.sparkContext.setLogLevel("ERROR")
    X, y = load_breast_cancer(return_X_y=True)
    df = spark.createDataFrame([(Vectors.dense(r), float(t)) for r, t in zip(X, y)],
                               ["features", "label"]).cache()
    print(f"breast cancer data: {df.count()} rows x {X.shape[1]} features, "
          f"{df.rdd.getNumPartitions()} partitions on {args.master}")
    failures = []

    def check(name: str, got, expected, rtol=1e-10):
        ok = np.allclose(got, expected, rtol=rtol, atol=1e-12)
        print(f"  {name:<38} max |diff| {np.max(np.abs(np.asarray(got) - expected)):.2e}  "
              f"{'ok' if ok else 'MISMATCH'}")
        if not ok:
            failures.append(name)

    print("Summarizer (one barrier stage, two allreduces) vs numpy:")
    s = Summarizer.metrics("mean", "variance", "min", "max").summary(df)
    check("mean", s.mean, X.mean(0))
    check("variance (ddof=1)", s.variance, X.var(0, ddof=1))
    check("min / max", np.r_[s.min, s.max], np.r_[X.min(0), X.max(0)])

    start = time.perf_counter()
    model = StandardScaler(inputCol="features", outputCol="scaled", withMean=True).fit(df)
    print(f"StandardScaler fit in {time.perf_counter() - start:.2f} s; saving to {output}")
    model.write().overwrite().save(output)
    loaded = StandardScalerModel.load(output)
    scaled = np.stack([v.toArray() for v in loaded.transform(df).toPandas()["scaled"]])
    check("loaded model's output vs numpy", scaled, (X - X.mean(0)) / X.std(0, ddof=1))

    # A pyspark.ml Pipeline of distml stages, beside scikit-learn on the same split.
    train, test = df.randomSplit([0.8, 0.2], seed=42)
    pipeline = Pipeline(stages=[
        StandardScaler(inputCol="features", outputCol="scaled", withMean=True),
        LogisticRegression(featuresCol="scaled", regParam=0.01)])
    start = time.perf_counter()
    fitted = pipeline.fit(train)
    print(f"Pipeline [StandardScaler -> LogisticRegression] fit in "
          f"{time.perf_counter() - start:.2f} s "
          f"({fitted.stages[-1].summary.totalIterations} iterations)")
    pipeline_path = output + "-pipeline"
    fitted.write().overwrite().save(pipeline_path)
    reloaded = PipelineModel.load(pipeline_path)
    accuracy = MulticlassClassificationEvaluator(metricName="accuracy").evaluate(
        reloaded.transform(test))
    train_pd, test_pd = train.toPandas(), test.toPandas()
    Xtr, Xte = (np.stack(p["features"].map(lambda v: v.toArray())) for p in (train_pd, test_pd))
    scaler = SkStandardScaler().fit(Xtr)
    sk = SkLogisticRegression(C=1.0 / (0.01 * len(Xtr)), max_iter=1000).fit(
        scaler.transform(Xtr), train_pd["label"])
    sk_accuracy = sk.score(scaler.transform(Xte), test_pd["label"])
    print(f"  held-out accuracy: distml {accuracy:.3f}, scikit-learn {sk_accuracy:.3f} "
          f"(saved and reloaded from {pipeline_path})")
    if accuracy < 0.9 or abs(accuracy - sk_accuracy) > 0.03:
        failures.append("pipeline accuracy")
    spark.stop()
    if failures:
        print(f"FAILED: {', '.join(failures)}")
        return 1
    print("quickstart: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
