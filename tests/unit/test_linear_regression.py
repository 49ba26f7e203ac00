"""LinearRegression on pandas (issue 23, first step).

References and tolerances:
- scikit-learn's LinearRegression, Ridge and ElasticNet on the diabetes data, with their
  penalties set to MLlib's objective (``linear_regression_program`` writes it out; the L2 term
  is divided by the label's standard deviation: population for pyspark.ml's normal solver,
  unbiased for its l-bfgs, which serves L1 penalties): coefficients within 1e-6 relative;
- the OLS formulas in numpy/scipy (sigma^2 (X^T W X)^-1, Student's t): standard errors,
  t-values and p-values within 1e-8 relative;
- huber loss: scikit-learn's HuberRegressor (the same objective as MLlib's, Owen's, times 2n;
  on the features divided by their unbiased deviations, alpha = n regParam), to tol 1e-12:
  coefficients and intercept within 1e-5 relative, scale within 1e-4 (scikit-learn stops on
  its gradient's size; distml's objective is checked to end at least as low);
- the l-bfgs path over the data (past 4,096 features) against the normal equations solved from
  the Gram matrix on the same objective: within 1e-6 relative.
"""
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.datasets import load_diabetes
from sklearn.linear_model import ElasticNet, HuberRegressor
from sklearn.linear_model import LinearRegression as SkLinearRegression
from sklearn.linear_model import Ridge

from distml import LinearRegression, LinearRegressionModel, ParamError


@pytest.fixture(scope="module")
def diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X, y, pd.DataFrame({"features": list(X), "label": y})


def _fit(frame, **params):
    return LinearRegression(numWorkers=3, **params).fit(frame)


def test_ordinary_least_squares_is_scikit_learn_s(diabetes):
    X, y, frame = diabetes
    ours, theirs = _fit(frame), SkLinearRegression().fit(X, y)
    np.testing.assert_allclose(ours.coefficients.toArray(), theirs.coef_, rtol=1e-6)
    np.testing.assert_allclose(ours.intercept, theirs.intercept_, rtol=1e-6)
    np.testing.assert_allclose(ours.summary.r2, theirs.score(X, y), rtol=1e-9)


def test_ridge_is_scikit_learn_s_with_mllib_s_scaling(diabetes):
    X, y, frame = diabetes
    reg = 0.3
    ours = _fit(frame, regParam=reg, standardization=False)
    # (1/2n)|r|^2 + reg/(2 sd(y)) |b|^2  ==  (1/2n) (|r|^2 + n reg / sd(y) |b|^2)
    theirs = Ridge(alpha=len(y) * reg / y.std()).fit(X, y)
    np.testing.assert_allclose(ours.coefficients.toArray(), theirs.coef_, rtol=1e-6)
    np.testing.assert_allclose(ours.intercept, theirs.intercept_, rtol=1e-6)


@pytest.mark.parametrize("alpha", [0.5, 1.0])
def test_elastic_net_is_scikit_learn_s_with_mllib_s_scaling(diabetes, alpha):
    X, y, frame = diabetes
    reg = 0.05
    ours = _fit(frame, regParam=reg, elasticNetParam=alpha, standardization=False)
    l1, l2 = reg * alpha, reg * (1 - alpha) / y.std(ddof=1)
    theirs = ElasticNet(alpha=l1 + l2, l1_ratio=l1 / (l1 + l2), tol=1e-14,
                        max_iter=1_000_000).fit(X, y)
    np.testing.assert_allclose(ours.coefficients.toArray(), theirs.coef_, rtol=1e-6,
                               atol=1e-9)
    assert (ours.coefficients.toArray() == 0).sum() == (theirs.coef_ == 0).sum()
    with pytest.raises(RuntimeError, match="No Std. Error"):
        ours.summary.coefficientStandardErrors


@pytest.mark.parametrize("alpha, ddof", [(0.0, 0), (0.7, 1)])
def test_standardized_penalty_is_the_penalty_on_scaled_features(diabetes, alpha, ddof):
    """standardization=True penalizes s_j b_j: the same as standardization=False on x_j / s_j,
    with the coefficients scaled back (population deviations for the normal solver, unbiased
    ones for l-bfgs, which an L1 part takes)."""
    X, y, frame = diabetes
    s = X.std(axis=0, ddof=ddof)
    scaled = pd.DataFrame({"features": list(X / s), "label": y})
    ours = _fit(frame, regParam=0.2, elasticNetParam=alpha)
    reference = _fit(scaled, regParam=0.2, elasticNetParam=alpha, standardization=False)
    np.testing.assert_allclose(ours.coefficients.toArray(),
                               reference.coefficients.toArray() / s, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("weighted", [False, True])
def test_standard_errors_and_p_values_are_the_ols_formulas(diabetes, weighted):
    X, y, _ = diabetes
    w = np.random.default_rng(3).uniform(0.5, 2.0, y.size) if weighted else np.ones(y.size)
    frame = pd.DataFrame({"features": list(X), "label": y, "w": w})
    model = _fit(frame, weightCol="w" if weighted else None)
    A = np.column_stack([X, np.ones(len(y))])
    beta = np.linalg.solve(A.T @ (w[:, None] * A), A.T @ (w * y))
    residual = y - A @ beta
    dof = len(y) - A.shape[1]
    sigma2 = float(w @ residual ** 2) / dof
    errors = np.sqrt(np.diag(np.linalg.inv(A.T @ (w[:, None] * A))) * sigma2)
    t = beta / errors
    summary = model.summary
    np.testing.assert_allclose(summary.coefficientStandardErrors, errors, rtol=1e-8)
    np.testing.assert_allclose(summary.tValues, t, rtol=1e-8)
    np.testing.assert_allclose(summary.pValues, 2 * stats.t.sf(np.abs(t), dof), rtol=1e-8)
    assert summary.degreesOfFreedom == dof and summary.numInstances == len(y)
    np.testing.assert_allclose(summary.meanSquaredError, float(w @ residual ** 2) / w.sum(),
                               rtol=1e-9)
    np.testing.assert_allclose(summary.residuals["residuals"], residual, rtol=1e-7, atol=1e-9)


def test_no_intercept_constant_label_and_params(diabetes, tmp_path):
    X, y, frame = diabetes
    ours = _fit(frame, fitIntercept=False)
    np.testing.assert_allclose(ours.coefficients.toArray(),
                               SkLinearRegression(fit_intercept=False).fit(X, y).coef_,
                               rtol=1e-6)
    assert ours.intercept == 0.0
    constant = pd.DataFrame({"features": list(X[:20]), "label": np.full(20, 4.0)})
    flat = _fit(constant)
    assert flat.intercept == 4.0 and not flat.coefficients.toArray().any()
    with pytest.raises(ParamError, match="constant"):
        _fit(constant, fitIntercept=False, regParam=0.1)
    with pytest.raises(ParamError, match="elasticNetParam=0"):
        _fit(frame, loss="huber", regParam=0.1, elasticNetParam=0.5)
    with pytest.raises(ParamError, match="solver='normal' cannot fit huber loss"):
        _fit(frame, loss="huber", solver="normal")
    path = str(tmp_path / "linear")
    ours.save(path)
    loaded = LinearRegressionModel.load(path)
    assert loaded.transform(frame)["prediction"].tolist() == \
        ours.transform(frame)["prediction"].tolist()
    assert loaded.predict(X[0]) == pytest.approx(X[0] @ ours.coefficients.toArray())


@pytest.mark.parametrize("reg, intercept", [(0.0, True), (0.05, True), (0.05, False)])
def test_huber_is_scikit_learn_s_huber_regressor(reg, intercept):
    rng = np.random.default_rng(5)
    n = 400
    X = rng.normal(size=(n, 4)) * [1.0, 3.0, 0.5, 2.0] + [0.0, 5.0, -1.0, 0.0]
    y = X @ [1.5, -0.5, 2.0, 0.25] + 3.0 * intercept + rng.standard_t(2, size=n)  # outliers
    frame = pd.DataFrame({"features": list(X), "label": y})
    ours = _fit(frame, loss="huber", epsilon=1.5, regParam=reg, fitIntercept=intercept,
                tol=1e-12, maxIter=5000)
    std = X.std(axis=0, ddof=1)
    theirs = HuberRegressor(epsilon=1.5, alpha=n * reg, fit_intercept=intercept, tol=1e-12,
                            max_iter=100_000).fit(X / std, y)
    np.testing.assert_allclose(ours.coefficients.toArray(), theirs.coef_ / std, rtol=1e-5)
    assert ours.intercept == pytest.approx(theirs.intercept_, rel=1e-5, abs=1e-9)
    assert ours.scale == pytest.approx(theirs.scale_, rel=1e-4)

    def objective(beta, b, sigma):  # MLlib's (sklearn's divided by 2n)
        r = (X / std) @ beta + b - y
        inside = np.abs(r) <= 1.5 * sigma
        values = np.where(inside, sigma + r * r / sigma,
                          sigma + 3.0 * np.abs(r) - 2.25 * sigma)
        return 0.5 * values.mean() + 0.5 * reg * beta @ beta
    # scikit-learn stops on its gradient's size: distml ends at least as low
    assert objective(ours.coefficients.toArray() * std, ours.intercept, ours.scale) <= \
        objective(theirs.coef_, theirs.intercept_, theirs.scale_) * (1 + 1e-12)
    assert ours.summary.r2 < 1.0 and ours.summary.totalIterations > 1


@pytest.mark.parametrize("params", [
    {"regParam": 0.1, "elasticNetParam": 0.5},
    {"regParam": 0.1, "elasticNetParam": 0.0, "standardization": False},
    {"regParam": 0.05, "elasticNetParam": 1.0, "fitIntercept": False}])
def test_lbfgs_over_the_data_reaches_the_normal_equations_optimum(monkeypatch, params):
    """The path for more than 4,096 features, taken here on 8 (the bound lowered): the same
    objective as the Gram-matrix solve, by L-BFGS / OWL-QN rounds. (Well-conditioned data:
    on diabetes' nearly collinear columns the objective is too flat along them for any
    objective tolerance to pin the coefficients to 1e-6.)"""
    from distml.algorithms.regression import linear_regression_program
    rng = np.random.default_rng(8)
    X = rng.normal(size=(600, 8)) * rng.uniform(0.5, 4.0, 8) + rng.normal(0, 3, 8)
    y = X @ rng.normal(size=8) + 2.0 + rng.normal(size=600)
    frame = pd.DataFrame({"features": list(X), "label": y})
    reference = _fit(frame, solver="l-bfgs", **params)
    monkeypatch.setattr(linear_regression_program, "MAX_FEATURES", 5)
    iterative = _fit(frame, solver="l-bfgs", tol=1e-15, maxIter=10_000, **params)
    assert iterative.summary.totalIterations > 5  # it did iterate, over the data
    np.testing.assert_allclose(iterative.coefficients.toArray(),
                               reference.coefficients.toArray(), rtol=1e-6, atol=1e-9)
    assert iterative.intercept == pytest.approx(reference.intercept, rel=1e-6, abs=1e-9)
    with pytest.raises(ParamError, match="solver='normal' cannot fit 8 features"):
        _fit(frame, solver="normal")
