"""MultilayerPerceptronClassifier on LocalEngine: gradients, Gluon against numpy, digits, errors.

References: finite differences (scipy.optimize.approx_fprime) for the numpy gradient; the
numpy reference for the Gluon network's loss and gradient (1e-10), and for whole fits on the
MXNet backend (1e-6). Accuracy: scikit-learn's bundled digits, the split stated below, at
least 0.95 on the held-out quarter (the issue's bar).
"""
import os

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import approx_fprime
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from distml import (DataError, MultilayerPerceptronClassificationModel,
                    MultilayerPerceptronClassifier, ParamError)
from distml.pipeline.base import java_string_hash
from distml.algorithms.classification.multilayer_perceptron_program import _batch_rows
from distml.engine.partition import Partition
from distml.gpu import MXNetBackend
from distml.kernels.perceptron_gluon import gluon_loss_grad
from distml.kernels.perceptron import (initial_weights, perceptron_loss_grad, perceptron_raw,
                                       weight_count)

LAYERS = [5, 7, 4, 3]


@pytest.fixture
def problem(rng):
    weights = initial_weights(LAYERS, seed=1) + 0.1 * rng.normal(size=weight_count(LAYERS))
    X = rng.normal(size=(60, 5))
    return weights, X, rng.integers(0, 3, 60).astype(float), rng.random(60)


def test_numpy_gradient_matches_finite_differences(problem):
    weights, X, y, w = problem
    _, grad = perceptron_loss_grad(weights, LAYERS, X, y, w)
    numeric = approx_fprime(weights, lambda v: perceptron_loss_grad(v, LAYERS, X, y, w)[0],
                            1e-7)
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-6)


def test_gluon_network_matches_numpy_reference(problem):
    weights, X, y, w = problem
    on = MXNetBackend()
    loss, grad = gluon_loss_grad(weights, LAYERS, on.asarray(X), on.asarray(y), on.asarray(w))
    expect_loss, expect_grad = perceptron_loss_grad(weights, LAYERS, X, y, w)
    assert loss == pytest.approx(expect_loss, rel=1e-12)
    np.testing.assert_allclose(grad, expect_grad, rtol=1e-10, atol=1e-12)


def test_weights_are_laid_out_as_mllib(problem):
    """Per layer: the (out x in) matrix column-major, then the biases."""
    weights, X, _, _ = problem
    a, at = X, 0
    for i, (n_in, n_out) in enumerate(zip(LAYERS[:-1], LAYERS[1:])):
        W = weights[at:at + n_in * n_out].reshape((n_out, n_in), order="F")
        b = weights[at + n_in * n_out:at + (n_in + 1) * n_out]
        at += (n_in + 1) * n_out
        a = a @ W.T + b
        if i < len(LAYERS) - 2:
            a = 1.0 / (1.0 + np.exp(-a))
    np.testing.assert_allclose(perceptron_raw(weights, LAYERS, X), a, rtol=1e-12)


def test_each_epoch_visits_every_row_once():
    part = Partition(1, np.zeros((23, 2)))
    for epoch in range(2):
        rows = np.concatenate([_batch_rows(part, 7, epoch, step, 4) for step in range(4)])
        assert sorted(rows) == list(range(23))
    assert not np.array_equal(_batch_rows(part, 7, 0, 0, 4), _batch_rows(part, 7, 1, 0, 4))


def test_default_seed_is_scalas():
    """pyspark.ml seeds with the Scala class name's hashCode; Python's hash of a string
    changes from process to process, so distml computes Java's."""
    assert java_string_hash("") == 0 and java_string_hash("a") == 97
    assert java_string_hash("hello world") == 1794106052
    assert java_string_hash("polygenelubricants") == -2147483648
    assert MultilayerPerceptronClassifier().getSeed() == java_string_hash(
        "org.apache.spark.ml.classification.MultilayerPerceptronClassifier")


@pytest.fixture(scope="module")
def digits():
    """Digits scaled to [0, 1]; a stratified split, a quarter held out, random_state=0."""
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16.0, y, test_size=0.25,
                                                        random_state=0, stratify=y)
    frame = (lambda X, y: pd.DataFrame({"features": list(X), "label": y.astype(float)}))
    return frame(X_train, y_train), frame(X_test, y_test)


def _accuracy(model, frame):
    return float((model.transform(frame)["prediction"] == frame["label"]).mean())


@pytest.mark.parametrize("solver, max_iter", [("adam", 40), ("l-bfgs", 100)])
def test_digits_accuracy_on_mxnet(digits, solver, max_iter):
    train, test = digits
    mlp = MultilayerPerceptronClassifier(layers=[64, 64, 10], solver=solver, maxIter=max_iter,
                                         stepSize=0.01, seed=1, backend="mxnet", numWorkers=2)
    model = mlp.fit(train)
    assert _accuracy(model, test) >= 0.95
    history = model.summary.objectiveHistory
    assert len(history) == model.summary.totalIterations + (solver == "l-bfgs")
    assert history[-1] < history[0]


@pytest.mark.parametrize("solver", ["adam", "gd", "l-bfgs"])
def test_mxnet_and_numpy_backends_train_the_same_weights(digits, solver):
    train, _ = digits
    fits = {b: MultilayerPerceptronClassifier(layers=[64, 16, 10], solver=solver, maxIter=5,
                                              stepSize=0.05, seed=4, backend=b,
                                              numWorkers=2).fit(train).weights.toArray()
            for b in ("numpy", "mxnet")}
    np.testing.assert_allclose(fits["mxnet"], fits["numpy"], rtol=0, atol=1e-6)


def test_saved_model_holds_arrays_and_predicts_identically(digits, tmp_path):
    train, test = digits
    model = MultilayerPerceptronClassifier(layers=[64, 8, 10], maxIter=10, seed=2).fit(train)
    path = str(tmp_path / "mlp")
    model.save(path)
    saved = np.load(os.path.join(path, "data", "weights.npy"), allow_pickle=False)
    np.testing.assert_array_equal(saved, model.weights.toArray())
    loaded = MultilayerPerceptronClassificationModel.load(path)
    assert loaded.getLayers() == [64, 8, 10]
    before, after = model.transform(test), loaded.transform(test)
    for column in ("rawPrediction", "probability"):
        np.testing.assert_array_equal(np.stack(before[column]), np.stack(after[column]))
    np.testing.assert_array_equal(before["prediction"], after["prediction"])
    assert loaded.predict(test["features"][0]) == before["prediction"][0]


def test_initial_weights_and_seed_make_fits_reproducible(digits):
    train, _ = digits
    first = MultilayerPerceptronClassifier(layers=[64, 5, 10], maxIter=3, seed=9).fit(train)
    again = MultilayerPerceptronClassifier(layers=[64, 5, 10], maxIter=3, seed=9).fit(train)
    np.testing.assert_array_equal(first.weights.toArray(), again.weights.toArray())
    start = MultilayerPerceptronClassifier(layers=[64, 5, 10], maxIter=0,
                                           initialWeights=first.weights).fit(train)
    np.testing.assert_array_equal(start.weights.toArray(), first.weights.toArray())


def test_bad_input_names_the_param_or_column():
    df = pd.DataFrame({"features": list(np.eye(4)), "label": [0.0, 1.0, 2.0, 1.0]})
    with pytest.raises(DataError, match="layers\\[0\\] is 3 .* column 'features' holds "
                                        "vectors of 4"):
        MultilayerPerceptronClassifier(layers=[3, 2]).fit(df)
    with pytest.raises(DataError, match="column 'label' has 1 labels .* 0..1"):
        MultilayerPerceptronClassifier(layers=[4, 2]).fit(df)
    with pytest.raises(ParamError, match="layers must be set"):
        MultilayerPerceptronClassifier().fit(df)
    with pytest.raises(ParamError, match="solver must be one of l-bfgs, gd, adam"):
        MultilayerPerceptronClassifier(layers=[4, 3], solver="sgd").fit(df)
    with pytest.raises(ParamError, match="initialWeights has 2 values"):
        MultilayerPerceptronClassifier(layers=[4, 3], initialWeights=[0.0, 1.0]).fit(df)
    with pytest.raises(ParamError, match="stepSize 1e\\+300 is too large"):
        MultilayerPerceptronClassifier(layers=[4, 3], solver="gd", stepSize=1e300,
                                       maxIter=5).fit(df.assign(features=df.features * 1e10))
