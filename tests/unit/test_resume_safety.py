"""Issue 18: a fit resumes only its own checkpoint — same estimator, params, distml version,
rank count and input bytes — and removes only the files it wrote. In process (pandas), where a
fit checkpoints into the folder the user names; the Spark engines share the same checks
(``Context.resume``, ``recovery.usable_checkpoint``)."""
from __future__ import annotations

import logging
import os

import numpy as np
import pandas as pd
import pytest
from pyspark.ml.linalg import Vectors

from distml import LogisticRegression
from distml.engine.checkpoint import CheckpointStore
from distml.engine.partition import Partition, PartitionDigest
from distml.errors import ParamError


def _frame(X, y):
    return pd.DataFrame({"features": [Vectors.dense(r) for r in X], "label": y})


@pytest.fixture
def datasets():
    """Two different standardized, balanced datasets of one shape: the old check (rows,
    width, sums of X, y and w) could not tell them apart."""
    rng = np.random.default_rng(7)
    out = []
    for _ in range(2):
        X = rng.normal(size=(400, 5))
        X = (X - X.mean(0)) / X.std(0)
        y = np.zeros(400)
        y[np.argsort(X @ rng.normal(size=5))[200:]] = 1.0
        out.append((X, y))
    return out


def _lr(directory, **params):
    settings = dict(maxIter=12, regParam=0.01, elasticNetParam=0.5, tol=0.0,
                    checkpointInterval=4, checkpointDir=str(directory), numWorkers=2)
    return LogisticRegression(**{**settings, **params})


def _leave_checkpoints(monkeypatch, estimator, frame):
    """Fit, keeping the checkpoints a failed fit would leave."""
    monkeypatch.setattr(CheckpointStore, "remove", lambda self: None)
    estimator.fit(frame)
    monkeypatch.undo()


def test_the_old_check_could_not_tell_these_datasets_apart(datasets):
    (Xa, ya), (Xb, yb) = datasets
    for a, b in ((Xa, Xb), (ya, yb)):
        np.testing.assert_allclose(a.sum(), b.sum(), atol=1e-9)
    assert not np.allclose(Xa, Xb)


@pytest.mark.parametrize("change", ["other dataset", "swapped columns"])
def test_a_fit_of_other_data_never_resumes_the_checkpoint_it_finds(
        tmp_path, monkeypatch, caplog, datasets, change):
    (Xa, ya), (Xb, yb) = datasets
    if change == "swapped columns":
        Xb, yb = Xa[:, [1, 0, 2, 3, 4]], ya
    _leave_checkpoints(monkeypatch, _lr(tmp_path), _frame(Xa, ya))
    with caplog.at_level(logging.INFO, logger="distml"):
        got = _lr(tmp_path, maxIter=20).fit(_frame(Xb, yb))
    assert "started from iteration 0" in caplog.text and "other input" in caplog.text
    assert "resumed from iteration" not in caplog.text
    straight = _lr(tmp_path / "straight", maxIter=20).fit(_frame(Xb, yb))
    np.testing.assert_allclose(got.coefficientMatrix.toArray(),
                               straight.coefficientMatrix.toArray(), rtol=0, atol=1e-10)


def test_resume_from_refuses_a_checkpoint_of_other_params(tmp_path, monkeypatch, datasets):
    (X, y), _ = datasets
    frame = _frame(X, y)
    _leave_checkpoints(monkeypatch, _lr(tmp_path, regParam=0.0), frame)
    [folder] = os.listdir(tmp_path)
    with pytest.raises(ParamError, match="other params"):
        _lr(tmp_path / "new", regParam=0.5).fit(frame, resumeFrom=str(tmp_path / folder))
    with pytest.raises(ParamError, match="written by LogisticRegression, not KMeans"):
        from distml import KMeans
        KMeans(k=2, checkpointInterval=4).fit(frame, resumeFrom=str(tmp_path / folder))


def test_resume_from_refuses_other_input_and_another_rank_count(tmp_path, monkeypatch,
                                                                 datasets):
    (Xa, ya), (Xb, yb) = datasets
    _leave_checkpoints(monkeypatch, _lr(tmp_path), _frame(Xa, ya))
    [folder] = os.listdir(tmp_path)
    left = str(tmp_path / folder)
    with pytest.raises(ParamError, match="written for other input"):
        _lr(tmp_path / "b").fit(_frame(Xb, yb), resumeFrom=left)
    with pytest.raises(ParamError, match="written by 2 ranks, this attempt has 3"):
        _lr(tmp_path / "c").setNumWorkers(3).fit(_frame(Xa, ya), resumeFrom=left)


def test_another_rank_count_or_distml_version_starts_afresh_with_one_info_line(
        tmp_path, monkeypatch, caplog, datasets):
    (X, y), _ = datasets
    frame = _frame(X, y)
    _leave_checkpoints(monkeypatch, _lr(tmp_path), frame)
    with caplog.at_level(logging.INFO, logger="distml"):
        _lr(tmp_path).setNumWorkers(3).fit(frame)
    lines = [r for r in caplog.records if "started from iteration 0" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.INFO
    assert "written by 2 ranks, this attempt has 3" in lines[0].getMessage()

    _leave_checkpoints(monkeypatch, _lr(tmp_path), frame)
    caplog.clear()
    monkeypatch.setattr("distml.__version__", "0.0.1-other")
    with caplog.at_level(logging.INFO, logger="distml"):
        _lr(tmp_path).fit(frame)
    assert "written by distml 0.1.0, this is distml 0.0.1-other" in caplog.text
    assert "resumes from" not in caplog.text


def test_resume_from_removes_only_the_files_distml_wrote(tmp_path, monkeypatch, datasets):
    (X, y), _ = datasets
    frame = _frame(X, y)
    _leave_checkpoints(monkeypatch, _lr(tmp_path), frame)
    [folder] = os.listdir(tmp_path)
    mine = tmp_path / folder / "notes.txt"
    mine.write_text("the user's own file")
    _lr(tmp_path / "other").fit(frame, resumeFrom=str(tmp_path / folder))
    assert os.listdir(tmp_path / folder) == ["notes.txt"]
    assert mine.read_text() == "the user's own file"


def test_the_digest_streamed_batch_by_batch_equals_the_partition_digest():
    import pyarrow as pa

    from distml.frames.arrow_input import (ARRAY, FEATURES, LABEL, VECTOR_STRUCT, InputLayout,
                                           batches_to_partition)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(50, 3)), rng.integers(0, 2, 50).astype(float)
    dense = pa.array([list(r) for r in X], pa.list_(pa.float64()))
    batches = [pa.RecordBatch.from_arrays([dense.slice(a, b - a), pa.array(y[a:b])],
                                          [FEATURES, LABEL]) for a, b in ((0, 17), (17, 50))]
    layout = InputLayout(ARRAY, "features", "label", fingerprint=True)
    streamed = batches_to_partition(iter(batches), layout, 0)
    assert streamed.digest == Partition(0, X.copy(), y.copy()).fingerprint()
    swapped = Partition(0, X[:, [1, 0, 2]].copy(), y.copy()).fingerprint()
    assert swapped != streamed.digest
    # Sparse rows: the digest does not depend on where the batches were cut either.
    import scipy.sparse as sp
    M = sp.random(40, 6, density=0.3, format="csr", random_state=1)
    whole, parts = PartitionDigest(), PartitionDigest()
    whole.add(M)
    parts.add(M[:13])
    parts.add(M[13:])
    assert whole.hexdigest() == parts.hexdigest()
    assert VECTOR_STRUCT  # (the Spark tests stream sparse vectors through the same class)
