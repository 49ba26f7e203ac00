"""Tree ensembles, pyspark.ml's: RandomForestClassifier/Regressor and GBTClassifier/Regressor.

The estimators run ``random_forest`` (every tree grown together, one histogram pass and one
allreduce per level) and ``gradient_boosted_trees`` (state on the ranks, a tree's levels per
iteration). The models keep each tree's node arrays as a decision tree model does; ``trees``
gives them as DecisionTree*Model objects, and ``toMLlib()`` builds pyspark.ml's ensemble from
the same trees (it also scores Spark DataFrames in the JVM).
"""
from __future__ import annotations

from typing import Any

import numpy as np
from pyspark import keyword_only
from pyspark.ml.linalg import DenseVector, SparseVector
from pyspark.ml.param import Param, Params, TypeConverters

from distml import frames
from distml.algorithms.classification.base import (Classifier, ProbabilisticClassificationModel)
from distml.algorithms.tree.decision_tree import (DecisionTreeClassificationModel,
                                                  DecisionTreeRegressionModel, RealPredictions,
                                                  _DecisionTreeClassifierParams,
                                                  _DecisionTreeRegressorParams, row_normalized,
                                                  sparse_normalized)
from distml.algorithms.tree.gbt_program import (ABSOLUTE, LOGISTIC, SQUARED, boosting_label,
                                                gradient_boosted_trees, pointwise_loss)
from distml.algorithms.tree.random_forest_program import STRATEGIES, random_forest
from distml.engine.context import FitResult
from distml.errors import ParamError
from distml.frames import VECTOR, InputSpec, vector_rows
from distml.kernels.tree import ENTROPY, GINI, VARIANCE
from distml.pipeline.base import Estimator, Model, getters, scala_string, setter, setters
from distml.pipeline.constraints import Interval, OneOf
from distml.pipeline.jvm_scoring import ScoresInJvm


class _EnsembleParams:
    """Params every ensemble has (pyspark.ml's _TreeEnsembleParams)."""

    subsamplingRate: Param[float] = Param(Params._dummy(), "subsamplingRate", "Fraction of the "
                                          "training data used for learning each decision tree, "
                                          "in range (0, 1].", TypeConverters.toFloat)
    featureSubsetStrategy: Param[str] = Param(
        Params._dummy(), "featureSubsetStrategy", "The number of features to consider for "
        f"splits at each tree node. Supported options: {', '.join(STRATEGIES)}, 'n' (an "
        "integer >= 1) or a fraction in (0, 1]", TypeConverters.toString)

    _param_constraints = {"subsamplingRate": [Interval(0.0, 1.0, closed="right")]}

    def getSubsamplingRate(self) -> float:
        return self.getOrDefault(self.subsamplingRate)

    def getFeatureSubsetStrategy(self) -> str:
        return self.getOrDefault(self.featureSubsetStrategy)

    setSubsamplingRate = setter("subsamplingRate")
    setFeatureSubsetStrategy = setter("featureSubsetStrategy")


class _RandomForestParams(_EnsembleParams):
    numTrees: Param[int] = Param(Params._dummy(), "numTrees", "Number of trees to train (>= 1).",
                                 TypeConverters.toInt)
    bootstrap: Param[bool] = Param(Params._dummy(), "bootstrap", "Whether bootstrap samples "
                                   "are used when building trees.", TypeConverters.toBoolean)

    _param_constraints = {"numTrees": [Interval(1)]}

    def _forest_defaults(self) -> None:
        self._setDefault(numTrees=20, featureSubsetStrategy="auto", subsamplingRate=1.0,
                         bootstrap=True)

    def getBootstrap(self) -> bool:
        return self.getOrDefault(self.bootstrap)

    setNumTrees, setBootstrap = setters("numTrees", "bootstrap")

    def _forest_program_params(self, prune: bool) -> dict:
        return self._tree_program_params() | {
            name: self.getOrDefault(name) for name in (
                "numTrees", "featureSubsetStrategy", "subsamplingRate", "bootstrap", "seed")} | \
            {"prune": prune}


class _GBTParams(_EnsembleParams):
    maxIter: Param[int] = Param(Params._dummy(), "maxIter", "max number of iterations (>= 0).",
                                TypeConverters.toInt)
    stepSize: Param[float] = Param(Params._dummy(), "stepSize", "Step size (a.k.a. learning "
                                   "rate) in interval (0, 1] for shrinking the contribution of "
                                   "each estimator.", TypeConverters.toFloat)
    lossType: Param[str] = Param(Params._dummy(), "lossType", "Loss function which GBT tries "
                                 "to minimize.", TypeConverters.toString)
    validationTol: Param[float] = Param(Params._dummy(), "validationTol", "Threshold for "
                                        "stopping early when fit with validation is used.",
                                        TypeConverters.toFloat)
    validationIndicatorCol: Param[str] = Param(Params._dummy(), "validationIndicatorCol",
                                               "name of the column that indicates whether each "
                                               "row is for training or for validation (true).",
                                               TypeConverters.toString)

    _param_constraints = {"maxIter": [Interval(0)],
                          "stepSize": [Interval(0.0, 1.0, closed="right")],
                          "validationTol": [Interval(0.0)]}

    def _gbt_defaults(self, loss: str, validation_tol: float) -> None:
        self._setDefault(maxIter=20, stepSize=0.1, lossType=loss, featureSubsetStrategy="all",
                         subsamplingRate=1.0, validationTol=validation_tol)

    (setMaxIter, setStepSize, setLossType, setValidationTol,
     setValidationIndicatorCol) = setters("maxIter", "stepSize", "lossType", "validationTol",
                                          "validationIndicatorCol")
    (getMaxIter, getStepSize, getLossType, getValidationTol) = getters(
        "maxIter", "stepSize", "lossType", "validationTol")

    def getValidationIndicatorCol(self) -> str:
        return self.getOrDefault(self.validationIndicatorCol)

    def _validation_col(self) -> str | None:
        return (self.getValidationIndicatorCol() or None) \
            if self.isDefined(self.validationIndicatorCol) else None

    def _gbt_program_params(self, classification: bool) -> dict:
        return self._tree_program_params() | {
            name: self.getOrDefault(name) for name in (
                "maxIter", "stepSize", "lossType", "validationTol", "featureSubsetStrategy",
                "subsamplingRate", "seed")} | {
            "classification": classification, "validate": self._validation_col() is not None,
            "validationIndicatorCol": self._validation_col()}

    def _gbt_input_spec(self) -> InputSpec:
        return InputSpec(self.getFeaturesCol(), label=self.getLabelCol(),
                         weight=self._weight_col(), id=self._validation_col())


# --- models ------------------------------------------------------------------------------------

class _EnsembleModel:
    """What every fitted ensemble shares: its trees and their weights."""

    _tree_model: type  # the class of its trees' models
    _per_tree_normalization = True  # featureImportances: MLlib normalizes a forest's per tree

    def _set_trees(self, trees: list[dict], weights, num_features: int,
                   num_classes: int) -> None:
        self._trees = [dict(t, numFeatures=np.int64(num_features),
                            numClasses=np.int64(num_classes)) for t in trees]
        self._tree_weights = np.asarray(weights, dtype=np.float64)
        self._num_features, self._num_classes = int(num_features), int(num_classes)

    @property
    def trees(self) -> list:
        """The trees as DecisionTree*Model objects."""
        return [self._tree_model(nodes) for nodes in self._trees]

    @property
    def treeWeights(self) -> list[float]:
        return self._tree_weights.tolist()

    @property
    def getNumTrees(self) -> int:
        """Number of trees in the ensemble (a property, as pyspark.ml's)."""
        return len(self._trees)

    @property
    def totalNumNodes(self) -> int:
        return int(sum(t["feature"].size for t in self._trees))

    @property
    def numFeatures(self) -> int:
        return self._num_features

    @property
    def featureImportances(self) -> SparseVector:
        """MLlib's: each tree's importances (gain x node weight per feature), normalized per
        tree for a forest, summed over the trees and normalized."""
        total = np.zeros(self.numFeatures)
        for tree in self.trees:
            importance = tree._split_importances()
            if self._per_tree_normalization and importance.sum() > 0:
                importance = importance / importance.sum()
            total += importance
        return sparse_normalized(total)

    @property
    def toDebugString(self) -> str:
        lines = [repr(self)]
        for t, (tree, weight) in enumerate(zip(self.trees, self._tree_weights)):
            lines.append(f"  Tree {t} (weight {scala_string(float(weight))}):")
            lines += tree._debug_lines(4)
        return "\n".join(lines) + "\n"

    def predictLeaf(self, features) -> DenseVector:
        """The index of the leaf ``features`` reaches in each tree (see ``leafCol``)."""
        X = vector_rows(features, self.numFeatures)
        return DenseVector([tree._leaf_numbers()[tree._leaf_fn()(X)][0]
                            for tree in self.trees])

    def _extra_outputs(self) -> dict:
        """``leafCol``, when set: a vector of each tree's leaf index per row."""
        if not self.getLeafCol():
            return {}
        pairs = [(tree._leaf_numbers(), tree._leaf_fn()) for tree in self.trees]
        return {self.getLeafCol(): (VECTOR, lambda X: np.column_stack(
            [numbers[leaf_of(X)] for numbers, leaf_of in pairs]))}

    def _tree_predictions(self) -> Any:
        """X -> (rows x trees): each regression tree's prediction (its leaf's mean)."""
        fns = [(tree._leaf_means(), tree._leaf_fn()) for tree in self.trees]
        return lambda X: np.column_stack([means[leaf_of(X)] for means, leaf_of in fns]) \
            if fns else np.zeros((X.shape[0], 0))

    def _save_data(self) -> tuple[dict, dict]:
        """Every tree's arrays concatenated (one file per kind, not per tree), categorical
        tables padded to the widest."""
        sizes = np.array([t["feature"].size for t in self._trees], dtype=np.int64)
        width = max([t["leftCategories"].shape[1] for t in self._trees] + [0])
        arrays = {"treeSizes": sizes, "treeWeights": self._tree_weights,
                  "numFeatures": np.int64(self._num_features),
                  "numClasses": np.int64(self._num_classes)}
        for name in ("feature", "numCategories", "threshold", "gain", "left", "right", "stats",
                     "impurity"):
            arrays[name] = np.concatenate([t[name] for t in self._trees]) if self._trees \
                else np.zeros(0)
        arrays["leftCategories"] = np.concatenate(
            [np.pad(t["leftCategories"], ((0, 0), (0, width - t["leftCategories"].shape[1])))
             for t in self._trees]) if self._trees else np.zeros((0, 0), dtype=bool)
        return arrays, {}

    def _load_data(self, arrays: dict, extra: dict) -> None:
        bounds = np.cumsum(np.concatenate([[0], arrays["treeSizes"]]))
        trees = [{name: arrays[name][a:b] for name in (
            "feature", "numCategories", "threshold", "gain", "left", "right", "stats",
            "impurity", "leftCategories")} for a, b in zip(bounds[:-1], bounds[1:])]
        self._set_trees(trees, arrays["treeWeights"], int(arrays["numFeatures"]),
                        int(arrays["numClasses"]))

    def _build_twin(self, sc):
        from distml.algorithms.tree.ensemble_mllib import mllib_ensemble_model
        return mllib_ensemble_model(sc, self)


def _ensemble_values(values: dict) -> tuple:
    return (values["trees"], values["treeWeights"], int(values["numFeatures"]),
            int(values["numClasses"]))


class _EvaluatesEachIteration:
    """GBT models' ``evaluateEachIteration``: the loss after each number of trees."""

    def _loss_after_each_tree(self, dataset: Any, loss: str) -> list[float]:
        """The weighted mean of ``loss`` over ``dataset``'s rows for the first 1, 2, ...
        trees (MLlib's ``evaluateEachIteration``); computed in the JVM on Spark (by the twin
        holding the same trees), in numpy on pandas."""
        frame = frames.of(dataset)
        if frame.session is not None:
            twin = self._twin_with_params(dataset.sparkSession.sparkContext)
            # pyspark.ml's classifier takes its loss from the model, its regressor as argument
            args = (dataset, loss) if isinstance(self, GBTRegressionModel) else (dataset,)
            return [float(v) for v in twin.evaluateEachIteration(*args)]
        from distml.frames.pandas_input import pandas_arrays
        X, y, w, _ = pandas_arrays(dataset, InputSpec(self.getFeaturesCol(),
                                                      label=self.getLabelCol(),
                                                      weight=self._weight_col()))
        w = np.ones(y.size) if w is None else w
        label = boosting_label(loss, y)
        margins = np.cumsum(self._tree_predictions()(X) * self._tree_weights, axis=1)
        return [float(np.dot(w, pointwise_loss(loss, label, margins[:, t])) / w.sum())
                for t in range(margins.shape[1])]


class RandomForestClassificationModel(ScoresInJvm, _EnsembleModel,
                                      ProbabilisticClassificationModel,
                                      _DecisionTreeClassifierParams, _RandomForestParams):
    """A fitted forest of classification trees: each tree votes with its leaf's class
    distribution (rawPrediction is their sum), as MLlib's."""

    _tree_model = DecisionTreeClassificationModel

    def __init__(self, values: dict | None = None):
        super().__init__()
        self._forest_defaults()
        self._setDefault(pruneTree=True)
        if values is not None:
            self._set_trees(*_ensemble_values(values))

    pruneTree: Param[bool] = Param(Params._dummy(), "pruneTree", "Whether to prune the trees "
                                   "(undo splits whose leaves predict the same)",
                                   TypeConverters.toBoolean)

    @property
    def numClasses(self) -> int:
        return self._num_classes

    def getPruneTree(self) -> bool:
        return self.getOrDefault(self.pruneTree)

    def _description(self) -> dict:
        return {"numTrees": self.getNumTrees, "numClasses": self.numClasses,
                "numFeatures": self.numFeatures}

    def _raw_fn(self):
        parts = [(row_normalized(nodes["stats"][:, :-1]), self._tree_model(nodes)._leaf_fn())
                 for nodes in self._trees]
        classes = self._num_classes

        def raw(X):
            out = np.zeros((X.shape[0], classes))
            for distribution, leaf_of in parts:
                out += distribution[leaf_of(X)]
            return out
        return raw

    def _probability_fn(self):
        return row_normalized


class RandomForestRegressionModel(ScoresInJvm, _EnsembleModel, RealPredictions, Model,
                                  _DecisionTreeRegressorParams, _RandomForestParams):
    """A fitted forest of regression trees: the mean of the trees' predictions."""

    _tree_model = DecisionTreeRegressionModel

    def __init__(self, values: dict | None = None):
        super().__init__()
        self._forest_defaults()
        if values is not None:
            self._set_trees(*_ensemble_values(values))

    def _description(self) -> dict:
        return {"numTrees": self.getNumTrees, "numFeatures": self.numFeatures}

    def _scores(self, wanted: frozenset) -> Any:
        per_tree = self._tree_predictions()
        return lambda X: {"prediction": per_tree(X).mean(axis=1)}

    def predict(self, features) -> float:
        return float(self._scores(frozenset())(vector_rows(features, self.numFeatures))
                     ["prediction"][0])


class GBTClassificationModel(ScoresInJvm, _EnsembleModel, _EvaluatesEachIteration,
                             ProbabilisticClassificationModel, _DecisionTreeClassifierParams,
                             _GBTParams):
    """Fitted gradient-boosted trees for binary classification: margin F = the trees' weighted
    sum, rawPrediction [-F, F], probability 1 / (1 + exp(-2F)) (MLlib's logistic loss)."""

    _tree_model = DecisionTreeRegressionModel
    _per_tree_normalization = False

    def __init__(self, values: dict | None = None):
        super().__init__()
        self._gbt_defaults(LOGISTIC, 0.01)
        self._setDefault(impurity=VARIANCE)
        if values is not None:
            self._set_trees(*_ensemble_values(values))

    @property
    def numClasses(self) -> int:
        return 2

    def __repr__(self) -> str:  # MLlib's toString has spaces around this model's "uid ="
        return super().__repr__().replace(f"uid={self.uid}", f"uid = {self.uid}", 1)

    def _description(self) -> dict:
        return {"numTrees": self.getNumTrees, "numClasses": self.numClasses,
                "numFeatures": self.numFeatures}

    def _raw_fn(self):
        per_tree, weights = self._tree_predictions(), self._tree_weights

        def raw(X):
            margin = per_tree(X) @ weights
            return np.column_stack([-margin, margin])
        return raw

    def _probability_fn(self):
        def probability(raw):
            p = 1.0 / (1.0 + np.exp(np.minimum(-2.0 * raw[:, 1], 700.0)))
            return np.column_stack([1.0 - p, p])
        return probability

    def evaluateEachIteration(self, dataset: Any) -> list[float]:
        """The logistic loss (MLlib's: 2 log(1 + exp(-2 y F)), y in {-1, 1}) on ``dataset``
        after each number of trees."""
        return self._loss_after_each_tree(dataset, LOGISTIC)


class GBTRegressionModel(ScoresInJvm, _EnsembleModel, _EvaluatesEachIteration, RealPredictions,
                         Model, _DecisionTreeRegressorParams, _GBTParams):
    """Fitted gradient-boosted regression trees: the trees' weighted sum."""

    _tree_model = DecisionTreeRegressionModel
    _per_tree_normalization = False

    def __init__(self, values: dict | None = None):
        super().__init__()
        self._gbt_defaults(SQUARED, 0.01)
        if values is not None:
            self._set_trees(*_ensemble_values(values))

    def _description(self) -> dict:
        return {"numTrees": self.getNumTrees, "numFeatures": self.numFeatures}

    def _scores(self, wanted: frozenset) -> Any:
        per_tree, weights = self._tree_predictions(), self._tree_weights
        return lambda X: {"prediction": per_tree(X) @ weights}

    def predict(self, features) -> float:
        return float(self._scores(frozenset())(vector_rows(features, self.numFeatures))
                     ["prediction"][0])

    def evaluateEachIteration(self, dataset: Any, loss: str) -> list[float]:
        """``loss`` ("squared" or "absolute") on ``dataset`` after each number of trees."""
        if loss not in (SQUARED, ABSOLUTE):
            raise ParamError(f"loss must be 'squared' or 'absolute', got {loss!r}")
        return self._loss_after_each_tree(dataset, loss)


# --- estimators --------------------------------------------------------------------------------

class RandomForestClassifier(Classifier, _DecisionTreeClassifierParams, _RandomForestParams):
    """A random forest classifier, pyspark.ml's, with every tree grown together.

    A drop-in for ``pyspark.ml.classification.RandomForestClassifier``: same params, columns
    and model attributes (``trees``, ``treeWeights``, ``featureImportances``,
    ``toDebugString``). Each tree's rows are MLlib's bagging of the input (Poisson
    ``subsamplingRate`` multiplicities with ``bootstrap``, a Bernoulli sample without), drawn
    from the rows' positions so every engine draws the same; each node splits on
    ``featureSubsetStrategy`` features drawn at random ("auto": sqrt of the features, all for
    one tree). The trees grow level by level together: one pass over each rank's binned rows
    and one allreduce per level for the whole forest, where MLlib runs Spark jobs per group of
    nodes. Trees are binned and split as DecisionTreeClassifier's.

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile, os
    >>> from distml import RandomForestClassifier, RandomForestClassificationModel
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> df = pd.DataFrame({"features": list(X), "label": (X[:, 0] > 0).astype(float)})
    >>> model = RandomForestClassifier(numTrees=5, maxDepth=3, seed=1).fit(df)
    >>> model.getNumTrees, len(model.trees), model.treeWeights
    (5, 5, [1.0, 1.0, 1.0, 1.0, 1.0])
    >>> int(np.argmax(model.featureImportances.toArray()))
    0
    >>> path = os.path.join(tempfile.mkdtemp(), "forest")
    >>> model.save(path)
    >>> loaded = RandomForestClassificationModel.load(path)
    >>> bool((loaded.transform(df)["prediction"] == df["label"]).mean() > 0.9)
    True
    """

    pruneTree: Param[bool] = RandomForestClassificationModel.pruneTree

    @keyword_only
    def __init__(self, *, featuresCol: str = "features", labelCol: str = "label",
                 predictionCol: str = "prediction", probabilityCol: str = "probability",
                 rawPredictionCol: str = "rawPrediction", maxDepth: int = 5, maxBins: int = 32,
                 minInstancesPerNode: int = 1, minInfoGain: float = 0.0,
                 pruneTree: bool = True, maxMemoryInMB: int = 256,
                 cacheNodeIds: bool = False, checkpointInterval: int = 10,
                 checkpointDir: str = "", impurity: str = "gini", numTrees: int = 20,
                 featureSubsetStrategy: str = "auto", seed: int | None = None,
                 subsamplingRate: float = 1.0, leafCol: str = "",
                 minWeightFractionPerNode: float = 0.0, weightCol: str | None = None,
                 bootstrap: bool | None = True, thresholds: list[float] | None = None,
                 engine: str = "auto", numWorkers: int = 0,
                 categoricalFeatures: dict | None = None):
        super().__init__()
        self._forest_defaults()
        self._setDefault(pruneTree=True)
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, *, featuresCol: str = "features", labelCol: str = "label",
                  predictionCol: str = "prediction", probabilityCol: str = "probability",
                  rawPredictionCol: str = "rawPrediction", maxDepth: int = 5, maxBins: int = 32,
                  minInstancesPerNode: int = 1, minInfoGain: float = 0.0,
                  pruneTree: bool = True, maxMemoryInMB: int = 256,
                  cacheNodeIds: bool = False, checkpointInterval: int = 10,
                  checkpointDir: str = "", impurity: str = "gini", numTrees: int = 20,
                  featureSubsetStrategy: str = "auto", seed: int | None = None,
                  subsamplingRate: float = 1.0, leafCol: str = "",
                  minWeightFractionPerNode: float = 0.0, weightCol: str | None = None,
                  bootstrap: bool | None = True, thresholds: list[float] | None = None,
                  engine: str = "auto", numWorkers: int = 0,
                  categoricalFeatures: dict | None = None):
        return self._set_given(self._input_kwargs)

    _param_constraints = {"impurity": [OneOf((GINI, ENTROPY), "gini or entropy")]}

    def _training_program(self):
        return random_forest

    def _program_params(self) -> dict:
        return self._forest_program_params(self.getOrDefault(self.pruneTree))

    def _dataset_params(self, dataset: Any) -> dict:
        return self._categorical_params(dataset)

    def _create_model(self, result: FitResult) -> RandomForestClassificationModel:
        return RandomForestClassificationModel(result.values)

    setPruneTree = setter("pruneTree")

    def getPruneTree(self) -> bool:
        return self.getOrDefault(self.pruneTree)

    (setCacheNodeIds, setImpurity, setMaxBins, setMaxDepth, setMaxMemoryInMB, setMinInfoGain,
     setMinInstancesPerNode, setMinWeightFractionPerNode, setSeed) = setters(
        "cacheNodeIds", "impurity", "maxBins", "maxDepth", "maxMemoryInMB", "minInfoGain",
        "minInstancesPerNode", "minWeightFractionPerNode", "seed")
    getNumTrees = getters("numTrees")[0]


class RandomForestRegressor(Estimator, _DecisionTreeRegressorParams, _RandomForestParams):
    """A random forest regressor, pyspark.ml's; grown as RandomForestClassifier ("auto"
    features per node: a third of them). Its prediction is the mean of the trees'.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from distml import RandomForestRegressor
    >>> X = np.arange(40.0)[:, None]
    >>> df = pd.DataFrame({"features": list(X), "label": np.where(X[:, 0] < 20, 1.0, 5.0)})
    >>> model = RandomForestRegressor(numTrees=3, maxDepth=2, bootstrap=False).fit(df)
    >>> model.predict(np.array([30.0]))
    5.0
    """

    _tunes_on_ranks = True

    @keyword_only
    def __init__(self, *, featuresCol: str = "features", labelCol: str = "label",
                 predictionCol: str = "prediction", maxDepth: int = 5, maxBins: int = 32,
                 minInstancesPerNode: int = 1, minInfoGain: float = 0.0,
                 maxMemoryInMB: int = 256, cacheNodeIds: bool = False,
                 checkpointInterval: int = 10, checkpointDir: str = "",
                 impurity: str = "variance", subsamplingRate: float = 1.0,
                 seed: int | None = None, numTrees: int = 20,
                 featureSubsetStrategy: str = "auto", leafCol: str = "",
                 minWeightFractionPerNode: float = 0.0, weightCol: str | None = None,
                 bootstrap: bool | None = True, engine: str = "auto", numWorkers: int = 0,
                 categoricalFeatures: dict | None = None):
        super().__init__()
        self._forest_defaults()
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, *, featuresCol: str = "features", labelCol: str = "label",
                  predictionCol: str = "prediction", maxDepth: int = 5, maxBins: int = 32,
                  minInstancesPerNode: int = 1, minInfoGain: float = 0.0,
                  maxMemoryInMB: int = 256, cacheNodeIds: bool = False,
                  checkpointInterval: int = 10, checkpointDir: str = "",
                  impurity: str = "variance", subsamplingRate: float = 1.0,
                  seed: int | None = None, numTrees: int = 20,
                  featureSubsetStrategy: str = "auto", leafCol: str = "",
                  minWeightFractionPerNode: float = 0.0, weightCol: str | None = None,
                  bootstrap: bool | None = True, engine: str = "auto", numWorkers: int = 0,
                  categoricalFeatures: dict | None = None):
        return self._set_given(self._input_kwargs)

    _param_constraints = {"impurity": [OneOf((VARIANCE,), "variance")]}

    def _training_program(self):
        return random_forest

    def _program_params(self) -> dict:
        return self._forest_program_params(True)

    def _dataset_params(self, dataset: Any) -> dict:
        return self._categorical_params(dataset)

    def _input_spec(self) -> InputSpec:
        return InputSpec(self.getFeaturesCol(), label=self.getLabelCol(),
                         weight=self._weight_col())

    def _create_model(self, result: FitResult) -> RandomForestRegressionModel:
        return RandomForestRegressionModel(result.values)

    (setCacheNodeIds, setFeaturesCol, setImpurity, setLabelCol, setMaxBins, setMaxDepth,
     setMaxMemoryInMB, setMinInfoGain, setMinInstancesPerNode, setMinWeightFractionPerNode,
     setPredictionCol, setSeed) = setters(
        "cacheNodeIds", "featuresCol", "impurity", "labelCol", "maxBins", "maxDepth",
        "maxMemoryInMB", "minInfoGain", "minInstancesPerNode", "minWeightFractionPerNode",
        "predictionCol", "seed")
    getNumTrees = getters("numTrees")[0]


class GBTClassifier(Classifier, _DecisionTreeClassifierParams, _GBTParams):
    """Gradient-boosted trees for binary classification, pyspark.ml's GBTClassifier.

    MLlib's boosting (logistic loss, labels 0/1 as -1/+1; the first tree fits the labels with
    weight 1, each next one the pseudo-residuals with weight ``stepSize``; leaves predict
    their mean residual), trained with the ranks keeping their rows' predictions: an iteration
    costs its tree's levels (one histogram pass and allreduce each), where MLlib runs Spark
    jobs per level and per iteration. ``validationIndicatorCol`` (a boolean column) holds rows
    out for early stopping, as MLlib's. ``evaluateEachIteration`` gives the loss after each
    tree.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from distml import GBTClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 2))
    >>> df = pd.DataFrame({"features": list(X), "label": (X[:, 0] + X[:, 1] > 0) * 1.0})
    >>> model = GBTClassifier(maxIter=10, maxDepth=2).fit(df)
    >>> model.getNumTrees, model.treeWeights[:3]
    (10, [1.0, 0.1, 0.1])
    >>> losses = model.evaluateEachIteration(df)
    >>> bool(losses[-1] < losses[0])
    True
    """

    _param_constraints = {"lossType": [OneOf((LOGISTIC,), "logistic")],
                          "impurity": [OneOf((VARIANCE,), "variance")]}

    @keyword_only
    def __init__(self, *, featuresCol: str = "features", labelCol: str = "label",
                 predictionCol: str = "prediction", maxDepth: int = 5, maxBins: int = 32,
                 minInstancesPerNode: int = 1, minInfoGain: float = 0.0,
                 maxMemoryInMB: int = 256, cacheNodeIds: bool = False,
                 checkpointInterval: int = 10, checkpointDir: str = "",
                 lossType: str = "logistic", maxIter: int = 20, stepSize: float = 0.1,
                 seed: int | None = None, subsamplingRate: float = 1.0,
                 impurity: str = "variance", featureSubsetStrategy: str = "all",
                 validationTol: float = 0.01, validationIndicatorCol: str | None = None,
                 leafCol: str = "", minWeightFractionPerNode: float = 0.0,
                 weightCol: str | None = None, probabilityCol: str = "probability",
                 rawPredictionCol: str = "rawPrediction",
                 thresholds: list[float] | None = None, engine: str = "auto",
                 numWorkers: int = 0, categoricalFeatures: dict | None = None):
        super().__init__()
        self._gbt_defaults(LOGISTIC, 0.01)
        self._setDefault(impurity=VARIANCE)
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, *, featuresCol: str = "features", labelCol: str = "label",
                  predictionCol: str = "prediction", maxDepth: int = 5, maxBins: int = 32,
                  minInstancesPerNode: int = 1, minInfoGain: float = 0.0,
                  maxMemoryInMB: int = 256, cacheNodeIds: bool = False,
                  checkpointInterval: int = 10, checkpointDir: str = "",
                  lossType: str = "logistic", maxIter: int = 20, stepSize: float = 0.1,
                  seed: int | None = None, subsamplingRate: float = 1.0,
                  impurity: str = "variance", featureSubsetStrategy: str = "all",
                  validationTol: float = 0.01, validationIndicatorCol: str | None = None,
                  leafCol: str = "", minWeightFractionPerNode: float = 0.0,
                  weightCol: str | None = None, probabilityCol: str = "probability",
                  rawPredictionCol: str = "rawPrediction",
                  thresholds: list[float] | None = None, engine: str = "auto",
                  numWorkers: int = 0, categoricalFeatures: dict | None = None):
        return self._set_given(self._input_kwargs)

    def _training_program(self):
        return gradient_boosted_trees

    def _program_params(self) -> dict:
        return self._gbt_program_params(True)

    def _dataset_params(self, dataset: Any) -> dict:
        return self._categorical_params(dataset)

    def _input_spec(self) -> InputSpec:
        return self._gbt_input_spec()

    def _create_model(self, result: FitResult) -> GBTClassificationModel:
        return GBTClassificationModel(result.values)

    (setCacheNodeIds, setImpurity, setMaxBins, setMaxDepth, setMaxMemoryInMB, setMinInfoGain,
     setMinInstancesPerNode, setMinWeightFractionPerNode, setSeed) = setters(
        "cacheNodeIds", "impurity", "maxBins", "maxDepth", "maxMemoryInMB", "minInfoGain",
        "minInstancesPerNode", "minWeightFractionPerNode", "seed")


class GBTRegressor(Estimator, _DecisionTreeRegressorParams, _GBTParams):
    """Gradient-boosted regression trees, pyspark.ml's GBTRegressor (squared or absolute
    loss), trained as GBTClassifier.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from distml import GBTRegressor
    >>> X = np.linspace(0, 6, 100)[:, None]
    >>> df = pd.DataFrame({"features": list(X), "label": np.sin(X[:, 0])})
    >>> model = GBTRegressor(maxIter=30, maxDepth=3, stepSize=0.3).fit(df)
    >>> bool(abs(model.predict(np.array([1.5])) - np.sin(1.5)) < 0.1)
    True
    """

    _tunes_on_ranks = True
    _param_constraints = {"lossType": [OneOf((SQUARED, ABSOLUTE), "squared or absolute")],
                          "impurity": [OneOf((VARIANCE,), "variance")]}

    @keyword_only
    def __init__(self, *, featuresCol: str = "features", labelCol: str = "label",
                 predictionCol: str = "prediction", maxDepth: int = 5, maxBins: int = 32,
                 minInstancesPerNode: int = 1, minInfoGain: float = 0.0,
                 maxMemoryInMB: int = 256, cacheNodeIds: bool = False,
                 subsamplingRate: float = 1.0, checkpointInterval: int = 10,
                 checkpointDir: str = "", lossType: str = "squared", maxIter: int = 20,
                 stepSize: float = 0.1, seed: int | None = None, impurity: str = "variance",
                 featureSubsetStrategy: str = "all", validationTol: float = 0.01,
                 validationIndicatorCol: str | None = None, leafCol: str = "",
                 minWeightFractionPerNode: float = 0.0, weightCol: str | None = None,
                 engine: str = "auto", numWorkers: int = 0,
                 categoricalFeatures: dict | None = None):
        super().__init__()
        self._gbt_defaults(SQUARED, 0.01)
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, *, featuresCol: str = "features", labelCol: str = "label",
                  predictionCol: str = "prediction", maxDepth: int = 5, maxBins: int = 32,
                  minInstancesPerNode: int = 1, minInfoGain: float = 0.0,
                  maxMemoryInMB: int = 256, cacheNodeIds: bool = False,
                  subsamplingRate: float = 1.0, checkpointInterval: int = 10,
                  checkpointDir: str = "", lossType: str = "squared", maxIter: int = 20,
                  stepSize: float = 0.1, seed: int | None = None, impurity: str = "variance",
                  featureSubsetStrategy: str = "all", validationTol: float = 0.01,
                  validationIndicatorCol: str | None = None, leafCol: str = "",
                  minWeightFractionPerNode: float = 0.0, weightCol: str | None = None,
                  engine: str = "auto", numWorkers: int = 0,
                  categoricalFeatures: dict | None = None):
        return self._set_given(self._input_kwargs)

    def _training_program(self):
        return gradient_boosted_trees

    def _program_params(self) -> dict:
        return self._gbt_program_params(False)

    def _dataset_params(self, dataset: Any) -> dict:
        return self._categorical_params(dataset)

    def _input_spec(self) -> InputSpec:
        return self._gbt_input_spec()

    def _create_model(self, result: FitResult) -> GBTRegressionModel:
        return GBTRegressionModel(result.values)

    (setCacheNodeIds, setFeaturesCol, setImpurity, setLabelCol, setMaxBins, setMaxDepth,
     setMaxMemoryInMB, setMinInfoGain, setMinInstancesPerNode, setMinWeightFractionPerNode,
     setPredictionCol, setSeed) = setters(
        "cacheNodeIds", "featuresCol", "impurity", "labelCol", "maxBins", "maxDepth",
        "maxMemoryInMB", "minInfoGain", "minInstancesPerNode", "minWeightFractionPerNode",
        "predictionCol", "seed")


__all__ = ["RandomForestClassifier", "RandomForestClassificationModel",
           "RandomForestRegressor", "RandomForestRegressionModel", "GBTClassifier",
           "GBTClassificationModel", "GBTRegressor", "GBTRegressionModel"]
