"""Carrying an executor's exception back to the driver intact.

Spark reports a failed Python task as a Py4JJavaError whose text holds the Python traceback
somewhere inside a JVM stack trace. distml's executor code wraps what it raises in a marker
holding the pickled original, so the driver re-raises the same exception type with the same
message (a DataError stays a DataError), and the user never reads a JVM stack trace.
"""
from __future__ import annotations

import base64
import inspect
import pickle
import re
from typing import Callable

from distml.errors import FitError

_MARK = re.compile(r"DISTML_EXC\[([A-Za-z0-9+/=]+)\]")


class ExecutorError(RuntimeError):
    """What executor-side code raises in place of the original; its message carries it."""


def wrap_executor_errors(fn: Callable) -> Callable:
    def wrapped(*args, **kwargs):
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
    try:
        blob = pickle.dumps(exc)
        pickle.loads(blob)
    except Exception:
        blob = pickle.dumps(FitError(f"{type(exc).__name__}: {exc}"))
    return f"{type(exc).__name__}: {exc} DISTML_EXC[{base64.b64encode(blob).decode()}]"


def original_exception(err: BaseException) -> BaseException | None:
    """The exception an executor raised, if ``err``'s text carries one."""
    match = _MARK.search(str(err))
    if match is None:
        return None
    try:
        exc = pickle.loads(base64.b64decode(match.group(1)))
    except Exception:
        return None
    return exc if isinstance(exc, BaseException) else None


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
