"""LinearRegression on Spark against pyspark.ml's on the same DataFrame (issue 23, first step).

References and tolerances: pyspark.ml's LinearRegression with the same params. Its normal
solver is exact, so coefficients, intercept and the summary (r2, errors, standard errors,
t- and p-values) agree within 1e-8 relative; its l-bfgs solver (an L1 part) stops at its tol
(1e-6 on the objective), so coefficients agree within 1e-3 relative there, as they do for
huber loss (both by l-bfgs over the data, MLlib's with a bound on the scale, distml's on its
logarithm). The engines give the same model within 1e-12.
"""
import numpy as np
import pytest
from pyspark.ml.linalg import Vectors
from pyspark.ml.regression import LinearRegression as SparkLinearRegression
from sklearn.datasets import load_diabetes
from sklearn.linear_model import HuberRegressor

from distml import LinearRegression

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def diabetes(spark):
    X, y = load_diabetes(return_X_y=True)
    w = np.random.default_rng(2).uniform(0.5, 2.0, y.size)
    df = spark.createDataFrame([(Vectors.dense(x), float(t), float(v)) for x, t, v in
                                zip(X, y, w)], ["features", "label", "w"]).repartition(2)
    return df.cache()


@pytest.mark.parametrize("params", [{}, {"weightCol": "w"}, {"regParam": 0.3},
                                    {"regParam": 0.3, "standardization": False},
                                    {"fitIntercept": False, "solver": "normal"}],
                         ids=["ols", "weighted", "ridge", "ridge-raw", "no-intercept"])
def test_normal_solver_matches_pyspark_ml(diabetes, params):
    ours = LinearRegression(**params).fit(diabetes)
    theirs = SparkLinearRegression(**params).fit(diabetes)
    np.testing.assert_allclose(ours.coefficients.toArray(), theirs.coefficients.toArray(),
                               rtol=1e-8)
    np.testing.assert_allclose(ours.intercept, theirs.intercept, rtol=1e-8, atol=1e-10)
    a, b = ours.summary, theirs.summary
    for name in ("r2", "r2adj", "meanSquaredError", "rootMeanSquaredError",
                 "meanAbsoluteError", "explainedVariance"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-8, err_msg=name)
    for name in ("coefficientStandardErrors", "tValues", "pValues", "devianceResiduals"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-7, atol=1e-12,
                                   err_msg=name)
    assert (a.numInstances, a.degreesOfFreedom) == (b.numInstances, b.degreesOfFreedom)
    ours_out = ours.transform(diabetes).select("prediction").toPandas()["prediction"]
    theirs_out = theirs.transform(diabetes).select("prediction").toPandas()["prediction"]
    np.testing.assert_allclose(ours_out, theirs_out, rtol=1e-8)


@pytest.mark.parametrize("params", [{"regParam": 0.05, "elasticNetParam": 0.5},
                                    {"regParam": 0.1, "elasticNetParam": 1.0,
                                     "standardization": False}])
def test_l1_fits_match_pyspark_ml_s_l_bfgs(diabetes, params):
    ours = LinearRegression(**params).fit(diabetes)
    theirs = SparkLinearRegression(tol=1e-10, maxIter=1000, **params).fit(diabetes)
    np.testing.assert_allclose(ours.coefficients.toArray(), theirs.coefficients.toArray(),
                               rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("params", [{"regParam": 0.0}, {"regParam": 0.1, "weightCol": "w"}])
def test_huber_matches_pyspark_ml(spark, diabetes, params):
    ours = LinearRegression(loss="huber", tol=1e-10, maxIter=1000, **params).fit(diabetes)
    theirs = SparkLinearRegression(loss="huber", tol=1e-10, maxIter=1000, **params).fit(
        diabetes)
    np.testing.assert_allclose(ours.coefficients.toArray(), theirs.coefficients.toArray(),
                               rtol=1e-3, atol=1e-3)
    assert ours.scale == pytest.approx(theirs.scale, rel=1e-3)
    assert ours.intercept == pytest.approx(theirs.intercept, rel=1e-3)
    # the twin holds the scale (MLlib's copy() drops it: its copy takes the 3-argument
    # constructor, so toMLlib()'s copy reports 1.0, as a copied pyspark.ml model does)
    assert ours._twin_with_params(spark.sparkContext).scale == ours.scale


def test_huber_at_the_defaults_converges_where_pyspark_ml_does(diabetes):
    """At the default tol and maxIter, on diabetes' correlated features, distml's fit ends
    converged (not cut off at maxIter) at the optimum: scikit-learn's HuberRegressor solved
    to 1e-12 (the same objective times 2n; no penalty), within 1e-3 of the largest
    coefficient, as pyspark.ml's fit at its defaults is. With sigma optimized as log sigma
    it ran all 100 iterations and ended 7.5% away."""
    X, y = load_diabetes(return_X_y=True)
    std = X.std(axis=0, ddof=1)
    optimum = HuberRegressor(epsilon=1.35, alpha=0.0, tol=1e-12, max_iter=100_000).fit(
        X / std, y)
    reference = optimum.coef_ / std
    ours = LinearRegression(loss="huber").fit(diabetes)
    theirs = SparkLinearRegression(loss="huber").fit(diabetes)
    assert ours.summary.totalIterations < 100
    for model in (ours, theirs):
        gap = np.abs(model.coefficients.toArray() - reference).max()
        assert gap <= 1e-3 * np.abs(reference).max(), (type(model), gap)
        assert model.scale == pytest.approx(optimum.scale_, rel=1e-3)
        assert model.intercept == pytest.approx(optimum.intercept_, rel=1e-3)


def test_engines_give_the_same_model(diabetes):
    models = [LinearRegression(regParam=0.1, elasticNetParam=0.3, engine=engine).fit(diabetes)
              for engine in ("local", "barrier", "jobs")]
    for other in models[1:]:
        np.testing.assert_allclose(other.coefficients.toArray(),
                                   models[0].coefficients.toArray(), rtol=1e-12)


def test_pmml_export_is_pyspark_ml_s(diabetes, tmp_path):
    """``write().format("pmml")`` (pyspark.ml's example does it) goes through the twin."""
    model = LinearRegression().fit(diabetes)
    model.write().format("pmml").save(str(tmp_path / "pmml"))
    text = "".join(p.read_text() for p in (tmp_path / "pmml").glob("part-*"))
    assert "<PMML" in text and "RegressionModel" in text
    assert f"{model.coefficients[0]:.6}"[:6] in text
