"""KMeans: pyspark.ml's, one allreduce of per-centre sums per Lloyd iteration."""
from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
from pyspark import keyword_only
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import (HasDistanceMeasure, HasFeaturesCol, HasMaxBlockSizeInMB,
                                     HasMaxIter, HasPredictionCol, HasSeed, HasSolver, HasTol)

from distml import frames
from distml.algorithms.clustering.kmeans_program import kmeans
from distml.engine.context import FitResult
from distml.frames import INTEGER, InputSpec, Output, vector_rows
from distml.kernels.kmeans import COSINE, EUCLIDEAN, assign, squared_row_norms, unit_rows
from distml.pipeline.base import Estimator, HasBackend, HasCheckpoints, HasWeights, Model, setters
from distml.pipeline.constraints import Interval, OneOf
from distml.pipeline.jvm_scoring import ScoresInJvm, twin_of

INIT_MODES = ("k-means||", "random")


class _KMeansParams(HasFeaturesCol, HasPredictionCol, HasMaxIter, HasTol, HasSeed,
                    HasDistanceMeasure, HasWeights, HasSolver, HasMaxBlockSizeInMB,
                    HasBackend, HasCheckpoints):
    """pyspark.ml.clustering.KMeans's params and defaults, and distml's ``backend``."""

    k: Param[int] = Param(Params._dummy(), "k", "The number of clusters to create. Must be > 1.",
                          typeConverter=TypeConverters.toInt)
    initMode: Param[str] = Param(
        Params._dummy(), "initMode", 'The initialization algorithm. This can be either '
        '"random" to choose random points as initial cluster centers, or "k-means||" to use a '
        'parallel variant of k-means++', typeConverter=TypeConverters.toString)
    initSteps: Param[int] = Param(Params._dummy(), "initSteps",
                                  "The number of steps for k-means|| initialization mode. "
                                  "Must be > 0.", typeConverter=TypeConverters.toInt)

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(k=2, maxIter=20, initMode="k-means||", initSteps=2, tol=1e-4,
                         distanceMeasure=EUCLIDEAN, solver="auto", maxBlockSizeInMB=0.0)

    def getK(self) -> int:
        return self.getOrDefault(self.k)

    def getInitMode(self) -> str:
        return self.getOrDefault(self.initMode)

    def getInitSteps(self) -> int:
        return self.getOrDefault(self.initSteps)


class KMeans(Estimator, _KMeansParams):
    """k-means clustering with k-means|| initialization (MLlib's).

    A drop-in for ``pyspark.ml.clustering.KMeans``: same params, prediction column (integer
    cluster index), ``clusterCenters()`` and ``summary`` (``clusterSizes``, ``trainingCost``,
    ``numIter``). Each Lloyd iteration is one pass and one allreduce of per-centre weights and
    sums. ``initMode="k-means||"`` samples about 2k candidates per ``initSteps`` from all ranks
    and seeds k centres from them with weighted k-means++; ``"random"`` takes k distinct rows
    uniformly. ``distanceMeasure="cosine"`` clusters the directions of the rows (zero vectors
    are an error). A centre that no row is nearest to keeps its place, as in MLlib (it can
    catch rows again in a later iteration); it ends with size 0 in the summary. Iterations stop
    after ``maxIter`` or when no centre moved more than ``tol``. ``trainingCost`` is the
    weighted sum of distances from the rows to the final centres. ``solver`` and
    ``maxBlockSizeInMB`` are accepted for compatibility and have no effect.

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile, os
    >>> from distml import KMeans, KMeansModel
    >>> X = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])
    >>> model = KMeans(k=2, seed=1).fit(pd.DataFrame({"features": list(X)}))
    >>> sorted(np.round(c, 2).tolist() for c in model.clusterCenters())
    [[0.05, 0.0], [5.05, 5.0]]
    >>> model.summary.clusterSizes
    [2, 2]
    >>> path = os.path.join(tempfile.mkdtemp(), "kmeans")
    >>> model.save(path)
    >>> KMeansModel.load(path).predict(X[0]) == model.predict(X[1])
    True
    """

    _param_constraints = {
        "k": [Interval(1, closed="neither")],
        "initMode": [OneOf(INIT_MODES, "k-means|| or random")],
        "initSteps": [Interval(0, closed="neither")], "maxIter": [Interval(0)],
        "tol": [Interval(0)],
        "distanceMeasure": [OneOf((EUCLIDEAN, COSINE), "euclidean or cosine")]}

    @keyword_only
    def __init__(self, *, featuresCol: str = "features", predictionCol: str = "prediction",
                 k: int = 2, initMode: str = "k-means||", initSteps: int = 2,
                 tol: float = 1e-4, maxIter: int = 20, seed: int | None = None,
                 distanceMeasure: str = "euclidean", weightCol: str | None = None,
                 solver: str = "auto", maxBlockSizeInMB: float = 0.0, engine: str = "auto",
                 numWorkers: int = 0, backend: str = "auto",
                 checkpointInterval: int = 10, checkpointDir: str = ""):
        super().__init__()
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, *, featuresCol: str = "features", predictionCol: str = "prediction",
                  k: int = 2, initMode: str = "k-means||", initSteps: int = 2,
                  tol: float = 1e-4, maxIter: int = 20, seed: int | None = None,
                  distanceMeasure: str = "euclidean", weightCol: str | None = None,
                  solver: str = "auto", maxBlockSizeInMB: float = 0.0, engine: str = "auto",
                  numWorkers: int = 0, backend: str = "auto",
                  checkpointInterval: int = 10, checkpointDir: str = ""):
        return self._set_given(self._input_kwargs)

    (setK, setInitMode, setInitSteps, setMaxIter, setTol, setSeed, setDistanceMeasure) = setters(
        "k", "initMode", "initSteps", "maxIter", "tol", "seed", "distanceMeasure")

    # hooks ------------------------------------------------------------------------------------
    def _training_program(self):
        return kmeans

    def _program_params(self) -> dict:
        return {"k": self.getK(), "initMode": self.getInitMode(),
                "initSteps": self.getInitSteps(), "maxIter": self.getMaxIter(),
                "tol": self.getTol(), "seed": self.getSeed(),
                "distanceMeasure": self.getDistanceMeasure(),
                "featuresCol": self.getFeaturesCol(), "weightCol": self._weight_col(),
                "backend": self._checked_backend()}

    def _input_spec(self) -> InputSpec:
        return InputSpec(self.getFeaturesCol(), weight=self._weight_col())

    def _create_model(self, result: FitResult) -> "KMeansModel":
        v = result.values
        return KMeansModel(v["clusterCenters"], [int(s) for s in v["clusterSizes"]],
                           float(v["trainingCost"]), int(v["numIter"]))

    def _summarize(self, model: "KMeansModel", dataset: Any) -> None:
        model._summary = KMeansSummary(model, dataset)

    # pyspark.ml's accessors (issue 22)
    (setFeaturesCol, setMaxBlockSizeInMB, setPredictionCol, setSolver) = setters(
        "featuresCol", "maxBlockSizeInMB", "predictionCol", "solver")


class KMeansModel(ScoresInJvm, Model, _KMeansParams):
    """A fitted KMeans: ``clusterCenters()``, ``predict``, ``transform``, ``summary``."""

    def __init__(self, centers: np.ndarray | None = None, cluster_sizes: list[int] | None = None,
                 training_cost: float = 0.0, num_iter: int = 0):
        super().__init__()
        self._centers = centers
        self._fit_stats = (cluster_sizes, training_cost, num_iter)
        self._summary = None

    def clusterCenters(self) -> list[np.ndarray]:
        return [c.copy() for c in self._centers]

    def _description(self) -> dict:
        return {"k": len(self._centers), "distanceMeasure": self.getDistanceMeasure(),
                "numFeatures": len(self._centers[0])}

    @property
    def hasSummary(self) -> bool:
        return self._summary is not None

    @property
    def summary(self) -> "KMeansSummary":
        if self._summary is None:
            raise RuntimeError("No training summary available for this KMeansModel "
                               "(summaries are not saved)")
        return self._summary

    def _assign_fn(self):
        centers, measure = self._centers, self.getDistanceMeasure()

        def nearest(X):
            X = unit_rows(X) if measure == COSINE else X
            return assign(X, squared_row_norms(X), centers, measure)[0].astype(np.int32)
        return nearest

    def predict(self, value) -> int:
        return int(self._assign_fn()(vector_rows(value, self._centers.shape[1]))[0])

    def _twin_columns(self) -> tuple[list[str], list[str]]:
        return [self.getFeaturesCol()], [self.getPredictionCol()]

    def _feature_width(self) -> int:
        return self._centers.shape[1]

    def _build_twin(self, sc):
        from pyspark.ml.clustering import KMeansModel as SparkModel
        mllib = sc._jvm.org.apache.spark.mllib
        centers = sc._gateway.new_array(mllib.linalg.Vector, len(self._centers))
        for i, center in enumerate(self._centers):
            centers[i] = mllib.linalg.Vectors.dense(frames.java_doubles(sc, center))
        parent = mllib.clustering.KMeansModel(centers, self.getDistanceMeasure())
        return twin_of(SparkModel, sc._jvm.org.apache.spark.ml.clustering.KMeansModel(
            self.uid, parent))

    def _transform_here(self, dataset: Any) -> Any:
        nearest, out = self._assign_fn(), self.getPredictionCol()
        return frames.of(dataset).transform(
            InputSpec(self.getFeaturesCol(), check_finite=False,
                      width=self._feature_width()),
            lambda X: {out: nearest(X)}, [Output(out, INTEGER)])

    def _save_data(self) -> tuple[dict, dict]:
        return {"clusterCenters": self._centers}, {}

    def _load_data(self, arrays: dict, extra: dict) -> None:
        self._centers = arrays["clusterCenters"]
        self._fit_stats = (None, 0.0, 0)
        self._summary = None

    # pyspark.ml's accessors (issue 22)
    (setFeaturesCol, setPredictionCol) = setters("featuresCol", "predictionCol")


class KMeansSummary:
    """pyspark.ml's KMeansSummary: k, clusterSizes, trainingCost, numIter, predictions."""

    def __init__(self, model: KMeansModel, dataset: Any):
        self._model, self._dataset = model, dataset
        sizes, self.trainingCost, self.numIter = model._fit_stats
        self.clusterSizes = list(sizes)
        self.k = len(self.clusterSizes)
        self.featuresCol = model.getFeaturesCol()
        self.predictionCol = model.getPredictionCol()

    @cached_property
    def predictions(self) -> Any:
        return self._model.transform(self._dataset)

    @property
    def cluster(self) -> Any:
        return self.predictions[[self.predictionCol]] if not hasattr(self.predictions, "select") \
            else self.predictions.select(self.predictionCol)
