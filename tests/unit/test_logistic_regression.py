"""LogisticRegression behaviour on pandas input: weights, sparse input, params, bad input."""
import numpy as np
import pandas as pd
import pytest
from pyspark.ml.linalg import Vectors

from distml import DataError, LogisticRegression, LogisticRegressionModel, ParamError


@pytest.fixture(scope="module")
def binary():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 5))
    y = (X @ np.array([1.0, -2.0, 0.5, 0.0, 1.5]) + rng.logistic(size=200) > 0).astype(float)
    return X, y


def frame(X, y, w=None):
    df = pd.DataFrame({"features": list(X), "label": y})
    if w is not None:
        df["w"] = w
    return df


@pytest.mark.parametrize("kw", [{"regParam": 0.05},
                                {"regParam": 0.05, "elasticNetParam": 0.7},
                                {"regParam": 0.05, "family": "multinomial"}])
def test_weighted_fit_equals_fit_on_duplicated_rows(binary, kw):
    """With standardization=False the objective does not involve the features' std, whose
    weighted estimate (MLlib's reliability weights, W - sum w^2 / W) differs from the one of
    duplicated rows (n - 1); everything else must match."""
    X, y = binary
    kw = dict(kw, standardization=False)
    w = np.random.default_rng(2).integers(0, 4, size=len(y)).astype(float)
    weighted = LogisticRegression(weightCol="w", tol=1e-12, maxIter=500, **kw).fit(
        frame(X, y, w))
    rows = np.repeat(np.arange(len(y)), w.astype(int))
    duplicated = LogisticRegression(tol=1e-12, maxIter=500, **kw).fit(frame(X[rows], y[rows]))
    np.testing.assert_allclose(weighted.coefficientMatrix.toArray(),
                               duplicated.coefficientMatrix.toArray(), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(weighted.interceptVector.toArray(),
                               duplicated.interceptVector.toArray(), rtol=1e-6, atol=1e-9)


def test_sparse_and_dense_input_give_the_same_model(binary):
    X, y = binary
    Xs = X.copy()
    Xs[np.abs(Xs) < 0.8] = 0.0
    sparse = pd.DataFrame({"features": [Vectors.sparse(5, np.flatnonzero(r), r[r != 0])
                                        for r in Xs], "label": y})
    kw = {"regParam": 0.02, "elasticNetParam": 0.3, "tol": 1e-12, "maxIter": 500}
    a = LogisticRegression(**kw).fit(sparse)
    b = LogisticRegression(**kw).fit(frame(Xs, y))
    np.testing.assert_allclose(a.coefficients.toArray(), b.coefficients.toArray(), rtol=1e-7,
                               atol=1e-10)


def test_newton_and_lbfgs_reach_the_same_optimum(binary):
    X, y = binary
    fits = {}
    for optimizer in ("newton", "lbfgs"):
        est = LogisticRegression(regParam=0.01, tol=1e-13, maxIter=1000)
        est._optimizer = optimizer
        fits[optimizer] = est.fit(frame(X, y)).coefficients.toArray()
    np.testing.assert_allclose(fits["newton"], fits["lbfgs"], rtol=1e-6)


def test_l1_zeroes_coefficients_and_an_irrelevant_feature_goes_first(binary):
    X, y = binary
    model = LogisticRegression(regParam=0.1, elasticNetParam=1.0).fit(frame(X, y))
    coef = model.coefficients.toArray()
    assert coef[3] == 0.0 and np.count_nonzero(coef) >= 2


def test_constant_feature_gets_zero_coefficient(binary):
    X, y = binary
    X = np.column_stack([X, np.full(len(y), 3.0)])
    model = LogisticRegression(regParam=0.01).fit(frame(X, y))
    assert model.coefficients.toArray()[-1] == 0.0


def test_threshold_and_thresholds(binary):
    X, y = binary
    model = LogisticRegression().fit(frame(X, y))
    p1 = np.stack([v.toArray() for v in model.transform(frame(X, y))["probability"]])[:, 1]
    model.setThreshold(0.8)
    assert (model.transform(frame(X, y))["prediction"].to_numpy() == (p1 > 0.8)).all()
    model.setThresholds([0.5, 0.25])
    assert model.getThreshold() == pytest.approx(1 / (1 + 0.5 / 0.25))
    assert not model.isSet(model.threshold)
    expected = (p1 > 1 / 3).astype(float)
    assert (model.transform(frame(X, y))["prediction"].to_numpy() == expected).all()
    assert model.predict(Vectors.dense(X[0])) == expected[0]
    assert model.predictProbability(Vectors.dense(X[0]))[1] == pytest.approx(p1[0])
    raw = model.predictRaw(Vectors.dense(X[0]))
    assert raw[0] == -raw[1]


def test_empty_output_columns_are_not_produced(binary):
    X, y = binary
    model = LogisticRegression(probabilityCol="", rawPredictionCol="").fit(frame(X, y))
    out = model.transform(frame(X, y))
    assert list(out.columns) == ["features", "label", "prediction"]


def test_model_attributes_and_persistence(binary, tmp_path):
    X, y = binary
    model = LogisticRegression(regParam=0.01).fit(frame(X, y))
    assert (model.numClasses, model.numFeatures) == (2, 5)
    assert model.coefficientMatrix.numRows == 1 and model.interceptVector.size == 1
    model.save(str(tmp_path / "m"))
    loaded = LogisticRegressionModel.load(str(tmp_path / "m"))
    assert not loaded.hasSummary
    with pytest.raises(RuntimeError, match="No training summary"):
        loaded.summary
    np.testing.assert_array_equal(loaded.coefficients.toArray(), model.coefficients.toArray())
    multi = LogisticRegression(family="multinomial").fit(frame(X, y))
    with pytest.raises(ParamError, match="coefficientMatrix"):
        multi.coefficients
    assert multi.coefficientMatrix.numRows == 2


@pytest.mark.parametrize("labels, kw, message", [
    ([0.0, 1.5, 1.0, 0.0], {}, "'label' has 1 labels that are not integers"),
    ([0.0, -1.0, 1.0, 0.0], {}, "'label' has 1 labels that are not integers"),
    # a raw id as a label: refused before any per-class array is sized from it
    ([0.0, 1e9, 1.0, 0.0], {}, "'label' has 1 labels that are not integers 0..K-1 \\(K at most"),
    ([1.0, 1.0, 1.0, 1.0], {}, "'label' holds a single class"),
    ([0.0, 0.0, 0.0, 0.0], {"family": "binomial"}, "single class"),
    ([0.0, 1.0, 2.0, 0.0], {"family": "binomial"}, "family='binomial' needs labels 0 and 1"),
])
def test_bad_labels_name_the_column(labels, kw, message):
    X = np.arange(8.0).reshape(4, 2)
    with pytest.raises(DataError, match=message):
        LogisticRegression(**kw).fit(frame(X, np.array(labels)))


def test_negative_weights_and_bad_params():
    X = np.arange(8.0).reshape(4, 2)
    with pytest.raises(DataError, match="'w' has negative weights"):
        LogisticRegression(weightCol="w").fit(frame(X, np.array([0.0, 1, 0, 1]),
                                                    np.array([1.0, -1, 1, 1])))
    with pytest.raises(ParamError, match="elasticNetParam must be in"):
        LogisticRegression(elasticNetParam=2.0).fit(frame(X, np.array([0.0, 1, 0, 1])))
    with pytest.raises(ParamError, match="family must be one of"):
        LogisticRegression(family="poisson").fit(frame(X, np.array([0.0, 1, 0, 1])))
    with pytest.raises(ParamError, match="disagree"):
        LogisticRegression(threshold=0.2, thresholds=[0.5, 0.5])
    with pytest.raises(DataError, match="'lab' not found"):
        LogisticRegression(labelCol="lab").fit(frame(X, np.array([0.0, 1, 0, 1])))
