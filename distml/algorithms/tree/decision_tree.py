"""DecisionTreeClassifier and DecisionTreeRegressor: pyspark.ml's, histogram-based, level-wise."""
from __future__ import annotations

from typing import Any

import numpy as np
from pyspark import keyword_only
from pyspark.ml.linalg import SparseVector
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import (HasFeaturesCol, HasLabelCol, HasPredictionCol, HasSeed,
                                     HasVarianceCol)

from distml import frames
from distml.algorithms.classification.base import (Classifier, ClassifierParams,
                                                   ProbabilisticClassificationModel)
from distml.algorithms.tree.decision_tree_program import decision_tree
from distml.engine.context import FitResult
from distml.frames import DOUBLE, InputSpec, Output, vector_rows
from distml.kernels.tree import ENTROPY, GINI, VARIANCE
from distml.pipeline.base import (Estimator, HasCheckpoints, HasWeights, Model, getters,
                                  scala_string, setter, setters)
from distml.pipeline.constraints import Interval, OneOf
from distml.pipeline.jvm_scoring import ScoresInJvm

# Deeper trees work (node ids are int64); memory grows with the nodes of the deepest level.
MAX_DEPTH_LIMIT = 64


class _TreeParams(HasCheckpoints, HasSeed):
    """The tree params pyspark.ml's DecisionTreeClassifier and Regressor share."""

    maxDepth: Param[int] = Param(Params._dummy(), "maxDepth", "Maximum depth of the tree "
                                 f"(>= 0), at most {MAX_DEPTH_LIMIT} here",
                                 typeConverter=TypeConverters.toInt)
    maxBins: Param[int] = Param(Params._dummy(), "maxBins", "Max number of bins for "
                                "discretizing continuous features. Must be >= 2.",
                                typeConverter=TypeConverters.toInt)
    minInstancesPerNode: Param[int] = Param(
        Params._dummy(), "minInstancesPerNode", "Minimum number of instances each child must "
        "have after split. Should be >= 1.", typeConverter=TypeConverters.toInt)
    minWeightFractionPerNode: Param[float] = Param(
        Params._dummy(), "minWeightFractionPerNode", "Minimum fraction of the weighted sample "
        "count that each child must have after split. Should be in [0.0, 0.5).",
        typeConverter=TypeConverters.toFloat)
    minInfoGain: Param[float] = Param(Params._dummy(), "minInfoGain", "Minimum information "
                                      "gain for a split to be considered at a tree node.",
                                      typeConverter=TypeConverters.toFloat)
    maxMemoryInMB: Param[int] = Param(Params._dummy(), "maxMemoryInMB", "accepted for "
                                      "compatibility; no effect", TypeConverters.toInt)
    cacheNodeIds: Param[bool] = Param(Params._dummy(), "cacheNodeIds", "accepted for "
                                      "compatibility; node ids are always kept per row",
                                      TypeConverters.toBoolean)
    impurity: Param[str] = Param(Params._dummy(), "impurity", "Criterion used for information "
                                 "gain calculation", typeConverter=TypeConverters.toString)
    leafCol: Param[str] = Param(Params._dummy(), "leafCol", "Leaf indices column name. "
                                "Predicted leaf index of each instance in each tree by "
                                "preorder.", typeConverter=TypeConverters.toString)
    categoricalFeatures: Param[dict] = Param(
        Params._dummy(), "categoricalFeatures", "distml's: {feature index: number of "
        "categories} for features whose values 0..k-1 are categories (added to what the "
        "features column's ML attributes say, e.g. after VectorIndexer)")

    _param_constraints = {
        "maxDepth": [Interval(0, MAX_DEPTH_LIMIT)], "maxBins": [Interval(2, 65535)],
        "minInstancesPerNode": [Interval(1)],
        "minWeightFractionPerNode": [Interval(0.0, 0.5, closed="left")],
        "minInfoGain": [Interval(0)]}

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(maxDepth=5, maxBins=32, minInstancesPerNode=1,
                         minWeightFractionPerNode=0.0, minInfoGain=0.0, maxMemoryInMB=256,
                         cacheNodeIds=False, checkpointInterval=10, seed=0, leafCol="",
                         categoricalFeatures={})

    def getCategoricalFeatures(self) -> dict[int, int]:
        # JSON (save/load) turns the keys into strings
        return {int(k): int(v) for k, v in self.getOrDefault(self.categoricalFeatures).items()}

    setCategoricalFeatures = setter("categoricalFeatures")
    setLeafCol = setter("leafCol")
    (getCacheNodeIds, getMaxMemoryInMB) = getters("cacheNodeIds", "maxMemoryInMB")

    def getLeafCol(self) -> str:
        return self.getOrDefault(self.leafCol)

    def getMaxDepth(self) -> int:
        return self.getOrDefault(self.maxDepth)

    def getMaxBins(self) -> int:
        return self.getOrDefault(self.maxBins)

    def getMinInstancesPerNode(self) -> int:
        return self.getOrDefault(self.minInstancesPerNode)

    def getMinWeightFractionPerNode(self) -> float:
        return self.getOrDefault(self.minWeightFractionPerNode)

    def getMinInfoGain(self) -> float:
        return self.getOrDefault(self.minInfoGain)

    def getImpurity(self) -> str:
        return self.getOrDefault(self.impurity)

    def _tree_program_params(self) -> dict:
        return {name: self.getOrDefault(name) for name in (
            "maxDepth", "maxBins", "minInstancesPerNode", "minWeightFractionPerNode",
            "minInfoGain", "impurity", "labelCol", "featuresCol")} | \
            {"weightCol": self._weight_col(), "prune": self._prune}

    # MLlib undoes splits whose two leaves predict the same (pyspark.ml's trees are pruned);
    # scikit-learn does not. Not a Param, as pyspark.ml has none: tests comparing with
    # scikit-learn's trees turn it off.
    _prune = True

    def _categorical_params(self, dataset: Any) -> dict:
        """The categorical features: the column's ML attributes, then the param."""
        arities = frames.of(dataset).categorical_arities(self.getFeaturesCol())
        return {"categoricalFeatures": {**arities, **self.getCategoricalFeatures()}}


class _TreeModelMixin:
    """What both fitted trees share: the node arrays, depth, importances, debug string."""

    _nodes: dict

    def _set_nodes(self, nodes: dict) -> None:
        self._nodes = {k: np.asarray(v) for k, v in nodes.items()}

    @property
    def numNodes(self) -> int:
        return int(self._nodes["feature"].size)

    @property
    def depth(self) -> int:
        depth = np.zeros(self.numNodes, dtype=np.int64)
        for node in range(self.numNodes):  # parents come before their children
            if self._nodes["left"][node] >= 0:
                depth[self._nodes["left"][node]] = depth[self._nodes["right"][node]] = \
                    depth[node] + 1
        return int(depth.max())

    @property
    def numFeatures(self) -> int:
        return int(self._nodes["numFeatures"])

    @property
    def featureImportances(self) -> SparseVector:
        """MLlib's: each split's gain times its node's weight, summed per feature, normalized."""
        return sparse_normalized(self._split_importances())

    def _split_importances(self) -> np.ndarray:
        """Each feature's sum of gain x node weight over the splits on it."""
        n = self._nodes
        internal = n["feature"] >= 0
        importance = np.zeros(self.numFeatures)
        weight = self._node_weights()
        np.add.at(importance, n["feature"][internal], n["gain"][internal] * weight[internal])
        return importance

    def _leaf_fn(self):
        """X -> the leaf each row reaches; closes over the node arrays only, so transform
        ships arrays to the executors, never the model."""
        feature, threshold = self._nodes["feature"], self._nodes["threshold"]
        left, right = self._nodes["left"], self._nodes["right"]
        members, arity = self._nodes["leftCategories"], self._nodes["numCategories"]

        def leaf_of(X) -> np.ndarray:
            X = X.toarray() if hasattr(X, "toarray") else np.asarray(X)
            node = np.zeros(X.shape[0], dtype=np.int64)
            while True:  # one step per level; parents come before children
                f = feature[node]
                inner = np.flatnonzero(f >= 0)
                if inner.size == 0:
                    return node
                at, x = node[inner], X[inner, f[inner]]
                go_left = x <= threshold[at]
                categorical = arity[at] > 0
                if categorical.any():  # unseen categories go right, as in MLlib
                    c = x[categorical]
                    known = (c >= 0) & (c < members.shape[1]) & (c == np.floor(c))
                    member = np.zeros(c.size, dtype=bool)
                    member[known] = members[at[categorical][known], c[known].astype(np.int64)]
                    go_left[categorical] = member
                node[inner] = np.where(go_left, left[at], right[at])
        return leaf_of

    def _leaf_numbers(self) -> np.ndarray:
        """Each node's leaf index as MLlib numbers leaves (in preorder, left child first), as
        a double; -1 for internal nodes."""
        feature, left, right = self._nodes["feature"], self._nodes["left"], self._nodes["right"]
        numbers, stack, count = np.full(self.numNodes, -1.0), [0], 0
        while stack:
            node = stack.pop()
            if feature[node] < 0:
                numbers[node], count = count, count + 1
            else:
                stack += [int(right[node]), int(left[node])]
        return numbers

    def predictLeaf(self, features) -> float:
        """The index of the leaf ``features`` reaches (see ``leafCol``)."""
        X = vector_rows(features, self.numFeatures)
        return float(self._leaf_numbers()[self._leaf_fn()(X)][0])

    def _extra_outputs(self) -> dict:
        """``leafCol``, when set: {column: (kind, X -> values)}, beside the predictions."""
        if not self.getLeafCol():
            return {}
        numbers, leaf_of = self._leaf_numbers(), self._leaf_fn()
        return {self.getLeafCol(): (DOUBLE, lambda X: numbers[leaf_of(X)])}

    def _describe_leaf(self, node: int) -> str:
        raise NotImplementedError

    @property
    def toDebugString(self) -> str:
        return "\n".join([repr(self)] + self._debug_lines(2)) + "\n"

    def _debug_lines(self, indent: int) -> list[str]:
        """MLlib's ``subtreeToString`` of the root, its lines indented from ``indent``."""
        n, lines = self._nodes, []

        def walk(node: int, indent: int) -> None:
            pad = " " * indent
            if n["feature"][node] < 0:
                lines.append(f"{pad}Predict: {self._describe_leaf(node)}")
                return
            f = int(n["feature"][node])
            if n["numCategories"][node] > 0:
                left_set = "{" + ",".join(str(float(c)) for c in
                                          np.flatnonzero(n["leftCategories"][node])) + "}"
                condition, otherwise = f"in {left_set}", f"not in {left_set}"
            else:
                t = scala_string(float(n["threshold"][node]))
                condition, otherwise = f"<= {t}", f"> {t}"
            lines.append(f"{pad}If (feature {f} {condition})")
            walk(int(n["left"][node]), indent + 1)
            lines.append(f"{pad}Else (feature {f} {otherwise})")
            walk(int(n["right"][node]), indent + 1)

        walk(0, indent)
        return lines

    def _build_twin(self, sc):
        """The same tree as a pyspark.ml model (``DecisionTreeClassificationModel`` or
        ``DecisionTreeRegressionModel``), for ``toMLlib()`` and scoring on Spark."""
        from distml.algorithms.tree.decision_tree_mllib import mllib_decision_tree_model
        return mllib_decision_tree_model(sc, self.uid, self._nodes, self.numFeatures,
                                         getattr(self, "numClasses", 0), self.getImpurity())

    def _save_data(self) -> tuple[dict, dict]:
        return dict(self._nodes), {}

    def _load_data(self, arrays: dict, extra: dict) -> None:
        self._set_nodes(arrays)


class _DecisionTreeClassifierParams(_TreeParams, ClassifierParams):
    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(impurity=GINI)


class DecisionTreeClassifier(Classifier, _DecisionTreeClassifierParams):
    """A classification tree, pyspark.ml's, grown level by level on binned features.

    A drop-in for ``pyspark.ml.classification.DecisionTreeClassifier``: same params (gini or
    entropy), columns and model attributes. Features are binned once: thresholds from a row
    sample gathered from all ranks (MLlib's size, max(maxBins^2, 10000) rows) — with at most
    ``maxBins`` distinct values per feature the thresholds are the midpoints between them, so
    the tree is the one an exact sorting tree (scikit-learn's) grows. Then one round per level:
    every rank histograms its rows per open node, feature and bin, one allreduce, and every rank
    picks the same splits: the largest gain, ties to the lowest feature index and then the
    lowest threshold; a split must have positive gain above ``minInfoGain``. As in MLlib, a
    split whose two leaves predict the same class is undone after growth. ``maxDepth`` may
    exceed MLlib's 30, up to 64. ``rawPrediction`` holds a leaf's weighted class counts, as
    MLlib's; ``toMLlib()`` gives pyspark.ml the same tree.

    Categorical features come from the features column's ML attributes (VectorIndexer's, as
    in pyspark.ml) or the ``categoricalFeatures`` param ({index: number of categories}; values
    0..k-1). They split into a subset of categories and its complement, found as MLlib does:
    categories ordered by their share of class 1 (binary) or mean label (regression), which
    yields the best subset; for multiclass, every subset when there are few categories (5 at
    maxBins 32, MLlib's bound), else ordered by impurity. Categories unseen in training go
    right.

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile, os
    >>> from distml import DecisionTreeClassifier, DecisionTreeClassificationModel
    >>> X = np.array([[0.0, 1.0], [1.0, 1.0], [2.0, 0.0], [3.0, 0.0]])
    >>> df = pd.DataFrame({"features": list(X), "label": [0.0, 0.0, 1.0, 1.0]})
    >>> model = DecisionTreeClassifier(maxDepth=2).fit(df)
    >>> model.depth, model.numNodes
    (1, 3)
    >>> print(model.toDebugString.splitlines()[1])
      If (feature 0 <= 1.5)
    >>> path = os.path.join(tempfile.mkdtemp(), "tree")
    >>> model.save(path)
    >>> DecisionTreeClassificationModel.load(path).transform(df)["prediction"].tolist()
    [0.0, 0.0, 1.0, 1.0]
    """

    _param_constraints = {"impurity": [OneOf((GINI, ENTROPY), "gini or entropy")]}

    @keyword_only
    def __init__(self, *, featuresCol: str = "features", labelCol: str = "label",
                 predictionCol: str = "prediction", probabilityCol: str = "probability",
                 rawPredictionCol: str = "rawPrediction", maxDepth: int = 5, maxBins: int = 32,
                 minInstancesPerNode: int = 1, minInfoGain: float = 0.0,
                 maxMemoryInMB: int = 256, cacheNodeIds: bool = False,
                 checkpointInterval: int = 10, checkpointDir: str = "",
                 impurity: str = "gini", seed: int | None = None,
                 weightCol: str | None = None, minWeightFractionPerNode: float = 0.0,
                 thresholds: list[float] | None = None, leafCol: str = "",
                 engine: str = "auto", numWorkers: int = 0,
                 categoricalFeatures: dict | None = None):
        super().__init__()
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, *, featuresCol: str = "features", labelCol: str = "label",
                  predictionCol: str = "prediction", probabilityCol: str = "probability",
                  rawPredictionCol: str = "rawPrediction", maxDepth: int = 5, maxBins: int = 32,
                  minInstancesPerNode: int = 1, minInfoGain: float = 0.0,
                  maxMemoryInMB: int = 256, cacheNodeIds: bool = False,
                  checkpointInterval: int = 10, checkpointDir: str = "",
                  impurity: str = "gini", seed: int | None = None,
                  weightCol: str | None = None, minWeightFractionPerNode: float = 0.0,
                  thresholds: list[float] | None = None, leafCol: str = "",
                  engine: str = "auto", numWorkers: int = 0,
                  categoricalFeatures: dict | None = None):
        return self._set_given(self._input_kwargs)

    def _training_program(self):
        return decision_tree

    def _program_params(self) -> dict:
        return self._tree_program_params()

    def _dataset_params(self, dataset: Any) -> dict:
        return self._categorical_params(dataset)

    def _create_model(self, result: FitResult) -> "DecisionTreeClassificationModel":
        return DecisionTreeClassificationModel(result.values)

    # pyspark.ml's accessors (issue 22)
    (setCacheNodeIds, setImpurity, setMaxBins, setMaxDepth) = setters(
        "cacheNodeIds", "impurity", "maxBins", "maxDepth")
    (setMaxMemoryInMB, setMinInfoGain) = setters("maxMemoryInMB", "minInfoGain")
    (setMinInstancesPerNode, setMinWeightFractionPerNode, setSeed) = setters(
        "minInstancesPerNode", "minWeightFractionPerNode", "seed")


class DecisionTreeClassificationModel(ScoresInJvm, _TreeModelMixin,
                                      ProbabilisticClassificationModel,
                                      _DecisionTreeClassifierParams):
    """A fitted classification tree: depth, numNodes, featureImportances, toDebugString."""

    def __init__(self, nodes: dict | None = None):
        super().__init__()
        if nodes is not None:
            self._set_nodes(nodes)

    @property
    def numClasses(self) -> int:
        return int(self._nodes["numClasses"])

    def _description(self) -> dict:
        return {"depth": self.depth, "numNodes": self.numNodes, "numClasses": self.numClasses,
                "numFeatures": self.numFeatures}

    def _node_weights(self) -> np.ndarray:
        return self._nodes["stats"][:, :-1].sum(axis=1)

    def _describe_leaf(self, node: int) -> str:
        return f"{float(np.argmax(self._nodes['stats'][node, :-1]))}"

    def _raw_fn(self):
        counts, leaf_of = self._nodes["stats"][:, :-1], self._leaf_fn()
        return lambda X: counts[leaf_of(X)]

    def _probability_fn(self):
        return row_normalized



def sparse_normalized(values: np.ndarray) -> SparseVector:
    """``values`` scaled to sum to 1 (unless all zero), as a SparseVector."""
    total = values.sum()
    values = values / total if total > 0 else values
    nonzero = np.flatnonzero(values)
    return SparseVector(values.size, nonzero, values[nonzero])


def row_normalized(a: np.ndarray) -> np.ndarray:
    """Rows scaled to sum to 1 (all-zero rows stay zeros): class counts to probabilities."""
    total = a.sum(axis=1, keepdims=True)
    return np.divide(a, total, out=np.zeros_like(a), where=total > 0)


class _DecisionTreeRegressorParams(_TreeParams, HasFeaturesCol, HasLabelCol, HasPredictionCol,
                                   HasVarianceCol, HasWeights):
    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(impurity=VARIANCE)

    setVarianceCol = setter("varianceCol")

    def _variance_col(self) -> str | None:
        return (self.getVarianceCol() or None) if self.isDefined(self.varianceCol) else None


class DecisionTreeRegressor(Estimator, _DecisionTreeRegressorParams):
    """A regression tree (variance impurity), pyspark.ml's; grown as DecisionTreeClassifier.

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile, os
    >>> from distml import DecisionTreeRegressor, DecisionTreeRegressionModel
    >>> df = pd.DataFrame({"features": list(np.arange(6.0)[:, None]),
    ...                    "label": [1.0, 1.0, 1.0, 5.0, 5.0, 5.0]})
    >>> model = DecisionTreeRegressor(maxDepth=1).fit(df)
    >>> model.predict(np.array([4.0]))
    5.0
    >>> path = os.path.join(tempfile.mkdtemp(), "tree")
    >>> model.save(path)
    >>> DecisionTreeRegressionModel.load(path).transform(df)["prediction"].tolist()
    [1.0, 1.0, 1.0, 5.0, 5.0, 5.0]
    """

    _tunes_on_ranks = True

    _param_constraints = {"impurity": [OneOf((VARIANCE,), "variance")]}

    @keyword_only
    def __init__(self, *, featuresCol: str = "features", labelCol: str = "label",
                 predictionCol: str = "prediction", maxDepth: int = 5, maxBins: int = 32,
                 minInstancesPerNode: int = 1, minInfoGain: float = 0.0,
                 maxMemoryInMB: int = 256, cacheNodeIds: bool = False,
                 checkpointInterval: int = 10, checkpointDir: str = "",
                 impurity: str = "variance",
                 seed: int | None = None, varianceCol: str | None = None,
                 weightCol: str | None = None, leafCol: str = "",
                 minWeightFractionPerNode: float = 0.0, engine: str = "auto",
                 numWorkers: int = 0, categoricalFeatures: dict | None = None):
        super().__init__()
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, *, featuresCol: str = "features", labelCol: str = "label",
                  predictionCol: str = "prediction", maxDepth: int = 5, maxBins: int = 32,
                  minInstancesPerNode: int = 1, minInfoGain: float = 0.0,
                  maxMemoryInMB: int = 256, cacheNodeIds: bool = False,
                  checkpointInterval: int = 10, checkpointDir: str = "",
                  impurity: str = "variance",
                  seed: int | None = None, varianceCol: str | None = None,
                  weightCol: str | None = None, leafCol: str = "",
                  minWeightFractionPerNode: float = 0.0, engine: str = "auto",
                  numWorkers: int = 0, categoricalFeatures: dict | None = None):
        return self._set_given(self._input_kwargs)

    def _training_program(self):
        return decision_tree

    def _program_params(self) -> dict:
        return self._tree_program_params()

    def _dataset_params(self, dataset: Any) -> dict:
        return self._categorical_params(dataset)

    def _input_spec(self) -> InputSpec:
        return InputSpec(self.getFeaturesCol(), label=self.getLabelCol(),
                         weight=self._weight_col())

    def _create_model(self, result: FitResult) -> "DecisionTreeRegressionModel":
        return DecisionTreeRegressionModel(result.values)

    # pyspark.ml's accessors (issue 22)
    (setCacheNodeIds, setFeaturesCol, setImpurity, setLabelCol, setMaxBins, setMaxDepth) = setters(
        "cacheNodeIds", "featuresCol", "impurity", "labelCol", "maxBins", "maxDepth")
    (setMaxMemoryInMB, setMinInfoGain, setMinInstancesPerNode) = setters(
        "maxMemoryInMB", "minInfoGain", "minInstancesPerNode")
    (setMinWeightFractionPerNode, setPredictionCol, setSeed) = setters(
        "minWeightFractionPerNode", "predictionCol", "seed")


class RealPredictions:
    """Transform of a tree model predicting a real value: the prediction column plus the
    model's ``_extra_outputs`` (shared by the trees and the regression ensembles)."""

    (setFeaturesCol, setPredictionCol) = setters("featuresCol", "predictionCol")

    def _twin_columns(self) -> tuple[list[str], list[str]]:
        return [self.getFeaturesCol()], [self.getPredictionCol(), *self._extra_outputs()]

    def _transform_here(self, dataset: Any) -> Any:
        out, scores = self.getPredictionCol(), self._scores(frozenset({"prediction"}))
        extra = self._extra_outputs()

        def outputs(X):
            return {out: scores(X)["prediction"],
                    **{name: values(X) for name, (_, values) in extra.items()}}
        return frames.of(dataset).transform(
            InputSpec(self.getFeaturesCol(), check_finite=False,
                      width=self._feature_width()), outputs,
            [Output(out, DOUBLE)] + [Output(name, kind) for name, (kind, _) in extra.items()])


class DecisionTreeRegressionModel(ScoresInJvm, _TreeModelMixin, RealPredictions, Model,
                                  _DecisionTreeRegressorParams):
    """A fitted regression tree: depth, numNodes, featureImportances, predict, transform."""

    def __init__(self, nodes: dict | None = None):
        super().__init__()
        if nodes is not None:
            self._set_nodes(nodes)

    def _description(self) -> dict:
        return {"depth": self.depth, "numNodes": self.numNodes, "numFeatures": self.numFeatures}

    def _node_weights(self) -> np.ndarray:
        return self._nodes["stats"][:, 0]

    def _leaf_means(self) -> np.ndarray:
        stats = self._nodes["stats"]
        return np.divide(stats[:, 1], stats[:, 0], out=np.zeros(len(stats)),
                         where=stats[:, 0] > 0)

    def _describe_leaf(self, node: int) -> str:
        return scala_string(float(self._leaf_means()[node]))

    def predict(self, features) -> float:
        X = vector_rows(features, self.numFeatures)
        return float(self._leaf_means()[self._leaf_fn()(X)][0])

    def _scores(self, wanted: frozenset) -> Any:
        """X -> {"prediction": the leaf's mean label}."""
        means, leaf_of = self._leaf_means(), self._leaf_fn()
        return lambda X: {"prediction": means[leaf_of(X)]}

    def _extra_outputs(self) -> dict:
        """``leafCol`` and ``varianceCol`` (the leaf's biased label variance), when set."""
        extra = super()._extra_outputs()
        if self._variance_col():
            stats, leaf_of = self._nodes["stats"], self._leaf_fn()
            weight = np.maximum(stats[:, 0], np.finfo(float).tiny)
            # MLlib's VarianceCalculator, to its last bit (no clamp at 0 either)
            variance = (stats[:, 2] - stats[:, 1] * stats[:, 1] / weight) / weight
            extra[self._variance_col()] = (DOUBLE, lambda X: variance[leaf_of(X)])
        return extra


