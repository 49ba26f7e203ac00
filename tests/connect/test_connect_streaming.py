"""Scoring streams over Spark Connect (issue 26): ``distml predict --stream --remote`` scores
landing files with the README's pipeline (VectorAssembler -> StandardScaler ->
LogisticRegression), as a Connect client.

Reference: ``distml predict --remote`` of the same rows as a batch; the streamed predictions
and probabilities must equal it. Over Connect every distml model scores on the Python path (a
JVM twin needs py4j), so this is the path whose per-batch decisions a stream exercises.
"""
import json
import os

import pandas as pd
import pytest

from distml.cli.main import main

pytestmark = pytest.mark.spark

SPEC = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "specs",
                    "breast_cancer.yaml")
ORDER = ["mean_radius", "mean_texture", "mean_perimeter"]  # rows share a radius


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
    capsys.readouterr()
    assert main(["predict", "--stream", "--model", model, "--input", str(incoming / "a.parquet"),
                 "--output", str(tmp_path / "o2"), *remote]) == 2
    assert "is a file" in capsys.readouterr().err
    assert main(["predict", "--model", model, "--input", str(incoming),
                 "--output", str(tmp_path / "batch"), *remote]) == 0
    streamed = pd.read_parquet(output).sort_values(ORDER)
    batch = pd.read_parquet(tmp_path / "batch").sort_values(ORDER)
    assert len(streamed) == len(frame) - 400
    assert streamed["prediction"].tolist() == batch["prediction"].tolist()
    assert [list(v["values"]) for v in streamed["probability"]] == \
        [list(v["values"]) for v in batch["probability"]]
