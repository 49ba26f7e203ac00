"""pyspark's Python daemon, with the modules distml's tasks need imported before it forks.

An executor starts one daemon per worker environment and forks a Python worker from it for
every task that finds no idle worker. That happens far more often than once per executor:
Spark discards a worker whose task stopped reading early (``head()``, ``take``, ``limit``,
``first``), and RDD jobs and Arrow (``mapInArrow``) jobs run in different environments, so
they share no workers unless the environments are made the same (``local_session`` does:
``session.ONE_WORKER_POOL``). A worker forked from pyspark's own daemon then imports numpy,
pyarrow, pandas, scipy and distml itself, 0.3-0.7 s before its task starts (a one-row
``head()`` on a DataFrame of vectors took 1.1 s, 0.35 s from this daemon); forked from this
one, it starts with them in memory, shared copy-on-write.

:func:`distml.frames.local_session` sets ``spark.python.daemon.module`` to this module when
distml is installed in the workers' interpreter (:func:`daemon_module_conf`). On a cluster,
set it where distml is installed on the nodes (a bootstrap action's ``pip install``), never
where it is shipped with ``--py-files``: the daemon starts before a task puts those files on
the path, so it could not import this module, and no Python task of the application could
start.
"""
from __future__ import annotations

import contextlib
import functools
import importlib
import os
import subprocess
import sys
import tempfile

MODULE = "distml.frames.worker_daemon"

# What a worker imports for distml's input conversion, its engines' rank and job tasks, and
# pyspark's own Arrow and vector paths. A fork copies only the calling thread, so none of
# them may start a Python thread on import (MXNet's engine does: it stays out). The native
# threads they start (numpy's and scipy's OpenBLAS, pyarrow's jemalloc) are re-created in
# the child by those libraries' fork handlers, as multiprocessing's fork relies on too. The
# algorithm programs are left to the task that unpickles them; each task needs one.
PRELOADED = (
    "numpy", "pyarrow", "pandas", "scipy.sparse", "scipy.linalg", "scipy.special",
    "pyspark.worker", "pyspark.ml.linalg", "pyspark.sql.pandas.serializers",
    "distml.engine.barrier", "distml.engine.jobs", "distml.frames.arrow_input",
    "distml.frames.spark_input", "distml.gpu.backend", "distml.kernels.statistics",
)


def preload(modules=PRELOADED) -> list[str]:
    """Import ``modules``; returns the ones that failed, which a task then imports itself
    (and reports, if it still fails there). Nothing may reach stdout: the daemon tells the
    JVM its port there."""
    failed = []
    with contextlib.redirect_stdout(sys.stderr):
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # a worker without this module still serves other tasks
                failed.append(name)
    return failed


_FINDS_DISTML = ("import importlib.util, sys; "
                 "sys.exit(importlib.util.find_spec('distml') is None)")


@functools.lru_cache(maxsize=None)
def daemon_module_conf() -> dict:
    """``{"spark.python.daemon.module": MODULE}`` when this interpreter imports distml on its
    own: installed in it, as a package or editable; else ``{}``, keeping pyspark's daemon,
    since one that cannot import its module stops every Python task.

    Asked of a fresh interpreter outside the driver's folder and without ``PYTHONPATH``:
    the driver's path may hold distml where the daemon's does not (spark-submit puts
    ``--py-files`` on the driver's ``PYTHONPATH``, not the JVM's; executors run in their own
    folders), and the installed metadata alone can be another environment's.
    """
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    try:
        # find_spec, not an import: distml.frames imports pandas, 0.3-0.7 s.
        probe = subprocess.run([sys.executable, "-c", _FINDS_DISTML], env=env,
                               cwd=tempfile.gettempdir(), capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return {}
    return {"spark.python.daemon.module": MODULE} if probe.returncode == 0 else {}


if __name__ == "__main__":
    preload()
    from pyspark.daemon import manager
    manager()
