"""Files through a Spark Connect session: Spark's own readers and writers, run by the server.

A Connect client has no py4j, so Hadoop's FileSystem (``frames.hadoop_fs``) is out of reach,
and the client's disk is not the cluster's: a path names the cluster's storage, as pyspark.ml's
saves over Connect do. What Spark offers there sets what this class can do:

- reading: the ``binaryFile`` source gives any file's bytes (distml's ``.npy`` arrays, JSON,
  Parquet parts), whoever wrote them; one Spark job per folder, not per file;
- writing: datasets, not files: text for metadata (pyspark.ml's own Connect writer does the
  same) and Parquet for arrays, each through Spark's commit protocol;
- deleting: pyspark.ml's Connect helper (``handleOverwrite``, the server's FileSystem).

There is no rename, so a save over Connect cannot be written beside its target and swapped in
(``can_rename`` tells callers): it is written in place and removed if it fails.
"""
from __future__ import annotations

import os
from typing import Any

import pandas as pd


class ConnectFileSystem:
    can_rename = False

    def __init__(self, spark: Any):
        self._spark = spark

    def exists(self, p: str) -> bool:
        return self._listing(p) is not None

    def is_folder(self, p: str) -> bool:
        """False only where ``p`` lists as one file, itself (a folder lists what is in it)."""
        listing = self._listing(p, recursive=False)
        rows = [] if listing is None else listing.select("path").limit(2).collect()
        if len(rows) != 1 or not rows[0]["path"].endswith(p.rstrip("/")):
            return True
        # One file whose path ends as p does: p itself, or a folder p holding one file of its
        # own name (p/model in p = model), the one whose p/<name> exists.
        return self._listing(p.rstrip("/") + "/" + os.path.basename(rows[0]["path"]),
                             recursive=False) is not None

    def read_files(self, p: str) -> dict[str, bytes]:
        """{name: bytes} of the visible files directly in folder ``p`` ({} when it is
        missing); hidden ones (``_SUCCESS``, ``.crc``) are Spark's bookkeeping."""
        listing = self._listing(p, recursive=False)
        if listing is None:
            return {}
        rows = listing.select("path", "content").collect()
        return {os.path.basename(r["path"]): bytes(r["content"]) for r in rows}

    def listdir(self, p: str) -> list[str]:
        """The visible files under ``p``."""
        listing = self._listing(p, recursive=False)
        return [] if listing is None else sorted(
            os.path.basename(r["path"]) for r in listing.select("path").collect())

    def remove_empty_dir(self, p: str) -> None:
        if self.exists(p) and not self.listdir(p):
            self.delete(p)

    def read_bytes(self, p: str) -> bytes:
        """A file's bytes, or a one-file dataset's (what ``write_text`` makes)."""
        listing = self._listing(p)
        rows = [] if listing is None else listing.select("content").limit(2).collect()
        if len(rows) != 1:
            from distml.errors import PersistenceError
            raise PersistenceError(f"'{p}' is not one file or a dataset of one file "
                                   f"({'missing' if listing is None else f'{len(rows)}+ files'})")
        return bytes(rows[0]["content"])

    def write_text(self, p: str, text: str) -> None:
        """``text`` (one line) as a text dataset of one part at ``p``."""
        (self._spark.createDataFrame([(text,)], schema="value string").coalesce(1)
         .write.mode("error").text(p))

    def write_table(self, p: str, table: pd.DataFrame, schema: str) -> None:
        """``table`` as a Parquet dataset of one part at ``p``."""
        (self._spark.createDataFrame(table, schema=schema).coalesce(1)
         .write.mode("error").parquet(p))

    def write_dataframe(self, df: Any, p: str, overwrite: bool) -> None:
        df.write.mode("overwrite" if overwrite else "error").parquet(p)

    def delete(self, p: str) -> None:
        from pyspark.ml.util import ML_CONNECT_HELPER_ID
        from pyspark.ml.wrapper import JavaWrapper
        # The server's FileSystem removes the path if it is there (pyspark.ml's own overwrite).
        JavaWrapper(java_obj=ML_CONNECT_HELPER_ID)._call_java("handleOverwrite", p, True)

    def _listing(self, p: str, recursive: bool = True):
        """The binaryFile DataFrame over ``p``, or None when ``p`` does not exist."""
        from pyspark.errors import AnalysisException
        # recursiveFileLookup also turns off partition discovery, which would read a model's
        # metadata/ and data/ folders as conflicting partition layouts.
        reader = self._spark.read.format("binaryFile")
        if recursive:
            reader = reader.option("recursiveFileLookup", "true")
        df = reader.load(p)
        try:
            df.columns  # analysis: Spark checks the path here
        except AnalysisException as e:
            if e.getCondition() == "PATH_NOT_FOUND":
                return None
            raise
        return df
