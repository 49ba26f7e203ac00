"""Save and load: a directory with ``metadata/part-00000`` (one JSON line) and ``data/*.npy``.

The layout is pyspark.ml's (DefaultParamsWriter's metadata, readable by
``DefaultParamsReader.loadMetadata``), so pyspark.ml's Pipeline persistence can hold distml
stages. A save writes to a temporary sibling and renames it into place, so a failed save
leaves nothing half-written at the target. Local paths need no Spark session; other schemes
go through the active session's Hadoop filesystem.

Loading never imports what a saved folder names: the class in the metadata is looked up among
the classes distml itself defines (``saved_class``), and checked against the type the caller
expects, so a folder received from elsewhere cannot make ``load`` import a module planted
beside it. Arrays are read with ``allow_pickle=False``.
"""
from __future__ import annotations

import io
import json
import sys
import time
import uuid
from typing import Any

import numpy as np
from pyspark.ml.util import MLReader, MLWriter

from distml.errors import PersistenceError
from distml.frames.hadoop_fs import filesystem, swap_into_place

FORMAT_VERSION = 1


def _join(*parts: str) -> str:
    return "/".join(p.rstrip("/") for p in parts)


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def metadata_of(instance: Any, extra: dict | None = None) -> dict:
    import pyspark

    from distml import __version__
    cls = type(instance)
    return {
        "class": f"{cls.__module__}.{cls.__qualname__}",
        "timestamp": int(time.time() * 1000),
        "sparkVersion": pyspark.__version__,
        "uid": instance.uid,
        "paramMap": (instance._metadata_param_map() if hasattr(instance, "_metadata_param_map")
                     else {p.name: _jsonable(v) for p, v in instance._paramMap.items()}),
        "defaultParamMap": {p.name: _jsonable(v) for p, v in instance._defaultParamMap.items()},
        "distmlVersion": __version__,
        "formatVersion": FORMAT_VERSION,
        "extra": _jsonable(extra or {}),
    }


def save_instance(instance: Any, path: str, overwrite: bool = False) -> None:
    fs, target = filesystem(path)
    if fs.exists(target) and not overwrite:
        raise PersistenceError(f"path '{path}' already exists; to replace it use "
                               "write().overwrite().save(path)")
    arrays, extra = instance._save_data() if hasattr(instance, "_save_data") else ({}, {})
    tmp = f"{target.rstrip('/')}.distml-tmp-{uuid.uuid4().hex[:12]}"
    try:
        fs.write_bytes(_join(tmp, "metadata", "part-00000"),
                       (json.dumps(metadata_of(instance, extra)) + "\n").encode())
        fs.write_bytes(_join(tmp, "metadata", "_SUCCESS"), b"")
        for name, array in arrays.items():
            buf = io.BytesIO()
            np.save(buf, np.asarray(array), allow_pickle=False)
            fs.write_bytes(_join(tmp, "data", f"{name}.npy"), buf.getvalue())
        if hasattr(instance, "_save_children"):  # a pipeline's stages, inside the same tmp
            instance._save_children(tmp)
        if fs.exists(target):
            swap_into_place(fs, tmp, target)
        else:
            fs.rename(tmp, target)
    except BaseException:
        try:
            if fs.exists(tmp):
                fs.delete(tmp)
        finally:
            raise


def raw_metadata(path: str) -> dict:
    """The metadata JSON of a saved stage, distml's or pyspark.ml's (Spark 4 names its file
    part-00000-<id>-c000.txt, distml part-00000)."""
    fs, target = filesystem(path)
    meta_dir = _join(target, "metadata")
    parts = [f for f in fs.listdir(meta_dir) if f.startswith("part-")] \
        if fs.exists(meta_dir) else []
    if not parts:
        raise PersistenceError(f"'{path}' holds no saved distml or pyspark.ml stage "
                               "(no metadata/part-*)")
    return json.loads(fs.read_bytes(_join(meta_dir, sorted(parts)[0])).decode().splitlines()[0])


def read_metadata(path: str) -> dict:
    meta = raw_metadata(path)
    version = meta.get("formatVersion")
    if version is None:
        raise PersistenceError(f"'{path}' was not saved by distml (metadata has no "
                               "formatVersion); load it with the library that saved it")
    if version > FORMAT_VERSION:
        raise PersistenceError(
            f"'{path}' was saved by distml {meta.get('distmlVersion')} in format {version}; "
            f"this distml reads formats up to {FORMAT_VERSION}: upgrade distml "
            "(pip install -U distml) to load it")
    return meta


def saved_class(name: str, path: str, expected: type | None = None) -> type:
    """The distml class a save names, found among the classes distml defines (no import)."""
    cls = _distml_classes().get(name)
    if cls is None:
        raise PersistenceError(f"'{path}' holds a {name}, which is not a distml class this "
                               "version has; distml loads only its own classes")
    if expected is not None and not issubclass(cls, expected):
        raise PersistenceError(f"'{path}' holds a {name}, not a {expected.__name__}")
    return cls


def _distml_classes() -> dict[str, type]:
    """Every persistable class defined in a loaded distml module, by its saved name."""
    from pyspark.ml.param import Params

    from importlib import import_module
    # The package namespaces are lazy (distml.lazy): resolving every public name imports the
    # module of every class a model may have saved.
    for package in ("distml", "distml.algorithms.classification", "distml.algorithms.clustering",
                    "distml.algorithms.decomposition", "distml.algorithms.regression",
                    "distml.algorithms.tree", "distml.pipeline.feature", "distml.pipeline.stat"):
        namespace = import_module(package)
        for name in namespace.__all__:
            getattr(namespace, name)
    found = {}
    for module_name, module in list(sys.modules.items()):
        if module is None or not (module_name == "distml" or module_name.startswith("distml.")):
            continue
        for value in list(vars(module).values()):
            if (isinstance(value, type) and issubclass(value, Params)
                    and value.__module__.startswith("distml.")):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return found


def load_instance(path: str, expected: type | None = None) -> Any:
    meta = read_metadata(path)
    cls = saved_class(str(meta.get("class")), path, expected)
    instance = cls()
    instance._resetUid(meta["uid"])
    for key, setter in (("defaultParamMap", instance._setDefault), ("paramMap", instance._set)):
        values = {k: v for k, v in meta.get(key, {}).items() if instance.hasParam(k)}
        setter(**values)
    if hasattr(instance, "_load_data"):
        fs, target = filesystem(path)
        data_dir = _join(target, "data")
        arrays = {}
        if fs.exists(data_dir):
            for fname in fs.listdir(data_dir):
                if fname.endswith(".npy"):
                    arrays[fname[:-4]] = np.load(io.BytesIO(fs.read_bytes(_join(data_dir, fname))),
                                                 allow_pickle=False)
        instance._load_data(arrays, meta.get("extra", {}))
    if hasattr(instance, "_load_children"):
        instance._load_children(path, meta)
    return instance


class DistmlWriter(MLWriter):
    """``instance.write().overwrite().save(path)``; needs no SparkSession for local paths."""

    def __init__(self, instance: Any):
        super().__init__()
        self.instance = instance
        self._format = "internal"

    def format(self, source: str) -> "DistmlWriter":
        """pyspark.ml's GeneralMLWriter.format: "internal" (the default) writes distml's
        layout; another format (such as "pmml") is written by the model's pyspark.ml twin
        (``toMLlib()``), which is what knows it."""
        if source != "internal" and not hasattr(self.instance, "toMLlib"):
            raise PersistenceError(f"{type(self.instance).__name__} saves in distml's own "
                                   f"format only; format '{source}' needs a pyspark.ml twin")
        self._format = source
        return self

    def save(self, path: str) -> None:
        if not isinstance(path, str):
            raise TypeError(f"path should be a string, got {type(path).__name__}")
        if self._format != "internal":
            writer = self.instance.toMLlib().write().format(self._format)
            (writer.overwrite() if self.shouldOverwrite else writer).save(path)
            return
        save_instance(self.instance, path, overwrite=self.shouldOverwrite)

    def saveImpl(self, path: str) -> None:
        save_instance(self.instance, path, overwrite=True)


class DistmlReader(MLReader):
    def __init__(self, cls: type):
        super().__init__()
        self.cls = cls

    def load(self, path: str) -> Any:
        return load_instance(path, expected=self.cls)
