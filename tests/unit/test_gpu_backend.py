"""distml.gpu: backend choice from Spark's task resources, the MXNet kernels, the missing extra.

No GPU here: GPU selection is tested with a faked Spark task resource (and a faked count of the
GPUs MXNet sees); the MXNet kernels run on mx.cpu(). Reference for the MXNet backend: the
numpy backend on the same data, to 1e-12 for one kernel call and 1e-6 for a whole fit.
"""
import logging
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from pyspark.resource import ResourceInformation

from distml import LogisticRegression, ParamError
from distml.gpu import NUMPY, MXNetBackend, backend, placement, rank_backend
from distml.kernels.logistic import binary_logistic_loss_grad_hess, multinomial_loss_grad


class FakeTask:
    def __init__(self, gpus):
        self._gpus = gpus

    def resources(self):
        return {"gpu": ResourceInformation("gpu", self._gpus)} if self._gpus else {}


@pytest.fixture
def task(monkeypatch):
    """Run as a Spark task holding the given GPU addresses, with MXNet seeing ``visible``."""
    import pyspark

    monkeypatch.setattr(placement, "_warned", set())

    def make(gpus, visible=4):
        monkeypatch.setattr(pyspark.TaskContext, "get", staticmethod(lambda: FakeTask(gpus)))
        monkeypatch.setattr(backend, "_visible_gpus", lambda: visible)
    return make


def test_the_gpu_spark_assigned_to_the_task_is_used(task):
    task(["2"])
    for requested in ("auto", "mxnet"):
        chosen = rank_backend(requested)
        assert isinstance(chosen, MXNetBackend) and chosen.device == "gpu(2)"


def test_no_gpu_assigned_falls_back_with_one_warning(task, caplog):
    task([])
    with caplog.at_level(logging.WARNING, logger="distml"):
        assert rank_backend("auto") is NUMPY
        assert not caplog.records  # auto on a CPU task is the usual case, not a problem
        for _ in range(3):
            chosen = rank_backend("mxnet")
            assert isinstance(chosen, MXNetBackend) and chosen.device == "cpu(0)"
    assert len(caplog.records) == 1
    assert "Spark assigned no GPU" in caplog.text and "spark.task.resource.gpu.amount" in \
        caplog.text


def test_a_gpu_mxnet_cannot_see_falls_back_with_the_reason(task, caplog):
    task(["1"], visible=0)
    with caplog.at_level(logging.WARNING, logger="distml"):
        assert rank_backend("auto") is NUMPY
        assert rank_backend("mxnet").device == "cpu(0)"
    assert "Spark assigned GPU 1 but MXNet sees 0 GPUs" in caplog.text


def test_auto_without_mxnet_installed_uses_numpy():
    chosen = placement.choose_placement("auto", ["0"], mxnet_available=False,
                                        visible_gpus=lambda: 1)
    assert chosen.backend == "numpy" and "distml[mxnet]" in chosen.reason


def test_backend_param_is_checked_before_the_fit():
    df = pd.DataFrame({"features": [np.ones(2)] * 4, "label": [0.0, 1.0] * 2})
    with pytest.raises(ParamError, match="backend must be one of auto, numpy, mxnet"):
        LogisticRegression(backend="cuda").fit(df)


def test_missing_extra_is_one_clear_error():
    """A fresh interpreter where ``import mxnet`` fails, as without the extra installed."""
    script = textwrap.dedent("""
        import sys
        sys.modules["mxnet"] = None  # what an uninstalled package looks like to import
        import numpy as np, pandas as pd
        from distml import LogisticRegression, MXNetUnavailableError
        from distml.gpu import import_mxnet
        df = pd.DataFrame({"features": list(np.eye(4)), "label": [0.0, 1.0, 0.0, 1.0]})
        for backend in ("auto", "numpy"):
            LogisticRegression(regParam=0.1, backend=backend).fit(df)
        for attempt in (lambda: LogisticRegression(backend="mxnet").fit(df), import_mxnet):
            try:
                attempt()
            except MXNetUnavailableError as err:
                print(err)
            else:
                print("no error")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 2 and all("pip install 'distml[mxnet]'" in line for line in lines)


@pytest.fixture
def on_mxnet(task):
    task([])
    return MXNetBackend()


def test_logistic_kernels_on_mxnet_match_numpy(on_mxnet, rng):
    X, y, w = rng.normal(size=(9000, 6)), rng.integers(0, 2, 9000).astype(float), rng.random(9000)
    beta = rng.normal(size=6)
    expect = binary_logistic_loss_grad_hess(X, y, w, beta, 0.3, hessian_stride=3)
    got = binary_logistic_loss_grad_hess(*map(on_mxnet.asarray, (X, y, w, beta)), 0.3,
                                         hessian_stride=3)
    for a, b in zip(expect, got):
        assert isinstance(b, (float, np.ndarray))  # numpy out, for the collectives
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)
    y3 = rng.integers(0, 3, 9000).astype(float)
    B, b0 = rng.normal(size=(3, 6)), rng.normal(size=3)
    expect = multinomial_loss_grad(X, y3, w, B, b0)
    got = multinomial_loss_grad(*map(on_mxnet.asarray, (X, y3, w, B, b0)))
    for a, b in zip(expect, got):
        np.testing.assert_allclose(b, a, rtol=1e-12, atol=1e-12)


def _coefficients(model):
    return np.concatenate([model.coefficientMatrix.toArray().ravel(),
                           model.interceptVector.toArray()])


@pytest.mark.parametrize("rows, classes, reg, l1", [
    (70000, 2, 0.0, 0.0),  # Newton with the warm start on a gathered sample
    (3000, 2, 0.01, 0.0),  # Newton, no warm start
    (3000, 4, 0.01, 0.0),  # multinomial L-BFGS
    (3000, 2, 0.02, 0.5),  # OWL-QN
])
def test_logistic_regression_on_mxnet_matches_numpy(on_mxnet, rows, classes, reg, l1):
    rng = np.random.default_rng(rows + classes)
    Z = rng.normal(size=(rows, 6))
    X = Z * [1, 2, 3, 1, 1, 5] + [0, 10, 0, -3, 0, 100]  # unequal scales, large means
    scores = Z @ rng.normal(size=(6, classes)) + rng.gumbel(size=(rows, classes))
    y = scores.argmax(axis=1).astype(float)
    df = pd.DataFrame({"features": list(X), "label": y})
    fits, devices = {}, {}
    for b in ("numpy", "mxnet"):
        model = LogisticRegression(regParam=reg, elasticNetParam=l1, backend=b,
                                   numWorkers=2).fit(df)
        fits[b], devices[b] = _coefficients(model), model.summary.devices
    np.testing.assert_allclose(fits["mxnet"], fits["numpy"], rtol=0, atol=1e-6)
    assert devices == {"numpy": ["numpy:cpu"] * 2, "mxnet": ["mxnet:cpu(0)"] * 2}


def test_linear_regression_on_mxnet_matches_numpy(on_mxnet, rng, monkeypatch):
    """Its statistics pass (Gram matrix products) on MXNet gives numpy's model."""
    from distml import LinearRegression
    from distml.algorithms.regression import linear_regression_program as program
    seen, gram = [], program.weighted_gram
    monkeypatch.setattr(program, "weighted_gram",
                        lambda X, y, w: seen.append(type(X).__module__) or gram(X, y, w))
    X = rng.normal(size=(70000, 5)) * [1, 2, 3, 1, 5] + [0, 10, 0, -3, 100]
    y = X @ rng.normal(size=5) + rng.normal(size=70000)
    df = pd.DataFrame({"features": list(X), "label": y, "w": rng.random(70000)})
    fits = {b: LinearRegression(regParam=0.01, elasticNetParam=0.3, weightCol="w", backend=b,
                                numWorkers=2).fit(df) for b in ("numpy", "mxnet")}
    np.testing.assert_allclose(fits["mxnet"].coefficients.toArray(),
                               fits["numpy"].coefficients.toArray(), rtol=1e-9)
    assert fits["mxnet"].intercept == pytest.approx(fits["numpy"].intercept, rel=1e-9)
    assert seen[:2] == ["numpy"] * 2 and all(m.startswith("mxnet") for m in seen[2:]), seen


def test_gram_statistics_without_weights(on_mxnet, rng):
    """The unweighted statistics (X's own memory, no stacked copy) equal [X, y]^T [X, y] and
    the column sums computed in numpy, on numpy and on MXNet arrays; and the weighted path
    with unit weights."""
    from distml.kernels.least_squares import weighted_gram
    X, y = rng.normal(size=(3000, 7)), rng.normal(size=3000)
    Z = np.column_stack([X, y])
    for got in (weighted_gram(X, y, None), weighted_gram(X, y, np.ones(3000)),
                weighted_gram(on_mxnet.asarray(X), on_mxnet.asarray(y), None)):
        counts, sums, gram = got
        np.testing.assert_array_equal(counts, [3000.0] * 3)
        np.testing.assert_allclose(sums, Z.sum(axis=0), rtol=1e-12, atol=1e-10)
        np.testing.assert_allclose(gram, Z.T @ Z, rtol=1e-12, atol=1e-9)


def test_sparse_features_stay_on_numpy(on_mxnet, caplog, rng):
    X = sp.random(400, 12, density=0.2, random_state=3, format="csr")
    y = (np.asarray(X.sum(axis=1)).ravel() > 0.5).astype(float)
    df = pd.DataFrame({"features": list(X.toarray()), "label": y})
    placed = backend.place_rows(X, y, np.ones(400), "mxnet")
    assert placed.backend is NUMPY and placed.X is X
    assert "sparse features stay on numpy" in caplog.text
    # Dense and sparse input give the same model on the MXNet backend as on numpy.
    dense = _coefficients(LogisticRegression(regParam=0.1, backend="mxnet").fit(df))
    expect = _coefficients(LogisticRegression(regParam=0.1, backend="numpy").fit(df))
    np.testing.assert_allclose(dense, expect, atol=1e-6)
