"""Scoring streams over Spark Connect (issue 26): models transform a streaming DataFrame of a
Connect client, and ``distml predict --stream --remote`` scores landing files.

Reference: the same transform of the same rows read as a batch over the same session; the
streamed rows must equal it. Over Connect every distml model scores on the Python path (a JVM
twin needs py4j), so this is the path whose per-batch decisions a stream exercises.
"""
import json
import os

import numpy as np
import pandas as pd
import pytest

import distml as D
from distml.cli.main import main

pytestmark = pytest.mark.spark

SPEC = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "specs",
                    "breast_cancer.yaml")


@pytest.fixture(scope="module")
def folder(connect, tmp_path_factory):
    from pyspark.ml.linalg import Vectors
    rng = np.random.default_rng(26)
    X = np.abs(rng.normal(size=(60, 4)))
    rows = [(i, Vectors.dense(r), float(r[0] > 0.8)) for i, r in enumerate(X)]
    path = str(tmp_path_factory.mktemp("connect-stream") / "in")
    connect.createDataFrame(rows, ["id", "features", "label"]).coalesce(2).write.parquet(path)
    return path


def _rows(df, columns):
    return [tuple(str(r[c]) for c in columns) for r in df.orderBy("id").collect()]


def test_models_score_a_connect_stream_as_a_batch(connect, folder):
    batch = connect.read.parquet(folder)
    stream = connect.readStream.schema(batch.schema).parquet(folder)
    models = {
        "LogisticRegressionModel": D.LogisticRegression(maxIter=5).fit(batch),
        "SVDModel": D.SVD(k=2, inputCol="features", outputCol="out").fit(batch),
        "PipelineModel": D.Pipeline(stages=[
            D.StandardScaler(inputCol="features", outputCol="scaled"),
            D.KMeans(k=2, seed=1, featuresCol="scaled")]).fit(batch),
    }
    for name, model in models.items():
        expected = model.transform(batch)
        added = [c for c in expected.columns if c not in batch.columns]
        query = (model.transform(stream).writeStream.format("memory")
                 .queryName(f"connect_{name}").trigger(availableNow=True).start())
        try:
            query.awaitTermination(120)
            assert query.exception() is None, name
            assert _rows(connect.table(f"connect_{name}"), ["id"] + added) == \
                _rows(expected, ["id"] + added), name
        finally:
            query.stop()


def test_predict_stream_over_connect(connect, tmp_path, capsys):
    from sklearn.datasets import load_breast_cancer
    frame = load_breast_cancer(as_frame=True).frame.rename(
        columns=lambda c: c.replace(" ", "_")).rename(columns={"target": "label"})
    frame["label"] = frame["label"].astype(float)
    frame.iloc[:400].to_parquet(tmp_path / "train.parquet")
    incoming, model, output = tmp_path / "incoming", str(tmp_path / "model"), \
        str(tmp_path / "scored")
    remote = ["--remote", "sc://localhost"]
    assert main(["train", "--spec", SPEC, "--input", str(tmp_path / "train.parquet"),
                 "--output", model, *remote]) == 0
    incoming.mkdir()
    stream = ["predict", "--stream", "--model", model, "--input", str(incoming),
              "--output", output, *remote]
    scored = []
    for name, rows in (("a", frame.iloc[400:480]), ("b", frame.iloc[480:])):
        rows.to_parquet(incoming / f"{name}.parquet")
        capsys.readouterr()
        assert main(stream) == 0
        scored.append(json.loads(capsys.readouterr().out)["rows"])
    assert scored == [80, len(frame) - 480]
    assert main(["predict", "--model", model, "--input", str(incoming),
                 "--output", str(tmp_path / "batch"), *remote]) == 0
    streamed = pd.read_parquet(output).sort_values("mean_radius")
    batch = pd.read_parquet(tmp_path / "batch").sort_values("mean_radius")
    assert streamed["prediction"].tolist() == batch["prediction"].tolist()
