"""Files written by a rank itself, from an executor's Python worker.

The driver writes checkpoints through Hadoop's FileSystem (``frames.hadoop_fs``), but a Spark
Connect client is out of the ranks' reach, so there rank 0 writes them. An executor's Python
has no Hadoop client: a local path (a disk every executor mounts: NFS, EFS) is written as the
driver would write it (``LocalFileSystem``: private, synced, renamed), and object stores and
HDFS through pyarrow's filesystems (S3 with the machine's AWS credentials, GCS, HDFS where
libhdfs is installed). Hadoop's ``s3a://`` and ``s3n://`` name the same objects as pyarrow's
``s3://``.
"""
from __future__ import annotations

from distml.errors import ParamError
from distml.frames.hadoop_fs import LocalFileSystem

_HADOOP_SCHEMES = {"s3a": "s3", "s3n": "s3", "gs": "gs", "hdfs": "hdfs", "s3": "s3"}


def rank_filesystem(path: str):
    """(filesystem, path as it names it) for a rank to read and write ``path``."""
    for prefix in ("file://", "file:"):
        if path.startswith(prefix):
            return LocalFileSystem(), path[len(prefix):]
    if "://" not in path:
        return LocalFileSystem(), path
    scheme, rest = path.split("://", 1)
    if scheme not in _HADOOP_SCHEMES:
        raise ParamError(f"'{path}': a rank writes checkpoints only to a local path on storage "
                         f"every executor mounts, or to {sorted(set(_HADOOP_SCHEMES))}:// URIs")
    from pyarrow import fs
    arrow_fs, arrow_path = fs.FileSystem.from_uri(f"{_HADOOP_SCHEMES[scheme]}://{rest}")
    return ArrowFileSystem(arrow_fs), arrow_path


class ArrowFileSystem:
    """The part of ``hadoop_fs``'s filesystem interface that checkpoints use, over a pyarrow
    filesystem. Object stores have no permissions to set or durable syncs to ask for: a
    written object is whole once its upload completes."""

    can_rename = True

    def __init__(self, arrow_fs):
        self._fs = arrow_fs

    def _info(self, p: str):
        return self._fs.get_file_info(p)

    def exists(self, p: str) -> bool:
        from pyarrow import fs
        return self._info(p).type != fs.FileType.NotFound

    def write_bytes(self, p: str, data: bytes, private: bool = False,
                    durable: bool = False) -> None:
        with self._fs.open_output_stream(p) as out:
            out.write(data)

    def make_private_dir(self, p: str) -> None:
        self._fs.create_dir(p, recursive=True)

    def read_bytes(self, p: str) -> bytes:
        with self._fs.open_input_stream(p) as f:
            return f.read()

    def listdir(self, p: str) -> list[str]:
        from pyarrow import fs
        return sorted(i.base_name for i in self._fs.get_file_info(fs.FileSelector(p)))

    def rename(self, src: str, dst: str) -> None:
        self._fs.move(src, dst)

    def delete(self, p: str) -> None:
        from pyarrow import fs
        kind = self._info(p).type
        if kind == fs.FileType.Directory:
            self._fs.delete_dir(p)
        elif kind != fs.FileType.NotFound:
            self._fs.delete_file(p)

    def remove_empty_dir(self, p: str) -> None:
        if self.exists(p) and not self.listdir(p):
            self._fs.delete_dir(p)
