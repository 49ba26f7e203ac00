"""Runs training programs over partitions: LocalEngine, BarrierEngine, GangEngine,
JobsEngine, and FrameJobsEngine (the jobs engine for a Spark Connect client).

The primitives a program may call on ``ctx`` (``distml.engine.context.Context``):
``map_reduce(fn, *args, op)``, ``map_collect(fn, *args)``, ``map_update(fn, *args, op)``,
``repartition(fn, into)`` and ``report(**metrics)``. The data reaches the engines through
``distml.frames``.

The names below load on first use (``distml.lazy``): ``distml.frames`` builds partitions with
``engine.partition`` while the engines read through ``distml.frames``, and an eager package
would make that a circular import.
"""
from distml.lazy import lazy_namespace

__getattr__, __dir__, __all__ = lazy_namespace(__name__, {
    ".context": ["Context", "FitResult", "InputSummary"], ".local": ["LocalEngine"],
    ".partition": ["Partition"], ".fit": ["fit_program"]})
