"""Save and load: a directory with ``metadata/part-00000`` (one JSON line) and ``data/*.npy``.

The layout is pyspark.ml's (DefaultParamsWriter's metadata, readable by
``DefaultParamsReader.loadMetadata``), so pyspark.ml's Pipeline persistence can hold distml
stages. A save writes to a temporary sibling and renames it into place, so a failed save
leaves nothing half-written at the target. Local paths need no Spark session; other schemes
go through the active session's Hadoop filesystem.

On a Spark Connect session (no py4j, no rename: ``frames.connect_fs``) Spark's own writers
write the save in place: the metadata as a text dataset (as pyspark.ml's writer does there)
and the arrays as Parquet rows of their ``.npy`` bytes, metadata last; a failed save is
removed. Loading reads either layout on either kind of session.

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
import pandas as pd
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
    exists = fs.exists(target)
    if exists and not overwrite:
        raise PersistenceError(f"path '{path}' already exists; to replace it use "
                               "write().overwrite().save(path)")
    arrays, extra = instance._save_data() if hasattr(instance, "_save_data") else ({}, {})
    metadata = json.dumps(metadata_of(instance, extra))
    if fs.can_rename:
        _save_beside_and_swap(fs, instance, target, exists, metadata, arrays)
    else:
        _save_in_place(fs, instance, target, exists, metadata, arrays)


def _save_beside_and_swap(fs, instance: Any, target: str, exists: bool, metadata: str,
                          arrays: dict) -> None:
    """Files written to a temporary sibling, renamed into place: a failed save leaves the
    target as it was."""
    tmp = f"{target.rstrip('/')}.distml-tmp-{uuid.uuid4().hex[:12]}"
    try:
        fs.write_bytes(_join(tmp, "metadata", "part-00000"), (metadata + "\n").encode())
        fs.write_bytes(_join(tmp, "metadata", "_SUCCESS"), b"")
        for name, array in arrays.items():
            fs.write_bytes(_join(tmp, "data", f"{name}.npy"), _npy_bytes(array))
        if hasattr(instance, "_save_children"):  # a pipeline's stages, inside the same tmp
            instance._save_children(tmp)
        if exists:
            swap_into_place(fs, tmp, target)
        else:
            fs.rename(tmp, target)
    except BaseException:
        try:
            if fs.exists(tmp):
                fs.delete(tmp)
        finally:
            raise


def _save_in_place(fs, instance: Any, target: str, exists: bool, metadata: str,
                   arrays: dict) -> None:
    """Datasets written by Spark at the target (Spark Connect: no rename). The metadata goes
    last, so a folder a failure leaves is no save; it is removed all the same."""
    if exists:
        fs.delete(target)
    try:
        if arrays:
            fs.write_table(_join(target, "data"), _array_rows(arrays), ARRAY_ROWS_SCHEMA)
        if hasattr(instance, "_save_children"):
            instance._save_children(target)
        fs.write_text(_join(target, "metadata"), metadata)
    except BaseException:
        try:
            fs.delete(target)
        finally:
            raise


# Arrays saved through Spark's writers are Parquet rows: each array's .npy bytes, cut in
# pieces (an Arrow binary column holds at most 2 GiB, a gRPC message much less).
ARRAY_ROWS_SCHEMA = "name string, piece int, npy binary"
_PIECE_BYTES = 32 << 20


def _npy_bytes(array: Any) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=False)
    return buf.getvalue()


def _array_rows(arrays: dict) -> pd.DataFrame:
    rows = []
    for name, array in arrays.items():
        data = _npy_bytes(array)
        rows += [(name, i, data[start:start + _PIECE_BYTES])
                 for i, start in enumerate(range(0, max(len(data), 1), _PIECE_BYTES))]
    return pd.DataFrame(rows, columns=["name", "piece", "npy"])


def _arrays_of(files: dict[str, bytes]) -> dict[str, np.ndarray]:
    """The arrays in a data folder's files: ``NAME.npy`` (a save by files) or Parquet parts
    of array rows (a save through Spark's writers)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    arrays, pieces = {}, {}
    for fname, data in files.items():
        if fname.endswith(".npy"):
            arrays[fname[:-4]] = np.load(io.BytesIO(data), allow_pickle=False)
        elif fname.endswith(".parquet"):
            table = pq.read_table(pa.BufferReader(data)).to_pydict()
            for name, piece, npy in zip(table["name"], table["piece"], table["npy"]):
                pieces.setdefault(name, {})[piece] = npy
    for name, parts in pieces.items():
        data = b"".join(parts[i] for i in sorted(parts))
        arrays[name] = np.load(io.BytesIO(data), allow_pickle=False)
    return arrays


def raw_metadata(path: str) -> dict:
    """The metadata JSON of a saved stage, distml's or pyspark.ml's (Spark 4 names its file
    part-00000-<id>-c000.txt, distml part-00000)."""
    fs, target = filesystem(path)
    parts = {f: data for f, data in fs.read_files(_join(target, "metadata")).items()
             if f.startswith("part-")}
    if not parts:
        raise PersistenceError(f"'{path}' holds no saved distml or pyspark.ml stage "
                               "(no metadata/part-*)")
    return json.loads(parts[min(parts)].decode().splitlines()[0])


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
        instance._load_data(_arrays_of(fs.read_files(_join(target, "data"))),
                            meta.get("extra", {}))
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
