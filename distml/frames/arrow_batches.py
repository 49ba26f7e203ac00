"""Arrow batch limits for a fit's own Spark stages: a row count takes over from the byte count.

Spark 4 bounds the Arrow batches it writes for Python by rows
(``spark.sql.execution.arrow.maxRecordsPerBatch``) and by bytes
(``spark.sql.execution.arrow.maxBytesPerBatch``, 64 MB by default). The byte bound is checked
after every row written, by sizing every vector of the batch: in a barrier stage draining
500k x 50 dense rows that check was a quarter of the JVM's time (JFR), and the drain took
0.38 s with it against 0.28 s without (docs/design-notes.md, "The Arrow byte check"). Spark
skips the check when the byte limit is Int.MaxValue. A fit knows its rows' width before its
stage starts (the first vector, which ``vector_kind`` reads anyway), so for the fit's stages
the same bound is set as a row count, ``limit // row_bytes``, and the byte check is turned off.

The two are session confs, read when a query runs, so they are set for the length of the fit
and put back as the user left them when the last fit running on the session ends. Fits that
overlap on one session (a tuner's parallel fits) share the setting, with the smallest row count
any of them needs. A query of the user's own running on the same session meanwhile gets the
row bound of distml's rows and no byte check.
"""
from __future__ import annotations

import re
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

MAX_BYTES = "spark.sql.execution.arrow.maxBytesPerBatch"
MAX_RECORDS = "spark.sql.execution.arrow.maxRecordsPerBatch"
NO_BYTE_LIMIT = 2 ** 31 - 1  # Spark's Int.MaxValue: the limit it does not check
_UNITS = {"": 1, "b": 1, "k": 2 ** 10, "kb": 2 ** 10, "m": 2 ** 20, "mb": 2 ** 20,
          "g": 2 ** 30, "gb": 2 ** 30, "t": 2 ** 40, "tb": 2 ** 40}


@dataclass
class _Held:
    """The user's values (None: unset) and the row count set in their place."""

    originals: dict
    byte_limit: int
    records: int
    fits: int = 0


_lock = threading.Lock()
_held: dict[int, _Held] = {}  # per session, by id: sessions are not weak-referenceable on Connect


@contextmanager
def row_bounded_batches(spark: Any, row_bytes: int | None) -> Iterator[None]:
    """Within the block, Arrow batches of ``spark``'s queries are bounded by a row count of
    rows of ``row_bytes`` each instead of the byte check; no change when the width is unknown
    (``row_bytes`` None) or the user's byte limit is off already."""
    if spark is None or not row_bytes:
        yield
        return
    key = id(spark)
    entered = _enter(spark, key, row_bytes)
    try:
        yield
    finally:
        if entered:
            _leave(spark, key)


def _enter(spark: Any, key: int, row_bytes: int) -> bool:
    with _lock:
        held = _held.get(key)
        try:
            if held is None:
                # What the user set (None: nothing, put back by unsetting) and what is in force
                # (the set value or Spark's default; a Spark without the byte limit raises).
                originals = {name: spark.conf.get(name, None) for name in (MAX_BYTES, MAX_RECORDS)}
                byte_limit = parse_bytes(spark.conf.get(MAX_BYTES))
                records = int(spark.conf.get(MAX_RECORDS))
                held = _Held(originals, byte_limit, records if records > 0 else NO_BYTE_LIMIT)
            if held.byte_limit < NO_BYTE_LIMIT:
                records = max(1, min(held.records, held.byte_limit // row_bytes))
                if held.fits == 0 or records < held.records:
                    spark.conf.set(MAX_RECORDS, str(records))
                if held.fits == 0:
                    spark.conf.set(MAX_BYTES, str(NO_BYTE_LIMIT))
                held.records = records
        except Exception:  # a session that cannot take the confs: its batches stay as they were
            if held is not None and held.fits == 0:
                _restore(spark, held)
            return False
        held.fits += 1
        _held[key] = held
        return True


def _leave(spark: Any, key: int) -> None:
    with _lock:
        held = _held[key]
        held.fits -= 1
        if held.fits == 0:
            del _held[key]
            _restore(spark, held)


def _restore(spark: Any, held: _Held) -> None:
    for name, value in held.originals.items():
        try:
            if value is None:
                spark.conf.unset(name)
            else:
                spark.conf.set(name, value)
        except Exception:  # a session stopped during the fit has nothing to restore
            pass


def parse_bytes(text: str) -> int:
    """A Spark byte size ("67108864b", "64m", "1g"; a bare number is bytes) as an int."""
    match = re.fullmatch(r"\s*(\d+)\s*([a-z]*)\s*", str(text).lower())
    if match is None or match.group(2) not in _UNITS:
        raise ValueError(f"not a byte size: {text!r}")
    return int(match.group(1)) * _UNITS[match.group(2)]
