"""Evaluators: pyspark.ml.evaluation's, computed partition by partition on Spark or on pandas.

Each evaluator reduces every partition to a few sums (a confusion matrix, per-score label
weights, per-cluster moments) with ``map_partitions``, folds them on the driver and computes
the metric from the folds, so only those sums cross. The metrics are scikit-learn's (tested
against it) and MLlib's definitions; they are pyspark.ml ``Evaluator`` subclasses, so
pyspark.ml's CrossValidator accepts them too.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from pyspark import keyword_only
from pyspark.ml.evaluation import Evaluator as _SparkEvaluator
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import (HasFeaturesCol, HasLabelCol, HasPredictionCol,
                                     HasProbabilityCol, HasRawPredictionCol, HasWeightCol)

from distml import frames
from distml.errors import DataError
from distml.frames import DOUBLE, VECTOR
from distml.pipeline.base import _Persistable, getters, setter, setters
from distml.pipeline.constraints import OneOf


class Evaluator(_SparkEvaluator, _Persistable):
    """Base of distml evaluators: ``evaluate(dataset, params=None)``, ``isLargerBetter()``."""

    _METRICS: dict[str, bool] = {}  # metric name -> larger is better

    def getMetricName(self) -> str:
        return self.getOrDefault("metricName")

    setMetricName = setter("metricName")

    def isLargerBetter(self) -> bool:
        self._check_params()
        return self._METRICS[self.getMetricName()]

    @classmethod
    def param_constraints(cls) -> dict[str, list]:
        return {**super().param_constraints(), "metricName": [OneOf(tuple(cls._METRICS))]}

    def _weight_column(self) -> dict:
        if self.weight_col():
            return {"w": (self.weight_col(), DOUBLE)}
        return {}

    def weight_col(self) -> str | None:
        """The weight column read, or None."""
        if self.isDefined("weightCol") and self.getOrDefault("weightCol"):
            return self.getOrDefault("weightCol")
        return None

    # The metric in two steps, so a metric can be taken where the scored rows already are (the
    # tuning's ranks, ``pipeline.tuning_on_ranks``): each partition's arrays reduce to a few
    # sums (``partition_sums``), the sums of all partitions to the metric (``metric_from``).
    # ``scored_inputs`` names, per array key, the model output and the column it is read from;
    # "y" and "w" are the label and weight. None: the metric needs more than one pass.
    def scored_inputs(self) -> dict[str, tuple[str, str]] | None:
        return None

    def partition_sums(self, arrays: dict) -> Any:
        raise NotImplementedError

    def metric_from(self, parts: list) -> float:
        raise NotImplementedError

    def _columns(self, dataset: Any) -> dict:
        inputs = self.scored_inputs()
        kinds = {"rawPrediction": _score_kind(dataset, inputs["s"][1]) if "s" in inputs
                 else DOUBLE, "prediction": DOUBLE, "probability": VECTOR}
        return {"y": (self.getOrDefault("labelCol"), DOUBLE),
                **{key: (column, kinds[output]) for key, (output, column) in inputs.items()},
                **self._weight_column()}

    def _evaluate(self, dataset: Any) -> float:
        parts = frames.of(dataset).map_partitions(self._columns(dataset), self.partition_sums)
        return self.metric_from(parts)


def _weights(arrays: dict, n: int) -> np.ndarray:
    w = arrays.get("w")
    if w is None:
        return np.ones(n)
    if (w < 0).any():
        raise DataError(f"weights must be >= 0; {int((w < 0).sum())} are negative")
    return w


# --- regression -------------------------------------------------------------------------------

class RegressionEvaluator(Evaluator, HasLabelCol, HasPredictionCol, HasWeightCol):
    """rmse, mse, mae, r2 and var (explained variance), weighted; MLlib's definitions.

    >>> import pandas as pd
    >>> from distml.pipeline.evaluation import RegressionEvaluator
    >>> scored = pd.DataFrame({"label": [1.0, 2.0, 3.0], "prediction": [1.0, 2.5, 2.5]})
    >>> round(RegressionEvaluator(metricName="mae").evaluate(scored), 6)
    0.333333
    """

    _METRICS = {"rmse": False, "mse": False, "mae": False, "r2": True, "var": True}
    metricName: Param[str] = Param(Params._dummy(), "metricName",
                                   "metric name in evaluation (mse|rmse|r2|mae|var)",
                                   typeConverter=TypeConverters.toString)
    throughOrigin: Param[bool] = Param(
        Params._dummy(), "throughOrigin",
        "whether the regression is through the origin (r2 and var then use sums of squares "
        "about 0)", typeConverter=TypeConverters.toBoolean)

    @keyword_only
    def __init__(self, *, predictionCol: str = "prediction", labelCol: str = "label",
                 metricName: str = "rmse", weightCol: str | None = None,
                 throughOrigin: bool = False):
        super().__init__()
        self._setDefault(predictionCol="prediction", labelCol="label", metricName="rmse",
                         throughOrigin=False)
        self._set_given(self._input_kwargs)

    def scored_inputs(self) -> dict:
        return {"p": ("prediction", self.getPredictionCol())}

    def partition_sums(self, arrays: dict) -> np.ndarray:
        return _regression_sums(arrays)

    def metric_from(self, parts: list) -> float:
        metric = self.getMetricName()
        w, wy, wyy, wp, se, ae, wpp = np.sum(parts, axis=0)
        if w <= 0:
            raise DataError("nothing to evaluate: the input has no rows (or all weights are 0)")
        origin = self.getOrDefault("throughOrigin")
        mean = 0.0 if origin else wy / w
        total = wyy - 2 * mean * wy + mean * mean * w          # sum w (y - mean)^2
        explained = wpp - 2 * mean * wp + mean * mean * w      # sum w (p - mean)^2
        return {"mse": se / w, "rmse": np.sqrt(se / w), "mae": ae / w,
                "r2": 1.0 - se / total if total > 0 else np.nan, "var": explained / w}[metric]

    # pyspark.ml's accessors (issue 22)
    (setLabelCol, setPredictionCol, setThroughOrigin, setWeightCol) = setters(
        "labelCol", "predictionCol", "throughOrigin", "weightCol")
    (getThroughOrigin,) = getters("throughOrigin")


def _regression_sums(arrays: dict) -> np.ndarray:
    y, p = arrays["y"], arrays["p"]
    w = _weights(arrays, y.size)
    err = y - p
    return np.array([w.sum(), w @ y, w @ (y * y), w @ p, w @ (err * err), w @ np.abs(err),
                     w @ (p * p)])


# --- binary classification ----------------------------------------------------------------------

class BinaryClassificationEvaluator(Evaluator, HasLabelCol, HasRawPredictionCol, HasWeightCol):
    """areaUnderROC and areaUnderPR over the scores of ``rawPredictionCol`` (a vector's second
    entry, or a number), weighted.

    The curves are exact: each partition sums the label weights per distinct score, the driver
    merges them and walks the thresholds. ``numBins`` is accepted for compatibility; MLlib uses
    it to down-sample the curve (per partition of its sorted scores), so its figure is an
    approximation when there are more than 2 x numBins distinct scores. areaUnderPR is MLlib's:
    trapezoids under the (recall, precision) points, starting at recall 0 with the first
    point's precision.
    """

    _METRICS = {"areaUnderROC": True, "areaUnderPR": True}
    metricName: Param[str] = Param(Params._dummy(), "metricName",
                                   "metric name in evaluation (areaUnderROC|areaUnderPR)",
                                   typeConverter=TypeConverters.toString)
    numBins: Param[int] = Param(Params._dummy(), "numBins",
                                "accepted for compatibility: distml's curves are exact",
                                typeConverter=TypeConverters.toInt)

    @keyword_only
    def __init__(self, *, rawPredictionCol: str = "rawPrediction", labelCol: str = "label",
                 metricName: str = "areaUnderROC", weightCol: str | None = None,
                 numBins: int = 1000):
        super().__init__()
        self._setDefault(rawPredictionCol="rawPrediction", labelCol="label",
                         metricName="areaUnderROC", numBins=1000)
        self._set_given(self._input_kwargs)

    def scored_inputs(self) -> dict:
        return {"s": ("rawPrediction", self.getRawPredictionCol())}

    def partition_sums(self, arrays: dict) -> tuple:
        return _score_label_weights(arrays)

    def metric_from(self, parts: list) -> float:
        _, positive, negative = _merge_score_weights(parts)
        return _area(positive, negative, self.getMetricName())

    # pyspark.ml's accessors (issue 22)
    (setLabelCol, setNumBins, setRawPredictionCol, setWeightCol) = setters(
        "labelCol", "numBins", "rawPredictionCol", "weightCol")
    (getNumBins,) = getters("numBins")


def _score_kind(dataset: Any, column: str) -> str:
    """VECTOR when the score column holds vectors (rawPrediction), DOUBLE for numbers."""
    return VECTOR if frames.of(dataset).is_vector_column(column) else DOUBLE


def _score_label_weights(arrays: dict) -> tuple:
    """Distinct scores of the partition with the weights of positive and negative rows."""
    y, s = arrays["y"], arrays["s"]
    if s.ndim == 2:
        if s.shape[0] and s.shape[1] != 2:
            raise DataError(f"the score vectors have {s.shape[1]} entries; binary "
                            "classification needs 2 (or a numeric score column)")
        s = s[:, 1] if s.shape[0] else np.zeros(0)
    bad = (y != 0) & (y != 1)
    if bad.any():
        raise DataError(f"labels must be 0 or 1 for binary evaluation; found "
                        f"{np.unique(y[bad])[:3].tolist()}")
    w = _weights(arrays, y.size)
    return _group_by_score(s, w * y, w * (1 - y))


def _group_by_score(s, pos, neg):
    """(distinct scores ascending, positive weight, negative weight of each)."""
    order = np.argsort(s)
    return _sum_ties(s[order], pos[order], neg[order])


def _sum_ties(s, pos, neg):
    """The label weights of sorted scores summed per distinct score."""
    if s.size == 0:
        return s, pos, neg
    first = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])
    return s[first], np.add.reduceat(pos, first), np.add.reduceat(neg, first)


def _merge_score_weights(parts):
    # Each part is sorted already: a stable sort of their concatenation (timsort) merges the
    # runs in linear time, where np.unique's sort would start afresh.
    s = np.concatenate([p[0] for p in parts])
    order = np.argsort(s, kind="stable")
    return _sum_ties(s[order], np.concatenate([p[1] for p in parts])[order],
                     np.concatenate([p[2] for p in parts])[order])


def _area(positive, negative, metric: str) -> float:
    """The area from the label weights of distinct scores in ascending order
    (``_merge_score_weights``'s), walked from the highest threshold down."""
    tp, fp = np.cumsum(positive[::-1]), np.cumsum(negative[::-1])
    total_pos, total_neg = (tp[-1], fp[-1]) if tp.size else (0.0, 0.0)
    if metric == "areaUnderROC":
        if total_pos == 0 or total_neg == 0:
            raise DataError("areaUnderROC needs rows of both labels (0 and 1) with positive "
                            f"weight; found weight {total_pos:g} for 1, {total_neg:g} for 0")
        x = np.concatenate([[0.0], fp / total_neg, [1.0]])
        y = np.concatenate([[0.0], tp / total_pos, [1.0]])
        return float(np.trapz(y, x))
    if total_pos == 0:
        return 0.0
    recall = tp / total_pos
    precision = np.divide(tp, tp + fp, out=np.ones_like(tp), where=(tp + fp) > 0)
    recall = np.concatenate([[0.0], recall])
    precision = np.concatenate([[precision[0]], precision])
    return float(np.trapz(precision, recall))


# --- multiclass ---------------------------------------------------------------------------------

class MulticlassClassificationEvaluator(Evaluator, HasLabelCol, HasPredictionCol, HasWeightCol,
                                        HasProbabilityCol):
    """MLlib's multiclass metrics from a weighted confusion matrix (and logLoss from the
    probability column): f1 (weighted F-measure), accuracy, weightedPrecision, weightedRecall,
    weightedTruePositiveRate, weightedFalsePositiveRate, weightedFMeasure, hammingLoss,
    logLoss, and the by-label ones for ``metricLabel``."""

    _METRICS = {"f1": True, "accuracy": True, "weightedPrecision": True,
                "weightedRecall": True, "weightedTruePositiveRate": True,
                "weightedFalsePositiveRate": False, "weightedFMeasure": True,
                "truePositiveRateByLabel": True, "falsePositiveRateByLabel": False,
                "precisionByLabel": True, "recallByLabel": True, "fMeasureByLabel": True,
                "logLoss": False, "hammingLoss": False}
    metricName: Param[str] = Param(Params._dummy(), "metricName", "metric name in evaluation",
                                   typeConverter=TypeConverters.toString)
    metricLabel: Param[float] = Param(Params._dummy(), "metricLabel",
                                      "the class whose metric will be computed in by-label "
                                      "metrics", typeConverter=TypeConverters.toFloat)
    beta: Param[float] = Param(Params._dummy(), "beta", "the beta value of the F-measure",
                               typeConverter=TypeConverters.toFloat)
    eps: Param[float] = Param(Params._dummy(), "eps", "probabilities are clipped to "
                              "[eps, 1 - eps] in logLoss", typeConverter=TypeConverters.toFloat)

    @keyword_only
    def __init__(self, *, predictionCol: str = "prediction", labelCol: str = "label",
                 metricName: str = "f1", weightCol: str | None = None,
                 metricLabel: float = 0.0, beta: float = 1.0,
                 probabilityCol: str = "probability", eps: float = 1e-15):
        super().__init__()
        self._setDefault(predictionCol="prediction", labelCol="label", metricName="f1",
                         metricLabel=0.0, beta=1.0, probabilityCol="probability", eps=1e-15)
        self._set_given(self._input_kwargs)

    def scored_inputs(self) -> dict:
        if self.getMetricName() == "logLoss":
            return {"prob": ("probability", self.getProbabilityCol())}
        return {"p": ("prediction", self.getPredictionCol())}

    def partition_sums(self, arrays: dict) -> Any:
        if self.getMetricName() == "logLoss":
            return _log_loss_sums(arrays, self.getOrDefault("eps"))
        return _confusion(arrays)

    def metric_from(self, parts: list) -> float:
        metric = self.getMetricName()
        if metric == "logLoss":
            loss, weight = np.sum(parts, axis=0)
            return loss / weight
        labels = np.unique(np.concatenate([p[0] for p in parts]))
        matrix = np.zeros((labels.size, labels.size))
        for part_labels, part_matrix in parts:
            at = np.searchsorted(labels, part_labels)
            matrix[np.ix_(at, at)] += part_matrix
        return _multiclass_metric(metric, labels, matrix, self.getOrDefault("metricLabel"),
                                  self.getOrDefault("beta"))

    # pyspark.ml's accessors (issue 22)
    (setBeta, setEps, setLabelCol) = setters("beta", "eps", "labelCol")
    (setMetricLabel, setPredictionCol, setProbabilityCol, setWeightCol) = setters(
        "metricLabel", "predictionCol", "probabilityCol", "weightCol")
    (getBeta, getEps, getMetricLabel) = getters("beta", "eps", "metricLabel")


def _confusion(arrays: dict) -> tuple:
    y, p = arrays["y"], arrays["p"]
    w = _weights(arrays, y.size)
    labels, inverse = np.unique(np.concatenate([y, p]), return_inverse=True)
    k = labels.size
    matrix = np.bincount(inverse[:y.size] * k + inverse[y.size:], w, k * k).reshape(k, k)
    return labels, matrix  # rows: true label, columns: prediction


def _log_loss_sums(arrays: dict, eps: float) -> np.ndarray:
    y, prob = arrays["y"], arrays["prob"]
    w = _weights(arrays, y.size)
    if y.size == 0:
        return np.zeros(2)
    index = y.astype(np.int64)
    if (index != y).any() or (index < 0).any() or (index >= prob.shape[1]).any():
        raise DataError(f"logLoss needs labels 0..{prob.shape[1] - 1} (one per probability "
                        "entry)")
    picked = np.clip(prob[np.arange(y.size), index], eps, 1 - eps)
    return np.array([-(w @ np.log(picked)), w.sum()])


def _multiclass_metric(metric, labels, matrix, metric_label, beta) -> float:
    total = matrix.sum()
    true_weight, predicted_weight = matrix.sum(axis=1), matrix.sum(axis=0)
    tp = np.diag(matrix)
    present = true_weight > 0  # MLlib averages over the labels that occur as true labels
    share = true_weight / total
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted_weight > 0, tp / predicted_weight, 0.0)
        recall = np.where(true_weight > 0, tp / true_weight, 0.0)
        fp_rate = np.where(total - true_weight > 0,
                           (predicted_weight - tp) / (total - true_weight), 0.0)
        b2 = beta * beta
        f = np.where(precision + recall > 0,
                     (1 + b2) * precision * recall / (b2 * precision + recall), 0.0)
    weighted = (lambda v: float((share * v)[present].sum()))
    if metric.endswith("ByLabel"):
        at = np.searchsorted(labels, metric_label)
        if at >= labels.size or labels[at] != metric_label:
            return 0.0
        by_label = {"truePositiveRateByLabel": recall, "recallByLabel": recall,
                    "falsePositiveRateByLabel": fp_rate, "precisionByLabel": precision,
                    "fMeasureByLabel": f}
        return float(by_label[metric][at])
    return {"accuracy": tp.sum() / total, "hammingLoss": 1 - tp.sum() / total,
            "weightedPrecision": weighted(precision), "weightedRecall": weighted(recall),
            "weightedTruePositiveRate": weighted(recall),
            "weightedFalsePositiveRate": weighted(fp_rate),
            "weightedFMeasure": weighted(f), "f1": weighted(f)}[metric]


# --- clustering -------------------------------------------------------------------------------

class ClusteringEvaluator(Evaluator, HasFeaturesCol, HasPredictionCol, HasWeightCol):
    """The silhouette (MLlib's): squared Euclidean distance (default) or cosine, weighted.

    Two passes: per-cluster weight, weighted sum of rows and of squared norms; then each row's
    mean distance to every cluster from those sums, so no pairwise distances are formed. A row
    alone in its cluster scores 0, as in scikit-learn and MLlib.
    """

    _METRICS = {"silhouette": True}
    metricName: Param[str] = Param(Params._dummy(), "metricName",
                                   "metric name in evaluation (silhouette)",
                                   typeConverter=TypeConverters.toString)
    distanceMeasure: Param[str] = Param(Params._dummy(), "distanceMeasure",
                                        "the distance measure: squaredEuclidean or cosine",
                                        typeConverter=TypeConverters.toString)

    _param_constraints = {
        "distanceMeasure": [OneOf(("squaredEuclidean", "cosine"), "squaredEuclidean or cosine")]}

    @keyword_only
    def __init__(self, *, predictionCol: str = "prediction", featuresCol: str = "features",
                 metricName: str = "silhouette", distanceMeasure: str = "squaredEuclidean",
                 weightCol: str | None = None):
        super().__init__()
        self._setDefault(predictionCol="prediction", featuresCol="features",
                         metricName="silhouette", distanceMeasure="squaredEuclidean")
        self._set_given(self._input_kwargs)

    def _evaluate(self, dataset: Any) -> float:
        cosine = self.getOrDefault("distanceMeasure") == "cosine"
        columns = {"x": (self.getFeaturesCol(), VECTOR), "c": (self.getPredictionCol(), DOUBLE),
                   **self._weight_column()}
        parts = frames.of(dataset).map_partitions(columns, lambda a: _cluster_sums(a, cosine))
        clusters = np.unique(np.concatenate([p[0] for p in parts]))
        if clusters.size < 2:
            raise DataError("the silhouette needs at least 2 clusters; the predictions hold "
                            f"{clusters.size}")
        width = next(p[2].shape[1] for p in parts if p[0].size)
        weight, sums, norms = np.zeros(clusters.size), np.zeros((clusters.size, width)), \
            np.zeros(clusters.size)
        for ids, w, s, q in parts:
            at = np.searchsorted(clusters, ids)
            weight[at] += w
            sums[at] += s
            norms[at] += q
        totals = frames.of(dataset).map_partitions(
            columns, lambda a: _silhouette_sums(
            a, cosine, clusters, weight, sums, norms))
        score, total_weight = np.sum(totals, axis=0)
        return score / total_weight

    # pyspark.ml's accessors (issue 22)
    (setDistanceMeasure, setFeaturesCol, setPredictionCol, setWeightCol) = setters(
        "distanceMeasure", "featuresCol", "predictionCol", "weightCol")
    (getDistanceMeasure,) = getters("distanceMeasure")


def _rows(arrays: dict, cosine: bool) -> np.ndarray:
    x = arrays["x"]
    if cosine:
        norms = np.linalg.norm(x, axis=1, keepdims=True)
        if (norms == 0).any():
            raise DataError("the cosine silhouette is undefined for zero vectors")
        x = x / norms
    return x


def _cluster_sums(arrays: dict, cosine: bool) -> tuple:
    x, c = _rows(arrays, cosine), arrays["c"]
    w = _weights(arrays, c.size)
    ids, inverse = np.unique(c, return_inverse=True)
    one_hot = sp.csr_matrix((w, (inverse, np.arange(c.size))), shape=(ids.size, c.size))
    return ids, np.bincount(inverse, w, ids.size), np.asarray(one_hot @ x), \
        one_hot @ (x * x).sum(axis=1)


def _silhouette_sums(arrays, cosine, clusters, weight, sums, norms) -> np.ndarray:
    x, c = _rows(arrays, cosine), arrays["c"]
    w = _weights(arrays, c.size)
    if c.size == 0:
        return np.zeros(2)
    own = np.searchsorted(clusters, c)
    if cosine:  # mean of 1 - x.y over a cluster's rows
        mean = 1.0 - (x @ sums.T) / weight
    else:       # mean of ||x - y||^2
        mean = ((x * x).sum(axis=1)[:, None] * weight - 2 * x @ sums.T + norms) / weight
    rows = np.arange(c.size)
    own_weight = weight[own]
    a = mean[rows, own] * own_weight / np.maximum(own_weight - w, 1e-300)
    mean[rows, own] = np.inf
    b = mean.min(axis=1)
    s = np.where(own_weight > w, (b - a) / np.maximum(np.maximum(a, b), 1e-300), 0.0)
    return np.array([w @ s, w.sum()])
