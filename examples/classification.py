"""Classification on Spark: LogisticRegression, NaiveBayes, MultilayerPerceptronClassifier
and DecisionTreeClassifier on scikit-learn's digits (8x8 images, 10 classes), held-out
accuracy for each, and a save/load round trip.

    spark-submit examples/classification.py          # or: python examples/classification.py
"""
import argparse
import tempfile

from pyspark.ml.linalg import Vectors
from sklearn.datasets import load_digits

from _session import session
from distml import (DecisionTreeClassifier, LogisticRegression, LogisticRegressionModel,
                    MulticlassClassificationEvaluator, MultilayerPerceptronClassifier,
                    NaiveBayes)

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--master")
parser.add_argument("--rows", type=int, default=1797, help="use the first ROWS images")
args = parser.parse_args()
spark = session(args.master)

X, y = load_digits(return_X_y=True)
X, y = X[:args.rows], y[:args.rows]
df = spark.createDataFrame([(Vectors.dense(r), float(t)) for r, t in zip(X, y)],
                           ["features", "label"])
train, test = df.randomSplit([0.75, 0.25], seed=0)
accuracy = MulticlassClassificationEvaluator(metricName="accuracy")
for estimator in (LogisticRegression(regParam=0.01, maxIter=100), NaiveBayes(),
                  MultilayerPerceptronClassifier(layers=[64, 32, 10], maxIter=100, seed=1),
                  DecisionTreeClassifier(maxDepth=8)):
    model = estimator.fit(train)
    print(f"{type(estimator).__name__:<34} held-out accuracy "
          f"{accuracy.evaluate(model.transform(test)):.3f}")

path = tempfile.mkdtemp() + "/lr"
LogisticRegression(regParam=0.01, maxIter=100).fit(train).save(path)
reloaded = LogisticRegressionModel.load(path)
print(f"reloaded LogisticRegression accuracy {accuracy.evaluate(reloaded.transform(test)):.3f}")
