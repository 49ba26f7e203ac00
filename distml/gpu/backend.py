"""Array backends: numpy on the CPU, or ``mxnet.numpy`` arrays on a rank's GPU (or CPU).

Kernels are written once. They take their namespace from the arrays they are given
(``namespace(X)``), create arrays beside them (``zeros``/``arange`` with the same device and
dtype: ``mxnet.numpy`` defaults to float32 and refuses to mix float32 with float64) and hand
numpy back (``to_numpy``), because the collectives exchange numpy arrays whatever the backend.
What ``mxnet.numpy`` 1.9.1 lacks (sparse matrices, ``linalg.qr``, ``digamma``) stays in numpy;
the kernel that needs it says so.
"""
from __future__ import annotations

import sys
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp

from distml.gpu.mxnet_import import import_mxnet, mxnet_installed, use_numpy_semantics
from distml.gpu.placement import Placement, choose_placement, spark_gpu_addresses, warn_once


class NumpyBackend:
    """The CPU backend: arrays stay as they are."""

    name = "numpy"
    device = "cpu"
    xp = np

    def asarray(self, a: Any) -> Any:
        return a

    def __repr__(self) -> str:
        return "NumpyBackend()"


class MXNetBackend:
    """``mxnet.numpy`` arrays on ``mx.gpu(gpu)``, or ``mx.cpu()`` when ``gpu`` is None."""

    name = "mxnet"

    def __init__(self, gpu: int | None = None):
        self.mx = import_mxnet()
        self.xp = self.mx.np
        self.ctx = self.mx.cpu() if gpu is None else self.mx.gpu(gpu)
        self.device = str(self.ctx)

    def asarray(self, a: Any) -> Any:
        """A copy of numpy array ``a`` on this backend's device, dtype kept (float64 stays)."""
        use_numpy_semantics(self.mx)
        a = np.ascontiguousarray(a)
        return self.xp.array(a, dtype=a.dtype, ctx=self.ctx)

    def __repr__(self) -> str:
        return f"MXNetBackend({self.device})"


NUMPY = NumpyBackend()


def is_mxnet_array(a: Any) -> bool:
    return type(a).__module__.startswith("mxnet")


def namespace(a: Any):
    """The array module of ``a``: ``mxnet.numpy`` for MXNet arrays, else numpy."""
    return sys.modules["mxnet"].np if is_mxnet_array(a) else np


def to_numpy(a: Any) -> Any:
    """``a`` as numpy (a no-op for numpy arrays, scalars and scipy matrices)."""
    return a.asnumpy() if is_mxnet_array(a) else a


def zeros(like: Any, shape: Any) -> Any:
    """Zeros of ``like``'s dtype on ``like``'s device."""
    if is_mxnet_array(like):
        return namespace(like).zeros(shape, dtype=like.dtype, ctx=like.ctx)
    return np.zeros(shape, dtype=like.dtype if hasattr(like, "dtype") else np.float64)


def beside(like: Any, a: np.ndarray) -> Any:
    """numpy array ``a`` on ``like``'s device, dtype kept (``a`` itself for numpy)."""
    if is_mxnet_array(like):
        return namespace(like).array(a, dtype=a.dtype, ctx=like.ctx)
    return a


def arange(like: Any, n: int) -> Any:
    """0..n-1 as integers on ``like``'s device."""
    if is_mxnet_array(like):
        return namespace(like).arange(n, dtype="int64", ctx=like.ctx)
    return np.arange(n)


_backends: dict[Placement, Any] = {}


def rank_backend(requested: str):
    """The backend this rank (task, or driver outside a task) computes on for ``requested``.

    "numpy" never looks for a GPU; "auto" and "mxnet" follow ``choose_placement``. When a
    GPU was wanted and cannot be used, one warning per process says why.
    """
    if requested == "numpy":
        return NUMPY
    placement = choose_placement(requested, spark_gpu_addresses(), mxnet_installed(),
                                 _visible_gpus)
    if placement.reason:
        runs_on = "MXNet on the CPU" if placement.backend == "mxnet" else "numpy"
        warn_once(f"backend={requested!r} runs {runs_on}: {placement.reason}")
    backend = _backends.get(placement)
    if backend is None:
        backend = NUMPY if placement.backend == "numpy" else MXNetBackend(placement.gpu)
        _backends[placement] = backend
    return backend


def _visible_gpus() -> int:
    return int(import_mxnet().context.num_gpus())


class PlacedRows(NamedTuple):
    """A partition's features, labels and weights on a backend, and that backend."""

    X: Any
    y: Any
    w: Any
    backend: Any


def place_rows(X: Any, y: Any, w: Any, requested: str) -> PlacedRows:
    """Copies of ``X, y, w`` on the rank's backend for ``requested``.

    CSR features stay in numpy: ``mxnet.numpy`` has no sparse matrices, and densifying could
    multiply the memory by the inverse of the density.
    """
    backend = rank_backend(requested)
    if backend is NUMPY:
        return PlacedRows(X, y, w, NUMPY)
    if sp.issparse(X):
        warn_once(f"backend={requested!r}: sparse features stay on numpy (mxnet.numpy has no "
                  "sparse matrices)")
        return PlacedRows(X, y, w, NUMPY)
    return PlacedRows(backend.asarray(X), None if y is None else backend.asarray(y),
                      None if w is None else backend.asarray(w), backend)


def partition_device(part: Any, requested: str) -> str:
    """Where this partition's kernels run, e.g. "numpy:cpu" or "mxnet:gpu(1)"; copies the
    rows to that device now, as the first kernel would."""
    placed = partition_rows(part, requested)
    return f"{placed.backend.name}:{placed.backend.device}"


def partition_rows(part: Any, requested: str) -> PlacedRows:
    """``place_rows`` of a partition's X, y and weights, copied to the device once per
    partition object (the barrier and local engines keep it across rounds)."""
    source, placed = part.device_cache.get(requested, (None, None))
    if source is not part.X:  # first use, or a map_update replaced the rows
        placed = place_rows(part.X, part.y, part.weights(), requested)
        part.device_cache[requested] = (part.X, placed)
    return placed
