"""Pipelines and scoring on Spark (issue 20, part 3): distml's stages beside the same stages
from pyspark.ml, same data, alternating rounds, each contender's best.

- scoring: a fitted LogisticRegression's ``transform`` on 1M rows (n x d, cached), and a
  count over rows whose prediction is not negative, which makes Spark compute the column (a
  bare ``count()`` lets the optimizer drop the unused prediction entirely);
- the five-stage tabular pipeline (StringIndexer, OneHotEncoder, VectorAssembler,
  StandardScaler, LogisticRegression) fitted on 300 rows;
- the ``examples/pipeline_tuning.py`` procedure: that pipeline's CrossValidator, 3 folds x 4
  param maps on 2,000 rows, and the best pipeline's held-out areaUnderROC.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from pyspark.ml import Pipeline as SparkPipeline
from pyspark.ml import classification as spark_classification
from pyspark.ml import evaluation as spark_evaluation
from pyspark.ml import feature as spark_feature
from pyspark.ml import tuning as spark_tuning
from pyspark.sql import functions as F

import distml
from benchmarks.common import add_speedups, best_of, dense_frame, report
from distml.pipeline import evaluation as distml_evaluation
from distml.pipeline import feature as distml_feature
from distml.pipeline import tuning as distml_tuning

LIBRARIES = {
    "distml": (distml_feature, distml.LogisticRegression, distml.Pipeline, distml_evaluation,
               distml_tuning),
    "pyspark.ml": (spark_feature, spark_classification.LogisticRegression, SparkPipeline,
                   spark_evaluation, spark_tuning)}


def _tabular(spark, n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    color = rng.choice(["red", "green", "blue", "black"], n)
    size = rng.choice(["s", "m", "l"], n)
    x1, x2 = rng.normal(size=n), rng.normal(5.0, 3.0, n)
    logit = 3.0 * (color == "red") - 2.0 * (size == "l") + 2.0 * x1 + 0.6 * (x2 - 5.0)
    label = (logit + rng.logistic(size=n) > 0).astype(float)
    return spark.createDataFrame(pd.DataFrame({"color": color, "size": size, "x1": x1,
                                               "x2": x2, "label": label}))


def _pipeline(library: str):
    feature, lr_class, pipeline_class, _, _ = LIBRARIES[library]
    lr = lr_class(maxIter=50)
    return pipeline_class(stages=[
        feature.StringIndexer(inputCols=["color", "size"], outputCols=["ci", "si"]),
        feature.OneHotEncoder(inputCols=["ci", "si"], outputCols=["cv", "sv"]),
        feature.VectorAssembler(inputCols=["cv", "sv", "x1", "x2"], outputCol="raw"),
        feature.StandardScaler(inputCol="raw", outputCol="features"),
        lr]), lr


def run(spark, n: int, d: int, rounds: int, out: str) -> dict:
    df, _, _ = dense_frame(spark, n, d)
    models = {library: LIBRARIES[library][1](regParam=1e-3).fit(df) for library in LIBRARIES}
    small = _tabular(spark, 300).cache()
    tuning_data = _tabular(spark, 2000, seed=1)
    train, test = tuning_data.randomSplit([0.8, 0.2], seed=0)
    train = train.cache()

    def scoring(library):
        def run_once():
            rows = models[library].transform(df).where(F.col("prediction") >= 0).count()
            return lambda: {"rows": rows}
        return run_once

    def pipeline_fit(library):
        def run_once():
            _pipeline(library)[0].fit(small)
            return dict
        return run_once

    def pipeline_tuning(library):
        def run_once():
            pipeline, lr = _pipeline(library)
            _, _, _, evaluation, tuning = LIBRARIES[library]
            grid = tuning.ParamGridBuilder().addGrid(lr.regParam, [0.001, 0.1]) \
                .addGrid(lr.elasticNetParam, [0.0, 1.0]).build()
            evaluator = evaluation.BinaryClassificationEvaluator()
            cv = tuning.CrossValidator(estimator=pipeline, estimatorParamMaps=grid,
                                       numFolds=3, seed=1, evaluator=evaluator).fit(train)
            auc = evaluator.evaluate(cv.bestModel.transform(test))
            return lambda: {"held_out_areaUnderROC": round(auc, 4)}
        return run_once

    results = {}
    for name, make, title in (
            ("scoring", scoring, f"LogisticRegression transform + count, {n:,} x {d}"),
            ("pipeline_fit", pipeline_fit, "five-stage pipeline fit, 300 rows"),
            ("pipeline_tuning", pipeline_tuning,
             "pipeline_tuning example: CrossValidator 3 folds x 4 maps, 2,000 rows")):
        timed = best_of({library: make(library) for library in LIBRARIES}, rounds)
        add_speedups(timed)
        report(f"{title}, {spark.sparkContext.master}", timed,
               out.replace(".json", f"_{name}.json"), {"rows": n, "features": d,
                                                        "rounds": rounds})
        results[name] = timed
    for frame in (df, small, train):
        frame.unpersist()
    return results
