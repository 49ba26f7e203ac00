"""Bytes to and from local files, or any Hadoop filesystem (s3a://, hdfs://, gs://) through the
driver's JVM.

Saving a model to object storage is what cluster users do; Hadoop's FileSystem already knows
every scheme and credential the cluster is configured for, so distml borrows it rather than
depending on boto3 and friends. A path without a scheme means what it means to Spark: a path
on ``fs.defaultFS`` (HDFS on a YARN cluster), local only where that is ``file:``.
"""
from __future__ import annotations

import os
import shutil
import uuid

from pyspark.sql import SparkSession

from distml.engine.private_files import private_dir, sync_dir, write_private
from distml.errors import PersistenceError
from distml.frames.session import is_connect


class _ReadsFolders:
    def read_files(self, p: str) -> dict[str, bytes]:
        """{name: bytes} of the visible files directly in folder ``p`` ({} when it is
        missing); hidden ones (``_SUCCESS``, ``.crc``) are Spark's bookkeeping."""
        if not self.exists(p):
            return {}
        return {name: self.read_bytes(f"{p.rstrip('/')}/{name}") for name in self._file_names(p)
                if not name.startswith(("_", "."))}


class HadoopFileSystem(_ReadsFolders):
    can_rename = True

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

    def is_folder(self, p: str) -> bool:
        return bool(self._fs.getFileStatus(self._path(p)).isDirectory())

    def write_bytes(self, p: str, data: bytes, private: bool = False,
                    durable: bool = False) -> None:
        out = self._fs.create(self._path(p), True)
        try:
            out.write(bytearray(data))
            if durable:
                out.hsync()  # on the datanodes' disks before the rename makes it visible
        finally:
            out.close()
        if private:
            self._fs.setPermission(self._path(p), self._permission(0o600))

    def make_private_dir(self, p: str) -> None:
        self._fs.mkdirs(self._path(p), self._permission(0o700))

    def _permission(self, mode: int):
        return self._jvm.org.apache.hadoop.fs.permission.FsPermission(mode)

    def read_bytes(self, p: str) -> bytes:
        stream = self._fs.open(self._path(p))
        try:
            return bytes(self._jvm.org.apache.commons.io.IOUtils.toByteArray(stream))
        finally:
            stream.close()

    def listdir(self, p: str) -> list[str]:
        return sorted(s.getPath().getName() for s in self._fs.listStatus(self._path(p)))

    def _file_names(self, p: str) -> list[str]:
        return sorted(s.getPath().getName() for s in self._fs.listStatus(self._path(p))
                      if s.isFile())

    def rename(self, src: str, dst: str) -> None:
        if not self._fs.rename(self._path(src), self._path(dst)):
            raise PersistenceError(f"could not rename '{src}' to '{dst}'")

    def delete(self, p: str) -> None:
        self._fs.delete(self._path(p), True)

    def remove_empty_dir(self, p: str) -> None:
        if self.exists(p) and not self.listdir(p):
            self._fs.delete(self._path(p), False)


class LocalFileSystem(_ReadsFolders):
    can_rename = True

    def exists(self, p: str) -> bool:
        return os.path.exists(p)

    def is_folder(self, p: str) -> bool:
        return os.path.isdir(p)

    def write_bytes(self, p: str, data: bytes, private: bool = False,
                    durable: bool = False) -> None:
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if private or durable:
            if os.path.exists(p):
                os.remove(p)
            write_private(p, data, durable) if private else self._write_durable(p, data)
        else:
            with open(p, "wb") as f:
                f.write(data)

    @staticmethod
    def _write_durable(p: str, data: bytes) -> None:
        with open(p, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())

    def make_private_dir(self, p: str) -> None:
        if not os.path.isdir(p):  # an existing folder is the user's choice, left as it is
            private_dir(p)

    def read_bytes(self, p: str) -> bytes:
        with open(p, "rb") as f:
            return f.read()

    def listdir(self, p: str) -> list[str]:
        return sorted(os.listdir(p))

    def _file_names(self, p: str) -> list[str]:
        return [n for n in self.listdir(p) if os.path.isfile(os.path.join(p, n))]

    def rename(self, src: str, dst: str) -> None:
        os.rename(src, dst)
        sync_dir(os.path.dirname(dst) or ".")

    def remove_empty_dir(self, p: str) -> None:
        try:
            os.rmdir(p)
        except OSError:  # not empty (a user's own files), or gone already
            pass

    def delete(self, p: str) -> None:
        if os.path.isdir(p):
            shutil.rmtree(p)
        elif os.path.exists(p):
            os.remove(p)


def swap_into_place(fs, new: str, target: str) -> None:
    """Put ``new`` where ``target`` is, removing the old one only once the new one is there;
    if the swap fails, the old one is put back."""
    old = f"{target.rstrip('/')}.distml-old-{uuid.uuid4().hex[:12]}"
    fs.rename(target, old)
    try:
        fs.rename(new, target)
    except BaseException:
        fs.rename(old, target)
        raise
    fs.delete(old)


def filesystem(path: str):
    """(filesystem, path as that filesystem names it): local files, Hadoop's FileSystem
    through py4j, or Spark's readers and writers on a Spark Connect session
    (``frames.connect_fs``)."""
    spark = SparkSession.getActiveSession()
    if spark is not None and is_connect(spark):
        # Every path names the cluster's storage there (the client's disk is not the
        # cluster's), as it does for pyspark.ml's saves over Connect.
        from distml.frames.connect_fs import ConnectFileSystem
        return ConnectFileSystem(spark), path
    for prefix in ("file://", "file:"):
        if path.startswith(prefix):
            return LocalFileSystem(), path[len(prefix):]
    if "://" in path or _default_fs_is_hadoop():
        return HadoopFileSystem(path), path
    return LocalFileSystem(), os.path.abspath(path)


def _default_fs_is_hadoop() -> bool:
    """Whether the active session resolves scheme-less paths on a non-local filesystem."""
    spark = SparkSession.getActiveSession()
    if spark is None:
        return False
    default = spark._jsc.hadoopConfiguration().get("fs.defaultFS") or "file:///"
    return not default.startswith("file:")
