"""MultilayerPerceptronClassifier: pyspark.ml's, trained data-parallel with MXNet Gluon."""
from __future__ import annotations

from typing import Any

import numpy as np
from pyspark import keyword_only
from pyspark.ml.linalg import DenseVector, Vector
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import (HasBlockSize, HasMaxIter, HasSeed, HasStepSize,
                                     HasTol)

from distml.algorithms.classification.base import (Classifier, ClassifierParams,
                                                   ProbabilisticClassificationModel)
from distml.algorithms.classification.multilayer_perceptron_program import multilayer_perceptron
from distml.algorithms.classification.summary import \
    MultilayerPerceptronClassificationTrainingSummary
from distml.engine.context import FitResult
from distml.errors import ParamError
from distml.kernels.logistic import softmax
from distml.kernels.perceptron import perceptron_raw, weight_count
from distml.pipeline.base import HasBackend, HasCheckpoints, java_string_hash, setters
from distml.pipeline.constraints import Interval, OneOf, Required, Rule
from distml.pipeline.jvm_scoring import ScoresInJvm, jvm_vector, twin_of

SOLVERS = ("l-bfgs", "gd", "adam")


class _MultilayerPerceptronParams(ClassifierParams, HasSeed, HasMaxIter, HasTol, HasStepSize,
                                  HasBlockSize, HasBackend, HasCheckpoints):
    """pyspark.ml.classification.MultilayerPerceptronClassifier's params and defaults, the
    "adam" solver, and distml's ``backend``."""

    layers: Param[list[int]] = Param(
        Params._dummy(), "layers",
        "Sizes of layers from input layer to output layer E.g., Array(780, 100, 10) means 780 "
        "inputs, one hidden layer with 100 neurons and output layer of 10 neurons.",
        typeConverter=TypeConverters.toListInt)
    solver: Param[str] = Param(
        Params._dummy(), "solver",
        "The solver algorithm for optimization: l-bfgs (full batch), gd (synchronous "
        "mini-batch SGD) or adam (synchronous mini-batch Adam).",
        typeConverter=TypeConverters.toString)
    initialWeights: Param[Vector] = Param(
        Params._dummy(), "initialWeights", "The initial weights of the model.",
        typeConverter=TypeConverters.toVector)

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(maxIter=100, tol=1e-6, blockSize=128, stepSize=0.03,
                         solver="l-bfgs", seed=java_string_hash(
                             "org.apache.spark.ml.classification.MultilayerPerceptronClassifier"))

    def getLayers(self) -> list[int]:
        return self.getOrDefault(self.layers)

    def getSolver(self) -> str:
        return self.getOrDefault(self.solver)

    def getInitialWeights(self) -> Vector:
        return self.getOrDefault(self.initialWeights)


def _usable_layers(layers: list[int]) -> bool:
    return len(layers) >= 2 and min(layers) >= 1 and layers[-1] >= 2


class MultilayerPerceptronClassifier(Classifier, _MultilayerPerceptronParams):
    """A feed-forward neural network classifier, pyspark.ml's, trained on every rank at once.

    A drop-in for ``pyspark.ml.classification.MultilayerPerceptronClassifier``: the same
    network (sigmoid hidden layers, softmax output, cross-entropy), params, columns and flat
    ``weights`` layout. The network is an MXNet Gluon block on the MXNet backend (the GPU
    Spark assigned to each task, or the CPU with ``backend="mxnet"``) and a numpy reference
    on the numpy backend; the two compute the same gradients.

    Training is data-parallel and synchronous: each rank computes the gradient of its own rows,
    the ranks allreduce it, and every rank applies the same update, so all hold the same
    weights. Solvers: "l-bfgs" (the default, full batch: one allreduce per iteration), "gd"
    (mini-batch SGD with learning rate ``stepSize``) and "adam" (mini-batch Adam, learning
    rate ``stepSize``). For "gd" and "adam", ``blockSize`` is each rank's mini-batch size and
    ``maxIter`` counts epochs; for "l-bfgs" ``blockSize`` has no effect. Initial weights
    (unless ``initialWeights`` is set) are MLlib's for the same ``seed``, number for number
    (each layer's weights and biases uniform in +-2.4 / sqrt(inputs), from Spark's
    XORShiftRandom); mini-batches are drawn from ``seed`` too, so a fit is reproducible on any
    engine.
    Prediction (``transform``) runs the numpy forward pass and needs no MXNet.

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile, os
    >>> from distml import MultilayerPerceptronClassifier, MultilayerPerceptronClassificationModel
    >>> X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]] * 8)
    >>> df = pd.DataFrame({"features": list(X), "label": [0.0, 1.0, 1.0, 0.0] * 8})
    >>> mlp = MultilayerPerceptronClassifier(layers=[2, 8, 2], maxIter=200, seed=1,
    ...                                      backend="numpy")
    >>> model = mlp.fit(df)
    >>> model.transform(df)["prediction"].tolist()[:4]
    [0.0, 1.0, 1.0, 0.0]
    >>> path = os.path.join(tempfile.mkdtemp(), "mlp")
    >>> model.save(path)
    >>> loaded = MultilayerPerceptronClassificationModel.load(path)
    >>> bool(np.array_equal(loaded.weights.toArray(), model.weights.toArray()))
    True
    """

    _param_constraints = {
        "layers": [Required(": [number of features, hidden sizes..., number of classes]"),
                   Rule(_usable_layers, "at least two sizes (input and output), each >= 1, "
                        "ending in at least 2 output units (classes)")],
        "solver": [OneOf(SOLVERS)], "maxIter": [Interval(0)], "tol": [Interval(0)],
        "blockSize": [Interval(1)], "stepSize": [Interval(0, closed="neither")]}

    @keyword_only
    def __init__(self, *, featuresCol: str = "features", labelCol: str = "label",
                 predictionCol: str = "prediction", maxIter: int = 100, tol: float = 1e-6,
                 seed: int | None = None, layers: list[int] | None = None,
                 blockSize: int = 128, stepSize: float = 0.03, solver: str = "l-bfgs",
                 initialWeights: Vector | None = None, probabilityCol: str = "probability",
                 rawPredictionCol: str = "rawPrediction", thresholds: list[float] | None = None,
                 weightCol: str | None = None, engine: str = "auto", numWorkers: int = 0,
                 backend: str = "auto",
                 checkpointInterval: int = 10, checkpointDir: str = ""):
        super().__init__()
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, *, featuresCol: str = "features", labelCol: str = "label",
                  predictionCol: str = "prediction", maxIter: int = 100, tol: float = 1e-6,
                  seed: int | None = None, layers: list[int] | None = None,
                  blockSize: int = 128, stepSize: float = 0.03, solver: str = "l-bfgs",
                  initialWeights: Vector | None = None, probabilityCol: str = "probability",
                  rawPredictionCol: str = "rawPrediction",
                  thresholds: list[float] | None = None, weightCol: str | None = None,
                  engine: str = "auto", numWorkers: int = 0, backend: str = "auto",
                  checkpointInterval: int = 10, checkpointDir: str = ""):
        return self._set_given(self._input_kwargs)

    (setLayers, setMaxIter, setTol, setSeed, setBlockSize, setStepSize, setSolver,
     setInitialWeights) = setters(
        "layers", "maxIter", "tol", "seed", "blockSize", "stepSize", "solver", "initialWeights")

    # hooks ------------------------------------------------------------------------------------
    def _training_program(self):
        return multilayer_perceptron

    def _program_params(self) -> dict:
        layers = self.getLayers()
        initial = None
        if self.isDefined(self.initialWeights):
            initial = np.asarray(self.getInitialWeights().toArray(), dtype=np.float64)
        return {"layers": layers, "solver": self.getSolver(), "maxIter": self.getMaxIter(),
                "tol": self.getTol(), "blockSize": self.getBlockSize(),
                "stepSize": self.getStepSize(), "seed": self.getSeed(),
                "initialWeights": initial, "labelCol": self.getLabelCol(),
                "featuresCol": self.getFeaturesCol(), "weightCol": self._weight_col(),
                "backend": self._checked_backend()}

    def _create_model(self, result: FitResult) -> "MultilayerPerceptronClassificationModel":
        v = result.values
        return MultilayerPerceptronClassificationModel(
            [int(n) for n in v["layers"]], v["weights"],
            objective_history=v["objectiveHistory"],
            total_iterations=int(v["totalIterations"]))

    def _summarize(self, model: "MultilayerPerceptronClassificationModel",
                   dataset: Any) -> None:
        model._summary = MultilayerPerceptronClassificationTrainingSummary(
            model, dataset, model._objective_history, model._total_iterations)


class MultilayerPerceptronClassificationModel(ScoresInJvm, ProbabilisticClassificationModel,
                                              _MultilayerPerceptronParams):
    """A fitted MultilayerPerceptronClassifier: ``weights``, transform, predict, summary."""

    def __init__(self, layers: list[int] | None = None, weights: np.ndarray | None = None,
                 objective_history: np.ndarray | None = None, total_iterations: int = 0):
        super().__init__()
        self._layers = None if layers is None else [int(n) for n in layers]
        self._weights = None if weights is None else np.asarray(weights, dtype=np.float64)
        if self._layers is not None and self._weights is not None and \
                self._weights.size != weight_count(self._layers):
            raise ParamError(f"weights has {self._weights.size} values; layers "
                             f"{self._layers} need {weight_count(self._layers)}")
        if self._layers is not None:
            self._set(layers=self._layers)
        self._objective_history = objective_history
        self._total_iterations = total_iterations
        self._summary = None

    @property
    def numFeatures(self) -> int:
        return self._layers[0]

    @property
    def numClasses(self) -> int:
        return self._layers[-1]

    def _description(self) -> dict:
        return {"numLayers": len(self.getLayers()), "numClasses": self.numClasses,
                "numFeatures": self.numFeatures}

    @property
    def weights(self) -> DenseVector:
        """All weights as one vector: per layer, the (out x in) matrix column-major, then the
        biases (MLlib's layout)."""
        return DenseVector(self._weights)

    @property
    def hasSummary(self) -> bool:
        return self._summary is not None

    @property
    def summary(self) -> MultilayerPerceptronClassificationTrainingSummary:
        if self._summary is None:
            raise RuntimeError("No training summary available for this "
                               "MultilayerPerceptronClassificationModel (summaries are not "
                               "saved)")
        return self._summary

    def evaluate(self, dataset: Any) -> MultilayerPerceptronClassificationTrainingSummary:
        """A summary of this model on ``dataset`` (accuracy)."""
        return MultilayerPerceptronClassificationTrainingSummary(self, dataset, None, 0)

    # prediction, as plain functions over the arrays -----------------------------------------
    def _raw_fn(self):
        weights, layers = self._weights, self._layers
        return lambda X: perceptron_raw(weights, layers, X)

    def _probability_fn(self):
        return softmax

    def _build_twin(self, sc):
        """pyspark.ml's model over the same flat weights (distml keeps MLlib's layout); its
        ``layers`` param is set on this model, so it reaches the twin with the others."""
        from pyspark.ml.classification import MultilayerPerceptronClassificationModel as Twin
        return twin_of(Twin, sc._jvm.org.apache.spark.ml.classification
                       .MultilayerPerceptronClassificationModel(self.uid,
                                                                jvm_vector(sc, self._weights)))

    # persistence --------------------------------------------------------------------------------
    def _save_data(self) -> tuple[dict, dict]:
        return {"weights": self._weights}, {"layers": self._layers}

    def _load_data(self, arrays: dict, extra: dict) -> None:
        self._weights = arrays["weights"]
        self._layers = [int(n) for n in extra["layers"]]
