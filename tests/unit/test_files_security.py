"""Issue 18, files and folders: a loaded model folder cannot make distml import its code, a
failed overwrite puts the old model back, the partition store is private and survives a full
/dev/shm, scheme-less paths follow Spark's default filesystem, and the temporary-checkpoint
notice is INFO on a local master."""
from __future__ import annotations

import json
import logging
import os
import sys

import numpy as np
import pandas as pd
import pytest

from distml import KMeansModel, PersistenceError, StandardScaler, StandardScalerModel
from distml.engine import checkpoint as ckpt
from distml.engine import partition_store
from distml.frames import hadoop_fs
from distml.engine.partition import Partition
from distml.engine.partition_store import StoreMiss
from distml.pipeline.persistence import load_instance


@pytest.fixture
def saved(tmp_path, rng):
    df = pd.DataFrame({"features": list(rng.normal(size=(10, 3)))})
    model = StandardScaler(inputCol="features", outputCol="out").fit(df)
    path = tmp_path / "model"
    model.save(str(path))
    return path, model


def _rename_class(path, name):
    meta_file = path / "metadata" / "part-00000"
    meta = json.loads(meta_file.read_text())
    meta["class"] = name
    meta_file.write_text(json.dumps(meta) + "\n")


@pytest.mark.parametrize("name", ["planted_module.Model", "distml.planted_module.Model",
                                  "os.system"])
def test_a_model_folder_naming_a_foreign_module_imports_nothing(saved, tmp_path, monkeypatch,
                                                                 name):
    path, _ = saved
    marker = tmp_path / "code-ran"
    plant = f"open({str(marker)!r}, 'w').close()\nclass Model: pass\n"
    (path / "planted_module.py").write_text(plant)  # beside the model, and on sys.path
    (tmp_path / "planted_module.py").write_text(plant)
    monkeypatch.syspath_prepend(str(path))
    monkeypatch.chdir(path)
    _rename_class(path, name)
    with pytest.raises(PersistenceError, match="distml loads only its own classes"):
        load_instance(str(path))
    assert not marker.exists() and "planted_module" not in sys.modules


def test_the_expected_type_is_checked_from_distml_s_own_classes(saved):
    path, model = saved
    with pytest.raises(PersistenceError, match="not a KMeansModel"):
        KMeansModel.load(str(path))
    assert StandardScalerModel.load(str(path)).uid == model.uid


def test_a_failed_overwrite_puts_the_old_model_back(saved, monkeypatch, rng):
    path, model = saved
    other = StandardScaler(inputCol="features", outputCol="out").fit(
        pd.DataFrame({"features": list(rng.normal(size=(10, 3)) + 5)}))
    real_rename = hadoop_fs.LocalFileSystem.rename

    def failing(self, src, dst):  # the new model cannot be moved into place
        if ".distml-tmp-" in src:
            raise OSError("disk quota exceeded")
        return real_rename(self, src, dst)

    monkeypatch.setattr(hadoop_fs.LocalFileSystem, "rename", failing)
    with pytest.raises(OSError, match="quota"):
        other.write().overwrite().save(str(path))
    monkeypatch.undo()
    assert sorted(os.listdir(path.parent)) == ["model"]  # no *.distml-old-*, no tmp
    np.testing.assert_array_equal(StandardScalerModel.load(str(path)).std.toArray(),
                                  model.std.toArray())


@pytest.fixture
def roots(tmp_path, monkeypatch):
    """Two store roots standing for /dev/shm and the temp dir."""
    shm, tmp = tmp_path / "shm", tmp_path / "tmp"
    shm.mkdir()
    tmp.mkdir()
    found = [str(shm / f"distml-{os.getuid()}" / "partitions"),
             str(tmp / f"distml-{os.getuid()}" / "partitions")]
    monkeypatch.setattr(partition_store, "candidate_roots", lambda: found)
    monkeypatch.setattr(partition_store, "_told", set())
    return shm, tmp


def test_the_partition_store_is_private_to_its_user(roots):
    shm, _ = roots
    partition_store.write("fit", Partition(0, np.ones((4, 2)), np.zeros(4)))
    user_root = shm / f"distml-{os.getuid()}"
    assert os.stat(user_root).st_mode & 0o777 == 0o700
    entry = user_root / "partitions" / "fit" / "0"
    assert all(os.stat(entry / f).st_mode & 0o777 == 0o600 for f in os.listdir(entry))


def test_a_full_dev_shm_falls_back_to_the_temp_dir_then_to_no_store(roots, monkeypatch,
                                                                    caplog):
    shm, tmp = roots
    real_usage = partition_store.shutil.disk_usage

    def small_shm(path):  # a container's 64 MB /dev/shm, nearly full
        usage = real_usage(path)
        return usage._replace(free=1 << 20) if str(path).startswith(str(shm)) else usage

    monkeypatch.setattr(partition_store.shutil, "disk_usage", small_shm)
    part = Partition(0, np.ones((1000, 300)), np.zeros(1000))  # 2.4 MB
    with caplog.at_level(logging.WARNING, logger="distml"):
        assert partition_store.write("fit", part)
    assert (tmp / f"distml-{os.getuid()}" / "partitions" / "fit" / "0").is_dir()
    np.testing.assert_array_equal(partition_store.read("fit", 0, {}).X, part.X)
    assert "too little room" in caplog.text

    def no_space(path, array):  # the temp dir's disk fills up mid-write
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(partition_store, "_save", no_space)
    with caplog.at_level(logging.WARNING, logger="distml"):
        assert partition_store.write("fit2", part) is False  # never an error
    assert "it is read from the DataFrame each round instead" in caplog.text
    with pytest.raises(StoreMiss):
        partition_store.read("fit2", 0, {})
    assert not any("tmp-" in name for name in os.listdir(
        tmp / f"distml-{os.getuid()}" / "partitions" / "fit2"))


def test_a_store_root_owned_by_someone_else_is_skipped(roots, monkeypatch):
    shm, tmp = roots
    planted = shm / f"distml-{os.getuid()}"
    planted.mkdir()
    real_lstat = os.lstat

    def foreign(path, *args, **kwargs):
        info = real_lstat(path, *args, **kwargs)
        if str(path) == str(planted):
            values = list(info)
            values[4] = info.st_uid + 1  # st_uid
            return os.stat_result(values)
        return info

    monkeypatch.setattr(os, "lstat", foreign)
    assert partition_store.write("fit", Partition(0, np.ones((3, 2))))
    assert not (planted / "partitions").exists()
    assert (tmp / f"distml-{os.getuid()}" / "partitions" / "fit" / "0").is_dir()


def test_a_path_without_a_scheme_follows_the_default_filesystem(monkeypatch):
    class Conf:
        def __init__(self, value):
            self.value = value

        def get(self, key):
            assert key == "fs.defaultFS"
            return self.value

    class Session:
        def __init__(self, value):
            self._jsc = type("JSC", (), {"hadoopConfiguration": lambda s: Conf(value)})()

    for default, hadoop in (("hdfs://namenode:8020", True), ("file:///", False),
                            (None, False)):
        monkeypatch.setattr(hadoop_fs.SparkSession, "getActiveSession",
                            staticmethod(lambda d=default: Session(d)))
        assert hadoop_fs._default_fs_is_hadoop() is hadoop
    monkeypatch.setattr(hadoop_fs, "HadoopFileSystem", lambda path: ("hadoop", path))
    monkeypatch.setattr(hadoop_fs, "_default_fs_is_hadoop", lambda: True)
    assert hadoop_fs.filesystem("models/lr") == (("hadoop", "models/lr"), "models/lr")
    assert isinstance(hadoop_fs.filesystem("file:/tmp/x")[0], hadoop_fs.LocalFileSystem)


class _FakeSpark:
    def __init__(self, master, app):
        self.sparkContext = type("SC", (), {"master": master, "applicationId": app,
                                            "getCheckpointDir": lambda s: None})()


def test_the_temporary_checkpoint_folder_is_info_once_locally_and_a_warning_on_a_cluster(
        tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(ckpt.tempfile, "gettempdir", lambda: str(tmp_path))
    monkeypatch.setattr(ckpt, "_told_sessions", set())
    with caplog.at_level(logging.INFO, logger="distml"):
        for _ in range(3):
            ckpt.checkpoint_base(_FakeSpark("local[*]", "app-1"), None)
    assert [r.levelno for r in caplog.records] == [logging.INFO]
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="distml"):
        ckpt.checkpoint_base(_FakeSpark("yarn", "app-2"), None)
        ckpt.checkpoint_base(_FakeSpark("yarn", "app-2"), None)
    assert [r.levelno for r in caplog.records] == [logging.WARNING]
    assert "resume after losing the driver needs a directory on shared storage" in caplog.text
