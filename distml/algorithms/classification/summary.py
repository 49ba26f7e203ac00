"""Training summaries of classifiers (pyspark.ml's names); metrics are computed on first use."""
from __future__ import annotations

from functools import cached_property
from typing import Any

from distml.engine.transform import collect_arrays
from distml.kernels.metrics import roc_auc, weighted_accuracy


class ClassificationTrainingSummary:
    """objectiveHistory and totalIterations of the fit, and metrics on the training data.

    As in pyspark.ml, ``predictions`` is the model's output on the training data, and the
    metrics are computed (once) when first asked for, from the columns they need only.
    """

    def __init__(self, model: Any, dataset: Any, objective_history, total_iterations: int):
        self._model, self._dataset = model, dataset
        self.objectiveHistory = [] if objective_history is None else \
            [float(v) for v in objective_history]
        self.totalIterations = int(total_iterations)
        self.labelCol = model.getLabelCol()
        self.featuresCol = model.getFeaturesCol()
        self.predictionCol = model.getPredictionCol() or "prediction"
        self.probabilityCol = model.getProbabilityCol() or "probability"
        self.weightCol = model._weight_col()
        # distml's addition: where each partition's kernels ran ("numpy:cpu", "mxnet:gpu(0)")
        self.devices = getattr(model, "_devices", None) if objective_history is not None \
            else None

    @cached_property
    def predictions(self) -> Any:
        model = self._model.copy({self._model.predictionCol: self.predictionCol,
                                  self._model.probabilityCol: self.probabilityCol})
        return model.transform(self._dataset)

    @cached_property
    def _arrays(self) -> dict:
        columns = {"label": self.labelCol, "prediction": self.predictionCol}
        if self.weightCol:
            columns["weight"] = self.weightCol
        vectors = {"score": (self.probabilityCol, 1)} if self._model.numClasses <= 2 else {}
        return collect_arrays(self.predictions, vectors, columns)

    @cached_property
    def accuracy(self) -> float:
        a = self._arrays
        return weighted_accuracy(a["prediction"], a["label"], a.get("weight"))


class LogisticRegressionTrainingSummary(ClassificationTrainingSummary):
    """pyspark.ml's LogisticRegressionTrainingSummary."""


class MultilayerPerceptronClassificationTrainingSummary(ClassificationTrainingSummary):
    """pyspark.ml's MultilayerPerceptronClassificationTrainingSummary."""


class BinaryLogisticRegressionTrainingSummary(LogisticRegressionTrainingSummary):
    @cached_property
    def areaUnderROC(self) -> float:
        a = self._arrays
        return roc_auc(a["score"], a["label"], a.get("weight"))
