"""PCA and SVD on Spark: the variance the leading components explain, and a truncated SVD
checked against numpy's.

    spark-submit examples/decomposition.py           # or: python examples/decomposition.py
"""
import argparse

import numpy as np
from pyspark.ml.linalg import Vectors

from _session import session
from distml import PCA, SVD

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--master")
parser.add_argument("--rows", type=int, default=5000)
args = parser.parse_args()
spark = session(args.master)
rng = np.random.default_rng(0)

X = rng.normal(size=(args.rows, 3)) @ rng.normal(size=(3, 20)) + \
    0.1 * rng.normal(size=(args.rows, 20))
df = spark.createDataFrame([(Vectors.dense(r),) for r in X], ["features"])
pca = PCA(k=3, inputCol="features", outputCol="projected").fit(df)
print(f"PCA: variance explained by 3 components {pca.explainedVariance.toArray().sum():.4f}")
svd = SVD(k=3, inputCol="features", outputCol="u").fit(df)
exact = np.linalg.svd(X, compute_uv=False)[:3]
print(f"SVD: singular values {np.round(svd.singularValues.toArray(), 3)} "
      f"(numpy {np.round(exact, 3)})")
