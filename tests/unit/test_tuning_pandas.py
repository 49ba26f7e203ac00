"""Model selection on pandas: the one-run path (``pipeline.tuning_on_ranks``, LocalEngine)
against the procedure it replaces (``_fit_here``: fit and evaluate per fold and param map),
which deals rows into the same folds. Same rows per fit, so the metrics agree to 1e-9 (the
one-run path's LogisticRegression warm starts move its end points within tol)."""
import logging

import numpy as np
import pandas as pd

from distml import DecisionTreeClassifier, LogisticRegression
from distml.pipeline.evaluation import (BinaryClassificationEvaluator,
                                        MulticlassClassificationEvaluator)
from distml.pipeline.tuning import CrossValidator, ParamGridBuilder, TrainValidationSplit


def _frame(rows=1500, seed=4):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, 4))
    y = (X[:, 0] - 0.7 * X[:, 1] + rng.normal(size=rows) > 0).astype(float)
    return pd.DataFrame({"features": list(X), "label": y})


def _ran_in_one_run(caplog) -> bool:
    return any("in one engine run" in r.getMessage() for r in caplog.records)


def test_cross_validation_in_one_run_matches_the_procedure(caplog):
    caplog.set_level(logging.INFO, logger="distml")
    data = _frame()
    lr = LogisticRegression(maxIter=50)
    grid = ParamGridBuilder().addGrid(lr.regParam, [0.3, 1e-3, 0.03]).build()
    cv = CrossValidator(estimator=lr, estimatorParamMaps=grid, numFolds=4, seed=3,
                        evaluator=BinaryClassificationEvaluator(), collectSubModels=True)
    one_run, procedure = cv.fit(data), cv._fit_here(data)
    assert _ran_in_one_run(caplog)
    np.testing.assert_allclose(one_run.avgMetrics, procedure.avgMetrics, atol=1e-9)
    np.testing.assert_allclose(one_run.stdMetrics, procedure.stdMetrics, atol=1e-9)
    assert one_run.bestModel.getRegParam() == procedure.bestModel.getRegParam()
    for ours, theirs in zip(one_run.subModels[2], procedure.subModels[2]):
        np.testing.assert_allclose(ours.coefficients.toArray(), theirs.coefficients.toArray(),
                                   atol=1e-6)


def test_train_validation_split_in_one_run_matches_the_procedure(caplog):
    caplog.set_level(logging.INFO, logger="distml")
    data = _frame(seed=5)
    tree = DecisionTreeClassifier(seed=1)
    grid = ParamGridBuilder().addGrid(tree.maxDepth, [1, 4]).build()
    tvs = TrainValidationSplit(estimator=tree, estimatorParamMaps=grid, trainRatio=0.6, seed=9,
                               evaluator=MulticlassClassificationEvaluator(metricName="f1"))
    one_run, procedure = tvs.fit(data), tvs._fit_here(data)
    assert _ran_in_one_run(caplog)
    np.testing.assert_allclose(one_run.validationMetrics, procedure.validationMetrics,
                               rtol=1e-12)
    assert one_run.bestModel.getMaxDepth() == procedure.bestModel.getMaxDepth()
