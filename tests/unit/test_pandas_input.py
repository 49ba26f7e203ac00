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
