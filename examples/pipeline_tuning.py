"""A pipeline with tuning on Spark: string columns indexed and one-hot encoded, assembled with
numeric ones, scaled, and a logistic regression whose regParam and elasticNetParam a
CrossValidator picks; the best pipeline is saved and loaded back.

    spark-submit examples/pipeline_tuning.py         # or: python examples/pipeline_tuning.py
"""
import argparse
import tempfile

import numpy as np
import pandas as pd

from _session import session
from distml import (BinaryClassificationEvaluator, CrossValidator, LogisticRegression,
                    OneHotEncoder, ParamGridBuilder, Pipeline, PipelineModel, StandardScaler,
                    StringIndexer, VectorAssembler)

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--master")
parser.add_argument("--rows", type=int, default=2000)
parser.add_argument("--folds", type=int, default=3)
args = parser.parse_args()
spark = session(args.master)
rng = np.random.default_rng(0)
n = args.rows
color, x1, x2 = rng.choice(["red", "green", "blue"], n), rng.normal(size=n), rng.normal(size=n)
label = (2.0 * (color == "red") + x1 - 0.5 * x2 + rng.logistic(size=n) > 1).astype(float)
df = spark.createDataFrame(pd.DataFrame({"color": color, "x1": x1, "x2": x2, "label": label}))
train, test = df.randomSplit([0.8, 0.2], seed=0)

lr = LogisticRegression(maxIter=50)
pipeline = Pipeline(stages=[
    StringIndexer(inputCol="color", outputCol="color_index"),
    OneHotEncoder(inputCol="color_index", outputCol="color_vector"),
    VectorAssembler(inputCols=["color_vector", "x1", "x2"], outputCol="raw"),
    StandardScaler(inputCol="raw", outputCol="features"),
    lr])
grid = ParamGridBuilder().addGrid(lr.regParam, [0.001, 0.1]) \
    .addGrid(lr.elasticNetParam, [0.0, 1.0]).build()
cv = CrossValidator(estimator=pipeline, estimatorParamMaps=grid, numFolds=args.folds, seed=1,
                    evaluator=BinaryClassificationEvaluator()).fit(train.cache())
best = cv.bestModel.stages[-1]
print(f"best regParam {best.getRegParam()}, elasticNetParam {best.getElasticNetParam()}; "
      f"mean areaUnderROC per grid point {np.round(cv.avgMetrics, 4).tolist()}")
path = tempfile.mkdtemp() + "/pipeline"
cv.bestModel.save(path)
auc = BinaryClassificationEvaluator().evaluate(PipelineModel.load(path).transform(test))
print(f"reloaded best pipeline: held-out areaUnderROC {auc:.4f}")
