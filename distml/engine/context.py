"""What a training program sees: the partition-parallel primitives, the same on every engine.

A program is a plain function ``program(ctx, params) -> dict of arrays``: a driver loop that
touches data only through ``ctx``. LocalEngine runs ``fn`` over in-process partitions,
BarrierEngine runs the loop on every rank in lock-step with TCP collectives, JobsEngine runs the
loop on the driver with one Spark job per primitive. Whatever the engine, per-partition results
are folded in partition order (``combine.fold``), so the bits are the same.
"""
from __future__ import annotations

import hashlib
import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol, runtime_checkable

import numpy as np
import scipy.sparse as sp

from distml.engine.checkpoint import Checkpoint
from distml.engine.partition import Partition, concat_rows
from distml.errors import DataError, ParamError

log = logging.getLogger("distml")

Program = Callable[["Context", dict], dict]


@dataclass
class InputSummary:
    """What every program may rely on, checked across all partitions before it starts."""

    num_rows: int
    num_features: int
    is_sparse: bool
    rows_per_partition: list[int]
    # A hash of every partition's bytes in partition order (``input_fingerprint``): whether a
    # checkpoint is of this input. Taken only when the fit checkpoints or resumes.
    fingerprint: str = ""
    # Where each rank's kernels run ("numpy:cpu", "mxnet:gpu(0)"), for programs whose params
    # name an array ``backend``; empty for the others.
    devices: list = field(default_factory=list)


@dataclass
class Recovery:
    """One attempt of a fit, as its context sees it: checkpoint every ``interval`` iterations
    (<= 0: never) through ``save(checkpoint)``, resume from ``resume``, and the test hook's
    failure (``engine.faults``)."""

    interval: int = 0
    save: Callable[[Checkpoint], None] | None = None
    resume: Checkpoint | None = None
    explicit: bool = False   # the user named it (resumeFrom): other input is an error
    attempt: int = 0
    location: str = ""       # where the checkpoints are, for messages

    @property
    def checkpoints(self) -> bool:
        return self.interval > 0 and self.save is not None

    @property
    def fingerprints(self) -> bool:
        """Whether the input's fingerprint is needed (to write or to check a checkpoint)."""
        return self.checkpoints or self.resume is not None


@dataclass
class FitResult:
    values: dict
    history: list = field(default_factory=list)
    summary: InputSummary | None = None
    resumed_from: int | None = None  # the checkpoint's iteration, when the program resumed
    notes: list = field(default_factory=list)  # how the fit recovered, for the driver's log
    restarted: str | None = None  # why a checkpoint found was not resumed, for the log
    resident: bool = False  # the rows came from resident partitions: nothing was ingested
    engine: str = ""  # which engine ran it ("local", "barrier", "gang", "jobs")
    checkpoint_files: list = field(default_factory=list)  # kept after the fit (keep_last)
    memory: list = field(default_factory=list)  # each rank's RankMeter.report, where measured


@runtime_checkable
class Engine(Protocol):
    """What runs a program: LocalEngine (threads in this process), BarrierEngine (one Spark
    barrier stage, TCP collectives), JobsEngine (a Spark job per round). ``frame`` is the data
    (a Spark or pandas DataFrame; LocalEngine also takes a list of ``Partition``), ``spec`` the
    columns the program reads, ``recovery`` this attempt's checkpoint settings."""

    def fit(self, program: Program, params: dict, frame: Any, spec: Any,
            recovery: Recovery | None = None) -> FitResult:
        ...


class Context(ABC):
    """The primitives a training program may call. See ``distml/engine/__init__.py``."""

    num_partitions: int

    def __init__(self, recovery: Recovery | None = None) -> None:
        self.history: list[dict] = []
        self.input: InputSummary | None = None
        self.recovery = recovery or Recovery()
        self.iteration = 0  # the last iteration the program reported
        self.resumed_from: int | None = None
        self.notes: list[str] = []
        self.restarted: str | None = None

    @abstractmethod
    def map_reduce(self, fn: Callable, *args: Any, op: Any = "sum") -> Any:
        """``fn(partition, *args)`` on every partition, results folded with ``op``."""

    @abstractmethod
    def map_collect(self, fn: Callable, *args: Any) -> list:
        """``fn(partition, *args)`` on every partition, results listed in partition order."""

    @abstractmethod
    def map_update(self, fn: Callable, *args: Any, op: Any = "sum") -> Any:
        """Like map_reduce, and ``fn`` may change ``partition.state`` for later rounds.

        ``fn`` may return None when the round has nothing to combine.
        """

    @abstractmethod
    def repartition(self, fn: Callable, into: str) -> None:
        """A second view of the rows grouped by key.

        ``fn(partition)`` returns ``(keys, columns)``: non-negative integer keys, one per row,
        and a dict of row-aligned arrays. Rows go to partition ``key % num_partitions``; there
        ``partition.state[into]`` becomes a dict of the received columns (plus ``"key"``),
        concatenated in source-partition order, row order kept within each source.
        """

    def partition_shapes(self, with_fingerprint: bool, backend: str | None) -> list[tuple]:
        """Each partition's ((rows, features, sparse), digest, device), in partition order:
        what ``describe_input`` checks. One round; an engine that learnt them while taking
        in the rows (the jobs engine's conversion) answers without one."""
        return self.map_collect(partition_shape, with_fingerprint, backend)

    def report(self, **metrics: Any) -> None:
        """Record one round's progress (iteration, loss, ...) in the fit's history, and pass
        it to the driver's progress listeners while the fit runs (``engine.progress``)."""
        entry = {k: (v.item() if isinstance(v, np.generic) else v) for k, v in metrics.items()}
        if "iteration" in entry:
            self.iteration = int(entry["iteration"])
        self.history.append(entry)
        log.debug("distml progress: %s", entry)
        self._emit(entry)

    def _emit(self, entry: dict) -> None:
        """Where the loop runs on the driver (local and jobs engines): deliver at once."""
        from distml.engine.progress import deliver
        deliver(entry)

    # checkpoints ------------------------------------------------------------------------------
    def resume(self) -> dict | None:
        """The state dict of the checkpoint this fit resumes from, or None to start afresh.

        A program calls this once, after its setup rounds (which rebuild the partition state
        from the data) and before its loop, and continues from the returned state's iteration.
        A checkpoint written by another number of ranks, or for other input (a different hash
        of the partitions' bytes), is not used: the fit starts afresh and the driver logs why,
        or, when the user named the checkpoint (``resumeFrom``), the fit fails saying why.
        """
        checkpoint = self.recovery.resume
        if checkpoint is None:
            return None
        where = self.recovery.location
        why = None
        if checkpoint.ranks != self.num_partitions:
            why = (f"the checkpoint at '{where}' was written by {checkpoint.ranks} ranks, this "
                   f"attempt has {self.num_partitions}")
        elif checkpoint.fingerprint != self.input.fingerprint:
            why = (f"the checkpoint at '{where}' was written for other input (its bytes "
                   "differ)")
        if why is not None:
            if self.recovery.explicit:
                raise ParamError(f"resumeFrom: {why}")
            return self._restart(why)
        self.iteration = self.resumed_from = checkpoint.iteration
        return checkpoint.state

    def _restart(self, why: str) -> None:
        self.restarted = why  # logged by the driver
        return None

    def checkpoints_at(self, iteration: int) -> bool:
        """Whether ``checkpoint`` saves after ``iteration`` (a multiple of checkpointInterval):
        a program whose state lives in the partitions gathers it first, on every rank."""
        recovery = self.recovery
        return recovery.checkpoints and iteration % recovery.interval == 0

    def checkpoint(self, iteration: int, state: Callable[[], dict]) -> None:
        """Save ``state()`` as the state after ``iteration``, if that is a checkpoint iteration
        (``checkpoints_at``). ``state`` is called only then, on one rank."""
        if not self.checkpoints_at(iteration):
            return
        if self._writes():
            self.recovery.save(Checkpoint(iteration, self.num_partitions,
                                          self.input.fingerprint, state()))
        self._checkpointed()

    def _writes(self) -> bool:
        """Whether this copy of the loop writes checkpoints (one copy does, on any engine)."""
        return True

    def _checkpointed(self) -> None:
        """After a checkpoint: where copies of the loop run apart, they wait for it here."""


def run_program(program: Program, ctx: Context, params: dict, features_name: str) -> FitResult:
    """Check the input across partitions, then run the program; the same on every engine."""
    ctx.input = describe_input(ctx, features_name, params.get("backend"))
    values = program(ctx, params)
    if not isinstance(values, dict):
        raise TypeError(f"a training program must return a dict of arrays, got {type(values)}")
    return FitResult(values=values, history=list(ctx.history), summary=ctx.input,
                     resumed_from=ctx.resumed_from, notes=list(ctx.notes),
                     restarted=ctx.restarted)


def partition_shape(part: Partition, with_fingerprint: bool, backend: str | None) -> tuple:
    known = part.num_rows > 0 or part.X.shape[1] > 0
    shape = (part.num_rows, part.num_features if known else -1, part.is_sparse)
    return shape, (part.fingerprint() if with_fingerprint else ""), _device(backend)


def _device(backend: str | None) -> str:
    if backend is None:
        return ""
    from distml.gpu.backend import rank_backend
    chosen = rank_backend(backend)
    return f"{chosen.name}:{chosen.device}"


def input_fingerprint(digests: list[str]) -> str:
    """The input's fingerprint: a hash of every partition's digest, in partition order."""
    return hashlib.sha256("".join(digests).encode()).hexdigest()


def _fix_empty(part: Partition, num_features: int, is_sparse: bool) -> None:
    if part.num_rows == 0 and part.X.shape[1] != num_features:
        part.X = (sp.csr_matrix((0, num_features)) if is_sparse
                  else np.zeros((0, num_features)))


def describe_input(ctx: Context, features_name: str, backend: str | None = None) -> InputSummary:
    described = ctx.partition_shapes(ctx.recovery.fingerprints, backend)
    shapes = [shape for shape, _, _ in described]
    rows = [s[0] for s in shapes]
    total = sum(rows)
    if total == 0:
        raise DataError(f"the input has 0 rows: nothing to fit on column '{features_name}'")
    widths = sorted({s[1] for s in shapes if s[1] >= 0})
    if len(widths) > 1:
        raise DataError(
            f"column '{features_name}' holds vectors of different lengths "
            f"({', '.join(map(str, widths))}) in different partitions")
    sparse = any(s[2] for s in shapes if s[0] > 0)
    fingerprint = input_fingerprint([d for _, d, _ in described]) \
        if ctx.recovery.fingerprints else ""
    devices = [device for _, _, device in described] if backend is not None else []
    summary = InputSummary(total, widths[0], sparse, rows, fingerprint, devices)
    if any(s[0] == 0 for s in shapes) or len({s[2] for s in shapes}) > 1:
        ctx.map_update(_fix_empty, summary.num_features, sparse)
    return summary


# --- repartition helpers shared by the engines -------------------------------------------------

def _take(a: Any, idx: np.ndarray) -> Any:
    return a[idx]


def split_by_destination(part: Partition, fn: Callable, num_partitions: int) -> list[dict]:
    """Apply the repartition ``fn`` and cut its rows into one piece per destination."""
    keys, columns = fn(part)
    keys = np.asarray(keys)
    if keys.ndim != 1 or not np.issubdtype(keys.dtype, np.integer):
        raise TypeError("repartition keys must be a 1-d integer array")
    if keys.size and keys.min() < 0:
        raise ValueError("repartition keys must be non-negative")
    for name, col in columns.items():
        if col.shape[0] != keys.shape[0]:
            raise ValueError(f"repartition column {name!r} has {col.shape[0]} rows, keys "
                             f"have {keys.shape[0]}")
    dest = keys % num_partitions
    order = np.argsort(dest, kind="stable")
    bounds = np.concatenate(([0], np.cumsum(np.bincount(dest, minlength=num_partitions))))
    del dest  # (issue 25: one row-length temporary fewer while the pieces are cut)
    pieces = []
    for d in range(num_partitions):
        idx = order[bounds[d]:bounds[d + 1]]
        piece = {"key": keys[idx]}
        piece.update({name: _take(col, idx) for name, col in columns.items()})
        pieces.append(piece)
    return pieces


def merge_pieces(pieces: list[dict]) -> dict:
    """Concatenate the pieces a partition received, in source-partition order. A column's
    pieces are taken out of them once it is merged, so the merge holds the received rows once
    plus one merged column, not twice over (issue 25); the pieces are left empty."""
    merged = {}
    for name in list(pieces[0]):
        merged[name] = concat_rows([p[name] for p in pieces])
        for p in pieces:
            del p[name]
    return merged
