"""LocalEngine: partitions held in this process, ``fn`` run on each in a thread of its own.

numpy, scipy and numba release the GIL in their kernels, so threads give real parallelism
without copying the data to worker processes. Unit tests use this engine (no JVM).
"""
from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable

from distml import frames
from distml.engine import resident
from distml.engine.combine import check_op, fold
from distml.engine.context import (Context, FitResult, Program, Recovery, merge_pieces, run_program,
                                   split_by_destination)
from distml.engine.partition import Partition
from distml.frames import InputSpec


class LocalContext(Context):
    def __init__(self, partitions: list[Partition], num_threads: int,
                 recovery: Recovery | None = None):
        super().__init__(recovery)
        self.partitions = partitions
        self.num_partitions = len(partitions)
        self._pool = ThreadPoolExecutor(max_workers=max(1, num_threads))

    def _map(self, fn: Callable, args: tuple) -> list:
        if self.num_partitions == 1:
            return [fn(self.partitions[0], *args)]
        return list(self._pool.map(lambda p: fn(p, *args), self.partitions))

    def map_reduce(self, fn, *args, op="sum"):
        check_op(op)
        return fold(self._map(fn, args), op)

    def map_collect(self, fn, *args):
        return self._map(fn, args)

    def map_update(self, fn, *args, op="sum"):
        check_op(op)
        results = self._map(fn, args)
        return None if all(r is None for r in results) else fold(results, op)

    def repartition(self, fn, into):
        pieces = self._map(lambda p: split_by_destination(p, fn, self.num_partitions), ())
        for dest, part in enumerate(self.partitions):
            part.state[into] = merge_pieces([pieces[src][dest]
                                             for src in range(self.num_partitions)])

    def close(self) -> None:
        self._pool.shutdown(wait=False)


class LocalEngine:
    """Runs a program over in-process partitions: a list of ``Partition``; a pandas DataFrame's
    rows in ``num_workers`` contiguous ranges (0: the cores); or a Spark DataFrame's own
    partitions, converted on the executors and collected (so a local fit of Spark data gives the
    other engines' bits)."""

    def __init__(self, num_workers: int = 0):
        self.num_workers = num_workers

    def fit(self, program: Program, params: dict, frame: Any, spec: Any,
            recovery: Recovery | None = None) -> FitResult:
        spec = spec if isinstance(spec, InputSpec) else InputSpec(spec)
        partitions, reused = self._partitions(frame, spec)
        ctx = LocalContext(partitions, min(len(partitions), os.cpu_count() or 1), recovery)
        try:
            result = run_program(program, ctx, params, spec.features_name)
        finally:
            ctx.close()
        result.resident = reused
        return result

    def _partitions(self, frame: Any, spec: InputSpec) -> tuple[list[Partition], bool]:
        """The partitions, and whether they are resident ones (``engine.resident``)."""
        if isinstance(frame, list):
            return frame, False
        data = frames.of(frame)
        key = resident.key_of(data, spec, self.num_workers, "local")
        held = resident.local_partitions(key)
        if held is not None:
            return held, True
        parts = data.read_partitions(spec, self.num_workers)
        if key is None:
            return parts, False
        return resident.keep_local(key, parts, resident.limit_bytes(data.session)), False
