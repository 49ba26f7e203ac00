"""Evaluators on pandas input against scikit-learn's metrics."""
import numpy as np
import pandas as pd
import pytest
from pyspark.ml.linalg import DenseVector
from sklearn import metrics

from distml import DataError
from distml.pipeline.evaluation import (BinaryClassificationEvaluator, ClusteringEvaluator,
                                        MulticlassClassificationEvaluator, RegressionEvaluator)


@pytest.fixture
def regression():
    rng = np.random.default_rng(0)
    y = rng.normal(5.0, 2.0, 200)
    return pd.DataFrame({"label": y, "prediction": y + rng.normal(0, 0.7, 200),
                         "w": rng.uniform(0.1, 3.0, 200)})


@pytest.mark.parametrize("weighted", [False, True])
def test_regression_metrics_match_scikit_learn(regression, weighted):
    y, p = regression["label"], regression["prediction"]
    w = regression["w"] if weighted else None
    expected = {"mse": metrics.mean_squared_error(y, p, sample_weight=w),
                "mae": metrics.mean_absolute_error(y, p, sample_weight=w),
                "r2": metrics.r2_score(y, p, sample_weight=w)}
    expected["rmse"] = np.sqrt(expected["mse"])
    for name, value in expected.items():
        evaluator = RegressionEvaluator(metricName=name, weightCol="w" if weighted else None)
        assert evaluator.evaluate(regression) == pytest.approx(value, rel=1e-12)
    assert RegressionEvaluator(metricName="r2").isLargerBetter()
    assert not RegressionEvaluator().isLargerBetter()


@pytest.mark.parametrize("weighted", [False, True])
def test_binary_metrics_match_scikit_learn(weighted):
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300).astype(float)
    score = np.round(y + rng.normal(0, 1.0, 300), 1)  # rounded: many tied scores
    w = rng.uniform(0.2, 2.0, 300) if weighted else np.ones(300)
    frame = pd.DataFrame({"label": y, "rawPrediction": [DenseVector([-s, s]) for s in score],
                          "score": score, "w": w})
    kwargs = {"weightCol": "w"} if weighted else {}
    roc = BinaryClassificationEvaluator(**kwargs).evaluate(frame)
    assert roc == pytest.approx(metrics.roc_auc_score(y, score, sample_weight=w), rel=1e-12)
    numeric = BinaryClassificationEvaluator(rawPredictionCol="score", **kwargs)
    assert numeric.evaluate(frame) == roc
    precision, recall, _ = metrics.precision_recall_curve(y, score, sample_weight=w)
    # MLlib's PR curve: the same points by falling threshold, started at (0, first precision)
    # where scikit-learn ends with (0, 1).
    pr = BinaryClassificationEvaluator(metricName="areaUnderPR", **kwargs).evaluate(frame)
    recall, precision = recall[:-1][::-1], precision[:-1][::-1]
    expected = np.trapz(np.r_[precision[0], precision], np.r_[0.0, recall])
    assert pr == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("weighted", [False, True])
def test_multiclass_metrics_match_scikit_learn(weighted):
    rng = np.random.default_rng(2)
    y = rng.integers(0, 4, 400).astype(float)
    p = np.where(rng.random(400) < 0.7, y, rng.integers(0, 5, 400)).astype(float)  # 4: never true
    prob = rng.dirichlet(np.ones(4), 400)
    w = rng.uniform(0.2, 2.0, 400) if weighted else None
    frame = pd.DataFrame({"label": y, "prediction": p, "w": w if weighted else 1.0,
                          "probability": [DenseVector(r) for r in prob]})
    kwargs = {"weightCol": "w"} if weighted else {}
    labels = np.unique(y)
    expected = {
        "accuracy": metrics.accuracy_score(y, p, sample_weight=w),
        "f1": metrics.f1_score(y, p, labels=labels, average="weighted", sample_weight=w),
        "weightedPrecision": metrics.precision_score(y, p, labels=labels, average="weighted",
                                                     sample_weight=w, zero_division=0),
        "weightedRecall": metrics.recall_score(y, p, labels=labels, average="weighted",
                                               sample_weight=w),
        "hammingLoss": metrics.hamming_loss(y, p, sample_weight=w),
        "logLoss": metrics.log_loss(y, prob, sample_weight=w),
    }
    for name, value in expected.items():
        got = MulticlassClassificationEvaluator(metricName=name, **kwargs).evaluate(frame)
        assert got == pytest.approx(value, rel=1e-10), name
    by_label = MulticlassClassificationEvaluator(metricName="precisionByLabel", metricLabel=2.0,
                                                 **kwargs).evaluate(frame)
    assert by_label == pytest.approx(metrics.precision_score(
        y, p, labels=[2.0], average=None, sample_weight=w)[0], rel=1e-12)


@pytest.mark.parametrize("measure", ["squaredEuclidean", "cosine"])
def test_silhouette_matches_scikit_learn(measure):
    rng = np.random.default_rng(3)
    X = np.vstack([rng.normal(c, 1.0, (40, 3)) for c in (0.0, 4.0, 8.0)]) + 0.5
    labels = np.repeat([0, 1, 2], 40).astype(float)
    labels[0] = 5.0  # a cluster of one row scores 0
    frame = pd.DataFrame({"features": [DenseVector(r) for r in X], "prediction": labels})
    got = ClusteringEvaluator(distanceMeasure=measure).evaluate(frame)
    metric = "sqeuclidean" if measure == "squaredEuclidean" else "cosine"
    assert got == pytest.approx(metrics.silhouette_score(X, labels, metric=metric), rel=1e-10)


def test_bad_evaluator_input():
    frame = pd.DataFrame({"label": [0.0, 1.0, 2.0], "rawPrediction": [0.1, 0.5, 0.9]})
    with pytest.raises(DataError, match="labels must be 0 or 1"):
        BinaryClassificationEvaluator().evaluate(frame)
    with pytest.raises(DataError, match="'prediction' not found"):
        RegressionEvaluator().evaluate(frame)
    nulls = pd.DataFrame({"label": [1.0, None], "prediction": [1.0, 2.0]})
    with pytest.raises(DataError, match="'label' has 1 null"):
        RegressionEvaluator().evaluate(nulls)


def test_tuning_on_pandas_collects_sub_models_and_splits():
    from distml import LogisticRegression
    from distml.pipeline import CrossValidator, ParamGridBuilder, TrainValidationSplit
    rng = np.random.default_rng(4)
    X = rng.normal(size=(150, 3))
    data = pd.DataFrame({"features": list(X), "label": (X[:, 0] + X[:, 1] > 0).astype(float)})
    lr = LogisticRegression(maxIter=10)
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.0, 5.0]).build()
    evaluator = BinaryClassificationEvaluator()
    cv = CrossValidator(estimator=lr, estimatorParamMaps=grid, evaluator=evaluator, numFolds=3,
                        seed=2, parallelism=2, collectSubModels=True).fit(data)
    assert len(cv.subModels) == 3 and all(len(fold) == 2 for fold in cv.subModels)
    assert cv.bestModel.getRegParam() == 0.0 and len(cv.stdMetrics) == 2
    tvs = TrainValidationSplit(estimator=lr, estimatorParamMaps=grid, evaluator=evaluator,
                               trainRatio=0.7, seed=3, collectSubModels=True).fit(data)
    assert len(tvs.validationMetrics) == 2 and len(tvs.subModels) == 2
    assert tvs.bestModel.getRegParam() == 0.0
    again = CrossValidator(estimator=lr, estimatorParamMaps=grid, evaluator=evaluator,
                           numFolds=3, seed=2).fit(data)
    assert again.avgMetrics == cv.avgMetrics  # the folds come from the seed
