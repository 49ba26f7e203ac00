"""Summarizer and the statistics kernels against numpy, dense and sparse, on LocalEngine."""
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from pyspark.ml.linalg import Vectors

from distml import Summarizer
from distml.errors import DataError, ParamError
from distml.kernels.statistics import (centered_sq_sum, first_moments, merge_moments,
                                       standardize, weighted_moments)

ALL = ("count", "weightSum", "mean", "sum", "variance", "std", "min", "max", "numNonZeros",
       "normL1", "normL2")


def numpy_reference(X, w):
    keep = w > 0
    X, w = X[keep], w[keep]
    W = w.sum()
    mean = w @ X / W
    var = w @ (X - mean) ** 2 / (W - (w @ w) / W)
    return {"count": X.shape[0], "weightSum": W, "mean": mean, "sum": w @ X, "variance": var,
            "std": np.sqrt(var), "min": X.min(0), "max": X.max(0),
            "numNonZeros": (X != 0).sum(0), "normL1": w @ np.abs(X),
            "normL2": np.sqrt(w @ X ** 2)}


def frame(X, w, sparse):
    rows = [Vectors.sparse(X.shape[1], np.flatnonzero(r), r[r != 0]) if sparse
            else Vectors.dense(r) for r in X]
    return pd.DataFrame({"features": rows, "w": w})


@pytest.mark.parametrize("sparse", [False, True])
@pytest.mark.parametrize("P", [1, 3])
def test_summarizer_matches_numpy(rng, sparse, P):
    X = rng.normal(loc=1e6, scale=3.0, size=(50, 4))  # large mean: centring must be exact
    X[rng.random(X.shape) < 0.4] = 0.0
    w = rng.integers(0, 4, size=50).astype(float)
    got = Summarizer.metrics(*ALL).summary(frame(X, w, sparse), weightCol="w",
                                           numWorkers=P).asDict()
    ref = numpy_reference(X, w)
    for name in ALL:
        np.testing.assert_allclose(got[name], ref[name], rtol=1e-9, err_msg=name)


def test_unweighted_variance_is_numpy_ddof1(rng):
    X = rng.normal(size=(20, 3))
    s = Summarizer.metrics("variance", "count").summary(frame(X, np.ones(20), False))
    np.testing.assert_allclose(s.variance, X.var(axis=0, ddof=1), rtol=1e-12)
    assert s.count == 20
    with pytest.raises(AttributeError, match="'mean' was not requested"):
        s.mean


def test_single_row_has_zero_variance():
    s = Summarizer.metrics("variance").summary(pd.DataFrame({"features": [[1.0, 2.0]]}))
    assert s.variance.tolist() == [0.0, 0.0]


def test_bad_metric_and_all_zero_weights():
    with pytest.raises(ParamError, match="metrics"):
        Summarizer.metrics("median")
    df = pd.DataFrame({"features": [[1.0], [2.0]], "w": [0.0, 0.0]})
    with pytest.raises(DataError, match="weight 0"):
        Summarizer.metrics("mean").summary(df, weightCol="w")


def test_sparse_kernels_equal_dense_kernels(rng):
    X = rng.normal(size=(30, 6))
    X[X < 0.5] = 0
    w = rng.random(30)
    dense, csr = first_moments(X, w), first_moments(sp.csr_matrix(X), w)
    for key in dense:
        np.testing.assert_allclose(csr[key], dense[key], rtol=1e-12)
    mean = X.mean(0)
    np.testing.assert_allclose(centered_sq_sum(sp.csr_matrix(X), w, mean),
                               centered_sq_sum(X, w, mean), rtol=1e-12)


def test_standardize_follows_mllib():
    X = np.array([[1.0, 5.0, 0.0], [3.0, 5.0, 2.0]])
    mean, std = X.mean(0), X.std(0, ddof=1)
    out = standardize(X, mean, std, True, True)
    np.testing.assert_allclose(out[:, [0, 2]], (X[:, [0, 2]] - mean[[0, 2]]) / std[[0, 2]])
    assert (out[:, 1] == 0).all()  # zero variance maps to 0
    sparse_out = standardize(sp.csr_matrix(X), mean, std, False, True)
    assert sp.issparse(sparse_out)
    np.testing.assert_allclose(sparse_out.toarray(), standardize(X, mean, std, False, True))
    assert not sp.issparse(standardize(sp.csr_matrix(X), mean, std, True, True))


@pytest.mark.parametrize("sparse", [False, True])
def test_one_pass_moments_merged_over_parts_match_numpy(rng, sparse):
    """Reference: numpy's weighted mean and sum of squared deviations over all rows. The data
    sits at a mean of 1e6 with unit spread, where sum(x^2) - W mean^2 would lose every digit;
    several blocks per part (10,000 rows) and a part of zero weight exercise the merges."""
    X = 1e6 + rng.normal(size=(25_000, 4))
    X[:, 3] = np.where(rng.random(25_000) < 0.7, 0.0, X[:, 3])  # a mostly-zero column
    w = rng.random(25_000) * 3
    w[:100] = 0.0
    cuts = [0, 100, 10_000, 25_000]  # the first part has weight 0 only
    parts = [weighted_moments(sp.csr_matrix(X[a:b]) if sparse else X[a:b], w[a:b])
             for a, b in zip(cuts, cuts[1:])]
    merged = merge_moments(parts)
    mean = np.average(X, axis=0, weights=w)
    np.testing.assert_allclose(merged["mean"], mean, rtol=1e-14)
    np.testing.assert_allclose(merged["m2"], w @ (X - mean) ** 2, rtol=1e-9)
    assert merged["count"] == 24_900  # rows of weight 0 are left out, as MLlib leaves them
    np.testing.assert_allclose([merged["weight_sum"], merged["weight_sq_sum"]],
                               [w.sum(), w @ w], rtol=1e-13)
