"""One contract every distml estimator keeps; each new estimator adds a line to CASES.

Params round-trip through copy and save/load, the fitted model carries the estimator's params,
a saved model transforms identically, and empty or NaN input is a clear error naming the column.
Runs on pandas input (LocalEngine), so it needs no JVM.
"""
import numpy as np
import pandas as pd
import pytest

from distml import (ALS, LDA, DataError, DecisionTreeClassifier, DecisionTreeRegressor,
                    GBTClassifier, GBTRegressor, KMeans, LogisticRegression,
                    MultilayerPerceptronClassifier, NaiveBayes, PCA, RandomForestClassifier,
                    RandomForestRegressor, SVD, StandardScaler)


def _vectors(n=30, d=4, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"features": list(rng.normal(size=(n, d))),
                         "label": rng.integers(0, 2, size=n).astype(float)})


def _counts(n=30, d=4, seed=0):
    frame = _vectors(n, d, seed)
    return frame.assign(features=[np.abs(v).round() for v in frame["features"]])


def _ratings(n=30, seed=0):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"user": rng.integers(0, 6, n), "item": rng.integers(100, 105, n),
                         "rating": rng.normal(3.0, 1.0, n)})


# name: (estimator, data, the input named by an empty fit's error[, the column made NaN])
CASES = {
    "ALS": (lambda: ALS(rank=2, maxIter=3), _ratings, "user, item", "rating"),
    "DecisionTreeClassifier": (lambda: DecisionTreeClassifier(maxDepth=3), _vectors,
                               "features"),
    "DecisionTreeRegressor": (lambda: DecisionTreeRegressor(maxDepth=3), _vectors, "features"),
    "GBTClassifier": (lambda: GBTClassifier(maxIter=3, maxDepth=2), _vectors, "features"),
    "GBTRegressor": (lambda: GBTRegressor(maxIter=3, maxDepth=2), _vectors, "features"),
    "KMeans": (lambda: KMeans(k=3, seed=2), _vectors, "features"),
    "LDA": (lambda: LDA(k=2, maxIter=3, seed=0), _counts, "features"),
    "LogisticRegression": (lambda: LogisticRegression(regParam=0.1, maxIter=20), _vectors,
                           "features"),
    "MultilayerPerceptronClassifier": (
        lambda: MultilayerPerceptronClassifier(layers=[4, 3, 2], maxIter=10, seed=3),
        _vectors, "features"),
    "NaiveBayes": (lambda: NaiveBayes(smoothing=0.5), _counts, "features"),
    "PCA": (lambda: PCA(k=2, inputCol="features", outputCol="out"), _vectors, "features"),
    "RandomForestClassifier": (lambda: RandomForestClassifier(numTrees=3, maxDepth=3, seed=1),
                               _vectors, "features"),
    "RandomForestRegressor": (lambda: RandomForestRegressor(numTrees=3, maxDepth=3, seed=1),
                              _vectors, "features"),
    "SVD": (lambda: SVD(k=2, inputCol="features", outputCol="u"), _vectors, "features"),
    "StandardScaler": (lambda: StandardScaler(inputCol="features", outputCol="out",
                                              withMean=True), _vectors, "features"),
}


@pytest.fixture(params=sorted(CASES))
def case(request):
    make, data, features, *nan_column = CASES[request.param]
    return make, data, features, (nan_column or [features])[0]


def _param_values(instance):
    return {p.name: v for p, v in instance.extractParamMap().items()}


def _outputs(frame, original):
    added = [c for c in frame.columns if c not in original.columns]
    return {c: np.stack([np.asarray(v.toArray() if hasattr(v, "toArray") else v, dtype=float)
                         for v in frame[c]]) for c in added}


def test_params_copy_and_explain(case):
    make = case[0]
    est = make()
    copied = est.copy()
    assert _param_values(copied) == _param_values(est)
    text = est.explainParams()
    assert all(p.name in text for p in est.params)
    assert est.hasParam("engine") and est.hasParam("numWorkers")


def test_estimator_save_load(case, tmp_path):
    make = case[0]
    est = make()
    est.save(str(tmp_path / "est"))
    loaded = type(est).load(str(tmp_path / "est"))
    assert loaded.uid == est.uid and _param_values(loaded) == _param_values(est)


def test_model_carries_params_and_round_trips(case, tmp_path):
    make, data = case[:2]
    est = make()
    df = data()
    model = est.fit(df)
    for p in est.params:
        if model.hasParam(p.name) and est.isDefined(p):
            assert model.getOrDefault(p.name) == est.getOrDefault(p), p.name
    model.save(str(tmp_path / "model"))
    loaded = type(model).load(str(tmp_path / "model"))
    before, after = _outputs(model.transform(df), df), _outputs(loaded.transform(df), df)
    assert before.keys() == after.keys() and before
    for key in before:
        np.testing.assert_array_equal(before[key], after[key])


def test_empty_and_nan_input_name_the_column(case):
    make, data, features, nan_column = case
    df = data()
    with pytest.raises(DataError, match=f"0 rows.*'{features}'"):
        make().fit(df.iloc[:0])
    bad = df.copy()
    bad.at[3, nan_column] = np.full_like(bad.at[3, nan_column], np.nan)
    with pytest.raises(DataError, match=f"'{nan_column}' has 1|'{nan_column}' has [0-9]+ NaN"):
        make().fit(bad)
