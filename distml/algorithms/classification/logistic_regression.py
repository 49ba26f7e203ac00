"""LogisticRegression: pyspark.ml's, trained partition-parallel (one allreduce per iteration)."""
from __future__ import annotations

from typing import Any

import numpy as np
from pyspark import keyword_only
from pyspark.ml.linalg import DenseVector, Matrix, SparseMatrix, SparseVector, Vector
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import (HasAggregationDepth, HasElasticNetParam, HasFitIntercept,
                                     HasMaxBlockSizeInMB, HasMaxIter, HasRegParam,
                                     HasStandardization, HasThreshold, HasTol)
from scipy.special import expit

from distml.algorithms.classification.base import (Classifier, ClassifierParams,
                                                   ProbabilisticClassificationModel)
from distml.algorithms.classification.logistic_regression_program import logistic_regression
from distml.algorithms.classification.summary import (BinaryLogisticRegressionTrainingSummary,
                                                      LogisticRegressionTrainingSummary)
from distml.engine.context import FitResult
from distml.errors import ParamError
from distml.kernels.logistic import multinomial_margins, softmax
from distml.pipeline.base import HasBackend, HasCheckpoints, setters
from distml.pipeline.constraints import Interval, OneOf
from distml.pipeline.jvm_scoring import ScoresInJvm
from distml.pipeline.linalg_values import compressed_matrix, compressed_vector


class _LogisticRegressionParams(ClassifierParams, HasRegParam, HasElasticNetParam, HasMaxIter,
                                HasTol, HasFitIntercept, HasStandardization, HasThreshold,
                                HasAggregationDepth, HasMaxBlockSizeInMB, HasBackend,
                                HasCheckpoints):
    """pyspark.ml.classification.LogisticRegression's params, names and defaults, and
    distml's ``backend``."""

    family: Param[str] = Param(
        Params._dummy(), "family",
        "The name of family which is a description of the label distribution to be used in the "
        "model. Supported options: auto, binomial, multinomial",
        typeConverter=TypeConverters.toString)

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(maxIter=100, regParam=0.0, tol=1e-6, threshold=0.5, family="auto",
                         maxBlockSizeInMB=0.0)

    def getFamily(self) -> str:
        return self.getOrDefault(self.family)

    def setThreshold(self, value: float):
        """Binary threshold on the probability of class 1; clears ``thresholds``."""
        self._set(threshold=value)
        self.clear(self.thresholds)
        return self

    def setThresholds(self, value: list[float]):
        """Per-class thresholds; clears ``threshold``."""
        self._set(thresholds=value)
        self.clear(self.threshold)
        return self

    def getThreshold(self) -> float:
        self._check_threshold_consistency()
        if self.isSet(self.thresholds):
            ts = self.getOrDefault(self.thresholds)
            if len(ts) != 2:
                raise ParamError("getThreshold applies to binary classification only, but "
                                 f"thresholds has {len(ts)} values: {ts}")
            return 1.0 / (1.0 + ts[0] / ts[1])
        return self.getOrDefault(self.threshold)

    def getThresholds(self) -> list[float]:
        self._check_threshold_consistency()
        if not self.isSet(self.thresholds) and self.isSet(self.threshold):
            t = self.getOrDefault(self.threshold)
            return [1.0 - t, t]
        return self.getOrDefault(self.thresholds)

    def _check_threshold_consistency(self) -> None:
        if self.isSet(self.threshold) and self.isSet(self.thresholds):
            ts = self.getOrDefault(self.thresholds)
            t = self.getOrDefault(self.threshold)
            if len(ts) != 2 or abs(1.0 / (1.0 + ts[0] / ts[1]) - t) > 1e-5:
                raise ParamError(f"threshold ({t}) and thresholds ({ts}) are both set and "
                                 "disagree; set only one")


class LogisticRegression(Classifier, _LogisticRegressionParams):
    """Logistic regression, binomial or multinomial, with L2, L1 and elastic-net penalties.

    A drop-in for ``pyspark.ml.classification.LogisticRegression``: same params, defaults,
    columns and objective (penalty on standardized coefficients when ``standardization``,
    coefficients reported on the original scale). Each L-BFGS (or, with an L1 part, OWL-QN)
    iteration is one pass over the data on every rank and one allreduce, inside one Spark
    barrier stage; sparse features stay sparse. ``aggregationDepth`` and ``maxBlockSizeInMB``
    are accepted for compatibility and have no effect (there is no treeAggregate or blocking).
    ``backend`` ("auto", "numpy", "mxnet") runs the per-iteration kernels on MXNet on the GPU
    Spark assigned to each task (``distml.gpu``); sparse features stay on numpy.

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile, os
    >>> from distml import LogisticRegression, LogisticRegressionModel
    >>> X = np.array([[0.0, 1.0], [1.0, 0.5], [2.0, 0.0], [3.0, 0.5]])
    >>> df = pd.DataFrame({"features": list(X), "label": [0.0, 0.0, 1.0, 1.0]})
    >>> model = LogisticRegression(regParam=0.1).fit(df)
    >>> model.numClasses, model.numFeatures
    (2, 2)
    >>> path = os.path.join(tempfile.mkdtemp(), "lr")
    >>> model.save(path)
    >>> LogisticRegressionModel.load(path).transform(df)["prediction"].tolist()
    [0.0, 0.0, 1.0, 1.0]
    """

    _param_constraints = {
        "regParam": [Interval(0)], "elasticNetParam": [Interval(0, 1)], "maxIter": [Interval(0)],
        "tol": [Interval(0)], "threshold": [Interval(0, 1)],
        "family": [OneOf(("auto", "binomial", "multinomial"))]}

    @keyword_only
    def __init__(self, *, featuresCol: str = "features", labelCol: str = "label",
                 predictionCol: str = "prediction", maxIter: int = 100, regParam: float = 0.0,
                 elasticNetParam: float = 0.0, tol: float = 1e-6, fitIntercept: bool = True,
                 threshold: float = 0.5, thresholds: list[float] | None = None,
                 probabilityCol: str = "probability",
                 rawPredictionCol: str = "rawPrediction", standardization: bool = True,
                 weightCol: str | None = None, aggregationDepth: int = 2,
                 family: str = "auto", maxBlockSizeInMB: float = 0.0, engine: str = "auto",
                 numWorkers: int = 0, backend: str = "auto",
                 checkpointInterval: int = 10, checkpointDir: str = ""):
        super().__init__()
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, *, featuresCol: str = "features", labelCol: str = "label",
                  predictionCol: str = "prediction", maxIter: int = 100, regParam: float = 0.0,
                  elasticNetParam: float = 0.0, tol: float = 1e-6, fitIntercept: bool = True,
                  threshold: float = 0.5, thresholds: list[float] | None = None,
                  probabilityCol: str = "probability",
                  rawPredictionCol: str = "rawPrediction", standardization: bool = True,
                  weightCol: str | None = None, aggregationDepth: int = 2,
                  family: str = "auto", maxBlockSizeInMB: float = 0.0, engine: str = "auto",
                  numWorkers: int = 0, backend: str = "auto",
                  checkpointInterval: int = 10, checkpointDir: str = ""):
        self._set_given(self._input_kwargs)
        self._check_threshold_consistency()
        return self

    (setMaxIter, setRegParam, setElasticNetParam, setTol, setFitIntercept, setStandardization,
     setFamily, setAggregationDepth, setMaxBlockSizeInMB) = setters(
        "maxIter", "regParam", "elasticNetParam", "tol", "fitIntercept", "standardization",
        "family", "aggregationDepth", "maxBlockSizeInMB")

    # Which optimizer the program uses: "auto" (Newton for smooth binomial problems with few
    # features, where it needs far fewer passes; L-BFGS / OWL-QN otherwise), "newton" or
    # "lbfgs". Not a Param: pyspark.ml has none, and the solution does not depend on it.
    _optimizer = "auto"

    # hooks ------------------------------------------------------------------------------------
    def _training_program(self):
        return logistic_regression

    def _program_params(self) -> dict:
        return {"regParam": self.getRegParam(), "elasticNetParam": self.getElasticNetParam(),
                "maxIter": self.getMaxIter(), "tol": self.getTol(),
                "fitIntercept": self.getFitIntercept(),
                "standardization": self.getStandardization(), "family": self.getFamily(),
                "labelCol": self.getLabelCol(), "optimizer": self._optimizer,
                "backend": self._checked_backend()}

    def _create_model(self, result: FitResult) -> "LogisticRegressionModel":
        v = result.values
        return LogisticRegressionModel(v["coefficientMatrix"], v["interceptVector"],
                                       int(v["numClasses"]), bool(v["isMultinomial"]),
                                       objective_history=v["objectiveHistory"],
                                       total_iterations=int(v["totalIterations"]))

    def _summarize(self, model: "LogisticRegressionModel", dataset: Any) -> None:
        cls = BinaryLogisticRegressionTrainingSummary if model.numClasses <= 2 else \
            LogisticRegressionTrainingSummary
        model._summary = cls(model, dataset, model._objective_history, model._total_iterations)

    # A regularization path, as glmnet's: within a fold, the strongest penalty first, each fit
    # starting from the solution of the one before and reusing its input statistics (the same
    # rows, so the same standardization); the optimum does not depend on the start, the
    # passes to reach it do.
    _tunes_on_ranks = True

    def _path_order(self, param_maps: list) -> list[int]:
        def penalty(i):
            merged = self.extractParamMap(param_maps[i])
            return -merged[self.regParam], -merged[self.elasticNetParam]
        return sorted(range(len(param_maps)), key=penalty)

    def _warm_start(self, previous: dict) -> dict:
        return {"initialSolution": previous["solution"],
                "inputStatistics": previous["inputStatistics"]}


class LogisticRegressionModel(ScoresInJvm, ProbabilisticClassificationModel,
                              _LogisticRegressionParams):
    """A fitted LogisticRegression: coefficients, intercepts, transform, predict, summary."""

    def __init__(self, coefficient_matrix: np.ndarray | None = None,
                 intercept_vector: np.ndarray | None = None, num_classes: int = 2,
                 is_multinomial: bool = False, objective_history: np.ndarray | None = None,
                 total_iterations: int = 0):
        super().__init__()
        self._coef = None if coefficient_matrix is None else \
            np.atleast_2d(np.asarray(coefficient_matrix, dtype=np.float64))
        self._intercepts = None if intercept_vector is None else \
            np.atleast_1d(np.asarray(intercept_vector, dtype=np.float64))
        self._num_classes = int(num_classes)
        self._multinomial = bool(is_multinomial)
        self._objective_history = objective_history
        self._total_iterations = total_iterations
        self._summary = None

    # attributes, as pyspark.ml names them ----------------------------------------------------
    @property
    def numClasses(self) -> int:
        return self._num_classes

    @property
    def numFeatures(self) -> int:
        return int(self._coef.shape[1])

    def _description(self) -> dict:
        return {"numClasses": self.numClasses, "numFeatures": self.numFeatures}

    @property
    def coefficientMatrix(self) -> Matrix:
        """Compressed as MLlib's is: sparse when an L1 penalty leaves it mostly zeros."""
        return compressed_matrix(self._coef)

    @property
    def interceptVector(self) -> Vector:
        return compressed_vector(self._intercepts)

    @property
    def coefficients(self) -> Vector:
        if self._multinomial:
            raise ParamError("multinomial models hold a matrix of coefficients: use "
                             "coefficientMatrix")
        matrix = self.coefficientMatrix   # one row, so a sparse one is stored by rows
        if isinstance(matrix, SparseMatrix):
            return SparseVector(matrix.numCols, matrix.rowIndices, matrix.values)
        return DenseVector(matrix.values)

    @property
    def intercept(self) -> float:
        if self._multinomial:
            raise ParamError("multinomial models hold a vector of intercepts: use "
                             "interceptVector")
        return float(self._intercepts[0])

    @property
    def hasSummary(self) -> bool:
        return self._summary is not None

    @property
    def summary(self) -> LogisticRegressionTrainingSummary:
        if self._summary is None:
            raise RuntimeError("No training summary available for this "
                               "LogisticRegressionModel (summaries are not saved)")
        return self._summary

    def evaluate(self, dataset: Any):
        """A summary of this model on ``dataset`` (accuracy, and areaUnderROC if binary)."""
        cls = BinaryLogisticRegressionTrainingSummary if self.numClasses <= 2 else \
            LogisticRegressionTrainingSummary
        return cls(self, dataset, None, 0)

    # prediction, as plain functions over the arrays -----------------------------------------
    def _raw_fn(self):
        B, b = self._coef, self._intercepts
        if self._multinomial:
            return lambda X: multinomial_margins(X, B, b)
        beta, b0 = B[0], float(b[0])

        def raw(X):
            m = np.asarray(X @ beta).ravel() + b0
            return np.column_stack([-m, m])
        return raw

    def _probability_fn(self):
        if self._multinomial:
            return softmax

        def probability(raw):
            p1 = expit(raw[:, 1])
            return np.column_stack([1.0 - p1, p1])
        return probability

    def _prediction_fn(self):
        if self._multinomial:
            return super()._prediction_fn()
        t = self.getThreshold()

        def predict(raw, probability):
            p1 = expit(raw[:, 1]) if probability is None else probability[:, 1]
            return (p1 > t).astype(np.float64)
        return predict

    def _needs_probability_for_prediction(self) -> bool:
        return self._multinomial and self.isDefined(self.thresholds)

    # MLlib interchange (``toMLlib()`` and scoring on Spark: ``ScoresInJvm``) ------------------
    def _build_twin(self, sc):
        from distml.algorithms.classification.logistic_regression_mllib import (
            mllib_logistic_regression_model)
        return mllib_logistic_regression_model(sc, self.uid, self._coef, self._intercepts,
                                               self.numClasses, self._multinomial)

    @classmethod
    def fromMLlib(cls, mllib_model) -> "LogisticRegressionModel":
        """A distml model from a ``pyspark.ml.classification.LogisticRegressionModel``."""
        coef = mllib_model.coefficientMatrix.toArray()
        model = cls(coef, mllib_model.interceptVector.toArray(), mllib_model.numClasses,
                    coef.shape[0] > 1)
        for param, value in mllib_model.extractParamMap().items():
            if model.hasParam(param.name) and value is not None:
                model._set(**{param.name: value})
        return model

    # persistence --------------------------------------------------------------------------------
    def _save_data(self) -> tuple[dict, dict]:
        return ({"coefficientMatrix": self._coef, "interceptVector": self._intercepts},
                {"numClasses": self._num_classes, "isMultinomial": self._multinomial})

    def _load_data(self, arrays: dict, extra: dict) -> None:
        self._coef = arrays["coefficientMatrix"]
        self._intercepts = arrays["interceptVector"]
        self._num_classes = int(extra["numClasses"])
        self._multinomial = bool(extra["isMultinomial"])
