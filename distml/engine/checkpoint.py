"""Checkpoints of a training program's state: where they live, how they are written and read.

A fit's checkpoints are files ``iteration-00000010.ckpt`` in one directory of its own,
``<checkpoint dir>/<estimator>-<hash of its training params>``: the same estimator with the same
params finds its earlier checkpoints there (a manual resume is a fit with the same directory),
another fit never does. A file holds the iteration, the number of ranks that wrote it, a
fingerprint of the input (rows, features, value sums) and the program's state dict, pickled.

Writes are atomic: a temporary name in the same directory, then a rename, then the other files
are removed; a reader takes the highest complete iteration, so a fit killed mid-write leaves
the previous checkpoint usable. All file I/O happens on the driver: executors' Python workers
have no Hadoop client, and the driver has one through its JVM (``hadoop_fs``), so a checkpoint
directory may be ``hdfs://`` or ``s3a://`` like Spark's own. On the barrier engine rank 0
sends its state to the driver over the rendezvous connection it already holds; on the other
engines the loop runs on the driver and writes directly.
"""
from __future__ import annotations

import hashlib
import logging
import os
import pickle
import re
import tempfile
import uuid
from dataclasses import dataclass, field

from distml.engine.hadoop_fs import filesystem
from distml.errors import ParamError

log = logging.getLogger("distml")

DEFAULT_INTERVAL = 10  # MLlib's checkpointInterval; the measured cost is in benchmarks/
FILE_PATTERN = re.compile(r"^iteration-(\d{8})\.ckpt$")
# Params that may change between a fit and its resume without making the saved state wrong.
RESUMABLE_CHANGES = ("maxIter",)

_warned_local = False


@dataclass
class Checkpoint:
    """One saved state of a training program."""

    iteration: int
    ranks: int
    fingerprint: tuple
    state: dict = field(repr=False)

    def to_bytes(self) -> bytes:
        return pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL)


@dataclass
class CheckpointPlan:
    """What a fit does about checkpoints: how often, where, and what to resume from."""

    interval: int               # every this many iterations; <= 0: never
    directory: str | None       # this fit's own directory; None when not checkpointing
    resume: Checkpoint | None = None
    explicit: bool = False      # the user named the directory to resume from (resumeFrom)

    @property
    def enabled(self) -> bool:
        return self.interval > 0 and self.directory is not None


class CheckpointStore:
    """The checkpoint files of one fit, in one directory."""

    def __init__(self, directory: str):
        self.directory = directory
        self._fs, self._path = filesystem(directory)

    def _join(self, name: str) -> str:
        return f"{self._path.rstrip('/')}/{name}"

    def _complete(self) -> list[tuple[int, str]]:
        if not self._fs.exists(self._path):
            return []
        found = [(int(m.group(1)), name) for name in self._fs.listdir(self._path)
                 if (m := FILE_PATTERN.match(name))]
        return sorted(found)

    def write(self, iteration: int, data: bytes) -> None:
        """Atomically add the checkpoint of ``iteration`` (pickled), then drop the others
        (older ones, and any a fit that started afresh found of other input)."""
        final = self._join(f"iteration-{iteration:08d}.ckpt")
        tmp = self._join(f"_tmp-{iteration:08d}-{uuid.uuid4().hex[:12]}")
        self._fs.write_bytes(tmp, data)
        if self._fs.exists(final):
            self._fs.delete(final)
        self._fs.rename(tmp, final)
        for other, name in self._complete():
            if other != iteration:
                self._fs.delete(self._join(name))

    def latest(self) -> Checkpoint | None:
        complete = self._complete()
        if not complete:
            return None
        iteration, name = complete[-1]
        try:
            checkpoint = pickle.loads(self._fs.read_bytes(self._join(name)))
        except Exception as e:
            raise ParamError(f"the checkpoint '{self._join(name)}' cannot be read "
                             f"({type(e).__name__}: {e}); remove it to start afresh") from None
        if not isinstance(checkpoint, Checkpoint):
            raise ParamError(f"'{self._join(name)}' is not a distml checkpoint")
        return checkpoint

    def remove(self) -> None:
        if self._fs.exists(self._path):
            self._fs.delete(self._path)


def fit_directory(base: str, label: str, params: dict) -> str:
    """This fit's own directory under ``base``: the estimator's name and a hash of its training
    params, so the same fit finds its checkpoints and no other fit does."""
    items = sorted((k, v) for k, v in params.items() if k not in RESUMABLE_CHANGES)
    digest = hashlib.sha1(pickle.dumps(items, protocol=4)).hexdigest()[:16]
    return f"{base.rstrip('/')}/{label}-{digest}"


def checkpoint_base(spark, param_dir: str | None) -> str:
    """Where checkpoints go: Spark's checkpoint directory when set, else the param, else a
    temporary directory on the driver's machine (with a warning saying what it protects)."""
    if spark is not None:
        spark_dir = spark.sparkContext.getCheckpointDir()
        if spark_dir:  # Spark adds a directory per application; a resume may be another one
            return f"{spark_dir.rstrip('/').rsplit('/', 1)[0]}/distml"
    if param_dir:
        return param_dir
    global _warned_local
    if not _warned_local:
        _warned_local = True
        # The driver does all checkpoint I/O, so this protects a cluster fit against lost
        # executors too; what it cannot survive is losing the driver's machine.
        log.warning(
            "distml: neither SparkContext.setCheckpointDir nor the checkpointDir param is set, "
            "so fits checkpoint to a temporary directory on the driver's machine: a fit "
            "survives lost executors, but a resume after losing the driver needs a directory "
            "on shared storage (HDFS, S3)")
    return os.path.join(tempfile.gettempdir(), "distml-checkpoints")


def fingerprint_matches(saved: tuple, current: tuple) -> bool:
    """Same rows, features and layout, and value sums equal up to summation order."""
    if saved[:3] != current[:3]:
        return False
    return all(abs(a - b) <= 1e-9 * max(abs(a), abs(b), 1.0)
               for a, b in zip(saved[3:], current[3:]))
