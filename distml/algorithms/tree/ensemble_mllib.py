"""Tree ensembles' toMLlib(): pyspark.ml's JVM ensemble built from distml's trees."""
from __future__ import annotations

from distml.algorithms.tree.decision_tree_mllib import java_decision_tree_model
from distml.frames import java_doubles
from distml.pipeline.jvm_scoring import twin_of


def mllib_ensemble_model(sc, model):
    """pyspark.ml's RandomForest*Model or GBT*Model holding ``model``'s trees (each built as
    ``mllib_decision_tree_model`` builds a tree) and tree weights."""
    from pyspark.ml import classification, regression

    jvm, name = sc._jvm, type(model).__name__
    forest = name.startswith("RandomForest")
    tree_classes = model._num_classes if name == "RandomForestClassificationModel" else 0
    impurity = model.getImpurity() if forest else "variance"
    kind = jvm.org.apache.spark.ml.classification.DecisionTreeClassificationModel \
        if tree_classes else jvm.org.apache.spark.ml.regression.DecisionTreeRegressionModel
    # JVM objects only: a pyspark.ml wrapper detaches its object from py4j when it is
    # collected, which could happen before the array holds it (the array got a null)
    trees = sc._gateway.new_array(kind, len(model._trees))
    for t, nodes in enumerate(model._trees):
        trees[t] = java_decision_tree_model(sc, f"{model.uid}_tree{t}", nodes,
                                            model.numFeatures, tree_classes, impurity)
    package = classification if "Classification" in name else regression
    java_class = getattr(jvm.org.apache.spark.ml, package.__name__.split(".")[-1])
    args = [model.uid, trees] if forest else [model.uid, trees,
                                              java_doubles(sc, model._tree_weights)]
    args.append(model.numFeatures)
    if "Classification" in name:
        args.append(model.numClasses)
    return twin_of(getattr(package, name), getattr(java_class, name)(*args))
