"""Model selection on Spark and pandas DataFrames: CrossValidator, TrainValidationSplit.

They are pyspark.ml's classes (same params, same models, same persistence). Given a distml
estimator (or a Pipeline of transformers ending in one) and an evaluator distml computes on
the ranks, the whole procedure runs in one engine run over one ingestion
(``pipeline.tuning_on_ranks``): rows are dealt into folds by a hash of their position and
``seed`` (or by ``foldCol``), every fold x param map is fitted and scored where the rows are,
and the best param map is refitted in the same run. ``parallelism`` does not apply there (the
fits share the ranks one after another). Otherwise, on a Spark DataFrame, pyspark.ml's own
fit runs unchanged, after one log line saying why; on a pandas one the same procedure runs
here (the same fold assignment as the ranks'; each fold's param maps fitted ``parallelism``
at a time with ``fitMultiple``; the best param map refitted on all rows).
``ParamGridBuilder`` is pyspark.ml's.
"""
from __future__ import annotations

import logging
from multiprocessing.pool import ThreadPool
from typing import Any

import numpy as np
import pandas as pd
from pyspark.ml.tuning import CrossValidator as _SparkCrossValidator
from pyspark.ml.tuning import CrossValidatorModel, ParamGridBuilder
from pyspark.ml.tuning import TrainValidationSplit as _SparkTrainValidationSplit
from pyspark.ml.tuning import TrainValidationSplitModel

from distml import frames
from distml.engine.row_views import groups_of
from distml.errors import ParamError
from distml.pipeline import tuning_on_ranks
from distml.pipeline.constraints import Interval, ParamChecks

__all__ = ["CrossValidator", "CrossValidatorModel", "ParamGridBuilder", "TrainValidationSplit",
           "TrainValidationSplitModel"]

log = logging.getLogger("distml")


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


class _OnRanks:
    """The validators' shared step: run on the ranks when the plan allows, else say why."""

    def _on_ranks(self, dataset: Any, rows: dict, splits: list, fold_col: str = ""):
        plan, why = tuning_on_ranks.plan(self.getEstimator(), self.getEstimatorParamMaps(),
                                         self.getEvaluator(), dataset, fold_col)
        if plan is None:
            log.info("distml %s: pyspark.ml's procedure, one fit per fold and param map (%s)",
                     type(self).__name__, why)
            return None
        log.info("distml %s: %d param maps x %d splits and the refit in one engine run",
                 type(self).__name__, len(plan.fits), len(splits))
        return tuning_on_ranks.run(plan, rows, splits, self.getCollectSubModels(),
                                   type(self).__name__)


class CrossValidator(ParamChecks, _OnRanks, _SparkCrossValidator):
    """pyspark.ml's CrossValidator, in one engine run for distml estimators, also on pandas
    DataFrames (see the module docstring).

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
        folds = self.getNumFolds()
        ran = self._on_ranks(dataset, {"groups": folds, "seed": self.getSeed(),
                                       "from_ids": self.getFoldCol() or None},
                             list(range(folds)), self.getFoldCol())
        if ran is None:
            return frames.of(dataset).with_mllib(super()._fit, self._fit_here)
        metrics = ran["metrics"]
        return self._copyValues(CrossValidatorModel(
            ran["model"], metrics.mean(axis=0).tolist(), ran["subModels"],
            metrics.std(axis=0).tolist()))

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
        best = estimator.fit(dataset, param_maps[tuning_on_ranks.best_index(
            average, evaluator.isLargerBetter())])
        return self._copyValues(CrossValidatorModel(best, average.tolist(),
                                                    sub_models if keep else None, std.tolist()))

    def _pandas_folds(self, frame: pd.DataFrame, folds: int) -> np.ndarray:
        column = self.getFoldCol()
        if column:
            values = frame[column].to_numpy()
            if ((values < 0) | (values >= folds)).any():
                raise ParamError(f"foldCol '{column}' holds values outside 0..{folds - 1}")
            return values.astype(np.int64)
        return groups_of(np.arange(len(frame)), folds, self.getSeed())


class TrainValidationSplit(_OnRanks, _SparkTrainValidationSplit):
    """pyspark.ml's TrainValidationSplit, in one engine run for distml estimators, also on
    pandas DataFrames (see the module docstring). Rows whose draw is below ``trainRatio``
    train."""

    def _fit(self, dataset: Any):
        ran = self._on_ranks(dataset, {"groups": 2, "seed": self.getSeed(),
                                       "cut": self.getTrainRatio()}, [1])
        if ran is None:
            return frames.of(dataset).with_mllib(super()._fit, self._fit_here)
        subs = ran["subModels"]
        return self._copyValues(TrainValidationSplitModel(
            ran["model"], ran["metrics"][0].tolist(), None if subs is None else subs[0]))

    def _fit_here(self, dataset: pd.DataFrame):
        estimator, param_maps = self.getEstimator(), self.getEstimatorParamMaps()
        evaluator, ratio = self.getEvaluator(), self.getTrainRatio()
        train = groups_of(np.arange(len(dataset)), 2, self.getSeed(), cut=ratio) == 0
        keep = self.getCollectSubModels()
        metrics, models = _fit_and_evaluate(estimator, param_maps, evaluator, dataset[train],
                                            dataset[~train], self.getParallelism(), keep)
        best = estimator.fit(dataset, param_maps[tuning_on_ranks.best_index(
            np.asarray(metrics), evaluator.isLargerBetter())])
        return self._copyValues(TrainValidationSplitModel(best, metrics,
                                                          models if keep else None))
