"""NaiveBayes against scikit-learn on the same data (LocalEngine, no JVM).

scikit-learn's MultinomialNB / BernoulliNB / ComplementNB with alpha = smoothing and
GaussianNB give the per-class log likelihoods (feature_log_prob_, or theta_ and var_): distml's
theta (and sigma) match them within 1e-9. The priors differ by design (distml smooths them as
pyspark.ml does), so predictions are compared with scikit-learn given distml's priors
(class_prior = exp(pi)): equal on every row. Unit weights here (scikit-learn's GaussianNB takes
its variance floor from the unweighted variance; pyspark.ml's from the weighted one).
"""
import numpy as np
import pandas as pd
import pytest
from pyspark.ml.linalg import Vectors
from sklearn.datasets import load_digits, load_iris
from sklearn.naive_bayes import BernoulliNB, ComplementNB, GaussianNB, MultinomialNB

from distml import DataError, NaiveBayes

SMOOTHING = 0.5


def frame(X, y):
    return pd.DataFrame({"features": list(X), "label": y.astype(float)})


@pytest.fixture(scope="module")
def digits():
    return load_digits(return_X_y=True)


def _sklearn(model_type, prior):
    if model_type == "gaussian":
        return GaussianNB(priors=prior)
    cls = {"multinomial": MultinomialNB, "bernoulli": BernoulliNB,
           "complement": ComplementNB}[model_type]
    return cls(alpha=SMOOTHING, class_prior=prior, force_alpha=True)


@pytest.mark.parametrize("model_type", ["multinomial", "bernoulli", "complement", "gaussian"])
@pytest.mark.parametrize("backend", ["numpy", "mxnet"])
def test_likelihoods_and_predictions_match_sklearn(digits, model_type, backend):
    X, y = digits
    if model_type == "bernoulli":
        X = (X > 4).astype(float)
    model = NaiveBayes(modelType=model_type, smoothing=SMOOTHING, backend=backend,
                       numWorkers=3).fit(frame(X, y))
    reference = _sklearn(model_type, np.exp(model.pi.toArray())).fit(X, y)
    if model_type == "gaussian":
        np.testing.assert_allclose(model.theta.toArray(), reference.theta_, rtol=1e-9,
                                   atol=1e-12)
        np.testing.assert_allclose(model.sigma.toArray(), reference.var_, rtol=1e-9)
        np.testing.assert_allclose(model.pi.toArray(), np.log(np.bincount(y) / y.size),
                                   rtol=1e-12)
    else:
        np.testing.assert_allclose(model.theta.toArray(), reference.feature_log_prob_,
                                   rtol=1e-9)
        counts = np.bincount(y)
        np.testing.assert_allclose(  # pyspark.ml's smoothed priors
            model.pi.toArray(), np.log((counts + SMOOTHING) / (y.size + 10 * SMOOTHING)),
            rtol=1e-12)
    predictions = model.transform(frame(X, y))["prediction"].to_numpy()
    np.testing.assert_array_equal(predictions, reference.predict(X))


def test_sparse_input_gives_the_dense_model(digits):
    X, y = digits
    dense = NaiveBayes(numWorkers=2).fit(frame(X, y))
    rows = [Vectors.sparse(X.shape[1], np.flatnonzero(r), r[r != 0]) for r in X]
    sparse_model = NaiveBayes(numWorkers=2).fit(
        pd.DataFrame({"features": rows, "label": y.astype(float)}))
    np.testing.assert_allclose(sparse_model.theta.toArray(), dense.theta.toArray(), rtol=1e-12)


def test_gaussian_variances_are_exact_for_large_means():
    X, y = load_iris(return_X_y=True)
    shifted = X + 1e6
    model = NaiveBayes(modelType="gaussian", numWorkers=2).fit(frame(shifted, y))
    reference = GaussianNB().fit(X, y)  # unshifted: the variances are the same
    np.testing.assert_allclose(model.sigma.toArray(), reference.var_, rtol=1e-6)


@pytest.mark.parametrize("model_type, values, message", [
    ("multinomial", [1.0, -1.0], "'features' has 1 values that are not non-negative"),
    ("complement", [-2.0, 1.0], "'features' has 1 values that are not non-negative"),
    ("bernoulli", [1.0, 0.5], "'features' has 1 values that are not 0 or 1"),
])
def test_bad_feature_values_name_the_column(model_type, values, message):
    X = np.array([[1.0, 0.0], values, [0.0, 1.0], [1.0, 1.0]])
    with pytest.raises(DataError, match=message):
        NaiveBayes(modelType=model_type).fit(frame(X, np.array([0, 1, 0, 1])))


def test_bad_labels_name_the_column():
    X = np.ones((4, 2))
    for labels in ([0, 1, 0.5, 1], [0, 1, 1e9, 1], [0, -1, 0, 1]):
        with pytest.raises(DataError, match="'label' has 1 labels that are not integers"):
            NaiveBayes().fit(frame(X, np.array(labels)))
    with pytest.raises(DataError, match="no rows of positive weight for class 1"):
        NaiveBayes(modelType="gaussian").fit(frame(X, np.array([0, 2, 0, 2])))
