"""Checkpoint files, the failure hook's syntax, and which failures a fit retries."""
from __future__ import annotations

import logging
import os
import pickle

import numpy as np
import pandas as pd
import pytest
from pyspark.ml.linalg import Vectors

from distml import LogisticRegression
from distml.engine import checkpoint as ckpt
from distml.engine.checkpoint import Checkpoint, CheckpointStore, fit_directory
from distml.engine.faults import FaultSpec, InjectedFailure, parse
from distml.engine.recovery import is_transient
from distml.errors import CollectiveError, DataError, FitError, ParamError, PersistenceError


def _state(i):
    return Checkpoint(i, 2, "f" * 64, {"x": np.arange(3.0) * i, "pairs": [(np.ones(2), 1.5)],
                                       "n": i, "name": "lbfgs", "none": None})


def test_the_newest_complete_checkpoint_is_read_and_older_ones_removed(tmp_path):
    store = CheckpointStore(str(tmp_path / "fit"))
    assert store.latest() is None
    for i in (4, 8):
        store.write(_state(i))
    (tmp_path / "fit" / "_tmp-00000012-0123456789ab").write_bytes(b"half a write")  # killed
    got = store.latest()
    assert got.iteration == 8 and got.state["x"].tolist() == [0.0, 8.0, 16.0]
    assert got.state["pairs"][0][1] == 1.5 and isinstance(got.state["pairs"][0], tuple)
    assert (got.state["n"], got.state["name"], got.state["none"]) == (8, "lbfgs", None)
    assert sorted(os.listdir(tmp_path / "fit")) == ["_tmp-00000012-0123456789ab",
                                                     "iteration-00000008.ckpt"]
    store.write(_state(4))  # a fit that started afresh replaces what it found
    assert store.latest().iteration == 4
    store.remove()
    assert not (tmp_path / "fit").exists()


def test_checkpoint_files_and_their_folder_are_private(tmp_path):
    store = CheckpointStore(str(tmp_path / "fit"))
    store.write(_state(4))
    assert os.stat(tmp_path / "fit").st_mode & 0o777 == 0o700
    assert os.stat(tmp_path / "fit" / "iteration-00000004.ckpt").st_mode & 0o777 == 0o600


def test_a_truncated_checkpoint_is_skipped_for_the_previous_one(tmp_path, caplog):
    store = CheckpointStore(str(tmp_path))
    store.write(_state(4))
    good = (tmp_path / "iteration-00000004.ckpt").read_bytes()
    # A crash after a write that never reached the disk: the newest file is cut short.
    (tmp_path / "iteration-00000008.ckpt").write_bytes(good[: len(good) // 2])
    with caplog.at_level(logging.WARNING, logger="distml"):
        assert store.latest().iteration == 4
    assert "iteration-00000008.ckpt' cannot be read" in caplog.text
    (tmp_path / "iteration-00000004.ckpt").write_bytes(b"garbage")
    assert store.latest() is None  # nothing readable: the fit starts afresh, it is not blocked


class _RunsCode:
    """A pickle that would create a file when unpickled: what a planted checkpoint could do."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_planted_pickle_is_never_unpickled(tmp_path, caplog):
    marker = tmp_path / "code-ran"
    folder = tmp_path / "fit"
    folder.mkdir()
    (folder / "iteration-00000099.ckpt").write_bytes(pickle.dumps(_RunsCode(str(marker))))
    with caplog.at_level(logging.WARNING, logger="distml"):
        assert CheckpointStore(str(folder)).latest() is None
    assert not marker.exists()
    assert "cannot be read" in caplog.text


def test_the_fallback_folder_is_per_user_and_refused_when_not_private(tmp_path, monkeypatch):
    monkeypatch.setattr(ckpt.tempfile, "gettempdir", lambda: str(tmp_path))
    base = ckpt.checkpoint_base(None, None)
    user_dir = tmp_path / f"distml-{os.getuid()}"
    assert base == str(user_dir / "checkpoints")
    assert os.stat(user_dir).st_mode & 0o777 == 0o700
    # Another user (or anyone) may have made the predictable name first: a symlink to their
    # folder, or a folder they own, is refused rather than written into.
    os.rmdir(user_dir / "checkpoints") if (user_dir / "checkpoints").exists() else None
    os.rmdir(user_dir)
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", user_dir)
    with pytest.raises(PersistenceError, match="not a plain directory"):
        ckpt.checkpoint_base(None, None)
    os.remove(user_dir)
    user_dir.mkdir(mode=0o755)
    monkeypatch.setattr(os, "getuid", lambda: os.stat(user_dir).st_uid + 1)
    with pytest.raises(PersistenceError, match="belongs to another user"):
        ckpt.checkpoint_base(None, None)


def test_a_fit_directory_is_keyed_by_params_except_max_iter():
    a = fit_directory("/base", "KMeans", {"k": 3, "maxIter": 20, "seed": 1})
    assert a.startswith("/base/KMeans-")
    assert a == fit_directory("/base/", "KMeans", {"seed": 1, "maxIter": 50, "k": 3})
    assert a != fit_directory("/base", "KMeans", {"k": 4, "maxIter": 20, "seed": 1})
    assert a != fit_directory("/base", "KMeans", {"k": 3, "maxIter": 20, "seed": 1.0000001})


def test_the_failure_hook_reads_rank_iteration_and_attempts():
    spec = parse("rank=1,iteration=5")
    assert spec == FaultSpec(1, 5, 1) and parse("") is None and parse(None) is None
    spec.check(0, 5, 0)  # another rank
    spec.check(1, 4, 0)  # another iteration
    spec.check(1, 5, 1)  # a later attempt
    with pytest.raises(InjectedFailure, match="rank 1 failed at iteration 5"):
        spec.check(1, 5, 0)
    assert parse("rank=0, iteration=2, attempts=9") == FaultSpec(0, 2, 9)
    for bad in ("rank=1", "rank=x,iteration=2", "rank=1,iteration=2,when=3"):
        with pytest.raises(ValueError, match="distml.test.failOnce"):
            parse(bad)


def test_only_failures_that_can_pass_are_retried():
    assert is_transient(InjectedFailure("lost")) and is_transient(CollectiveError("peer gone"))
    assert is_transient(FitError("executor lost")) and is_transient(ConnectionResetError())
    for permanent in (DataError("bad column"), ParamError("bad param"), ZeroDivisionError(),
                      KeyError("x"), RuntimeError("a bug"), MemoryError()):
        assert not is_transient(permanent)


def _fits():
    """Each iterative estimator on small pandas data, set to run every iteration it is given:
    (estimator for maxIter and checkpointDir, data, the fitted arrays to compare)."""
    from distml import ALS, LDA, KMeans, MultilayerPerceptronClassifier
    rng = np.random.default_rng(3)
    X = rng.normal(size=(300, 4))
    y = (X @ rng.normal(size=4) + rng.normal(size=300) > 0).astype(float)
    labelled = pd.DataFrame({"features": [Vectors.dense(r) for r in X], "label": y})
    counts = rng.poisson(1.0, size=(60, 12)).astype(float)
    documents = pd.DataFrame({"features": [Vectors.dense(r) for r in counts]})
    ratings = pd.DataFrame({"user": rng.integers(0, 30, 400), "item": rng.integers(0, 20, 400),
                            "rating": rng.uniform(1, 5, 400)})
    common = dict(checkpointInterval=4)
    return {
        "LogisticRegression": (
            lambda n, d: LogisticRegression(maxIter=n, regParam=0.01, elasticNetParam=0.5,
                                            tol=0.0, checkpointDir=d, **common), labelled,
            lambda m: [m.coefficientMatrix.toArray(), np.array(m.summary.objectiveHistory)]),
        "MultilayerPerceptronClassifier": (
            lambda n, d: MultilayerPerceptronClassifier(layers=[4, 5, 2], solver="adam",
                                                        maxIter=n, tol=0.0, seed=1,
                                                        checkpointDir=d, **common), labelled,
            lambda m: [m.weights.toArray()]),
        "KMeans": (
            lambda n, d: KMeans(k=6, maxIter=n, tol=0.0, initMode="random", seed=2,
                                checkpointDir=d, **common), labelled,
            lambda m: [np.array(m.clusterCenters())]),
        "LDA": (
            lambda n, d: LDA(k=3, maxIter=n, seed=4, subsamplingRate=0.5, checkpointDir=d,
                             **common), documents,
            lambda m: [m.topicsMatrix().toArray()]),
        "LDA em": (  # its documents' topic counts live in the partitions: saved too
            lambda n, d: LDA(k=3, maxIter=n, seed=4, optimizer="em", checkpointDir=d,
                             keepLastCheckpoint=False, **common), documents,
            lambda m: [m.topicsMatrix().toArray(), np.array([m.logPrior()])]),
        "ALS": (
            lambda n, d: ALS(rank=3, maxIter=n, seed=5, checkpointDir=d, **common), ratings,
            lambda m: [m._users[1], m._items[1]]),
    }


@pytest.mark.parametrize("name", ["LogisticRegression", "MultilayerPerceptronClassifier",
                                  "KMeans", "LDA", "LDA em", "ALS"])
def test_a_left_checkpoint_is_continued_by_a_longer_fit(tmp_path, monkeypatch, caplog, name):
    """In process (pandas) a fit checkpoints into the directory the user names. A fit whose
    checkpoints were left behind (here: not removed) is continued by the same fit asking for
    more iterations, and equals the longer fit run straight through: the saved state is the
    whole state of each program."""
    make, data, arrays = _fits()[name]
    monkeypatch.setattr(CheckpointStore, "remove", lambda self: None)
    make(8, str(tmp_path / "left")).fit(data)
    [folder] = os.listdir(tmp_path / "left")
    assert CheckpointStore(str(tmp_path / "left" / folder)).latest().iteration == 8
    monkeypatch.undo()
    with caplog.at_level(logging.WARNING, logger="distml"):
        continued = make(20, str(tmp_path / "left")).fit(data)
    assert f"{name.split()[0]} resumed from iteration 8 and completed" in caplog.text
    straight = make(20, str(tmp_path / "straight")).fit(data)
    for got, want in zip(arrays(continued), arrays(straight)):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-8)
    assert not os.listdir(tmp_path / "left")  # removed once the fit completed


def test_resume_from_checks_its_directory_and_param(tmp_path):
    df = pd.DataFrame({"features": [Vectors.dense([float(i)]) for i in range(10)],
                       "label": [float(i % 2) for i in range(10)]})
    with pytest.raises(ParamError, match="holds no distml checkpoint"):
        LogisticRegression().fit(df, resumeFrom=str(tmp_path))
    with pytest.raises(ParamError, match="checkpointInterval must be -1"):
        LogisticRegression(checkpointInterval=0).fit(df)


def test_a_rank_writes_through_pyarrow_to_object_storage():
    """Rank 0's writer on Spark Connect (``frames.rank_fs``) over a pyarrow filesystem, here
    pyarrow's in-memory one standing in for S3: the same files, newest read, others removed."""
    from pyarrow import fs

    from distml.frames.rank_fs import ArrowFileSystem
    memory = ArrowFileSystem(fs._MockFileSystem())
    store = CheckpointStore("s3://bucket/fit", {"estimator": "X"}, (memory, "bucket/fit"))
    assert store.latest() is None
    for i in (4, 8):
        store.write(_state(i))
    assert memory.listdir("bucket/fit") == ["iteration-00000008.ckpt"]
    got = store.latest()
    assert got.iteration == 8 and got.owner == {"estimator": "X"}
    np.testing.assert_array_equal(got.state["x"], [0.0, 8.0, 16.0])
    store.remove()
    assert not memory.exists("bucket/fit")


def test_a_rank_s_filesystem_is_chosen_by_the_path():
    from distml.frames.hadoop_fs import LocalFileSystem
    from distml.frames.rank_fs import rank_filesystem
    for path, local in (("/mnt/shared/ckpt", "/mnt/shared/ckpt"),
                        ("file:/mnt/shared/ckpt", "/mnt/shared/ckpt")):
        got_fs, got_path = rank_filesystem(path)
        assert isinstance(got_fs, LocalFileSystem) and got_path == local
    with pytest.raises(ParamError, match="'ftp://host/ckpt': a rank writes checkpoints only"):
        rank_filesystem("ftp://host/ckpt")
