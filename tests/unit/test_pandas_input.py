import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from pyspark.ml.linalg import Vectors

from distml.frames.pandas_input import InputSpec, pandas_arrays
from distml.errors import DataError


def test_vector_objects_arrays_and_numeric_columns(rng):
    X = rng.normal(size=(5, 3))
    by_vectors = pd.DataFrame({"f": [Vectors.dense(r) for r in X], "y": [0, 1, 0, 1, 1]})
    by_arrays = pd.DataFrame({"f": list(X), "y": [0, 1, 0, 1, 1]})
    by_columns = pd.DataFrame(X, columns=["a", "b", "c"])
    for df, spec in ((by_vectors, InputSpec("f", label="y")), (by_arrays, InputSpec("f")),
                     (by_columns, InputSpec(("a", "b", "c")))):
        got = pandas_arrays(df, spec)[0]
        np.testing.assert_array_equal(got, X)


def test_sparse_vectors_stay_sparse():
    df = pd.DataFrame({"f": [Vectors.sparse(4, [1], [2.0]), Vectors.dense([1, 0, 0, 3])]})
    X = pandas_arrays(df, InputSpec("f"))[0]
    assert sp.issparse(X)
    np.testing.assert_array_equal(X.toarray(), [[0, 2, 0, 0], [1, 0, 0, 3]])


@pytest.mark.parametrize("df, spec, message", [
    (pd.DataFrame({"f": [[1.0]]}), InputSpec("nope"), "'nope' not found"),
    (pd.DataFrame({"f": [[1.0, 2.0], [1.0]]}), InputSpec("f"), "'f' holds vectors of different"),
    (pd.DataFrame({"f": [[1.0, np.nan]]}), InputSpec("f"), "'f' has 1 NaN"),
    (pd.DataFrame({"a": ["x", "y"]}), InputSpec(("a",)), "'a' has type object"),
    (pd.DataFrame({"f": [[1.0]], "y": ["cat"]}), InputSpec("f", label="y"), "'y' has type"),
    (pd.DataFrame({"f": [1.0, 2.0]}), InputSpec("f"), "'f' is a single numeric column"),
    (pd.DataFrame({"f": [[1.0], None]}), InputSpec("f"), "'f' has null"),
])
def test_bad_input_names_the_column(df, spec, message):
    with pytest.raises(DataError, match=message):
        pandas_arrays(df, spec)


def test_a_model_s_transform_names_the_column_of_another_width(rng):
    """On pandas every model that takes a fixed-size vector checks it (``InputSpec.width``):
    one DataError naming the column and both sizes, not a numpy shape error."""
    import distml as D
    X = np.abs(rng.normal(size=(40, 4)))
    train = pd.DataFrame({"features": [Vectors.dense(r) for r in X],
                          "label": (X[:, 0] > X[:, 1]).astype(float)})
    wide = pd.DataFrame({"features": [Vectors.dense(np.r_[r, 1.0]) for r in X[:3]]})
    models = [D.LogisticRegression(maxIter=3).fit(train), D.LinearRegression().fit(train),
              D.KMeans(k=2, seed=1).fit(train), D.DecisionTreeClassifier(maxDepth=2).fit(train),
              D.StandardScaler(inputCol="features", outputCol="o").fit(train),
              D.PCA(k=2, inputCol="features", outputCol="o").fit(train),
              D.SVD(k=2, inputCol="features", outputCol="o").fit(train)]
    for model in models:
        with pytest.raises(DataError, match="column 'features' holds vectors of size 5, but "
                                            "the model was fitted on 4 features"):
            model.transform(wide)
