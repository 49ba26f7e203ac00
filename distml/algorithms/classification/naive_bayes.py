"""NaiveBayes: pyspark.ml's four models, fitted in one round of per-class sums."""
from __future__ import annotations

from typing import Any

import numpy as np
from pyspark import keyword_only
from pyspark.ml.linalg import DenseMatrix, DenseVector
from pyspark.ml.param import Param, Params, TypeConverters

from distml.algorithms.classification.base import (Classifier, ClassifierParams,
                                                   ProbabilisticClassificationModel)
from distml.algorithms.classification.naive_bayes_program import naive_bayes
from distml.engine.context import FitResult
from distml.kernels.logistic import softmax
from distml.kernels.naive_bayes import MODEL_TYPES, naive_bayes_raw
from distml.pipeline.base import HasBackend, setters
from distml.pipeline.constraints import Interval, OneOf
from distml.pipeline.jvm_scoring import ScoresInJvm, jvm_matrix, jvm_vector, twin_of
from distml.pipeline.linalg_values import dense_matrix


class _NaiveBayesParams(ClassifierParams, HasBackend):
    """pyspark.ml.classification.NaiveBayes's params and defaults, and distml's ``backend``."""

    smoothing: Param[float] = Param(
        Params._dummy(), "smoothing", "The smoothing parameter, should be >= 0, default is 1.0",
        typeConverter=TypeConverters.toFloat)
    modelType: Param[str] = Param(
        Params._dummy(), "modelType", "The model type which is a string (case-sensitive). "
        "Supported options: multinomial (default), bernoulli, gaussian and complement.",
        typeConverter=TypeConverters.toString)

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(smoothing=1.0, modelType="multinomial")

    def getSmoothing(self) -> float:
        return self.getOrDefault(self.smoothing)

    def getModelType(self) -> str:
        return self.getOrDefault(self.modelType)


class NaiveBayes(Classifier, _NaiveBayesParams):
    """Naive Bayes classifiers: multinomial, Bernoulli, Gaussian and complement.

    A drop-in for ``pyspark.ml.classification.NaiveBayes``: same params, columns, model
    attributes (``pi``, ``theta``, ``sigma``) and formulas — priors smoothed as
    log((n_c + smoothing) / (n + K smoothing)) except for the Gaussian model, whose priors are
    log(n_c / n) and whose variances get 1e-9 times the largest feature variance added (as
    scikit-learn's GaussianNB); ``theta`` holds log likelihoods (the class means for the
    Gaussian model). Weighted counts (``weightCol``) replace counts throughout. The fit is one
    pass over the data and one round: every rank sums its rows per class. Multinomial and
    complement need non-negative features, Bernoulli 0/1 features; sparse features stay sparse.

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile, os
    >>> from distml import NaiveBayes, NaiveBayesModel
    >>> X = np.array([[3.0, 0.0, 1.0], [2.0, 0.0, 0.0], [0.0, 4.0, 1.0], [0.0, 3.0, 2.0]])
    >>> df = pd.DataFrame({"features": list(X), "label": [0.0, 0.0, 1.0, 1.0]})
    >>> model = NaiveBayes(smoothing=1.0).fit(df)
    >>> np.round(np.exp(model.pi.toArray()), 3).tolist()
    [0.5, 0.5]
    >>> path = os.path.join(tempfile.mkdtemp(), "nb")
    >>> model.save(path)
    >>> NaiveBayesModel.load(path).transform(df)["prediction"].tolist()
    [0.0, 0.0, 1.0, 1.0]
    """

    _param_constraints = {"modelType": [OneOf(MODEL_TYPES)], "smoothing": [Interval(0)]}

    @keyword_only
    def __init__(self, *, featuresCol: str = "features", labelCol: str = "label",
                 predictionCol: str = "prediction", probabilityCol: str = "probability",
                 rawPredictionCol: str = "rawPrediction", smoothing: float = 1.0,
                 modelType: str = "multinomial", thresholds: list[float] | None = None,
                 weightCol: str | None = None, engine: str = "auto", numWorkers: int = 0,
                 backend: str = "auto"):
        super().__init__()
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, *, featuresCol: str = "features", labelCol: str = "label",
                  predictionCol: str = "prediction", probabilityCol: str = "probability",
                  rawPredictionCol: str = "rawPrediction", smoothing: float = 1.0,
                  modelType: str = "multinomial", thresholds: list[float] | None = None,
                  weightCol: str | None = None, engine: str = "auto", numWorkers: int = 0,
                  backend: str = "auto"):
        return self._set_given(self._input_kwargs)

    setSmoothing, setModelType = setters("smoothing", "modelType")

    # hooks ------------------------------------------------------------------------------------
    def _training_program(self):
        return naive_bayes

    def _program_params(self) -> dict:
        return {"modelType": self.getModelType(), "smoothing": self.getSmoothing(),
                "labelCol": self.getLabelCol(), "featuresCol": self.getFeaturesCol(),
                "weightCol": self._weight_col(), "backend": self._checked_backend()}

    def _create_model(self, result: FitResult) -> "NaiveBayesModel":
        v = result.values
        return NaiveBayesModel(v["pi"], v["theta"], v["sigma"], self.getModelType())


class NaiveBayesModel(ScoresInJvm, ProbabilisticClassificationModel, _NaiveBayesParams):
    """A fitted NaiveBayes: ``pi``, ``theta``, ``sigma``, transform, predict."""

    def __init__(self, pi: np.ndarray | None = None, theta: np.ndarray | None = None,
                 sigma: np.ndarray | None = None, model_type: str = "multinomial"):
        super().__init__()
        self._pi, self._theta, self._sigma = pi, theta, sigma
        self._set(modelType=model_type)

    @property
    def numClasses(self) -> int:
        return int(self._pi.size)

    @property
    def numFeatures(self) -> int:
        return int(self._theta.shape[1])

    def _description(self) -> dict:
        return {"modelType": self.getModelType(), "numClasses": self.numClasses,
                "numFeatures": self.numFeatures}

    @property
    def pi(self) -> DenseVector:
        """Log class priors."""
        return DenseVector(self._pi)

    @property
    def theta(self) -> DenseMatrix:
        """Log likelihoods per class and feature (class means for the Gaussian model)."""
        return dense_matrix(self._theta)

    @property
    def sigma(self) -> DenseMatrix:
        """Variances per class and feature (Gaussian model; 0 x 0 otherwise)."""
        return dense_matrix(self._sigma)

    def _raw_fn(self):
        model_type, pi, theta, sigma = self.getModelType(), self._pi, self._theta, self._sigma
        return lambda X: naive_bayes_raw(X, model_type, pi, theta, sigma)

    def _probability_fn(self):
        return softmax

    def _build_twin(self, sc):
        from pyspark.ml.classification import NaiveBayesModel as SparkModel
        return twin_of(SparkModel, sc._jvm.org.apache.spark.ml.classification.NaiveBayesModel(
            self.uid, jvm_vector(sc, self._pi), jvm_matrix(sc, self._theta),
            jvm_matrix(sc, self._sigma)))

    def _save_data(self) -> tuple[dict, dict]:
        return {"pi": self._pi, "theta": self._theta, "sigma": self._sigma}, {}

    def _load_data(self, arrays: dict, extra: dict) -> None:
        self._pi, self._theta, self._sigma = arrays["pi"], arrays["theta"], arrays["sigma"]

