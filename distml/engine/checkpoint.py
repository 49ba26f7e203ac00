"""Checkpoints of a training program's state: where they live, how they are written and read.

A fit's checkpoints are files ``iteration-00000010.ckpt`` in one directory of its own,
``<checkpoint dir>/<estimator>-<hash of its training params>``: the same estimator with the same
params finds its earlier checkpoints there (a manual resume is a fit with the same directory),
another fit never does. A file is an ``.npz`` archive read with ``allow_pickle=False``: the
state's arrays, and one JSON document with the state's structure and what the checkpoint
belongs to (the estimator, a hash of its params, distml's version, the number of ranks, a
fingerprint of the input's bytes). A resume uses a checkpoint only if all of those match.

Writes are atomic and durable: a private (0600) temporary file in the same directory, synced,
renamed into place, the directory synced, and only then are the older files removed; a reader
takes the newest file it can read, so a fit killed mid-write leaves the previous checkpoint
usable, and a damaged file is skipped with a warning. File I/O happens on the driver:
executors' Python workers have no Hadoop client, and the driver has one through its JVM
(``hadoop_fs``), so a checkpoint directory may be ``hdfs://`` or ``s3a://`` like Spark's own.
On the barrier engine rank 0 sends its state to the driver over the rendezvous connection it
already holds; on the other engines the loop runs on the driver and writes directly. From a
Spark Connect client, which ranks cannot reach, rank 0 writes them itself (``RankWriter``,
through ``frames.rank_fs``) into a directory every executor reaches, and the client reads
them through the server (``frames.connect_fs``).
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import tempfile
import uuid
import zipfile
from dataclasses import dataclass, field

import numpy as np

from distml.engine import wire
from distml.engine.private_files import private_dir, user_folder
from distml.frames.hadoop_fs import filesystem

log = logging.getLogger("distml")

DEFAULT_INTERVAL = 10  # MLlib's checkpointInterval; the measured cost is in benchmarks/
FORMAT = 2
FILE_PATTERN = re.compile(r"^iteration-(\d{8})\.ckpt$")
TMP_PATTERN = re.compile(r"^_tmp-\d{8}-[0-9a-f]{12}$")
# Params that may change between a fit and its resume without making the saved state wrong.
RESUMABLE_CHANGES = ("maxIter",)

_told_sessions: set = set()


@dataclass
class Checkpoint:
    """One saved state of a training program, and what it belongs to."""

    iteration: int
    ranks: int
    fingerprint: str          # ``context.input_fingerprint`` of the input it was written for
    state: dict = field(repr=False)
    owner: dict = field(default_factory=dict)  # estimator, params hash, distml version

    def to_wire(self) -> dict:
        return {"iteration": self.iteration, "ranks": self.ranks,
                "fingerprint": self.fingerprint, "state": self.state}

    @classmethod
    def from_wire(cls, msg: dict) -> "Checkpoint":
        return cls(int(msg["iteration"]), int(msg["ranks"]), str(msg["fingerprint"]),
                   dict(msg["state"]))

    def to_bytes(self) -> bytes:
        description, arrays = wire.encode(self.state)
        meta = {"format": FORMAT, "iteration": self.iteration, "ranks": self.ranks,
                "fingerprint": self.fingerprint, "owner": self.owner, "state": description}
        buf = io.BytesIO()
        np.savez(buf, __meta__=np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8),
                 **{f"a{i}": a for i, a in enumerate(arrays)})
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "Checkpoint":
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            meta = json.loads(npz["__meta__"].tobytes())
            if meta.get("format") != FORMAT:
                raise ValueError(f"checkpoint format {meta.get('format')}, not {FORMAT}")
            arrays = [npz[f"a{i}"] for i in range(len(npz.files) - 1)]
        return cls(int(meta["iteration"]), int(meta["ranks"]), str(meta["fingerprint"]),
                   wire.decode(meta["state"], arrays), dict(meta["owner"]))


def params_hash(params: dict) -> str:
    """A hash of every param that changes a fit's result (all but RESUMABLE_CHANGES)."""
    kept = {k: v for k, v in params.items() if k not in RESUMABLE_CHANGES}
    items = sorted(kept.items(), key=lambda kv: kv[0])
    return hashlib.sha256(wire.to_bytes([[k, v] for k, v in items])).hexdigest()


def owner_of(label: str, params: dict) -> dict:
    from distml import __version__
    return {"estimator": label, "params": params_hash(params), "version": __version__}


def owner_mismatch(saved: dict, current: dict) -> str | None:
    """Why a checkpoint written by ``saved`` does not belong to the fit ``current``, or None."""
    if saved.get("estimator") != current["estimator"]:
        return f"it was written by {saved.get('estimator')}, not {current['estimator']}"
    if saved.get("params") != current["params"]:
        return "it was written with other params (only maxIter may change on a resume)"
    if saved.get("version") != current["version"]:
        return (f"it was written by distml {saved.get('version')}, this is distml "
                f"{current['version']}")
    return None


class CheckpointStore:
    """The checkpoint files of one fit, in one directory; ``owner`` is stamped on each."""

    def __init__(self, directory: str, owner: dict | None = None, located=None):
        self.directory = directory
        self.owner = owner or {}
        self._fs, self._path = located or filesystem(directory)

    def writer(self):
        """What writes this fit's checkpoints: this store on the driver, or on a Spark Connect
        session, which the ranks cannot reach, rank 0 itself (``RankWriter``)."""
        from distml.frames.connect_fs import ConnectFileSystem
        if isinstance(self._fs, ConnectFileSystem):
            return RankWriter(self.directory, self.owner)
        return self.write

    def _join(self, name: str) -> str:
        return f"{self._path.rstrip('/')}/{name}"

    def _complete(self) -> list[tuple[int, str]]:
        if not self._fs.exists(self._path):
            return []
        found = [(int(m.group(1)), name) for name in self._fs.listdir(self._path)
                 if (m := FILE_PATTERN.match(name))]
        return sorted(found)

    def file_of(self, iteration: int) -> str:
        """The checkpoint file of ``iteration``, as a path or URI under ``directory``."""
        return f"{self.directory.rstrip('/')}/{_file_name(iteration)}"

    def write(self, checkpoint: Checkpoint) -> None:
        """Add the checkpoint durably (written, synced, renamed into place), then drop the
        other checkpoint files (older ones, and any a fit that started afresh found)."""
        checkpoint.owner = dict(self.owner)
        iteration = checkpoint.iteration
        self._fs.make_private_dir(self._path)
        final = self._join(_file_name(iteration))
        tmp = self._join(f"_tmp-{iteration:08d}-{uuid.uuid4().hex[:12]}")
        self._fs.write_bytes(tmp, checkpoint.to_bytes(), private=True, durable=True)
        if self._fs.exists(final):
            self._fs.delete(final)
        self._fs.rename(tmp, final)
        for other, name in self._complete():
            if other != iteration:
                self._fs.delete(self._join(name))

    def latest(self) -> Checkpoint | None:
        """The newest checkpoint that can be read; a damaged one is skipped with a warning."""
        for iteration, name in reversed(self._complete()):
            path = self._join(name)
            try:
                return Checkpoint.from_bytes(self._fs.read_bytes(path))
            except (OSError, ValueError, KeyError, TypeError, EOFError,
                    zipfile.BadZipFile) as e:
                log.warning("distml: the checkpoint '%s' cannot be read (%s: %s); it is "
                            "ignored", path, type(e).__name__, e)
        return None

    def remove(self) -> None:
        """Remove the files distml wrote here, then the directory if nothing else is in it."""
        if not self._fs.exists(self._path):
            return
        for name in self._fs.listdir(self._path):
            if FILE_PATTERN.match(name) or TMP_PATTERN.match(name):
                self._fs.delete(self._join(name))
        self._fs.remove_empty_dir(self._path)


class RankWriter:
    """Rank 0's checkpoint writer on a Spark Connect session: a plain value shipped with the
    task, writing through the executor's own filesystem client (``frames.rank_fs``), so the
    directory must be storage every executor reaches."""

    def __init__(self, directory: str, owner: dict):
        self.directory, self.owner = directory, owner

    def __call__(self, checkpoint: Checkpoint) -> None:
        from distml.frames.rank_fs import rank_filesystem
        CheckpointStore(self.directory, self.owner, rank_filesystem(self.directory)).write(
            checkpoint)


def fit_directory(base: str, label: str, params: dict) -> str:
    """This fit's own directory under ``base``: the estimator's name and a hash of its training
    params, so the same fit finds its checkpoints and no other fit does."""
    return f"{base.rstrip('/')}/{label}-{params_hash(params)[:16]}"


def checkpoint_base(spark, param_dir: str | None) -> str:
    """Where checkpoints go: Spark's checkpoint directory when set, else the param, else a
    private folder in the driver's temp dir (said once per session: at INFO on a local
    master, where the driver is all there is to lose; as a warning on a cluster)."""
    if spark is not None:
        spark_dir = spark.sparkContext.getCheckpointDir()
        if spark_dir:  # Spark adds a directory per application; a resume may be another one
            return f"{spark_dir.rstrip('/').rsplit('/', 1)[0]}/distml"
    if param_dir:
        return param_dir
    _tell_temporary(spark)
    return os.path.join(private_dir(user_folder(tempfile.gettempdir())), "checkpoints")


def _tell_temporary(spark) -> None:
    session = spark.sparkContext.applicationId if spark is not None else None
    if session in _told_sessions:
        return
    _told_sessions.add(session)
    master = spark.sparkContext.master if spark is not None else "local"
    if master.startswith("local"):
        log.info("distml: fits checkpoint to a private temporary folder on this machine "
                 "(set SparkContext.setCheckpointDir or checkpointDir to keep them elsewhere)")
        return
    # The driver does all checkpoint I/O, so this protects a cluster fit against lost
    # executors too; what it cannot survive is losing the driver's machine.
    log.warning(
        "distml: neither SparkContext.setCheckpointDir nor the checkpointDir param is set, "
        "so fits checkpoint to a temporary directory on the driver's machine: a fit "
        "survives lost executors, but a resume after losing the driver needs a directory "
        "on shared storage (HDFS, S3)")


def _file_name(iteration: int) -> str:
    return f"iteration-{iteration:08d}.ckpt"
