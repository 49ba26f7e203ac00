"""Decision trees on Spark: a classifier on scikit-learn's breast-cancer data and a
regressor on its diabetes data, with their held-out metrics and the tree as pyspark.ml's;
then a random forest and gradient-boosted trees on the same data.

    spark-submit examples/trees.py                   # or: python examples/trees.py
"""
import argparse

from pyspark.ml.linalg import Vectors
from sklearn.datasets import load_breast_cancer, load_diabetes

from _session import session
from distml import (DecisionTreeClassifier, DecisionTreeRegressor, GBTClassifier,
                    MulticlassClassificationEvaluator, RandomForestClassifier,
                    RandomForestRegressor, RegressionEvaluator)

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--master")
args = parser.parse_args()
spark = session(args.master)


def frame(X, y):
    df = spark.createDataFrame([(Vectors.dense(r), float(t)) for r, t in zip(X, y)],
                               ["features", "label"])
    return df.randomSplit([0.75, 0.25], seed=0)


train, test = frame(*load_breast_cancer(return_X_y=True))
tree = DecisionTreeClassifier(maxDepth=4).fit(train)
accuracy = MulticlassClassificationEvaluator(metricName="accuracy").evaluate(tree.transform(test))
print(f"DecisionTreeClassifier: depth {tree.depth}, {tree.numNodes} nodes, held-out accuracy "
      f"{accuracy:.3f}")
print(tree.toMLlib().toDebugString.splitlines()[0])
train, test = frame(*load_diabetes(return_X_y=True))
regressor = DecisionTreeRegressor(maxDepth=4).fit(train)
print(f"DecisionTreeRegressor: held-out rmse "
      f"{RegressionEvaluator().evaluate(regressor.transform(test)):.2f}")

# Ensembles: a forest grows all its trees together, level by level; boosting keeps each row's
# prediction on the workers, so an iteration costs one tree's levels.
train, test = frame(*load_breast_cancer(return_X_y=True))
forest = RandomForestClassifier(numTrees=50, maxDepth=6, seed=1).fit(train)
accuracy = MulticlassClassificationEvaluator(metricName="accuracy")
print(f"RandomForestClassifier: {forest.getNumTrees} trees, {forest.totalNumNodes} nodes, "
      f"held-out accuracy {accuracy.evaluate(forest.transform(test)):.3f}")
top = forest.featureImportances.toArray().argsort()[::-1][:3]
print(f"  most important features: {top.tolist()}")
boosted = GBTClassifier(maxIter=30, maxDepth=3, stepSize=0.1).fit(train)
losses = boosted.evaluateEachIteration(test)
print(f"GBTClassifier: {boosted.getNumTrees} trees, held-out accuracy "
      f"{accuracy.evaluate(boosted.transform(test)):.3f}, held-out log-loss "
      f"{losses[0]:.3f} after 1 tree -> {losses[-1]:.3f} after {len(losses)}")
train, test = frame(*load_diabetes(return_X_y=True))
forest = RandomForestRegressor(numTrees=50, maxDepth=5, seed=1).fit(train)
print(f"RandomForestRegressor: held-out rmse "
      f"{RegressionEvaluator().evaluate(forest.transform(test)):.2f}")
