"""Resident partitions: a cached DataFrame is converted to numpy once, and later fits on the
same rows and columns map the converted partitions back instead of ingesting again.

Why: moving 1M x 50 rows from the JVM into numpy costs 1.2-2.1 s here, more than most fits'
compute, and tuning or a session of experiments fits the same cached DataFrame many times.

The key says exactly which rows and arrays an entry holds: the application, the id of the
cached data Spark reads the DataFrame from (``frames`` ``Frame.cache_generation``: any
DataFrame with the same plan shares it, and persisting a plan again makes a new one), the
columns read and how (features, label, weight, id, dense or sparse, dtype, checks), and the
partition count. A DataFrame that is not persisted has no key, so it is never reused (its
plan may be nondeterministic); an unpersisted one loses its key with its cache.

Where entries live: on Spark engines, in each host's partition store (``partition_store``:
files in /dev/shm or the temp dir, mapped back read-only), under ``r-<key>``; for LocalEngine
on Spark data, in the driver's memory. Either way at most ``spark.distml.residentBytes``
(default 2g) per host, least recently used first out; ``distml.release(df)`` frees a
DataFrame's entries. A task that finds no entry on its host ingests as before: a miss is slow,
never wrong.
"""
from __future__ import annotations

import atexit
import hashlib
import json
import logging
import threading
from collections import OrderedDict
from typing import Any

import numpy as np
import scipy.sparse as sp

from distml.engine import partition_store
from distml.engine.memory import array_bytes
from distml.engine.partition import Partition

log = logging.getLogger("distml")

PREFIX = "r-"
LIMIT_CONF = "spark.distml.residentBytes"
DEFAULT_LIMIT = "2g"

_lock = threading.Lock()
_complete: dict[str, int] = {}            # key -> partition count some host stores in full
_keys_of: dict[int, set[str]] = {}        # a DataFrame's semantic hash -> its keys
_generation_of: dict[str, int] = {}       # key -> the id of the cached data it was read from
_local: "OrderedDict[str, tuple[int, list[Partition]]]" = OrderedDict()  # LocalEngine's
_counts = {"ingested": 0, "reused": 0}


def limit_bytes(spark: Any) -> int:
    """``spark.distml.residentBytes`` in bytes (Spark's size syntax: 512m, 2g); 0 turns
    resident partitions off."""
    from distml.frames.spark_input import conf_get
    value = conf_get(spark, LIMIT_CONF, DEFAULT_LIMIT)
    return int(spark.sparkContext._jvm.org.apache.spark.network.util.JavaUtils
               .byteStringAsBytes(value))


def key_of(frame: Any, spec: Any, count: int, layout: str) -> str | None:
    """The key of ``frame``'s partitions as a fit reads them (``spec``'s columns, in ``count``
    partitions, laid out as ``layout`` says), or None: not persisted (or pandas), or resident
    partitions turned off."""
    generation = frame.cache_generation()
    if generation is None or limit_bytes(frame.session) <= 0:
        return None
    sc = frame.session.sparkContext
    drop_unpersisted(sc)
    described = [sc.applicationId, generation, count, spec.columns(), spec.check_finite,
                 layout]
    key = PREFIX + hashlib.sha256(json.dumps(described).encode()).hexdigest()[:32]
    with _lock:
        _keys_of.setdefault(frame.dataset.semanticHash(), set()).add(key)
        _generation_of[key] = generation
    return key


def drop_unpersisted(sc: Any) -> None:
    """Free the entries of DataFrames unpersisted since (their cached data is gone, so no fit
    can ask for them again): on this host and in the driver's memory; other hosts' age out.
    Called at each keyed fit, which is as close to ``unpersist()`` as distml can hook."""
    with _lock:
        if not _generation_of:
            return
    live = {int(i) for i in sc._jsc.getPersistentRDDs().keySet()}
    with _lock:
        gone = [key for key, generation in _generation_of.items() if generation not in live]
        for key in gone:
            del _generation_of[key]
            _complete.pop(key, None)
            _local.pop(key, None)
            for keys in _keys_of.values():
                keys.discard(key)
    for key in gone:
        partition_store.remove(key)


def is_complete(key: str | None, count: int) -> bool:
    """Whether every partition of ``key`` was stored by some host (it may since be evicted)."""
    with _lock:
        return key is not None and _complete.get(key) == count


def mark(key: str, count: int, stored: bool) -> None:
    """After an ingestion: whether every partition went into a store."""
    with _lock:
        _counts["ingested"] += 1
        if stored:
            _complete[key] = count
        else:
            _complete.pop(key, None)


def note_reused(key: str) -> None:
    with _lock:
        _counts["reused"] += 1
    log.info("distml: the fit reads resident partitions (%s): no ingestion", key)


def forget(key: str) -> None:
    """A host missed an entry: the next fit ingests again (and stores again)."""
    with _lock:
        _complete.pop(key, None)


def counts() -> dict:
    """How many fits ingested into the store and how many reused it, in this process."""
    with _lock:
        return dict(_counts)


# executor side --------------------------------------------------------------------------------
def store(key: str, part: Partition, limit: int) -> bool:
    """Keep ``part``'s arrays under ``key`` on this host, evicting the least recently used
    resident partitions to stay under ``limit`` bytes; False when it does not fit."""
    needed = nbytes(part)
    with partition_store.host_lock():
        if not partition_store.make_room(PREFIX, needed, limit, keep=key):
            return False
        return partition_store.write(key, part)


def nbytes(part: Partition) -> int:
    return array_bytes(part.X, part.y, part.w, part.ids)


# LocalEngine on Spark data: the driver's memory ------------------------------------------------
def local_partitions(key: str | None) -> list[Partition] | None:
    """Fresh Partition objects over the arrays kept for ``key`` (shared, read-only), or None."""
    if key is None:
        return None
    with _lock:
        held = _local.get(key)
        if held is None:
            return None
        _local.move_to_end(key)
    note_reused(key)
    return [Partition(p.index, p.X, p.y, p.w, p.ids, digest=p.digest) for p in held[1]]


def keep_local(key: str | None, parts: list[Partition], limit: int) -> list[Partition]:
    """Keep ``parts`` for ``key`` (read-only from now on), evicting least recently used
    entries to stay under ``limit`` bytes; returns fresh Partition objects for this fit."""
    if key is None:
        return parts
    size = sum(nbytes(p) for p in parts)
    with _lock:
        _counts["ingested"] += 1
        if size > limit:
            return parts
        for p in parts:
            for a in (p.X.data if sp.issparse(p.X) else p.X, p.y, p.w, p.ids):
                if isinstance(a, np.ndarray):
                    a.setflags(write=False)  # programs never write their rows; now enforced
        _local[key] = (size, parts)
        while sum(s for s, _ in _local.values()) > limit:
            _local.popitem(last=False)
    return [Partition(p.index, p.X, p.y, p.w, p.ids, digest=p.digest) for p in parts]


# release ---------------------------------------------------------------------------------------
@atexit.register
def _remove_all() -> None:
    """At exit, this host's entries of this driver (the application's key is in theirs, so
    no later application could use them); other hosts' age out under their limit."""
    for keys in _keys_of.values():
        for key in keys:
            partition_store.remove(key)


def release(df: Any) -> None:
    """Free the resident partitions of ``df`` (every DataFrame with its plan), on this host and,
    on a cluster, on every executor a cleanup task reaches (the others evict them in time).
    A pandas DataFrame has none: nothing to do."""
    from distml import frames
    if frames.of(df).session is None:
        return
    with _lock:
        keys = _keys_of.pop(df.semanticHash(), set())
        for key in keys:
            _complete.pop(key, None)
            _local.pop(key, None)
            _generation_of.pop(key, None)
    if not keys:
        return
    for key in keys:
        partition_store.remove(key)
    sc = df.sparkSession.sparkContext
    if not sc.master.startswith("local"):
        slots = max(1, sc.defaultParallelism)

        def remove(_):
            for key in keys:
                partition_store.remove(key)
            return []
        sc.parallelize(range(slots), slots).mapPartitions(remove).count()
