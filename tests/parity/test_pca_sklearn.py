"""PCA against scikit-learn's PCA (svd_solver="full") on the same data (LocalEngine, no JVM).

Components equal up to sign within 1e-8, explained variance ratios within 1e-10 relative
(the issue's bars), dense and sparse, numpy and MXNet backends, and for data whose means are
a million times its spread (where a one-pass X^T X - n m m^T would lose every digit).
"""
import numpy as np
import pandas as pd
import pytest
from pyspark.ml.linalg import Vectors
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA as SkPCA

from distml import PCA, DataError, ParamError


def frame(rows):
    return pd.DataFrame({"features": list(rows)})


def assert_matches_sklearn(model, X, k, atol=1e-8, rtol=1e-10):
    reference = SkPCA(n_components=k, svd_solver="full").fit(X)
    pc = model.pc.toArray()
    signs = np.sign(np.sum(pc * reference.components_.T, axis=0))
    np.testing.assert_allclose(pc * signs, reference.components_.T, rtol=0, atol=atol)
    np.testing.assert_allclose(model.explainedVariance.toArray(),
                               reference.explained_variance_ratio_, rtol=rtol)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(3)
    # a decaying spectrum, so the top components are well separated
    return rng.normal(size=(3000, 12)) @ np.diag(0.7 ** np.arange(12)) @ \
        np.linalg.qr(rng.normal(size=(12, 12)))[0]


@pytest.mark.parametrize("backend", ["numpy", "mxnet"])
def test_matches_sklearn(data, backend):
    model = PCA(k=5, inputCol="features", backend=backend, numWorkers=3).fit(frame(data))
    assert_matches_sklearn(model, data, 5)


def test_large_means_keep_their_precision(data):
    """Means 1e6 times the spread: X^T X - n m m^T would be off by ~1e-16 * 1e12 = 1e-4 of
    the mean's square, far more than the variance itself. Rounding the data to the shift
    already costs the reference ~1e-10 relative, so the bars here are 1e-8."""
    shifted = data * 1e-3 + 1e3
    model = PCA(k=4, inputCol="features", numWorkers=2).fit(frame(shifted))
    assert_matches_sklearn(model, shifted, 4, atol=1e-8, rtol=1e-8)


def test_sparse_input():
    X, _ = load_digits(return_X_y=True)
    rows = [Vectors.sparse(64, np.flatnonzero(r), r[r != 0]) for r in X]
    model = PCA(k=8, inputCol="features", numWorkers=2).fit(frame(rows))
    assert_matches_sklearn(model, X, 8)


def test_transform_projects_without_centring(data):
    model = PCA(k=3, inputCol="features", outputCol="pca").fit(frame(data))
    out = np.stack(model.transform(frame(data))["pca"].map(lambda v: v.toArray()))
    np.testing.assert_allclose(out, data @ model.pc.toArray(), rtol=1e-12)


def test_bad_params_and_input():
    with pytest.raises(ParamError, match="k must be set"):
        PCA(inputCol="features").fit(frame(np.eye(3)))
    with pytest.raises(ParamError, match=r"k \(4\) must be at most the number of features in "
                                         "column 'features' \\(3\\)"):
        PCA(k=4, inputCol="features").fit(frame(np.eye(3)))
    with pytest.raises(DataError, match="has 1 row; PCA needs at least 2"):
        PCA(k=1, inputCol="features").fit(frame(np.ones((1, 3))))
