"""Training summaries of classifiers (pyspark.ml's names); metrics are computed on first use."""
from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np

from distml import frames
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
        return frames.of(self.predictions).collect_arrays(vectors, columns)

    @cached_property
    def accuracy(self) -> float:
        a = self._arrays
        return weighted_accuracy(a["prediction"], a["label"], a.get("weight"))

    def plot(self):
        """The objective per iteration (and, for binary classifiers, the ROC curve on the
        training data) as a matplotlib figure; needs ``pip install matplotlib``."""
        try:
            from matplotlib.figure import Figure  # no pyplot: no GUI backend, any thread
        except ImportError:
            raise ImportError("summary.plot() draws with matplotlib: pip install matplotlib") \
                from None
        roc = self._roc_points()
        figure = Figure(figsize=(10 if roc is not None else 5, 4))
        axes = figure.subplots(1, 2 if roc is not None else 1, squeeze=False)[0]
        axes[0].plot(range(len(self.objectiveHistory)), self.objectiveHistory, marker=".")
        axes[0].set(title="objective", xlabel="iteration", ylabel="objective value")
        if roc is not None:
            axes[1].plot(*roc)
            axes[1].plot([0, 1], [0, 1], linestyle=":", color="gray")
            axes[1].set(title=f"ROC (area {self.areaUnderROC:.4f})", xlabel="false positive rate",
                        ylabel="true positive rate")
        figure.tight_layout()
        return figure

    def _roc_points(self):
        return None


class LogisticRegressionTrainingSummary(ClassificationTrainingSummary):
    """pyspark.ml's LogisticRegressionTrainingSummary."""


class MultilayerPerceptronClassificationTrainingSummary(ClassificationTrainingSummary):
    """pyspark.ml's MultilayerPerceptronClassificationTrainingSummary."""


class BinaryLogisticRegressionTrainingSummary(LogisticRegressionTrainingSummary):
    @cached_property
    def areaUnderROC(self) -> float:
        a = self._arrays
        return roc_auc(a["score"], a["label"], a.get("weight"))

    def _roc_points(self):
        """(false positive rates, true positive rates) over the distinct thresholds."""
        a = self._arrays
        w = a.get("weight", np.ones_like(a["label"]))
        order = np.argsort(-a["score"], kind="stable")
        tp = np.concatenate([[0.0], np.cumsum((w * a["label"])[order])])
        fp = np.concatenate([[0.0], np.cumsum((w * (1 - a["label"]))[order])])
        return fp / max(fp[-1], 1e-300), tp / max(tp[-1], 1e-300)
