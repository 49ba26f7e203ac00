"""Which device a rank computes on: the GPU Spark assigned to its task, else the CPU.

Spark hands each task its GPU addresses (``spark.task.resource.gpu.amount`` with a discovery
script); ``TaskContext.get().resources()["gpu"].addresses`` lists them. A rank uses the first.
Outside a task (LocalEngine, or the driver loop of the jobs engine) the driver's own GPUs, if
Spark was given any (``spark.driver.resource.gpu.amount``), count the same way.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Callable

log = logging.getLogger("distml")

BACKENDS = ("auto", "numpy", "mxnet")


@dataclass(frozen=True)
class Placement:
    """Where a rank's kernels run: ``backend`` "numpy" or "mxnet", ``gpu`` index or None."""

    backend: str
    gpu: int | None = None
    reason: str = ""

    @property
    def device(self) -> str:
        return "cpu" if self.gpu is None else f"gpu({self.gpu})"


def spark_gpu_addresses() -> list[str]:
    """The GPU addresses Spark assigned to this task (or to the driver, outside a task)."""
    from pyspark import SparkContext, TaskContext

    task = TaskContext.get()
    if task is not None:
        resources = task.resources()
    else:
        active = SparkContext._active_spark_context
        resources = active.resources if active is not None else {}
    gpu = resources.get("gpu")
    return list(gpu.addresses) if gpu is not None else []


def choose_placement(requested: str, addresses: list[str], mxnet_available: bool,
                     visible_gpus: Callable[[], int]) -> Placement:
    """The backend and device for ``requested`` ("auto", "numpy", "mxnet").

    "auto" runs MXNet on the task's GPU when it has one (and MXNet sees it), else numpy;
    "mxnet" runs MXNet on the task's GPU, or on the CPU when the task has none. The reason
    a GPU was not used is kept in ``reason`` so the caller can log it once.
    """
    if requested not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {requested!r}")
    if requested == "numpy":
        return Placement("numpy")
    fallback = "mxnet" if requested == "mxnet" else "numpy"
    if not addresses:
        if requested == "auto":
            return Placement("numpy")  # the usual CPU case: nothing to warn about
        return Placement("mxnet", None, "Spark assigned no GPU to this task (set "
                         "spark.task.resource.gpu.amount and spark.executor.resource.gpu."
                         "amount to place ranks on GPUs)")
    if requested == "auto" and not mxnet_available:
        return Placement("numpy", None, f"the task has GPU {addresses[0]} but MXNet is not "
                         "installed (pip install 'distml[mxnet]')")
    try:
        gpu = int(addresses[0])
    except ValueError:
        return Placement(fallback, None, f"GPU address {addresses[0]!r} is not a device index")
    count = visible_gpus()
    if gpu >= count:
        return Placement(fallback, None, f"Spark assigned GPU {gpu} but MXNet sees {count} GPU"
                         f"{'' if count == 1 else 's'} (a CPU-only MXNet build, or "
                         "CUDA_VISIBLE_DEVICES hides it)")
    return Placement("mxnet", gpu)


_warned: set[str] = set()


def warn_once(message: str) -> None:
    """Log ``message`` as a warning the first time this process sees it."""
    if message not in _warned:
        _warned.add(message)
        log.warning(message)
