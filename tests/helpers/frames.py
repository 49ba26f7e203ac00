"""Test data as Spark DataFrames of (features vector, label), cached in a set partition count."""
import numpy as np
from pyspark.ml.linalg import Vectors


def to_df(spark, X, y, sparse=False, partitions=2):
    vec = (lambda r: Vectors.sparse(len(r), np.flatnonzero(r), r[r != 0])) if sparse \
        else Vectors.dense
    return spark.createDataFrame([(vec(r), float(t)) for r, t in zip(X, y)],
                                 ["features", "label"]).repartition(partitions).cache()


def split_frames(spark, loader):
    """scikit-learn dataset ``loader``'s random_state=0 split (a quarter held out) as two
    DataFrames: (train, test)."""
    from sklearn.model_selection import train_test_split
    X, y = loader(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
    return to_df(spark, X_train, y_train), to_df(spark, X_test, y_test)


def from_pandas(spark, frame):
    """``frame`` as a Spark DataFrame, moved as one Arrow table (a pandas frame without Arrow
    goes row by row: 5 s for 100,000 ratings)."""
    import pyarrow as pa
    return spark.createDataFrame(pa.Table.from_pandas(frame, preserve_index=False))
