"""Decision trees on Spark: a classifier on scikit-learn's breast-cancer data and a
regressor on its diabetes data, with their held-out metrics and the tree as pyspark.ml's.

    spark-submit examples/trees.py                   # or: python examples/trees.py
"""
import argparse

from pyspark.ml.linalg import Vectors
from sklearn.datasets import load_breast_cancer, load_diabetes

from _session import session
from distml import (DecisionTreeClassifier, DecisionTreeRegressor,
                    MulticlassClassificationEvaluator, RegressionEvaluator)

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
