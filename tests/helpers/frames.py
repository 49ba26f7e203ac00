"""Test data as Spark DataFrames of (features vector, label), cached in a set partition count."""
import numpy as np
from pyspark.ml.linalg import Vectors


def to_df(spark, X, y, sparse=False, partitions=2):
    vec = (lambda r: Vectors.sparse(len(r), np.flatnonzero(r), r[r != 0])) if sparse \
        else Vectors.dense
    return spark.createDataFrame([(vec(r), float(t)) for r, t in zip(X, y)],
                                 ["features", "label"]).repartition(partitions).cache()
