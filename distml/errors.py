"""Exceptions distml raises on purpose, so callers can tell bad input from a failed cluster."""


class DataError(ValueError):
    """The input data cannot be used as given; the message names the column or row count."""


class ParamError(ValueError):
    """A param value cannot be used; the message names the param."""


class FitError(RuntimeError):
    """A distributed fit failed for a reason other than bad input (a rank crashed, timed out)."""


class CollectiveError(FitError):
    """A collective operation between ranks failed: a peer aborted, vanished or timed out."""


class PersistenceError(IOError):
    """A model or pipeline could not be saved or loaded; the message says why and what to do."""


class MXNetUnavailableError(ImportError):
    """The MXNet backend was asked for and MXNet cannot be imported; the message says how to
    install the extra."""
