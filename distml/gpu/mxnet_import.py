"""The one place distml imports MXNet: lazily, with the shims MXNet 1.9.1 needs.

MXNet 1.9.1 is the last release. It was built against numpy < 2 and still refers to
``np.bool``, an alias numpy 1.24 removed (numpy 2 brought the name back, as ``np.bool_``, but
MXNet does not run on numpy 2 at all). So before the import: refuse numpy >= 2 with a message,
and put the alias back as the builtin it used to be. Nothing else in distml imports MXNet at
module level, so distml works without the extra installed.
"""
from __future__ import annotations

import importlib
import importlib.util
import threading

import numpy as np

from distml.errors import MXNetUnavailableError

INSTALL_HINT = "pip install 'distml[mxnet]'"

_lock = threading.Lock()


def mxnet_installed() -> bool:
    """Whether ``import mxnet`` can be attempted, without importing it."""
    try:
        return importlib.util.find_spec("mxnet") is not None
    except ValueError:  # a test (or a user) has set sys.modules["mxnet"] = None
        return False


def import_mxnet():
    """The ``mxnet`` module, imported with the numpy shim; a clear error when it cannot be."""
    with _lock:
        if int(np.__version__.split(".")[0]) >= 2:
            raise MXNetUnavailableError(
                f"the MXNet backend needs numpy<2 (MXNet 1.9.1 is the last release and does "
                f"not run on numpy {np.__version__}); {INSTALL_HINT} installs a matching set")
        if "bool" not in np.__dict__:
            np.bool = bool  # the alias MXNet 1.9.1 still uses (removed in numpy 1.24)
        try:
            return importlib.import_module("mxnet")
        except ImportError as err:
            raise MXNetUnavailableError(
                f"the MXNet backend was requested but MXNet is not installed ({err}); "
                f"install the extra: {INSTALL_HINT}") from err


def use_numpy_semantics(mx) -> None:
    """Switch the calling thread to MXNet's numpy mode (``mxnet.numpy`` arrays in Gluon).

    MXNet keeps this flag per thread, so every entry point that may run on a new thread (the
    LocalEngine maps partitions over a thread pool) calls it; it is a cheap flag set.
    """
    mx.npx.set_np()
