"""The README's main job: data into a local Spark session, fit, save, load, transform.

Run it with ``make main`` (which sets up .venv first) or ``python examples/quickstart.py``.
It checks itself: every number it prints beside its reference must agree, or it exits 1.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time

import numpy as np
from pyspark.ml import Pipeline
from pyspark.ml.classification import LogisticRegression
from pyspark.ml.evaluation import MulticlassClassificationEvaluator
from pyspark.ml.linalg import Vectors
from sklearn.datasets import load_breast_cancer

from distml import StandardScaler, StandardScalerModel, Summarizer
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

    train, test = df.randomSplit([0.8, 0.2], seed=42)
    pipeline = Pipeline(stages=[StandardScaler(inputCol="features", outputCol="scaled"),
                                LogisticRegression(featuresCol="scaled", regParam=0.01)])
    accuracy = MulticlassClassificationEvaluator(metricName="accuracy").evaluate(
        pipeline.fit(train).transform(test))
    print(f"pyspark.ml Pipeline [distml StandardScaler -> LogisticRegression]: "
          f"held-out accuracy {accuracy:.3f}")
    if accuracy < 0.9:
        failures.append("pipeline accuracy")
    spark.stop()
    if failures:
        print(f"FAILED: {', '.join(failures)}")
        return 1
    print("quickstart: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
