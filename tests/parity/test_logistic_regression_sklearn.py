"""LogisticRegression against scikit-learn on the same data (LocalEngine, no JVM).

Mapping of the penalty: pyspark.ml minimizes (1/n) sum_i loss_i + regParam/2 ||b||^2;
scikit-learn minimizes C sum_i loss_i + 1/2 ||b||^2. Dividing the latter by C n gives
regParam = 1 / (C n), i.e. C = 1 / (regParam n). scikit-learn penalizes the coefficients of
the data as given, so the fits use standardization=False on data standardized beforehand
(with standardization=True the penalty would apply after MLlib's own ddof=1 rescaling).
Tolerances: coefficients within 1e-4 relative (of the largest), predictions equal on >= 99.9%.
"""
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.linear_model import LogisticRegression as SkLogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.preprocessing import StandardScaler as SkStandardScaler

from distml import LogisticRegression

REG = 0.01
RTOL = 1e-4


def frame(X, y):
    return pd.DataFrame({"features": list(X), "label": y.astype(float)})


def relative_error(a, b):
    return np.abs(np.asarray(a) - np.asarray(b)).max() / np.abs(b).max()


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return SkStandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def five_classes():
    X, y = make_classification(n_samples=3000, n_features=12, n_informative=8, n_classes=5,
                               random_state=0)
    return SkStandardScaler().fit_transform(X), y


def sklearn_fit(X, y):
    return SkLogisticRegression(C=1.0 / (REG * len(y)), tol=1e-12, max_iter=10_000).fit(X, y)


@pytest.mark.parametrize("optimizer", ["newton", "lbfgs"])
def test_binomial_l2_matches_sklearn(cancer, optimizer):
    X, y = cancer
    ours = LogisticRegression(regParam=REG, standardization=False, tol=1e-12, maxIter=1000,
                              numWorkers=2)
    ours._optimizer = optimizer
    model = ours.fit(frame(X, y))
    ref = sklearn_fit(X, y)
    assert relative_error(model.coefficients.toArray(), ref.coef_[0]) < RTOL
    assert abs(model.intercept - ref.intercept_[0]) < RTOL * np.abs(ref.coef_).max()
    predictions = model.transform(frame(X, y))["prediction"].to_numpy()
    assert (predictions == ref.predict(X)).mean() >= 0.999
    probability = np.stack([v.toArray() for v in model.transform(frame(X, y))["probability"]])
    np.testing.assert_allclose(probability, ref.predict_proba(X), atol=1e-5)


def test_binomial_with_mllib_standardization_on_unit_variance_data(cancer):
    # With features of sample std 1 (ddof=1) MLlib's standardization changes nothing.
    X, y = cancer
    X = X / X.std(axis=0, ddof=1)
    model = LogisticRegression(regParam=REG, tol=1e-12, maxIter=1000).fit(frame(X, y))
    assert relative_error(model.coefficients.toArray(), sklearn_fit(X, y).coef_[0]) < RTOL


def test_multinomial_l2_matches_sklearn(five_classes):
    X, y = five_classes
    model = LogisticRegression(regParam=REG, standardization=False, tol=1e-12, maxIter=2000,
                               numWorkers=3).fit(frame(X, y))
    ref = sklearn_fit(X, y)
    assert model.numClasses == 5
    assert relative_error(model.coefficientMatrix.toArray(), ref.coef_) < RTOL
    # Intercepts are determined up to a constant (softmax); both centred.
    np.testing.assert_allclose(model.interceptVector.toArray(),
                               ref.intercept_ - ref.intercept_.mean(),
                               atol=RTOL * np.abs(ref.coef_).max())
    predictions = model.transform(frame(X, y))["prediction"].to_numpy()
    assert (predictions == ref.predict(X)).mean() >= 0.999


def test_summary_metrics_match_sklearn(cancer):
    X, y = cancer
    model = LogisticRegression(regParam=REG).fit(frame(X, y))
    score = np.stack([v.toArray() for v in model.transform(frame(X, y))["probability"]])[:, 1]
    assert model.summary.areaUnderROC == pytest.approx(roc_auc_score(y, score), abs=1e-12)
    predictions = model.transform(frame(X, y))["prediction"].to_numpy()
    assert model.summary.accuracy == pytest.approx((predictions == y).mean(), abs=1e-12)
    history = model.summary.objectiveHistory
    assert len(history) == model.summary.totalIterations + 1
    assert all(b <= a + 1e-15 for a, b in zip(history, history[1:]))


def test_newton_warm_start_on_a_row_sample_reaches_sklearns_optimum(monkeypatch):
    """Large inputs first solve on a gathered sample (every k-th row of each partition), then
    finish on all rows with the exact gradient, so the optimum is the full data's. Reference:
    scikit-learn at tol 1e-12; both our fits (with and without the warm start) must reach it
    to 1e-6 relative — the accuracy of a Newton solve at tol 1e-10 — and the warm start must
    take fewer full-data steps."""
    from distml.algorithms.classification import logistic_regression_program as logistic_program

    rng = np.random.default_rng(7)
    n = logistic_program.WARM_START_ROWS * logistic_program.WARM_START_MIN_STRIDE + 1000
    X = rng.normal(size=(n, 6))
    y = (X @ rng.normal(size=6) + 0.3 + rng.logistic(size=n) > 0).astype(float)
    kw = {"regParam": REG, "standardization": False, "tol": 1e-10, "maxIter": 100,
          "numWorkers": 2}
    warm = LogisticRegression(**kw).fit(frame(X, y))
    monkeypatch.setattr(logistic_program, "WARM_START_MIN_STRIDE", 10**9)
    cold = LogisticRegression(**kw).fit(frame(X, y))
    ref = sklearn_fit(X, y)
    for model in (warm, cold):
        assert relative_error(model.coefficients.toArray(), ref.coef_[0]) < 1e-6
        assert abs(model.intercept - ref.intercept_[0]) < 1e-6 * np.abs(ref.coef_).max()
    assert warm.summary.totalIterations < cold.summary.totalIterations
