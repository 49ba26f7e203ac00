"""Issue 20, tuning in one stage: distml's CrossValidator and TrainValidationSplit fit every
fold x param map in one engine run, and agree with pyspark.ml's own procedure.

References: pyspark.ml's CrossValidator with the same distml estimator and evaluator (same
folds through ``foldCol``, or its own ``rand(seed)`` folds), and a brute force of filter, fit
and evaluate over the same rows. Tolerances are stated where each comparison is made.
"""
import logging

import numpy as np
import pandas as pd
import pytest
from pyspark.ml import Pipeline as SparkPipeline
from pyspark.ml.evaluation import BinaryClassificationEvaluator as SparkBinaryEvaluator
from pyspark.ml.feature import VectorAssembler
from pyspark.ml.linalg import Vectors
from pyspark.ml.tuning import CrossValidator as SparkCrossValidator
from pyspark.ml.tuning import CrossValidatorModel

from distml import (DataError, DecisionTreeClassifier, DecisionTreeRegressor, KMeans,
                    LogisticRegression, NaiveBayes)
from distml.engine.row_views import FOLD_STREAM
from distml.kernels.hashed_random import uniforms
from distml.pipeline.evaluation import (BinaryClassificationEvaluator, ClusteringEvaluator,
                                        MulticlassClassificationEvaluator, RegressionEvaluator)
from distml.pipeline.tuning import CrossValidator, ParamGridBuilder, TrainValidationSplit

pytestmark = pytest.mark.spark

ROWS = 6000
FOLDS = 3


def _rows(seed=3, rows=ROWS, classes=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 5))
    margin = X @ np.array([1.0, -0.8, 0.5, 0.3, 0.0]) + 0.7 * rng.normal(size=rows)
    y = np.digitize(margin, np.quantile(margin, np.linspace(0, 1, classes + 1)[1:-1]))
    return X, y.astype(float), margin


@pytest.fixture(scope="module")
def binary(spark):
    X, y, margin = _rows()
    data = [(Vectors.dense(r), float(t), int(i % FOLDS), float(m))
            for i, (r, t, m) in enumerate(zip(X, y, margin))]
    df = spark.createDataFrame(data, ["features", "label", "fold", "target"]) \
        .repartition(2).persist()
    df.count()
    yield df
    df.unpersist()


def _logged_on_ranks(caplog) -> bool:
    """The selection said it ran in one engine run, and nothing fell back."""
    messages = [r.getMessage() for r in caplog.records]
    return any("in one engine run" in m for m in messages) and \
        not any("pyspark.ml's procedure" in m for m in messages)


def test_cross_validation_matches_pyspark_ml_on_the_same_folds(binary, caplog):
    # Same folds (foldCol), same partitions, same programs: each fold's fit sees exactly the
    # rows pyspark.ml's filter gives it. The only difference is the regularization path's warm
    # start, which moves a fit's end point within the optimizer's tol (1e-6): metrics agree to
    # 1e-6.
    lr = LogisticRegression(maxIter=50)
    grid = ParamGridBuilder().addGrid(lr.regParam, [1e-3, 1e-1, 1e-2, 1.0]).build()
    evaluator = BinaryClassificationEvaluator()
    caplog.set_level(logging.INFO, logger="distml")
    ours = CrossValidator(estimator=lr, estimatorParamMaps=grid, evaluator=evaluator,
                          numFolds=FOLDS, foldCol="fold").fit(binary)
    assert _logged_on_ranks(caplog)
    theirs = SparkCrossValidator(estimator=lr, estimatorParamMaps=grid, evaluator=evaluator,
                                 numFolds=FOLDS, foldCol="fold").fit(binary)
    np.testing.assert_allclose(ours.avgMetrics, theirs.avgMetrics, atol=1e-6)
    np.testing.assert_allclose(ours.stdMetrics, theirs.stdMetrics, atol=1e-6)
    assert ours.bestModel.getRegParam() == theirs.bestModel.getRegParam()
    np.testing.assert_allclose(ours.bestModel.coefficients.toArray(),
                               theirs.bestModel.coefficients.toArray(), atol=1e-5)
    info = ours.bestModel.trainingInfo
    assert info.numRows == ROWS and info.engine == "barrier"
    assert ours.bestModel.summary.totalIterations > 0  # the refit's summary, as a fit's


def test_cross_validation_picks_pyspark_ml_s_best_with_its_own_folds(binary):
    # Different fold assignments (a hash of the row position here, rand(seed) there). Every
    # row is held out once under either, so the averages differ only by how the fits vary
    # between fold splits (~1e-4 on these rows): 1e-3, the bound. The grid's L1
    # penalties drop features, so the metrics part clearly (unlike 1e-4 against 1e-3 of an
    # L2 penalty on separable data, whose AUCs tie to 1e-7 and whose order is noise).
    lr = LogisticRegression(maxIter=100, elasticNetParam=1.0)
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.1, 1e-3, 0.3, 0.02]).build()
    evaluator = BinaryClassificationEvaluator()
    ours = CrossValidator(estimator=lr, estimatorParamMaps=grid, evaluator=evaluator,
                          numFolds=FOLDS, seed=11).fit(binary)
    theirs = SparkCrossValidator(estimator=lr, estimatorParamMaps=grid,
                                 evaluator=SparkBinaryEvaluator(), numFolds=FOLDS,
                                 seed=11).fit(binary)
    np.testing.assert_allclose(ours.avgMetrics, theirs.avgMetrics, atol=1e-3)
    assert ours.bestModel.getRegParam() == theirs.bestModel.getRegParam() == 1e-3
    assert np.ptp(ours.avgMetrics) > 0.01


@pytest.mark.parametrize("engine", ["jobs", "local"])
def test_every_engine_gives_the_same_selection(binary, engine):
    def selection(on):
        nb = NaiveBayes(modelType="gaussian", engine=on)
        grid = ParamGridBuilder().addGrid(nb.smoothing, [0.0, 1.0]).build()
        return CrossValidator(estimator=nb, estimatorParamMaps=grid, numFolds=FOLDS, seed=5,
                              evaluator=MulticlassClassificationEvaluator(
                                  metricName="accuracy")).fit(binary)
    reference, other = selection("barrier"), selection(engine)
    assert other.avgMetrics == reference.avgMetrics
    assert other.bestModel.trainingInfo.engine == engine


def test_train_validation_split_matches_a_brute_force_on_the_same_split(spark, caplog):
    # The split is the ranks' (a hash of the row position and the seed), computed here for a
    # DataFrame whose partitions are contiguous row ranges; pyspark.ml's fit on the filtered
    # rows and distml's evaluator give the reference. Trees grown on the same rows in the
    # same partitions are the same trees: 1e-12.
    X, y, _ = _rows(classes=3, rows=3000)
    ratio, seed = 0.7, 42
    train = uniforms(seed, FOLD_STREAM, np.arange(len(y)))[:, 0] < ratio
    df = spark.createDataFrame(pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "c": X[:, 2],
                                             "label": y, "train": train}))
    df = VectorAssembler(inputCols=["a", "b", "c"], outputCol="features").transform(df)
    tree = DecisionTreeClassifier(seed=1)
    grid = ParamGridBuilder().addGrid(tree.maxDepth, [1, 3, 5]).build()
    evaluator = MulticlassClassificationEvaluator(metricName="f1")
    caplog.set_level(logging.INFO, logger="distml")
    ours = TrainValidationSplit(estimator=tree, estimatorParamMaps=grid, evaluator=evaluator,
                                trainRatio=ratio, seed=seed, collectSubModels=True).fit(df)
    assert _logged_on_ranks(caplog)
    expected = [evaluator.evaluate(tree.fit(df.where("train"), m).transform(df.where("NOT train")))
                for m in grid]
    np.testing.assert_allclose(ours.validationMetrics, expected, rtol=1e-12)
    assert ours.bestModel.getMaxDepth() == grid[int(np.argmax(expected))][tree.maxDepth]
    assert [m.getMaxDepth() for m in ours.subModels] == [1, 3, 5]
    assert ours.subModels[0].numNodes == 3  # a stump, fitted on the training rows


def test_regression_and_a_pipeline_of_transformers(spark, caplog):
    # A Pipeline of transformers ending in a distml estimator runs on the ranks (the
    # transformers are applied once; they learn nothing per fold); the reference is pyspark.ml's
    # CrossValidator over the same pipeline and folds. Same rows per fold: 1e-12.
    X, _, margin = _rows(rows=2000)
    frame = pd.DataFrame({"a": X[:, 0], "b": X[:, 1], "target": margin,
                          "fold": np.arange(len(margin)) % FOLDS})
    df = spark.createDataFrame(frame).repartition(2).persist()
    tree = DecisionTreeRegressor(labelCol="target", seed=3)
    pipeline = SparkPipeline(stages=[VectorAssembler(inputCols=["a", "b"],
                                                     outputCol="features"), tree])
    grid = ParamGridBuilder().addGrid(tree.maxDepth, [2, 6]).build()
    evaluator = RegressionEvaluator(labelCol="target", metricName="rmse")
    caplog.set_level(logging.INFO, logger="distml")
    ours = CrossValidator(estimator=pipeline, estimatorParamMaps=grid, evaluator=evaluator,
                          numFolds=FOLDS, foldCol="fold").fit(df)
    assert _logged_on_ranks(caplog)
    theirs = SparkCrossValidator(estimator=pipeline, estimatorParamMaps=grid,
                                 evaluator=evaluator, numFolds=FOLDS, foldCol="fold").fit(df)
    np.testing.assert_allclose(ours.avgMetrics, theirs.avgMetrics, rtol=1e-12)
    assert [type(s).__name__ for s in ours.bestModel.stages] == \
        ["VectorAssembler", "DecisionTreeRegressionModel"]
    assert ours.bestModel.stages[-1].getMaxDepth() == theirs.bestModel.stages[-1].getMaxDepth()
    scored = ours.bestModel.transform(df).select("prediction").toPandas()["prediction"]
    assert scored.notna().all() and len(scored) == 2000
    df.unpersist()


def test_sub_models_are_the_fold_fits_and_the_model_saves(binary, tmp_path):
    # Each sub model is a fit on its fold's training rows: a distml fit on the filtered
    # DataFrame is the reference (1e-5: the path's warm start moves the end point within tol).
    lr = LogisticRegression(maxIter=50)
    grid = ParamGridBuilder().addGrid(lr.regParam, [1e-2, 1e-1]).build()
    model = CrossValidator(estimator=lr, estimatorParamMaps=grid, numFolds=FOLDS,
                           foldCol="fold", evaluator=BinaryClassificationEvaluator(),
                           collectSubModels=True).fit(binary)
    assert len(model.subModels) == FOLDS and len(model.subModels[0]) == 2
    assert model.subModels[1][1].trainingInfo.numRows == ROWS - ROWS // FOLDS
    direct = lr.fit(binary.where("fold != 1"), grid[1])
    np.testing.assert_allclose(model.subModels[1][1].coefficients.toArray(),
                               direct.coefficients.toArray(), atol=1e-5)
    model.write().save(str(tmp_path / "cv"))
    loaded = CrossValidatorModel.load(str(tmp_path / "cv"))
    assert loaded.avgMetrics == model.avgMetrics
    np.testing.assert_array_equal(loaded.bestModel.coefficients.toArray(),
                                  model.bestModel.coefficients.toArray())


def test_a_second_selection_reads_resident_partitions(binary):
    lr = LogisticRegression(maxIter=20)
    grid = ParamGridBuilder().addGrid(lr.regParam, [1e-2, 1e-1]).build()

    def select():
        return CrossValidator(estimator=lr, estimatorParamMaps=grid, numFolds=FOLDS, seed=2,
                              evaluator=BinaryClassificationEvaluator()).fit(binary)
    first, second = select(), select()
    assert second.bestModel.trainingInfo.residentInput
    assert first.avgMetrics == second.avgMetrics


def test_what_cannot_run_on_the_ranks_falls_back_with_one_log_line(binary, caplog):
    # KMeans (and the silhouette, a two-pass metric): pyspark.ml's procedure runs instead.
    kmeans = KMeans(k=2, seed=1, maxIter=5)
    grid = ParamGridBuilder().addGrid(kmeans.k, [2, 3]).build()
    caplog.set_level(logging.INFO, logger="distml")
    model = CrossValidator(estimator=kmeans, estimatorParamMaps=grid, numFolds=2,
                           evaluator=ClusteringEvaluator()).fit(binary)
    fallbacks = [r.getMessage() for r in caplog.records
                 if "pyspark.ml's procedure" in r.getMessage()]
    assert len(fallbacks) == 1 and "KMeans" in fallbacks[0]
    assert len(model.avgMetrics) == 2


def test_a_bad_fold_column_names_the_column(binary):
    lr = LogisticRegression(maxIter=5)
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.1]).build()
    with pytest.raises(DataError, match="foldCol 'fold' holds values outside 0..1"):
        CrossValidator(estimator=lr, estimatorParamMaps=grid, numFolds=2, foldCol="fold",
                       evaluator=BinaryClassificationEvaluator()).fit(binary)
