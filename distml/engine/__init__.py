"""Runs training programs over partitions: LocalEngine, BarrierEngine, JobsEngine.

The primitives a program may call on ``ctx`` (``distml.engine.context.Context``):
``map_reduce(fn, *args, op)``, ``map_collect(fn, *args)``, ``map_update(fn, *args, op)``,
``repartition(fn, into)`` and ``report(**metrics)``. The data reaches the engines through
``distml.frames``.

The names below load on first use (PEP 562): ``distml.frames`` builds partitions with
``engine.partition`` while the engines read through ``distml.frames``, and an eager package
would make that a circular import.
"""
from importlib import import_module

_EXPORTS = {"Context": "context", "FitResult": "context", "InputSummary": "context",
            "LocalEngine": "local", "Partition": "partition", "fit_program": "fit"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'distml.engine' has no attribute {name!r}")
    return getattr(import_module(f"distml.engine.{_EXPORTS[name]}"), name)
