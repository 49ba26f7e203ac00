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
from distml.errors import CollectiveError, DataError, FitError, ParamError


def _state(i):
    return Checkpoint(i, 2, (10, 3, False, 1.0, 2.0, 3.0), {"x": np.arange(3.0) * i})


def test_the_newest_complete_checkpoint_is_read_and_older_ones_removed(tmp_path):
    store = CheckpointStore(str(tmp_path / "fit"))
    assert store.latest() is None
    for i in (4, 8):
        store.write(i, _state(i).to_bytes())
    (tmp_path / "fit" / "_tmp-00000012-abc").write_bytes(b"half a write")  # a killed write
    got = store.latest()
    assert got.iteration == 8 and got.state["x"].tolist() == [0.0, 8.0, 16.0]
    assert sorted(os.listdir(tmp_path / "fit")) == ["_tmp-00000012-abc",
                                                     "iteration-00000008.ckpt"]
    store.write(4, _state(4).to_bytes())  # a fit that started afresh replaces what it found
    assert store.latest().iteration == 4
    store.remove()
    assert not (tmp_path / "fit").exists()


def test_an_unreadable_checkpoint_is_a_clear_error(tmp_path):
    (tmp_path / "iteration-00000004.ckpt").write_bytes(b"not a pickle")
    with pytest.raises(ParamError, match="cannot be read.*remove it"):
        CheckpointStore(str(tmp_path)).latest()
    (tmp_path / "iteration-00000008.ckpt").write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ParamError, match="not a distml checkpoint"):
        CheckpointStore(str(tmp_path)).latest()


def test_a_fit_directory_is_keyed_by_params_except_max_iter():
    a = fit_directory("/base", "KMeans", {"k": 3, "maxIter": 20, "seed": 1})
    assert a.startswith("/base/KMeans-")
    assert a == fit_directory("/base/", "KMeans", {"seed": 1, "maxIter": 50, "k": 3})
    assert a != fit_directory("/base", "KMeans", {"k": 4, "maxIter": 20, "seed": 1})
    assert ckpt.fingerprint_matches((5, 2, False, 1.0), (5, 2, False, 1.0 + 1e-12))
    assert not ckpt.fingerprint_matches((5, 2, False, 1.0), (5, 2, False, 1.1))
    assert not ckpt.fingerprint_matches((5, 2, False, 1.0), (6, 2, False, 1.0))


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
                      KeyError("x"), RuntimeError("a bug")):
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
        "ALS": (
            lambda n, d: ALS(rank=3, maxIter=n, seed=5, checkpointDir=d, **common), ratings,
            lambda m: [m._users[1], m._items[1]]),
    }


@pytest.mark.parametrize("name", ["LogisticRegression", "MultilayerPerceptronClassifier",
                                  "KMeans", "LDA", "ALS"])
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
    assert f"{name} resumed from iteration 8 and completed" in caplog.text
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
