"""Progress of a running fit: each round's ``ctx.report`` reaches the driver while the fit runs.

Where a report is made: on LocalEngine and JobsEngine the training loop runs on the driver, so
a report is delivered at once; on BarrierEngine rank 0 sends it over its connection to the
driver's rendezvous server (the error channel), whose thread delivers it. Delivery is to the
listeners registered here; the default one draws a one-line progress bar on a terminal or in a
notebook, and writes log lines (``distml`` logger, INFO) elsewhere, as in a spark-submit job.

Turned off by ``set_progress(False)``, the environment variable ``DISTML_PROGRESS=0``, or the
Spark conf ``spark.distml.progress=false``.
"""
from __future__ import annotations

import logging
import os
import sys
import threading
import time
from typing import Any, Callable

log = logging.getLogger("distml")

Listener = Callable[[str, dict], None]  # (fit label, report entry)

_listeners: list[Listener] = []
_lock = threading.Lock()
_enabled: bool | None = None  # None: follow the environment / Spark conf
_current: list[tuple[str, float]] = []  # (label, start time) of fits running on this driver


def set_progress(enabled: bool | None) -> None:
    """Turn the default progress display on or off (None: back to the environment's say)."""
    global _enabled
    _enabled = enabled


def add_listener(listener: Listener) -> Callable[[], None]:
    """Call ``listener(label, entry)`` for every report; returns a function that removes it."""
    with _lock:
        _listeners.append(listener)
    return lambda: _remove(listener)


def _remove(listener: Listener) -> None:
    with _lock:
        if listener in _listeners:
            _listeners.remove(listener)


class fit_progress:
    """Marks a fit as running on this driver (its label and start time) for its reports."""

    def __init__(self, label: str, spark: Any = None):
        self.label, self.spark = label, spark

    def __enter__(self) -> "fit_progress":
        _current.append((self.label, time.monotonic()))
        self.display = _display_on(self.spark)
        return self

    def __exit__(self, *exc: Any) -> None:
        _current.pop()
        if self.display:
            _DISPLAY.finish()


def deliver(entry: dict) -> None:
    """Hand one report to the listeners (and the display), with the fit's elapsed time."""
    label, start = _current[-1] if _current else ("fit", time.monotonic())
    entry = {**entry, "elapsed": round(time.monotonic() - start, 3)}
    with _lock:
        listeners = list(_listeners)
    for listener in listeners:
        listener(label, entry)
    if _current and _display_on(None):
        _DISPLAY.show(label, entry)


def _display_on(spark: Any) -> bool:
    if _enabled is not None:
        return _enabled
    if os.environ.get("DISTML_PROGRESS", "1").lower() in ("0", "false", "off"):
        return False
    if spark is not None:
        try:
            return spark.conf.get("spark.distml.progress", "true").lower() != "false"
        except Exception:  # a stopped session: keep the default
            return True
    return True


class _Display:
    """A one-line bar on a terminal or notebook, log lines otherwise."""

    def __init__(self) -> None:
        self._open = False

    @staticmethod
    def _interactive() -> bool:
        return sys.stderr.isatty() or "ipykernel" in sys.modules

    def show(self, label: str, entry: dict) -> None:
        figures = ", ".join(f"{k}={_fmt(v)}" for k, v in entry.items()
                            if k not in ("iteration", "elapsed"))
        step = f"iteration {entry['iteration']}, " if "iteration" in entry else ""
        text = f"{label}: {step}{figures} ({entry['elapsed']:.1f} s)"
        if self._interactive():
            sys.stderr.write("\r" + text[:150].ljust(80))
            sys.stderr.flush()
            self._open = True
        else:
            log.info("distml: %s", text)

    def finish(self) -> None:
        if self._open:
            sys.stderr.write("\n")
            sys.stderr.flush()
            self._open = False


def _fmt(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


_DISPLAY = _Display()
