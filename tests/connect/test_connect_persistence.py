"""Spark Connect (issue 24): models saved, loaded and used from a Connect client, the README's
pipeline, and the main job's commands with ``--remote``.

Over Connect a save goes through Spark's writers (``frames.connect_fs``): metadata as a text
dataset, arrays as Parquet rows. The references: the model that was saved (a load must give
its arrays back bit for bit, and the same transform), and for the README's pipeline the same
pipeline fitted in process on the same rows as a pandas DataFrame (within 1e-8 relative, as
in ``test_connect_fits``: the Connect fit's partitions hold other rows).
"""
import os
import sys

import numpy as np
import pandas as pd
import pytest

from distml import (ALS, ALSModel, DecisionTreeClassificationModel, DecisionTreeClassifier,
                    KMeans, KMeansModel, LogisticRegression, LogisticRegressionModel,
                    PersistenceError, Pipeline, PipelineModel, StandardScaler)
from distml.frames.hadoop_fs import LocalFileSystem
from distml.pipeline import persistence

pytestmark = pytest.mark.spark

ROWS = 400


@pytest.fixture(scope="module")
def data(connect):
    from pyspark.ml.linalg import Vectors
    rng = np.random.default_rng(11)
    X = rng.normal(size=(ROWS, 3)) * [1.0, 4.0, 0.5] + [0.0, 2.0, -1.0]
    y = (X[:, 0] - 0.3 * X[:, 1] + 0.5 * rng.normal(size=ROWS) > -0.6).astype(float)
    df = connect.createDataFrame([(Vectors.dense(r), float(t)) for r, t in zip(X, y)],
                                 ["features", "label"])
    return df, pd.DataFrame({"features": list(X), "label": y})


@pytest.fixture(scope="module")
def ratings(connect):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"user": rng.integers(0, 30, 500), "item": rng.integers(0, 20, 500),
                          "rating": rng.uniform(1, 5, 500)})
    return connect.createDataFrame(frame)


def _saved_arrays(model) -> dict:
    return model._save_data()[0]


def _assert_same_arrays(loaded, model):
    ours, theirs = _saved_arrays(loaded), _saved_arrays(model)
    assert sorted(ours) == sorted(theirs)
    for name in theirs:
        np.testing.assert_array_equal(ours[name], theirs[name], err_msg=name)


@pytest.mark.parametrize("kind", ["logistic", "kmeans", "tree", "als"])
def test_a_model_saves_loads_and_transforms_over_connect(kind, data, ratings, tmp_path):
    df, _ = data
    if kind == "als":
        model, cls, scored_on = ALS(rank=2, maxIter=3, seed=1).fit(ratings), ALSModel, ratings
        columns = ["user", "item", "prediction"]
    else:
        estimator, cls = {"logistic": (LogisticRegression(maxIter=10), LogisticRegressionModel),
                          "kmeans": (KMeans(k=3, seed=2, maxIter=5), KMeansModel),
                          "tree": (DecisionTreeClassifier(maxDepth=3),
                                   DecisionTreeClassificationModel)}[kind]
        model, scored_on, columns = estimator.fit(df), df, ["prediction"]
    path = f"file:{tmp_path / kind}" if kind == "als" else str(tmp_path / kind)  # a URI too
    model.save(path)
    loaded = cls.load(path)
    assert loaded.uid == model.uid
    _assert_same_arrays(loaded, model)
    expected = model.transform(scored_on).select(*columns).toPandas()
    got = loaded.transform(scored_on).select(*columns).toPandas()
    pd.testing.assert_frame_equal(got.sort_values(columns).reset_index(drop=True),
                                  expected.sort_values(columns).reset_index(drop=True))


def test_saves_over_connect_and_by_files_read_each_other(data, tmp_path, monkeypatch):
    """A save over Connect (Parquet rows) read from plain files, as a classic session or a
    pandas user reads it; and a save by files (``.npy``), as a classic session writes it,
    loaded over Connect."""
    df, _ = data
    model = LogisticRegression(maxIter=10).fit(df)
    model.save(str(tmp_path / "by_spark"))
    files = LocalFileSystem().read_files(str(tmp_path / "by_spark" / "data"))
    assert files and all(name.endswith(".parquet") for name in files)
    arrays = persistence._arrays_of(files)
    for name, array in _saved_arrays(model).items():
        np.testing.assert_array_equal(arrays[name], array)

    with monkeypatch.context() as patched:
        patched.setattr(persistence, "filesystem", lambda p: (LocalFileSystem(), p))
        model.save(str(tmp_path / "by_files"))
    assert os.path.exists(tmp_path / "by_files" / "data" / "coefficientMatrix.npy")
    _assert_same_arrays(LogisticRegressionModel.load(str(tmp_path / "by_files")), model)


def test_large_arrays_are_cut_in_pieces_and_joined_back(data, tmp_path, monkeypatch):
    df, _ = data
    model = KMeans(k=3, seed=2, maxIter=3).fit(df)
    monkeypatch.setattr(persistence, "_PIECE_BYTES", 50)  # every array in several rows
    model.save(str(tmp_path / "pieces"))
    table = pd.read_parquet(str(tmp_path / "pieces" / "data"))
    assert table.groupby("name")["piece"].count().min() > 1
    _assert_same_arrays(KMeansModel.load(str(tmp_path / "pieces")), model)


def test_overwrite_replaces_and_a_failed_save_leaves_nothing(data, tmp_path):
    df, _ = data
    path = str(tmp_path / "model")
    first = LogisticRegression(maxIter=2).fit(df)
    second = LogisticRegression(maxIter=20, regParam=0.1).fit(df)
    first.save(path)
    with pytest.raises(PersistenceError, match="already exists"):
        second.save(path)
    second.write().overwrite().save(path)
    _assert_same_arrays(LogisticRegressionModel.load(path), second)

    class Unsaveable:  # not MLWritable: the pipeline's save fails after its first stage
        uid = "Unsaveable_0"
    broken = PipelineModel([second, Unsaveable()])
    target = str(tmp_path / "broken")
    with pytest.raises(PersistenceError, match="stage 1 .* not MLWritable"):
        broken.save(target)
    assert not os.path.exists(target)


def test_the_readme_pipeline_fits_saves_loads_and_transforms(data, tmp_path):
    """pyspark.ml's own Pipeline of distml stages (the README's example) over Connect; the
    reference is the same stages fitted in process on the same rows (1e-8 relative)."""
    from pyspark.ml import Pipeline as SparkPipeline
    from pyspark.ml import PipelineModel as SparkPipelineModel
    df, frame = data

    def stages(**workers):
        return [StandardScaler(inputCol="features", outputCol="scaled", withMean=True),
                LogisticRegression(featuresCol="scaled", regParam=0.01, elasticNetParam=0.5,
                                   **workers)]
    model = SparkPipeline(stages=stages()).fit(df)
    reference = Pipeline(stages=stages(numWorkers=2)).fit(frame)
    ours, theirs = model.stages[-1], reference.stages[-1]
    np.testing.assert_allclose(ours.coefficients.toArray(), theirs.coefficients.toArray(),
                               rtol=1e-8, atol=1e-12)
    assert ours.intercept == pytest.approx(theirs.intercept, rel=1e-8, abs=1e-12)
    assert ours.summary.areaUnderROC == pytest.approx(theirs.summary.areaUnderROC, rel=1e-8)

    path = str(tmp_path / "readme")
    model.save(path)
    loaded = SparkPipelineModel.load(path)
    assert [type(s) for s in loaded.stages] == [type(s) for s in model.stages]
    for stage, original in zip(loaded.stages, model.stages):
        _assert_same_arrays(stage, original)
    got = loaded.transform(df).select("probability").toPandas()["probability"]
    expected = reference.transform(frame)["probability"]
    np.testing.assert_allclose(np.stack([v.toArray() for v in got]),
                               np.stack([np.asarray(v) for v in expected]), rtol=1e-7)


def test_a_distml_pipeline_with_a_pyspark_stage_round_trips(data, tmp_path):
    from pyspark.ml.feature import VectorAssembler
    from pyspark.sql import functions as F
    df, _ = data
    df = df.withColumn("one", F.lit(1.0))
    model = Pipeline(stages=[VectorAssembler(inputCols=["one"], outputCol="ones"),
                             LogisticRegression(maxIter=5)]).fit(df)
    path = str(tmp_path / "mixed")
    model.save(path)
    loaded = PipelineModel.load(path)
    assert type(loaded.stages[0]).__module__.startswith("pyspark.ml")
    _assert_same_arrays(loaded.stages[1], model.stages[1])
    assert loaded.transform(df).select("ones", "prediction").count() == ROWS


def test_the_main_job_runs_over_connect(connect, tmp_path, capsys):
    """The README's main job with ``--remote``: train, evaluate, predict and describe as a
    Connect client of this tier's server; it checks itself against scikit-learn."""
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples"))
    try:
        import main_job
    finally:
        sys.path.pop(0)
    assert main_job.main(["--remote", "sc://localhost", "--work", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "--remote sc://localhost" in out and "main job: all checks passed" in out
    assert os.path.exists(tmp_path / "model" / "metadata")
    assert os.path.exists(tmp_path / "model.metrics.json")


def test_a_folder_holding_one_file_of_its_own_name_is_a_folder(connect, tmp_path):
    import shutil
    import uuid

    from distml.frames.connect_fs import ConnectFileSystem
    fs = ConnectFileSystem(connect)
    (tmp_path / "single").write_bytes(b"y")
    (tmp_path / "empty").mkdir()
    assert not fs.is_folder(str(tmp_path / "single"))
    assert fs.is_folder(str(tmp_path / "empty"))
    # A relative name resolves in the server's folder, this process's (it started the server):
    # "out" holding "out/out" lists one file whose path ends as "out" does.
    name = f"distml-test-{uuid.uuid4().hex[:8]}"
    os.makedirs(name)
    try:
        with open(os.path.join(name, name), "wb") as f:
            f.write(b"x")
        assert fs.is_folder(name) and fs.is_folder(name + "/")
        assert not fs.is_folder(os.path.join(name, name))
    finally:
        shutil.rmtree(name)
