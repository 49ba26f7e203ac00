"""Bytes to and from local files, or any Hadoop filesystem (s3a://, hdfs://, gs://) through the
driver's JVM.

Saving a model to object storage is what cluster users do; Hadoop's FileSystem already knows
every scheme and credential the cluster is configured for, so distml borrows it rather than
depending on boto3 and friends.
"""
from __future__ import annotations

import os
import shutil

from pyspark.sql import SparkSession

from distml.errors import PersistenceError


class HadoopFileSystem:
    def __init__(self, path: str):
        spark = SparkSession.getActiveSession()
        if spark is None:
            raise PersistenceError(f"'{path}' is not a local path: reading or writing it needs "
                                   "an active SparkSession (its Hadoop filesystem)")
        self._jvm = spark._jvm
        conf = spark._jsc.hadoopConfiguration()
        self._fs = self._path(path).getFileSystem(conf)

    def _path(self, p: str):
        return self._jvm.org.apache.hadoop.fs.Path(p)

    def exists(self, p: str) -> bool:
        return bool(self._fs.exists(self._path(p)))

    def write_bytes(self, p: str, data: bytes) -> None:
        out = self._fs.create(self._path(p), True)
        try:
            out.write(bytearray(data))
        finally:
            out.close()

    def read_bytes(self, p: str) -> bytes:
        stream = self._fs.open(self._path(p))
        try:
            return bytes(self._jvm.org.apache.commons.io.IOUtils.toByteArray(stream))
        finally:
            stream.close()

    def listdir(self, p: str) -> list[str]:
        return sorted(s.getPath().getName() for s in self._fs.listStatus(self._path(p)))

    def rename(self, src: str, dst: str) -> None:
        if not self._fs.rename(self._path(src), self._path(dst)):
            raise PersistenceError(f"could not rename '{src}' to '{dst}'")

    def delete(self, p: str) -> None:
        self._fs.delete(self._path(p), True)


class LocalFileSystem:
    def exists(self, p: str) -> bool:
        return os.path.exists(p)

    def write_bytes(self, p: str, data: bytes) -> None:
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)

    def read_bytes(self, p: str) -> bytes:
        with open(p, "rb") as f:
            return f.read()

    def listdir(self, p: str) -> list[str]:
        return sorted(os.listdir(p))

    def rename(self, src: str, dst: str) -> None:
        os.rename(src, dst)

    def delete(self, p: str) -> None:
        if os.path.isdir(p):
            shutil.rmtree(p)
        elif os.path.exists(p):
            os.remove(p)


def filesystem(path: str):
    """(filesystem, path as that filesystem names it)."""
    for prefix in ("file://", "file:"):
        if path.startswith(prefix):
            return LocalFileSystem(), path[len(prefix):]
    if "://" in path:
        from distml.engine.hadoop_fs import HadoopFileSystem
        return HadoopFileSystem(path), path
    return LocalFileSystem(), os.path.abspath(path)
