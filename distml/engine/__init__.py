"""Runs training programs over partitions: LocalEngine, BarrierEngine, JobsEngine.

The primitives a program may call on ``ctx`` (``distml.engine.context.Context``):
``map_reduce(fn, *args, op)``, ``map_collect(fn, *args)``, ``map_update(fn, *args, op)``,
``repartition(fn, into)`` and ``report(**metrics)``. Only this package imports pyspark.sql.
"""
from distml.engine.context import Context, FitResult, InputSummary
from distml.engine.local import LocalEngine
from distml.engine.partition import Partition
from distml.engine.fit import fit_program

__all__ = ["Context", "FitResult", "InputSummary", "LocalEngine", "Partition", "fit_program"]
