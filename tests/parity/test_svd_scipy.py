"""SVD against scipy.linalg.svd on the same data (LocalEngine, no JVM).

Exact (TSQR): singular values within 1e-8 relative, V up to sign within 1e-8, U S V^T equal to
the best rank-k approximation (scipy's truncated SVD) within 1e-8 of the data's norm, on
tall-skinny data including an ill-conditioned one (singular values down to 1e-10 of the
largest, where eigenvalues of X^T X would have none left). Randomized: within 1e-3 relative on a
matrix with a decaying spectrum (the issue's bars).
"""
import numpy as np
import pandas as pd
import pytest
import scipy.linalg

from distml import SVD, ParamError, computeSVD


def frame(X):
    return pd.DataFrame({"features": list(X)})


def matrix(rng, n, d, spectrum):
    U = np.linalg.qr(rng.normal(size=(n, d)))[0]
    V = np.linalg.qr(rng.normal(size=(d, d)))[0]
    return (U * spectrum) @ V.T


def u_rows(result):
    return np.stack(result.U["U"].map(lambda v: v.toArray()))


@pytest.mark.parametrize("spectrum", [np.linspace(10, 1, 15), np.logspace(0, -10, 15)],
                         ids=["well-conditioned", "ill-conditioned"])
@pytest.mark.parametrize("backend", ["numpy", "mxnet"])
def test_exact_matches_scipy(spectrum, backend):
    X = matrix(np.random.default_rng(1), 4000, 15, spectrum)
    k = 6
    result = computeSVD(frame(X), k, computeU=True, algorithm="exact", backend=backend,
                        numWorkers=3)
    U_ref, s_ref, Vt_ref = scipy.linalg.svd(X, full_matrices=False)
    np.testing.assert_allclose(result.s.toArray(), s_ref[:k], rtol=1e-8)
    V = result.V.toArray()
    signs = np.sign(np.sum(V * Vt_ref[:k].T, axis=0))
    np.testing.assert_allclose(V * signs, Vt_ref[:k].T, rtol=0, atol=1e-8)
    best = (U_ref[:, :k] * s_ref[:k]) @ Vt_ref[:k]
    ours = (u_rows(result) * result.s.toArray()) @ V.T
    assert np.abs(ours - best).max() <= 1e-8 * np.abs(X).max()


def test_randomized_on_a_decaying_spectrum():
    X = matrix(np.random.default_rng(2), 3000, 200, 0.8 ** np.arange(200))
    model = SVD(k=10, inputCol="features", algorithm="randomized", numWorkers=2,
                seed=7).fit(frame(X))
    s_ref = scipy.linalg.svdvals(X)[:10]
    np.testing.assert_allclose(model.singularValues.toArray(), s_ref, rtol=1e-3)


def test_auto_chooses_exact_for_tall_skinny_and_randomized_for_wide(monkeypatch):
    from distml.algorithms.decomposition import svd_program
    X = matrix(np.random.default_rng(3), 500, 40, np.linspace(5, 1, 40))
    exact = SVD(k=3, inputCol="features", algorithm="exact").fit(frame(X))
    auto = SVD(k=3, inputCol="features").fit(frame(X))
    np.testing.assert_array_equal(auto.singularValues.toArray(),
                                  exact.singularValues.toArray())
    monkeypatch.setattr(svd_program, "EXACT_MAX_FEATURES", 30)
    wide = SVD(k=3, inputCol="features", seed=1).fit(frame(X))
    randomized = SVD(k=3, inputCol="features", algorithm="randomized", seed=1).fit(frame(X))
    np.testing.assert_array_equal(wide.singularValues.toArray(),
                                  randomized.singularValues.toArray())


def test_rank_deficient_input_and_bad_params():
    X = np.outer(np.arange(1.0, 51.0), np.ones(6))  # rank 1
    result = computeSVD(frame(X), 3, computeU=True, algorithm="randomized")
    assert result.s.toArray()[0] == pytest.approx(np.linalg.norm(X), rel=1e-12)
    assert np.all(result.s.toArray()[1:] < 1e-10 * result.s.toArray()[0])
    assert np.all(np.isfinite(u_rows(result)))
    with pytest.raises(ParamError, match=r"k \(7\) must be at most min\(rows, features\)"):
        SVD(k=7, inputCol="features").fit(frame(X))
    with pytest.raises(ParamError, match="algorithm must be one of auto, exact, randomized"):
        SVD(k=1, inputCol="features", algorithm="lanczos").fit(frame(X))
