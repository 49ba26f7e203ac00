"""The ``distml`` command: the README's example spec end to end, the spark-submit entry file,
and the bad invocations a scheduler must be able to act on."""
import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from distml.cli.main import main

SPEC = os.path.join(os.path.dirname(__file__), "..", "..", "examples", "specs",
                    "breast_cancer.yaml")
ORDER = ["mean_radius", "mean_texture", "mean_perimeter"]  # rows share a radius


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from sklearn.datasets import load_breast_cancer
    frame = load_breast_cancer(as_frame=True).frame.rename(
        columns=lambda c: c.replace(" ", "_")).rename(columns={"target": "label"})
    frame["label"] = frame["label"].astype(float)
    folder = tmp_path_factory.mktemp("cli")
    frame.iloc[:400].to_parquet(folder / "train.parquet")
    frame.iloc[400:].to_csv(folder / "test.csv", index=False)
    return folder


def _run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_predict_evaluate_describe(spark, data, capsys):
    model, predictions = str(data / "model"), str(data / "predictions")
    code, out, _ = _run(capsys, "train", "--spec", SPEC, "--input", str(data / "train.parquet"),
                        "--test", str(data / "test.csv"), "--output", model)
    assert code == 0
    metrics = json.loads(out)["metrics"]
    assert set(metrics) == {"accuracy", "f1", "areaUnderROC"} and metrics["accuracy"] > 0.9
    assert json.load(open(model + ".metrics.json"))["metrics"] == metrics
    code, out, _ = _run(capsys, "evaluate", "--model", model, "--input", str(data / "test.csv"),
                        "--metrics", "accuracy")
    assert code == 0 and json.loads(out) == {"accuracy": metrics["accuracy"]}
    code, _, _ = _run(capsys, "predict", "--model", model, "--input", str(data / "test.csv"),
                      "--output", predictions)
    scored = pd.read_parquet(predictions)
    assert code == 0 and len(scored) == 169
    assert np.isclose((scored["prediction"] == scored["label"]).mean(), metrics["accuracy"])
    code, out, _ = _run(capsys, "describe", "--model", model)
    described = json.loads(out)
    assert code == 0 and [s["class"] for s in described["stages"]] == \
        ["VectorAssembler", "StandardScalerModel", "LogisticRegressionModel"]
    assert described["metrics"] == metrics


@pytest.mark.parametrize("stage", ["GBTClassifier: {maxIter: 30, maxDepth: 3, stepSize: 0.1}"])
def test_specs_train_tree_ensembles(spark, data, tmp_path, capsys, stage):
    """examples/specs/breast_cancer_trees.yaml (its GBT; the forest its comment offers is the
    same path with another stage)."""
    spec = open(os.path.join(os.path.dirname(SPEC), "breast_cancer_trees.yaml")).read()
    assert "  - GBTClassifier: {maxIter: 30, maxDepth: 3, stepSize: 0.1}" in spec
    path = tmp_path / "trees.yaml"
    path.write_text(spec.replace("GBTClassifier: {maxIter: 30, maxDepth: 3, stepSize: 0.1}",
                                 stage))
    code, out, _ = _run(capsys, "train", "--spec", str(path), "--input",
                        str(data / "train.parquet"), "--test", str(data / "test.csv"),
                        "--output", str(tmp_path / "model"))
    assert code == 0
    metrics = json.loads(out)["metrics"]
    assert set(metrics) == {"accuracy", "areaUnderROC"} and metrics["accuracy"] > 0.9
    code, out, _ = _run(capsys, "describe", "--model", str(tmp_path / "model"))
    assert json.loads(out)["stages"][-1]["class"] == \
        stage.split(":")[0].replace("Classifier", "ClassificationModel")


def test_bad_invocations_exit_with_one_line(spark, data, tmp_path, capsys):
    bad_spec = tmp_path / "bad.json"
    bad_spec.write_text(json.dumps({"stages": [{"NoSuchStage": {}}]}))
    typo = tmp_path / "typo.json"
    typo.write_text(json.dumps({"stages": [{"LogisticRegression": {"regparam": 0.1}}]}))
    broken = tmp_path / "broken.yaml"
    broken.write_text("stages: [\n")
    train = str(data / "train.parquet")
    (tmp_path / "exists").mkdir()
    cases = [
        (["train", "--spec", str(bad_spec), "--input", train, "--output", str(tmp_path / "m")],
         2, "unknown stage 'NoSuchStage'"),
        (["train", "--spec", str(typo), "--input", train, "--output", str(tmp_path / "m")],
         2, "has no param 'regparam'"),
        (["train", "--spec", str(broken), "--input", train, "--output", str(tmp_path / "m")],
         2, "is not valid YAML"),
        (["train", "--spec", SPEC, "--input", str(tmp_path / "nothing.parquet"), "--output",
          str(tmp_path / "m")], 3, "input '.*nothing.parquet' not found"),
        (["train", "--spec", SPEC, "--input", train, "--output", str(tmp_path / "exists")],
         4, "exists; pass --overwrite"),
        (["describe", "--model", str(tmp_path / "missing")], 3, "model '.*missing' not found"),
        (["evaluate", "--model", str(tmp_path / "exists"), "--input", train, "--remote",
          "http://host:15002"], 2, "'http://host:15002' is not a Spark Connect address"),
    ]
    for argv, code, message in cases:
        got, out, err = _run(capsys, *argv)
        lines = err.strip().splitlines()
        assert got == code, (argv, err)
        assert lines[-1].startswith("distml: error: ") and len(
            [line for line in lines if line.startswith("distml: error")]) == 1
        import re
        assert re.search(message, lines[-1]), lines[-1]
    assert not (tmp_path / "m").exists()  # nothing half-written


def test_spark_submit_runs_the_entry_file(data, tmp_path):
    entry = subprocess.run([sys.executable, "-m", "distml.cli.main", "entry"],
                           capture_output=True, text=True, check=True).stdout.strip()
    import pyspark
    submit = os.path.join(os.path.dirname(pyspark.__file__), "bin", "spark-submit")
    env = {**os.environ, "PYSPARK_PYTHON": sys.executable, "PYSPARK_DRIVER_PYTHON": sys.executable}
    result = subprocess.run(
        [submit, "--master", "local[2]", "--conf", "spark.ui.enabled=false", entry, "train",
         "--spec", SPEC, "--input", str(data / "train.parquet"), "--output",
         str(tmp_path / "model")], capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout.strip().splitlines()[-1])["metrics"]["accuracy"] > 0.9
    # Progress lines in the job's log (spark-submit merges the Python driver's stderr into
    # its own stdout).
    assert "LogisticRegression: iteration 1" in result.stdout + result.stderr


def test_train_on_libsvm_input(spark, tmp_path, capsys):
    rng = np.random.default_rng(3)
    lines = []
    for _ in range(120):
        x = rng.normal(size=4)
        label = int(x[0] + x[2] > 0)
        lines.append(f"{label} " + " ".join(f"{j + 1}:{v:.5f}" for j, v in enumerate(x)))
    (tmp_path / "data.libsvm").write_text("\n".join(lines) + "\n")
    spec = tmp_path / "spec.json"
    spec.write_text(json.dumps({"stages": [{"LogisticRegression": {"maxIter": 30}}],
                                "metrics": ["accuracy"]}))
    code, out, err = _run(capsys, "train", "--spec", str(spec), "--input",
                          str(tmp_path / "data.libsvm"), "--output", str(tmp_path / "m"))
    assert code == 0, err
    assert json.loads(out)["metrics"]["accuracy"] > 0.9


def test_train_writes_its_metrics_through_the_model_s_filesystem(spark, data, tmp_path,
                                                                 capsys):
    """Issue 18: with a Hadoop-style URI as --output, the metrics file goes where the model
    goes (it was written with open(), so the model was saved and the command then failed)."""
    target = f"file://{tmp_path}/model"
    code, out, err = _run(capsys, "train", "--spec", SPEC, "--input",
                          str(data / "train.parquet"), "--output", target)
    assert code == 0, err
    saved = json.load(open(tmp_path / "model.metrics.json"))
    assert saved["metrics"] == json.loads(out)["metrics"]
    code, out, _ = _run(capsys, "describe", "--model", target)
    assert code == 0 and json.loads(out)["metrics"] == saved["metrics"]


def test_a_failed_overwrite_keeps_the_old_predictions_and_model(spark, data, tmp_path,
                                                                capsys, monkeypatch):
    from distml.frames import hadoop_fs
    model, predictions = str(tmp_path / "model"), str(tmp_path / "predictions")
    assert _run(capsys, "train", "--spec", SPEC, "--input", str(data / "train.parquet"),
                "--output", model)[0] == 0
    assert _run(capsys, "predict", "--model", model, "--input", str(data / "test.csv"),
                "--output", predictions)[0] == 0
    before = sorted(os.listdir(tmp_path))
    real_rename = hadoop_fs.LocalFileSystem.rename

    def failing(self, src, dst):  # the new output cannot be moved into place
        if ".distml-tmp-" in src and not src.endswith(".json") and ".json." not in src:
            raise OSError("no space left on device")
        return real_rename(self, src, dst)

    monkeypatch.setattr(hadoop_fs.LocalFileSystem, "rename", failing)
    code, _, err = _run(capsys, "predict", "--model", model, "--input",
                        str(data / "test.csv"), "--output", predictions, "--overwrite")
    assert code != 0 and "no space left" in err
    code, _, err = _run(capsys, "train", "--spec", SPEC, "--input", str(data / "train.parquet"),
                        "--output", model, "--overwrite")
    assert code != 0 and "no space left" in err
    monkeypatch.undo()
    assert sorted(os.listdir(tmp_path)) == before  # nothing half-written, nothing lost
    assert len(pd.read_parquet(predictions)) == 169
    assert _run(capsys, "describe", "--model", model)[0] == 0


# --- predict --stream (issue 26) ------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(data, tmp_path_factory):
    model = str(tmp_path_factory.mktemp("stream-model") / "model")
    assert main(["train", "--spec", SPEC, "--input", str(data / "train.parquet"),
                 "--output", model]) == 0
    return model


def _land(folder, frame, name):
    folder.mkdir(exist_ok=True)
    frame.to_parquet(folder / f"{name}.parquet", index=False)


def test_predict_stream_scores_each_landed_file_once(spark, data, trained, tmp_path, capsys):
    """Reference: ``distml predict`` (batch) of the same rows; the streamed predictions must
    equal it row for row, and a rerun scores only the files landed since."""
    rows = pd.read_csv(data / "test.csv")
    incoming, output = tmp_path / "incoming", str(tmp_path / "scored")
    _land(incoming, rows.iloc[:60], "a")
    _land(incoming, rows.iloc[60:120], "b")
    stream = ["predict", "--stream", "--model", trained, "--input", str(incoming),
              "--output", output]
    code, out, err = _run(capsys, *stream)
    assert code == 0, err
    assert json.loads(out) == {"predictions": output, "checkpoint": output + ".checkpoint",
                               "rows": 120, "batches": 1}
    _land(incoming, rows.iloc[120:], "c")
    code, out, _ = _run(capsys, *stream)
    assert code == 0 and json.loads(out)["rows"] == len(rows) - 120
    batch = str(tmp_path / "batch")
    assert _run(capsys, "predict", "--model", trained, "--input", str(incoming),
                "--output", batch)[0] == 0
    streamed = spark.read.parquet(output).toPandas().sort_values(ORDER)
    expected = spark.read.parquet(batch).toPandas().sort_values(ORDER)
    assert len(streamed) == len(rows)
    assert streamed["prediction"].tolist() == expected["prediction"].tolist()
    assert [v.toArray().tolist() for v in streamed["probability"]] == \
        [v.toArray().tolist() for v in expected["probability"]]


def test_predict_stream_refusals(spark, data, trained, tmp_path, capsys):
    incoming, output = tmp_path / "incoming", str(tmp_path / "scored")
    _land(incoming, pd.read_csv(data / "test.csv").iloc[:10], "a")
    base = ["predict", "--model", trained, "--input", str(incoming)]
    os.makedirs(output)  # an output no checkpoint accounts for
    code, _, err = _run(capsys, *base, "--stream", "--output", output)
    assert code == 4 and "its checkpoint" in err and "--overwrite" in err
    code, out, err = _run(capsys, *base, "--stream", "--output", output, "--overwrite")
    assert code == 0 and json.loads(out)["rows"] == 10, err
    (tmp_path / "empty").mkdir()
    code, _, err = _run(capsys, "predict", "--stream", "--model", trained, "--input",
                        str(tmp_path / "empty"), "--output", str(tmp_path / "o2"))
    assert code == 3 and "no parquet files yet" in err
    code, _, err = _run(capsys, *base, "--stream", "--format", "libsvm",
                        "--output", str(tmp_path / "o3"))
    assert code == 2 and "libsvm" in err
    code, _, err = _run(capsys, "predict", "--stream", "--model", trained, "--input",
                        str(incoming / "a.parquet"), "--output", str(tmp_path / "o6"))
    assert code == 2 and "is a file; --stream reads the folder" in err
    code, _, err = _run(capsys, *base, "--interval", "5", "--output", str(tmp_path / "o4"))
    assert code == 2 and "go with --stream" in err
    with pytest.raises(SystemExit):
        main([*base, "--stream", "--interval", "0", "--output", str(tmp_path / "o5")])
    assert "not a positive number of seconds" in capsys.readouterr().err


def test_a_failed_stream_leaves_no_output_behind(spark, data, trained, tmp_path, capsys):
    bad = pd.read_csv(data / "test.csv").iloc[:5]
    bad["mean_radius"] = None
    _land(tmp_path / "incoming", bad, "a")
    output = str(tmp_path / "scored")
    code, _, err = _run(capsys, "predict", "--stream", "--model", trained, "--input",
                        str(tmp_path / "incoming"), "--output", output)
    assert code == 1
    assert err.startswith("distml: error: the stream stopped: Encountered null while "
                          "assembling a row") and len(err.strip().splitlines()) == 1
    assert sorted(os.listdir(tmp_path)) == ["incoming"]


def test_predict_stream_with_an_interval_runs_until_sigterm(data, trained, tmp_path):
    """A long-running job: new files are scored as they land; SIGTERM stops the query between
    batches and the command exits 0, reporting every row it scored."""
    import signal
    import time
    rows = pd.read_csv(data / "test.csv")
    incoming, output = tmp_path / "incoming", tmp_path / "scored"
    _land(incoming, rows.iloc[:50], "a")
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable)
    log = open(tmp_path / "stderr.log", "w+")  # a file: a full pipe would stall the job
    job = subprocess.Popen([sys.executable, "-m", "distml.cli.main", "predict", "--stream",
                            "--interval", "1", "--master", "local[1]", "--model", trained,
                            "--input", str(incoming), "--output", str(output)],
                           stdout=subprocess.PIPE, stderr=log, env=env, text=True)
    try:
        def committed(batch):  # the sink's log names each committed batch
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and job.poll() is None:
                if (output / "_spark_metadata" / str(batch)).exists():
                    return True
                time.sleep(0.5)
            return False
        assert committed(0)
        _land(incoming, rows.iloc[50:80], "b")
        assert committed(1)
        job.send_signal(signal.SIGTERM)
        out, _ = job.communicate(timeout=120)
    finally:
        job.kill()
        log.seek(0)
        err = log.read()
        log.close()
    assert job.returncode == 0, err[-2000:]
    assert json.loads(out.strip().splitlines()[-1])["rows"] == 80
    assert len(pd.read_parquet(output)) == 80
