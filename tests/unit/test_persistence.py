"""Save/load without Spark: round trip, overwrite rules, atomicity, format versions."""
import json
import os

import numpy as np
import pandas as pd
import pytest

from distml import PersistenceError, StandardScaler, StandardScalerModel
from distml.frames import hadoop_fs
from distml.pipeline import persistence


@pytest.fixture
def fitted(rng):
    df = pd.DataFrame({"features": list(rng.normal(size=(10, 3)))})
    model = StandardScaler(inputCol="features", outputCol="out", withMean=True).fit(df)
    return df, model


def test_model_round_trip(tmp_path, fitted):
    df, model = fitted
    path = str(tmp_path / "m")
    model.save(path)
    loaded = StandardScalerModel.load(path)
    assert loaded.uid == model.uid
    assert loaded.getWithMean() is True and loaded.getOutputCol() == "out"
    np.testing.assert_array_equal(loaded.mean.toArray(), model.mean.toArray())
    a = np.stack([v.toArray() for v in model.transform(df)["out"]])
    b = np.stack([v.toArray() for v in loaded.transform(df)["out"]])
    np.testing.assert_array_equal(a, b)
    meta = json.loads(open(os.path.join(path, "metadata", "part-00000")).readline())
    assert meta["class"] == "distml.pipeline.feature.standard_scaler.StandardScalerModel"
    assert meta["formatVersion"] == persistence.FORMAT_VERSION


def test_estimator_round_trip_keeps_params_and_defaults(tmp_path):
    est = StandardScaler(inputCol="a", outputCol="b", withStd=False, engine="local")
    path = str(tmp_path / "est")
    est.write().save(path)
    loaded = StandardScaler.load(path)
    assert (loaded.getInputCol(), loaded.getOutputCol(), loaded.getWithStd(),
            loaded.getWithMean(), loaded.getEngine()) == ("a", "b", False, False, "local")
    assert loaded.isSet(loaded.withStd) and not loaded.isSet(loaded.withMean)


def test_save_over_existing_path_needs_overwrite(tmp_path, fitted):
    _, model = fitted
    path = str(tmp_path / "m")
    model.save(path)
    with pytest.raises(PersistenceError, match="already exists.*overwrite"):
        model.save(path)
    model.write().overwrite().save(path)
    assert StandardScalerModel.load(path).uid == model.uid
    assert sorted(os.listdir(tmp_path)) == ["m"]


def test_a_failed_save_leaves_nothing_behind(tmp_path, fitted, monkeypatch):
    _, model = fitted
    path = str(tmp_path / "m")

    def broken(self, p, data):
        if p.endswith(".npy"):
            raise OSError("disk full")
        os.makedirs(os.path.dirname(p), exist_ok=True)
        open(p, "wb").write(data)

    monkeypatch.setattr(hadoop_fs.LocalFileSystem, "write_bytes", broken)
    with pytest.raises(OSError, match="disk full"):
        model.save(path)
    assert os.listdir(tmp_path) == []


def test_a_newer_format_is_refused_with_advice(tmp_path, fitted):
    _, model = fitted
    path = str(tmp_path / "m")
    model.save(path)
    meta_file = os.path.join(path, "metadata", "part-00000")
    meta = json.loads(open(meta_file).readline())
    meta["formatVersion"] = persistence.FORMAT_VERSION + 1
    open(meta_file, "w").write(json.dumps(meta) + "\n")
    with pytest.raises(PersistenceError, match="upgrade distml"):
        StandardScalerModel.load(path)


def test_loading_the_wrong_class_or_nothing(tmp_path, fitted):
    _, model = fitted
    path = str(tmp_path / "m")
    model.save(path)
    with pytest.raises(PersistenceError, match="not a StandardScaler"):
        StandardScaler.load(path)
    with pytest.raises(PersistenceError, match="no saved distml"):
        StandardScalerModel.load(str(tmp_path / "nothing"))
