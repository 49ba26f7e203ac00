"""What every probabilistic classifier model shares: columns, thresholds, transform, predict.

Semantics are pyspark.ml's ``ProbabilisticClassificationModel``: an output column whose name
is set to "" is not produced; with ``thresholds`` the prediction is the class with the largest
``probability / threshold``; without, the largest raw prediction.
"""
from __future__ import annotations

from typing import Any

import numpy as np
from pyspark.ml.linalg import DenseVector, Vector
from pyspark.ml.param.shared import (HasFeaturesCol, HasLabelCol, HasPredictionCol,
                                     HasProbabilityCol, HasRawPredictionCol, HasThresholds)

from distml import frames
from distml.errors import DataError
from distml.frames import DOUBLE, VECTOR, InputSpec, Output, vector_rows
from distml.pipeline.base import Estimator, HasWeights, Model, setters


class ClassifierParams(HasFeaturesCol, HasLabelCol, HasPredictionCol, HasProbabilityCol,
                       HasRawPredictionCol, HasThresholds, HasWeights):
    """Columns and thresholds of a probabilistic classifier (pyspark.ml's names, defaults)."""

    (setFeaturesCol, setLabelCol, setPredictionCol, setProbabilityCol, setRawPredictionCol,
     setThresholds) = setters(
        "featuresCol", "labelCol", "predictionCol", "probabilityCol", "rawPredictionCol",
        "thresholds")


class Classifier(Estimator):
    """Base of classifier estimators: their fit reads features, label and (if set) weight."""

    _tunes_on_ranks = True

    def _input_spec(self) -> InputSpec:
        return InputSpec(self.getFeaturesCol(), label=self.getLabelCol(),
                         weight=self._weight_col())


def _argmax_over_thresholds(thresholds: np.ndarray | None):
    """pyspark.ml's rule: argmax of probability / threshold, else argmax of raw."""
    def predict(raw: np.ndarray, probability: np.ndarray | None) -> np.ndarray:
        if thresholds is None:
            return raw.argmax(axis=1).astype(np.float64)
        with np.errstate(divide="ignore", invalid="ignore"):
            scaled = np.where(thresholds == 0, np.where(probability > 0, np.inf, 0.0),
                              probability / thresholds)
        return scaled.argmax(axis=1).astype(np.float64)
    return predict


class ProbabilisticClassificationModel(Model, ClassifierParams):
    """Base of fitted probabilistic classifiers.

    Subclasses return plain functions over arrays (``_raw_fn``, ``_probability_fn``,
    optionally ``_prediction_fn``) closing over the model's arrays only, so what travels to the
    executors in ``transform`` is arrays and code, never the model object.
    """

    numClasses: int
    numFeatures: int

    # hooks ------------------------------------------------------------------------------------
    def _raw_fn(self):
        """X -> raw predictions (n x numClasses)."""
        raise NotImplementedError

    def _probability_fn(self):
        """raw predictions -> class probabilities (n x numClasses)."""
        raise NotImplementedError

    def _thresholds_array(self) -> np.ndarray | None:
        if not self.isDefined(self.thresholds):
            return None
        t = np.asarray(self.getThresholds(), dtype=np.float64)
        if t.size != self.numClasses:
            raise DataError(f"thresholds has {t.size} values but the model has "
                            f"{self.numClasses} classes")
        return t

    def _prediction_fn(self):
        """(raw, probability or None) -> predicted class as float."""
        return _argmax_over_thresholds(self._thresholds_array())

    def _needs_probability_for_prediction(self) -> bool:
        return self.isDefined(self.thresholds)

    # public -----------------------------------------------------------------------------------
    def predictRaw(self, features: Vector) -> DenseVector:
        return DenseVector(self._raw_fn()(vector_rows(features, self.numFeatures))[0])

    def predictProbability(self, features: Vector) -> DenseVector:
        raw = self._raw_fn()(vector_rows(features, self.numFeatures))
        return DenseVector(self._probability_fn()(raw)[0])

    def predict(self, features: Vector) -> float:
        raw = self._raw_fn()(vector_rows(features, self.numFeatures))
        prob = self._probability_fn()(raw)
        return float(self._prediction_fn()(raw, prob)[0])

    def _scores(self, wanted: frozenset) -> Any:
        """X -> {output: array} for the outputs ``wanted`` among "rawPrediction",
        "probability" and "prediction"; a plain function over the model's arrays."""
        raw_fn, prob_fn, pred_fn = self._raw_fn(), self._probability_fn(), self._prediction_fn()
        need_prob = "probability" in wanted or (
            "prediction" in wanted and self._needs_probability_for_prediction())

        def scores(X):
            raw = raw_fn(X)
            prob = prob_fn(raw) if need_prob else None
            out = {"rawPrediction": raw, "probability": prob}
            if "prediction" in wanted:
                out["prediction"] = pred_fn(raw, prob)
            return {name: out[name] for name in wanted}
        return scores

    def _extra_outputs(self) -> dict:
        """Columns a model writes beside its scores, {name: (kind, X -> values)}: a plain
        function over the model's arrays, like ``_scores``'s (a tree's ``leafCol``)."""
        return {}

    def _twin_columns(self) -> tuple[list[str], list[str]]:
        return [self.getFeaturesCol()], [self.getRawPredictionCol(), self.getProbabilityCol(),
                                         self.getPredictionCol(), *self._extra_outputs()]

    def _transform(self, dataset: Any) -> Any:
        return self._transform_here(dataset)

    def _transform_here(self, dataset: Any) -> Any:
        """The transform in Python (a model with a pyspark.ml twin scores in the JVM on
        Spark, ``pipeline.jvm_scoring``)."""
        columns = {"rawPrediction": (self.getRawPredictionCol(), VECTOR),
                   "probability": (self.getProbabilityCol(), VECTOR),
                   "prediction": (self.getPredictionCol(), DOUBLE)}
        columns = {output: c for output, c in columns.items() if c[0]}
        extra = self._extra_outputs()
        if not columns and not extra:
            return dataset
        scores = self._scores(frozenset(columns))

        def outputs(X):
            return {**{columns[output][0]: v for output, v in scores(X).items()},
                    **{name: values(X) for name, (_, values) in extra.items()}}
        return frames.of(dataset).transform(
            InputSpec(self.getFeaturesCol(), check_finite=False,
                      width=self._feature_width()), outputs,
            [Output(name, kind) for name, kind in columns.values()] +
            [Output(name, kind) for name, (kind, _) in extra.items()])
