"""DecisionTree*Model.toMLlib(): pyspark.ml's JVM-backed tree built from distml's node arrays."""
from __future__ import annotations

import numpy as np

from distml.frames import java_doubles
from distml.pipeline.jvm_scoring import twin_of


def java_decision_tree_model(sc, uid: str, nodes: dict, num_features: int, num_classes: int,
                             impurity: str):
    """MLlib's JVM ``DecisionTreeClassificationModel`` (num_classes > 0) or
    ``DecisionTreeRegressionModel`` with the same nodes, built node by node.

    ``nodes`` are distml's arrays (parents before children); MLlib's impurity statistics are
    the same sums (class weights, or weight, sum, sum of squares), its raw count the rows.
    """
    jvm = sc._jvm
    tree, calculators = jvm.org.apache.spark.ml.tree, jvm.org.apache.spark.mllib.tree.impurity
    calculator = {"gini": calculators.GiniCalculator, "entropy": calculators.EntropyCalculator,
                  "variance": calculators.VarianceCalculator}[impurity]
    # Each py4j call is a round trip (~0.1 ms), and a JVM class looked up by name is one too:
    # the classes are looked up once, and a node's arrays are cut in the JVM from one array
    # per tree, so a node costs 3 calls (a leaf) or 5 (a split), not 17 (4.5 s for 50 trees).
    leaf_node, internal_node = tree.LeafNode, tree.InternalNode
    continuous, categorical = tree.ContinuousSplit, tree.CategoricalSplit
    stats = nodes["stats"]
    width = stats.shape[1] - 1
    node_stats = _java_rows(sc, stats[:, :-1])
    built: dict[int, object] = {}
    for node in range(len(stats) - 1, -1, -1):  # children first: they come after parents
        values = stats[node, :-1]
        if num_classes:
            prediction = float(np.argmax(values))
        else:
            prediction = float(values[1] / values[0]) if values[0] > 0 else 0.0
        calc = calculator(node_stats(node * width, (node + 1) * width),
                          int(round(stats[node, -1])))
        if nodes["feature"][node] < 0:
            built[node] = leaf_node(prediction, float(nodes["impurity"][node]), calc)
        else:
            feature = int(nodes["feature"][node])
            if nodes["numCategories"][node] > 0:
                split = categorical(
                    feature, java_doubles(sc, np.flatnonzero(nodes["leftCategories"][node])),
                    int(nodes["numCategories"][node]))
            else:
                split = continuous(feature, float(nodes["threshold"][node]))
            built[node] = internal_node(
                prediction, float(nodes["impurity"][node]), float(nodes["gain"][node]),
                built.pop(int(nodes["left"][node])), built.pop(int(nodes["right"][node])),
                split, calc)
    if num_classes:
        return jvm.org.apache.spark.ml.classification.DecisionTreeClassificationModel(
            uid, built[0], int(num_features), int(num_classes))
    return jvm.org.apache.spark.ml.regression.DecisionTreeRegressionModel(
        uid, built[0], int(num_features))


def _java_rows(sc, values: np.ndarray):
    """``cut(start, end)``: a Java double[] of ``values.ravel()[start:end]``, cut in the JVM
    from one copy of all of them."""
    flat, copy_of_range = java_doubles(sc, values), sc._jvm.java.util.Arrays.copyOfRange
    return lambda start, end: copy_of_range(flat, start, end)


def mllib_decision_tree_model(sc, uid: str, nodes: dict, num_features: int, num_classes: int,
                              impurity: str):
    """``java_decision_tree_model`` in its pyspark.ml wrapper."""
    from pyspark.ml.classification import DecisionTreeClassificationModel
    from pyspark.ml.regression import DecisionTreeRegressionModel
    wrapper = DecisionTreeClassificationModel if num_classes else DecisionTreeRegressionModel
    return twin_of(wrapper, java_decision_tree_model(sc, uid, nodes, num_features, num_classes,
                                                     impurity))
