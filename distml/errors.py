"""Exceptions distml raises on purpose, so callers can tell bad input from a failed cluster."""
from pyspark.errors import IllegalArgumentException  # pure Python: no JVM


class DataError(ValueError):
    """The input data cannot be used as given; the message names the column or row count."""


class ParamError(ValueError, IllegalArgumentException):
    """A param value cannot be used; the message names the param.

    Also pyspark's ``IllegalArgumentException``, which pyspark.ml raises for the same values
    (its JVM checks them when a fit starts), so code that catches it catches this too."""

    def __init__(self, message: str):
        ValueError.__init__(self, message)
        IllegalArgumentException.__init__(self, message)

    def __str__(self) -> str:
        return ValueError.__str__(self)


class FitError(RuntimeError):
    """A distributed fit failed for a reason other than bad input (a rank crashed, timed out)."""


class CollectiveError(FitError):
    """A collective operation between ranks failed: a peer aborted, vanished or timed out."""


class PersistenceError(IOError):
    """A model or pipeline could not be saved or loaded; the message says why and what to do."""


class MXNetUnavailableError(ImportError):
    """The MXNet backend was asked for and MXNet cannot be imported; the message says how to
    install the extra."""


class ExecutorMemoryError(MemoryError):
    """A rank needs, or took, more memory than Spark gives its Python worker; the message says
    how much, which conf sets it, and what to change. Not retried: the same partition on the
    same executors would need the same again."""
