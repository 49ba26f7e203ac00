"""Model selection on Spark and pandas DataFrames: CrossValidator, TrainValidationSplit.

They are pyspark.ml's classes (same params, same models, same persistence), extended to pandas
input: on a Spark DataFrame pyspark.ml's own fit runs unchanged; on a pandas one the same
procedure runs here (rows assigned to folds by uniform draws from ``seed``, as pyspark.ml does
with ``rand(seed)``; each fold's param maps fitted ``parallelism`` at a time with
``fitMultiple``; the best param map refitted on all rows). ``ParamGridBuilder`` is
pyspark.ml's.
"""
from __future__ import annotations

from multiprocessing.pool import ThreadPool
from typing import Any

import numpy as np
import pandas as pd
from pyspark.ml.tuning import CrossValidator as _SparkCrossValidator
from pyspark.ml.tuning import CrossValidatorModel, ParamGridBuilder
from pyspark.ml.tuning import TrainValidationSplit as _SparkTrainValidationSplit
from pyspark.ml.tuning import TrainValidationSplitModel

from distml import frames
from distml.errors import ParamError
from distml.pipeline.constraints import Interval, ParamChecks

__all__ = ["CrossValidator", "CrossValidatorModel", "ParamGridBuilder", "TrainValidationSplit",
           "TrainValidationSplitModel"]


def _fit_and_evaluate(estimator, param_maps, evaluator, train, validation, parallelism: int,
                      keep_models: bool) -> tuple[list[float], list]:
    """Every param map fitted on ``train`` and scored on ``validation``, in param-map order."""
    metrics, models = [0.0] * len(param_maps), [None] * len(param_maps)
    fits = estimator.fitMultiple(train, param_maps)

    def one(_):
        index, model = next(fits)
        metrics[index] = evaluator.evaluate(model.transform(validation, param_maps[index]))
        if keep_models:
            models[index] = model

    with ThreadPool(processes=max(1, min(parallelism, len(param_maps)))) as pool:
        pool.map(one, range(len(param_maps)))
    return metrics, models


def _best(evaluator, metrics) -> int:
    return int(np.argmax(metrics) if evaluator.isLargerBetter() else np.argmin(metrics))


def _draws(frame: pd.DataFrame, seed: int | None) -> np.ndarray:
    return np.random.default_rng(None if seed is None else seed & 0xFFFFFFFFFFFFFFFF) \
        .random(len(frame))


class CrossValidator(ParamChecks, _SparkCrossValidator):
    """pyspark.ml's CrossValidator, also on pandas DataFrames (see the module docstring).

    >>> import numpy as np, pandas as pd
    >>> from distml import LogisticRegression
    >>> from distml.pipeline.evaluation import BinaryClassificationEvaluator
    >>> from distml.pipeline.tuning import CrossValidator, ParamGridBuilder
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> data = pd.DataFrame({"features": list(X), "label": (X[:, 0] > 0).astype(float)})
    >>> lr = LogisticRegression(maxIter=20)
    >>> grid = ParamGridBuilder().addGrid(lr.regParam, [0.01, 10.0]).build()
    >>> cv = CrossValidator(estimator=lr, estimatorParamMaps=grid, numFolds=3, seed=1,
    ...                     evaluator=BinaryClassificationEvaluator())
    >>> model = cv.fit(data)
    >>> model.bestModel.getRegParam(), len(model.avgMetrics)
    (0.01, 2)
    """

    _param_constraints = {"numFolds": [Interval(2)]}

    def _fit(self, dataset: Any):
        return frames.of(dataset).with_mllib(super()._fit, self._fit_here)

    def _fit_here(self, dataset: pd.DataFrame):
        estimator, param_maps = self.getEstimator(), self.getEstimatorParamMaps()
        evaluator, folds = self.getEvaluator(), self.getNumFolds()
        fold_of = self._pandas_folds(dataset, folds)
        keep = self.getCollectSubModels()
        metrics, sub_models = [], []
        for fold in range(folds):
            held = fold_of == fold
            fold_metrics, models = _fit_and_evaluate(
                estimator, param_maps, evaluator, dataset[~held], dataset[held],
                self.getParallelism(), keep)
            metrics.append(fold_metrics)
            sub_models.append(models)
        metrics = np.array(metrics)
        average, std = metrics.mean(axis=0), metrics.std(axis=0)
        best = estimator.fit(dataset, param_maps[_best(evaluator, average)])
        return self._copyValues(CrossValidatorModel(best, average.tolist(),
                                                    sub_models if keep else None, std.tolist()))

    def _pandas_folds(self, frame: pd.DataFrame, folds: int) -> np.ndarray:
        column = self.getFoldCol()
        if column:
            values = frame[column].to_numpy()
            if ((values < 0) | (values >= folds)).any():
                raise ParamError(f"foldCol '{column}' holds values outside 0..{folds - 1}")
            return values.astype(np.int64)
        return np.minimum((_draws(frame, self.getSeed()) * folds).astype(np.int64), folds - 1)


class TrainValidationSplit(_SparkTrainValidationSplit):
    """pyspark.ml's TrainValidationSplit, also on pandas DataFrames."""

    def _fit(self, dataset: Any):
        return frames.of(dataset).with_mllib(super()._fit, self._fit_here)

    def _fit_here(self, dataset: pd.DataFrame):
        estimator, param_maps = self.getEstimator(), self.getEstimatorParamMaps()
        evaluator, ratio = self.getEvaluator(), self.getTrainRatio()
        train = _draws(dataset, self.getSeed()) < ratio
        keep = self.getCollectSubModels()
        metrics, models = _fit_and_evaluate(estimator, param_maps, evaluator, dataset[train],
                                            dataset[~train], self.getParallelism(), keep)
        best = estimator.fit(dataset, param_maps[_best(evaluator, metrics)])
        return self._copyValues(TrainValidationSplitModel(best, metrics,
                                                          models if keep else None))
