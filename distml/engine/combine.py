"""Combining per-partition results: one fold in partition order, so every engine gets the same bits.

A result is an ndarray, a Python number, or a tuple/list/dict nesting of those. ``op`` is
"sum", "min" or "max", or a tuple/list/dict of ops matching the result's top level, so one
pass can return sums beside minima.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

_OPS = {"sum": np.add, "min": np.minimum, "max": np.maximum}


def check_op(op: Any) -> None:
    if isinstance(op, str):
        if op not in _OPS:
            raise ValueError(f"op must be one of {sorted(_OPS)}, got {op!r}")
        return
    if isinstance(op, dict):
        for v in op.values():
            check_op(v)
        return
    if isinstance(op, (tuple, list)):
        for v in op:
            check_op(v)
        return
    raise ValueError(f"op must be 'sum', 'min', 'max' or a tuple/dict of those, got {op!r}")


def _pair(a: Any, b: Any, op: Any) -> Any:
    if isinstance(a, dict):
        return {k: _pair(a[k], b[k], op[k] if isinstance(op, dict) else op) for k in a}
    if isinstance(a, (tuple, list)):
        ops = op if isinstance(op, (tuple, list)) else [op] * len(a)
        if len(a) != len(b) or len(ops) != len(a):
            raise ValueError("per-partition results differ in structure")
        return type(a)(_pair(x, y, o) for x, y, o in zip(a, b, ops))
    if a is None:
        return None
    if not isinstance(op, str):
        raise ValueError(f"op {op!r} does not match the result's structure")
    out = _OPS[op](a, b)
    return out


def fold(results: Sequence[Any], op: Any = "sum") -> Any:
    """Combine ``results`` (one per partition, in partition order) left to right."""
    if not results:
        raise ValueError("nothing to combine")
    acc = _copy(results[0])
    for r in results[1:]:
        acc = _pair(acc, r, op)
    return acc


def _copy(a: Any) -> Any:
    # The first partition's arrays may be views into its data; the fold must not alias them.
    if isinstance(a, np.ndarray):
        return a.copy()
    if isinstance(a, dict):
        return {k: _copy(v) for k, v in a.items()}
    if isinstance(a, (tuple, list)):
        return type(a)(_copy(v) for v in a)
    return a
