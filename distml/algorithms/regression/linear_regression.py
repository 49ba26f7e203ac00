"""LinearRegression: pyspark.ml's, fitted from one pass of sufficient statistics."""
from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
from pyspark import keyword_only
from pyspark.ml.linalg import DenseVector
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import (HasAggregationDepth, HasElasticNetParam, HasFeaturesCol,
                                     HasFitIntercept, HasLabelCol, HasMaxBlockSizeInMB,
                                     HasMaxIter, HasPredictionCol, HasRegParam,
                                     HasStandardization, HasTol)
from scipy import stats

from distml import frames
from distml.algorithms.regression.linear_regression_program import linear_regression
from distml.engine.context import FitResult
from distml.errors import ParamError
from distml.frames import DOUBLE, InputSpec, Output, vector_rows
from distml.pipeline.base import Estimator, HasBackend, HasWeights, Model, setters
from distml.pipeline.constraints import Interval, OneOf
from distml.pipeline.jvm_scoring import ScoresInJvm, jvm_vector, twin_of

SOLVERS = ("auto", "normal", "l-bfgs")


class _LinearRegressionParams(HasFeaturesCol, HasLabelCol, HasPredictionCol, HasWeights,
                              HasRegParam, HasElasticNetParam, HasMaxIter, HasTol,
                              HasFitIntercept, HasStandardization, HasAggregationDepth,
                              HasMaxBlockSizeInMB, HasBackend):
    """pyspark.ml.regression.LinearRegression's params, names and defaults."""

    solver: Param[str] = Param(
        Params._dummy(), "solver", "The solver algorithm for optimization. Supported options: "
        "auto, normal, l-bfgs. (Default auto)", typeConverter=TypeConverters.toString)
    loss: Param[str] = Param(
        Params._dummy(), "loss", "The loss function to be optimized. Supported options: "
        "squaredError, huber. (Default squaredError)", typeConverter=TypeConverters.toString)
    epsilon: Param[float] = Param(
        Params._dummy(), "epsilon", "The shape parameter to control the amount of robustness. "
        "Must be > 1.0. Only valid when loss is huber", typeConverter=TypeConverters.toFloat)

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(maxIter=100, regParam=0.0, tol=1e-6, epsilon=1.35, solver="auto",
                         loss="squaredError", maxBlockSizeInMB=0.0)

    def getSolver(self) -> str:
        return self.getOrDefault(self.solver)

    def getLoss(self) -> str:
        return self.getOrDefault(self.loss)

    def getEpsilon(self) -> float:
        return self.getOrDefault(self.epsilon)

    (setFeaturesCol, setLabelCol, setPredictionCol) = setters(
        "featuresCol", "labelCol", "predictionCol")


class LinearRegression(Estimator, _LinearRegressionParams):
    """Linear least squares with L2, L1 and elastic-net penalties, pyspark.ml's.

    A drop-in for ``pyspark.ml.regression.LinearRegression``: same params, defaults, columns,
    objective (``linear_regression_program`` writes it out: MLlib standardizes the label too)
    and training summary, with the standard errors, t-values and p-values of the normal
    solver. One pass over the data: every rank sums its rows' weighted [x, y] products, one
    allreduce, and the driver solves the penalized normal equations (Cholesky; with an L1
    part, coordinate descent to convergence), whatever ``solver`` says: both of MLlib's
    solvers reach this optimum, the statistics give it exactly, and like MLlib's ``l-bfgs``
    an ``l-bfgs`` or L1 fit has no standard errors. The statistics pass runs on ``backend``
    (MXNet on a GPU: a Gram matrix is matrix products).

    Past 4,096 features (MLlib's normal-solver bound), and for ``loss="huber"`` (MLlib's
    robust loss, its scale ``epsilon`` and the estimated ``scale`` sigma; an L2 penalty only),
    the fit is MLlib's l-bfgs path: L-BFGS (OWL-QN with an L1 part) over the data, one round
    per objective evaluation, on standardized features, until ``tol`` or ``maxIter``.

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile, os
    >>> from distml import LinearRegression, LinearRegressionModel
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 1.0], [3.0, 0.0]])
    >>> df = pd.DataFrame({"features": list(X), "label": X @ [2.0, -1.0] + 0.5})
    >>> model = LinearRegression().fit(df)
    >>> np.round(model.coefficients.toArray(), 6).tolist(), round(model.intercept, 6)
    ([2.0, -1.0], 0.5)
    >>> round(model.summary.r2, 6)
    1.0
    >>> path = os.path.join(tempfile.mkdtemp(), "linear")
    >>> model.save(path)
    >>> LinearRegressionModel.load(path).predict(np.array([1.0, 1.0]))
    1.5
    """

    _param_constraints = {
        "regParam": [Interval(0)], "elasticNetParam": [Interval(0, 1)],
        "maxIter": [Interval(0)], "tol": [Interval(0)], "solver": [OneOf(SOLVERS)],
        "loss": [OneOf(("squaredError", "huber"))],
        "epsilon": [Interval(1, closed="neither")]}

    @keyword_only
    def __init__(self, *, featuresCol: str = "features", labelCol: str = "label",
                 predictionCol: str = "prediction", maxIter: int = 100, regParam: float = 0.0,
                 elasticNetParam: float = 0.0, tol: float = 1e-6, fitIntercept: bool = True,
                 standardization: bool = True, solver: str = "auto",
                 weightCol: str | None = None, aggregationDepth: int = 2,
                 loss: str = "squaredError", epsilon: float = 1.35,
                 maxBlockSizeInMB: float = 0.0, engine: str = "auto", numWorkers: int = 0,
                 backend: str = "auto"):
        super().__init__()
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, *, featuresCol: str = "features", labelCol: str = "label",
                  predictionCol: str = "prediction", maxIter: int = 100, regParam: float = 0.0,
                  elasticNetParam: float = 0.0, tol: float = 1e-6, fitIntercept: bool = True,
                  standardization: bool = True, solver: str = "auto",
                  weightCol: str | None = None, aggregationDepth: int = 2,
                  loss: str = "squaredError", epsilon: float = 1.35,
                  maxBlockSizeInMB: float = 0.0, engine: str = "auto", numWorkers: int = 0,
                  backend: str = "auto"):
        return self._set_given(self._input_kwargs)

    (setMaxIter, setRegParam, setElasticNetParam, setTol, setFitIntercept, setStandardization,
     setSolver, setAggregationDepth, setLoss, setEpsilon, setMaxBlockSizeInMB) = setters(
        "maxIter", "regParam", "elasticNetParam", "tol", "fitIntercept", "standardization",
        "solver", "aggregationDepth", "loss", "epsilon", "maxBlockSizeInMB")

    # hooks ------------------------------------------------------------------------------------
    def _training_program(self):
        return linear_regression

    def _program_params(self) -> dict:
        return {"regParam": self.getRegParam(), "elasticNetParam": self.getElasticNetParam(),
                "fitIntercept": self.getFitIntercept(),
                "standardization": self.getStandardization(), "solver": self.getSolver(),
                "labelCol": self.getLabelCol(), "featuresCol": self.getFeaturesCol(),
                "loss": self.getLoss(), "epsilon": self.getEpsilon(),
                "maxIter": self.getMaxIter(), "tol": self.getTol(),
                "backend": self._checked_backend()}

    def _check_params(self) -> None:
        super()._check_params()
        if self.getLoss() == "huber" and self.getElasticNetParam() > 0:
            raise ParamError("loss='huber' takes an L2 penalty only (as pyspark.ml's): set "
                             f"elasticNetParam=0 (it is {self.getElasticNetParam()})")

    def _input_spec(self) -> InputSpec:
        return InputSpec(self.getFeaturesCol(), label=self.getLabelCol(),
                         weight=self._weight_col())

    def _create_model(self, result: FitResult) -> "LinearRegressionModel":
        v = result.values
        return LinearRegressionModel(v["coefficients"], float(v["intercept"]), v["diagInvAtWA"],
                                     v["objectiveHistory"], int(v["totalIterations"]),
                                     float(v["scale"]))

    def _summarize(self, model: "LinearRegressionModel", dataset: Any) -> None:
        model._summary = LinearRegressionTrainingSummary(model, dataset)


class LinearRegressionModel(ScoresInJvm, Model, _LinearRegressionParams):
    """A fitted LinearRegression: coefficients, intercept, scale, predict, summary."""

    def __init__(self, coefficients: np.ndarray | None = None, intercept: float = 0.0,
                 inverse_diagonal: np.ndarray | None = None, objective_history=None,
                 total_iterations: int = 0, scale: float = 1.0):
        super().__init__()
        self._scale = float(scale)
        self._coefficients = None if coefficients is None else np.asarray(coefficients, float)
        self._intercept = float(intercept)
        self._inverse_diagonal = np.zeros(0) if inverse_diagonal is None else \
            np.asarray(inverse_diagonal, float)
        self._objective_history = objective_history
        self._total_iterations = total_iterations
        self._summary = None

    @property
    def coefficients(self) -> DenseVector:
        return DenseVector(self._coefficients)

    @property
    def intercept(self) -> float:
        return self._intercept

    @property
    def scale(self) -> float:
        """Huber's scale sigma; 1.0 for squared error, as pyspark.ml's."""
        return self._scale

    @property
    def numFeatures(self) -> int:
        return int(self._coefficients.size)

    def _description(self) -> dict:
        return {"numFeatures": self.numFeatures}

    def predict(self, value) -> float:
        return float((vector_rows(value, self.numFeatures) @ self._coefficients)[0]
                     + self._intercept)

    @property
    def hasSummary(self) -> bool:
        return self._summary is not None

    @property
    def summary(self) -> "LinearRegressionTrainingSummary":
        if self._summary is None:
            raise RuntimeError("No training summary available for this LinearRegressionModel")
        return self._summary

    def evaluate(self, dataset: Any) -> "LinearRegressionSummary":
        """The summary's metrics of this model on ``dataset``."""
        return LinearRegressionSummary(self, dataset)

    # transform: the pyspark.ml twin on Spark, this on pandas ---------------------------------
    def _twin_columns(self) -> tuple[list[str], list[str]]:
        return [self.getFeaturesCol()], [self.getPredictionCol()]

    def _build_twin(self, sc):
        from pyspark.ml.regression import LinearRegressionModel as Wrapper
        java_model = sc._jvm.org.apache.spark.ml.regression.LinearRegressionModel(
            self.uid, jvm_vector(sc, self._coefficients), self._intercept, self._scale)
        return twin_of(Wrapper, java_model)

    def _transform_here(self, dataset: Any) -> Any:
        coefficients, intercept, out = self._coefficients, self._intercept, \
            self.getPredictionCol()
        return frames.of(dataset).transform(
            InputSpec(self.getFeaturesCol(), check_finite=False,
                      width=self._feature_width()),
            lambda X: {out: np.asarray(X @ coefficients).ravel() + intercept},
            [Output(out, DOUBLE)])

    def _save_data(self) -> tuple[dict, dict]:
        return {"coefficients": self._coefficients, "diagInvAtWA": self._inverse_diagonal}, \
            {"intercept": self._intercept, "scale": self._scale}

    def _load_data(self, arrays: dict, extra: dict) -> None:
        self._coefficients, self._inverse_diagonal = arrays["coefficients"], \
            arrays["diagInvAtWA"]
        self._intercept = float(extra["intercept"])
        self._scale = float(extra.get("scale", 1.0))


class LinearRegressionSummary:
    """pyspark.ml's LinearRegressionSummary: metrics of a model's predictions on a dataset,
    computed (once) when first asked for."""

    def __init__(self, model: LinearRegressionModel, dataset: Any):
        self._model, self._dataset = model, dataset
        self.labelCol, self.featuresCol = model.getLabelCol(), model.getFeaturesCol()
        self.predictionCol = model.getPredictionCol() or "prediction"
        self.weightCol = model._weight_col()

    @cached_property
    def predictions(self) -> Any:
        return self._model.copy({self._model.predictionCol: self.predictionCol}) \
            .transform(self._dataset)

    @cached_property
    def _arrays(self) -> dict:
        columns = {"label": self.labelCol, "prediction": self.predictionCol}
        if self.weightCol:
            columns["weight"] = self.weightCol
        arrays = frames.of(self.predictions).collect_arrays({}, columns)
        arrays.setdefault("weight", np.ones_like(arrays["label"]))
        return arrays

    @property
    def residuals(self) -> Any:
        """label - prediction, in a column named "residuals"."""
        return frames.of(self.predictions).difference(self.labelCol, self.predictionCol,
                                                      "residuals")

    @cached_property
    def numInstances(self) -> int:
        return int(self._arrays["label"].size)

    @cached_property
    def degreesOfFreedom(self) -> int:
        return self.numInstances - self._model.numFeatures - int(self._model.getFitIntercept())

    @cached_property
    def _weighted(self) -> dict:
        a = self._arrays
        w, residual = a["weight"], a["label"] - a["prediction"]
        total = float(w.sum())
        label_mean = float(w @ a["label"]) / total
        if self._model.getFitIntercept():
            # MLlib's RegressionMetrics: the unbiased weighted variance times (W - 1), which
            # is the sum of squares about the mean for unit weights only.
            total_squares = float(w @ (a["label"] - label_mean) ** 2) * (total - 1.0) / \
                (total - float(w @ w) / total)
        else:
            total_squares = float(w @ a["label"] ** 2)
        return {"weight": total, "sse": float(w @ residual ** 2),
                "sae": float(w @ np.abs(residual)), "sst": total_squares,
                "explained": float(w @ (a["prediction"] - label_mean) ** 2),
                "weighted_residuals": residual * np.sqrt(w)}

    @property
    def meanSquaredError(self) -> float:
        return self._weighted["sse"] / self._weighted["weight"]

    @property
    def rootMeanSquaredError(self) -> float:
        return float(np.sqrt(self.meanSquaredError))

    @property
    def meanAbsoluteError(self) -> float:
        return self._weighted["sae"] / self._weighted["weight"]

    @property
    def explainedVariance(self) -> float:
        return self._weighted["explained"] / self._weighted["weight"]

    @property
    def r2(self) -> float:
        """1 - SSE/SST, the total sum of squares as MLlib's RegressionMetrics takes it (about
        0 without an intercept)."""
        return 1.0 - self._weighted["sse"] / self._weighted["sst"]

    @property
    def r2adj(self) -> float:
        intercept = int(self._model.getFitIntercept())
        return 1.0 - (1.0 - self.r2) * (self.numInstances - intercept) / \
            (self.numInstances - self._model.numFeatures - intercept)

    @property
    def devianceResiduals(self) -> list[float]:
        weighted = self._weighted["weighted_residuals"]
        return [float(weighted.min()), float(weighted.max())]

    @property
    def coefficientStandardErrors(self) -> list[float]:
        """sqrt(diag((A^T W A)^-1) * SSE / degreesOfFreedom), the intercept last; only for
        the normal solver without an L1 part, as pyspark.ml's."""
        inverse = self._model._inverse_diagonal
        if inverse.size == 0:
            raise RuntimeError("No Std. Error of coefficients available for this "
                               "LinearRegressionModel (it was fitted with an L1 penalty or "
                               "solver='l-bfgs', as in pyspark.ml)")
        return np.sqrt(inverse * self._weighted["sse"] / self.degreesOfFreedom).tolist()

    @property
    def tValues(self) -> list[float]:
        estimates = np.append(self._model._coefficients, self._model.intercept) \
            if self._model.getFitIntercept() else self._model._coefficients
        return (estimates / np.asarray(self.coefficientStandardErrors)).tolist()

    @property
    def pValues(self) -> list[float]:
        return (2.0 * stats.t.sf(np.abs(self.tValues), self.degreesOfFreedom)).tolist()


class LinearRegressionTrainingSummary(LinearRegressionSummary):
    """pyspark.ml's: the summary on the training data, with objectiveHistory and
    totalIterations."""

    def __init__(self, model: LinearRegressionModel, dataset: Any):
        super().__init__(model, dataset)
        history = model._objective_history
        self.objectiveHistory = [] if history is None else [float(v) for v in history]
        self.totalIterations = int(model._total_iterations)
