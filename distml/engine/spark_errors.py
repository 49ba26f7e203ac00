"""Carrying an executor's exception back to the driver, as data.

Spark reports a failed Python task as a Py4JJavaError whose text holds the Python traceback
somewhere inside a JVM stack trace, and a barrier rank reports its failure over the
rendezvous connection. Either way the exception travels as (type name, message, traceback
text), never pickled: error text can hold data values (Spark echoes them), so whatever reads
it must not be able to run code. The driver rebuilds the exception from an allow-list of
types (a DataError stays a DataError, a ZeroDivisionError a ZeroDivisionError); a type not
on the list becomes the nearest listed base class the sender found in its MRO, with the
original type's name in the message.
"""
from __future__ import annotations

import base64
import builtins
import inspect
import json
import re
import traceback
from typing import Callable

from distml import errors
from distml.engine.worker_socket import acknowledge_promptly

_MARK = re.compile(r"DISTML_EXC\[([A-Za-z0-9+/=]{1,200000})\]")

_BUILTIN = ("ValueError", "TypeError", "KeyError", "IndexError", "LookupError",
            "ArithmeticError", "ZeroDivisionError", "OverflowError", "FloatingPointError",
            "AttributeError", "NotImplementedError", "AssertionError", "ImportError",
            "ModuleNotFoundError", "MemoryError", "OSError", "EOFError", "TimeoutError",
            "ConnectionError", "RuntimeError", "RecursionError", "Exception")


def _allowed() -> dict[str, type]:
    from distml.engine.comm import AuthError, FrameTooLarge, PeerAborted
    from distml.engine.faults import InjectedFailure
    from distml.engine.partition_store import StoreMiss
    from distml.engine.wire import WireError
    types = [getattr(builtins, name) for name in _BUILTIN]
    types += [errors.DataError, errors.ParamError, errors.FitError, errors.CollectiveError,
              errors.PersistenceError, errors.MXNetUnavailableError,
              errors.ExecutorMemoryError, AuthError, FrameTooLarge,
              PeerAborted, InjectedFailure, StoreMiss, WireError]
    return {_name(t): t for t in types}


def _name(cls: type) -> str:
    return cls.__name__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"


def describe_exception(exc: BaseException) -> dict:
    """What crosses the wire for ``exc``: plain strings only."""
    allowed = _allowed()
    base = next((_name(c) for c in type(exc).__mro__ if _name(c) in allowed), "Exception")
    return {"type": _name(type(exc)), "base": base, "message": str(exc),
            "traceback": "".join(traceback.format_exception(exc))}


def rebuild_exception(described: dict) -> BaseException:
    """The exception ``describe_exception`` described, built only from allow-listed types."""
    allowed = _allowed()
    type_name = str(described.get("type", ""))
    message = str(described.get("message", ""))
    cls = allowed.get(type_name)
    if cls is None:
        cls = allowed.get(str(described.get("base", "")), errors.FitError)
        message = f"{type_name.rpartition('.')[2] or 'error'}: {message}"
    if cls is Exception:
        cls = errors.FitError
    try:
        return cls(message)
    except Exception:  # a listed type whose constructor wants more than a message
        return errors.FitError(message)


class ExecutorError(RuntimeError):
    """What executor-side code raises in place of the original; its message carries it."""


def wrap_executor_errors(fn: Callable) -> Callable:
    """``fn`` as a distml task function: its exceptions carried to the driver as data, and
    its worker's connection told to acknowledge the input promptly (``worker_socket``)."""
    def wrapped(*args, **kwargs):
        acknowledge_promptly()
        try:
            out = fn(*args, **kwargs)
            # A generator raises only while iterated: run it here, inside the try.
            return list(out) if inspect.isgenerator(out) else out
        except ExecutorError:
            raise
        except BaseException as e:
            raise ExecutorError(marked(e)) from e
    return wrapped


def marked(exc: BaseException) -> str:
    described = describe_exception(exc)
    del described["traceback"]  # Spark's own error text carries it
    blob = base64.b64encode(json.dumps(described).encode()).decode()
    return f"{type(exc).__name__}: {exc} DISTML_EXC[{blob}]"


def original_exception(err: BaseException) -> BaseException | None:
    """The exception an executor raised, if ``err``'s text carries one."""
    # The last marker is the one distml appended; any earlier one came inside the message.
    found = _MARK.findall(str(err))
    if not found:
        return None
    try:
        described = json.loads(base64.b64decode(found[-1], validate=True))
    except ValueError:
        return None
    return rebuild_exception(described) if isinstance(described, dict) else None


def spark_failure(err: BaseException, what: str) -> BaseException:
    """What a fit raises for a Spark failure that carries no exception of distml's (the
    task failed before distml's wrapper ran): a FitError, retried, unless the executor could
    not import a module. That happens while the task's function is unpickled, and every
    attempt would meet it again, so it is an ImportError, which is not retried."""
    summary = python_error_summary(err)
    if re.match(r"(ModuleNotFoundError|ImportError)\b", summary):
        return ImportError(f"{what} failed on an executor, which could not import what the "
                           f"fit needs ({summary}); install it on every executor, or ship "
                           "it with --py-files or SparkContext.addPyFile")
    return errors.FitError(f"{what} failed: {summary}")


def python_error_summary(err: BaseException) -> str:
    """The last line of the Python traceback inside a Spark error, or the error's first line."""
    text = str(err)
    lines = [ln.strip() for ln in text.splitlines()]
    for i, ln in enumerate(lines):
        if "Traceback (most recent call last)" in ln:
            tail = [x for x in lines[i:] if x and not x.startswith(("File ", "at ", "^", "~"))]
            for x in tail[::-1]:
                if re.match(r"^[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b", x):
                    return x
    return lines[0] if lines else type(err).__name__
