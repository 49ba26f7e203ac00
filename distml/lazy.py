"""Package namespaces whose names import their module on first use (PEP 562).

A Spark task unpickles a training program's functions by module, so a fresh Python worker
imports the package chain above that module on its first task. Eager ``__init__`` files made
that chain every estimator, pyspark.ml, scipy.stats and pandas: ~3.5 s per fresh worker, paid by
every executor core on a fit's first rounds and by every task Spark retries in a new worker.
With these namespaces a worker imports the program's own modules only (scipy and scikit-learn
use the same pattern through ``lazy_loader``; ten lines here spare a dependency).
"""
from __future__ import annotations

import sys
from importlib import import_module
from typing import Any, Callable


def lazy_namespace(package: str, sources: dict[str, list[str]]
                   ) -> tuple[Callable[[str], Any], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for ``package``, whose public names are
    ``sources``: module (absolute, or relative to ``package`` with a leading dot) -> names."""
    where = {name: (module if not module.startswith(".") else package + module)
             for module, names in sources.items() for name in names}

    def __getattr__(name: str) -> Any:
        if name not in where:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(import_module(where[name]), name)
        setattr(sys.modules[package], name, value)  # later lookups skip this function
        return value

    def __dir__() -> list[str]:
        return sorted(set(where) | set(vars(sys.modules[package])))

    return __getattr__, __dir__, list(where)
