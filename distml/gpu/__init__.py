"""The MXNet path: which array backend and device each rank computes on.

``rank_backend("auto" | "numpy" | "mxnet")`` picks numpy on the CPU, or ``mxnet.numpy``
arrays on the GPU Spark assigned to the task (``TaskContext.get().resources()["gpu"]``),
falling back to ``mx.cpu()`` with one logged warning saying why. MXNet is imported lazily and
only here (``mxnet_import``), so distml works without the ``mxnet`` extra and says how to
install it when the MXNet backend is asked for.
"""
from distml.gpu.backend import (NUMPY, MXNetBackend, NumpyBackend, PlacedRows, arange, beside,
                                is_mxnet_array, namespace, partition_device,
                                partition_rows, place_rows,
                                rank_backend, to_numpy, zeros)
from distml.gpu.mxnet_import import (INSTALL_HINT, MXNetUnavailableError, import_mxnet,
                                     mxnet_installed)
from distml.gpu.placement import BACKENDS, Placement, choose_placement, spark_gpu_addresses

__all__ = ["BACKENDS", "INSTALL_HINT", "MXNetBackend", "MXNetUnavailableError", "NUMPY",
           "NumpyBackend", "Placement", "PlacedRows", "arange", "beside", "choose_placement",
           "import_mxnet", "is_mxnet_array", "mxnet_installed", "namespace", "partition_device",
           "partition_rows", "place_rows", "rank_backend", "spark_gpu_addresses", "to_numpy",
           "zeros"]
