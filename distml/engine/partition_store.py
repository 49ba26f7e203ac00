"""A per-host store of partitions' arrays, shared by every Python worker on the host.

Why: on the jobs engine each round is a Spark job, and shipping a cached 100 MB partition from
the JVM to a Python worker costs ~0.4 s per job. Written once to files (in /dev/shm, i.e.
memory, where there is one) and read back by memory map, the arrays cost nothing per job
once a worker has mapped them (it keeps its maps between tasks: ``_mapped``). The
store is only a cache: the engine keeps a lineage that rebuilds any partition it lacks (see
``jobs.py``), so a missing entry is slow, never wrong.

The store holds training data on hosts other users share, so its root is a folder of this
user's own (``distml-<uid>``, mode 0700, owner checked) and its files are 0600. When /dev/shm
cannot take a partition (containers often give it 64 MB) the temp dir is tried, and when
neither can, the partition is not stored: ``write`` says so, and the engine reads it the slow
way. A full disk never fails a fit.
"""
from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import shutil
import tempfile
import uuid

import numpy as np
import scipy.sparse as sp

from distml.engine.partition import Partition
from distml.engine.private_files import private_dir, user_folder
from distml.errors import PersistenceError

log = logging.getLogger("distml")
_told: set = set()


class StoreMiss(LookupError):
    """This host's store does not hold the partition (the task runs away from its data)."""


def candidate_roots() -> list[str]:
    """Where the store may live on this host, fastest first: /dev/shm (memory), the temp dir."""
    bases = [b for b in ("/dev/shm", tempfile.gettempdir())
             if os.path.isdir(b) and os.access(b, os.W_OK)]
    return [os.path.join(user_folder(b), "partitions") for b in dict.fromkeys(bases)]


@contextlib.contextmanager
def host_lock():
    """This user's store, locked on this host across processes (the Python workers of one
    executor, or of several): eviction's accounting and the write it makes room for must not
    interleave with another worker's, or both evict for the same room and overshoot."""
    roots = candidate_roots()
    if not roots:
        yield
        return
    folder = private_dir(os.path.dirname(roots[0]))
    fd = os.open(os.path.join(folder, "store.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _dir(root: str, fit_id: str, index: int) -> str:
    return os.path.join(root, fit_id, str(index))


def _arrays(part: Partition) -> dict:
    arrays = {"y": part.y, "w": part.w, "ids": part.ids}
    if sp.issparse(part.X):
        X = part.X.tocsr()
        arrays.update(X_data=X.data, X_indices=X.indices, X_indptr=X.indptr,
                      X_shape=np.array(X.shape))
    else:
        arrays["X"] = part.X
    if part.digest is not None:
        arrays["digest"] = np.array(part.digest)
    arrays = {k: np.asarray(v) for k, v in arrays.items() if v is not None}
    return {k: v if v.flags.c_contiguous else v.copy(order="C") for k, v in arrays.items()}


def write(fit_id: str, part: Partition, replace: bool = False) -> bool:
    """Store a partition's arrays (not its state); atomic, so readers never see half.
    Returns whether it is stored (False when no root on this host has room for it).

    Without ``replace`` an existing entry is kept (a retried task writes the same content).
    """
    arrays = _arrays(part)
    needed = sum(a.nbytes for a in arrays.values())
    for root in candidate_roots():
        try:
            if _write_under(root, fit_id, part.index, arrays, needed, replace):
                remove(fit_id, part.index, but=root)  # an older copy under another root
                return True
        except PersistenceError as e:  # a root another user planted: never use it
            _tell(f"distml: the partition store skips '{root}': {e}")
    _tell(f"distml: no folder on this host has room for partition {part.index} "
          f"({needed / 1e6:.0f} MB); it is read from the DataFrame each round instead")
    return False


def _write_under(root: str, fit_id: str, index: int, arrays: dict, needed: int,
                 replace: bool) -> bool:
    final = _dir(root, fit_id, index)
    if not replace and os.path.isdir(final):
        return True
    base = os.path.dirname(root)
    if shutil.disk_usage(os.path.dirname(base)).free < needed + (16 << 20):
        _tell(f"distml: '{os.path.dirname(base)}' has too little room for a partition "
              f"({needed / 1e6:.0f} MB); trying the next folder")
        return False
    private_dir(base)
    os.makedirs(os.path.join(root, fit_id), mode=0o700, exist_ok=True)
    tmp = f"{final}.tmp-{uuid.uuid4().hex[:8]}"
    try:
        os.mkdir(tmp, 0o700)
        for name, array in arrays.items():
            _save(os.path.join(tmp, f"{name}.npy"), array)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if e.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES):
            _tell(f"distml: writing a partition under '{root}' failed ({e.strerror}); trying "
                  "the next folder")
            return False
        raise
    if replace and os.path.isdir(final):
        # Readers holding memory maps of the old files keep them until they let go.
        old = f"{final}.old-{uuid.uuid4().hex[:8]}"
        os.rename(final, old)
        shutil.rmtree(old, ignore_errors=True)
    try:
        os.rename(tmp, final)
    except OSError:  # another attempt of the same task got there first: same content
        shutil.rmtree(tmp, ignore_errors=True)
    return True


def _save(path: str, array: np.ndarray) -> None:
    """``np.save`` into a new 0600 file (no pickles: allow_pickle=False)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        np.save(f, array, allow_pickle=False)


def _tell(message: str) -> None:
    """One log line per message and process: a full store is worth saying once, not per task."""
    if message not in _told:
        _told.add(message)
        log.warning(message)


def _find(fit_id: str, index: int) -> str | None:
    for root in candidate_roots():
        path = _dir(root, fit_id, index)
        if os.path.isdir(path):
            return path
    return None


def read(fit_id: str, index: int, state: dict) -> Partition:
    path = _find(fit_id, index)
    if path is None:
        raise StoreMiss(f"partition {index} of fit {fit_id} is not stored on this host")
    os.utime(path)  # last use, for the least-recently-used eviction of resident entries
    arrays = _mapped(path)
    if "X" in arrays:
        X = arrays["X"]
    else:
        shape = tuple(int(v) for v in arrays["X_shape"])
        X = sp.csr_matrix((arrays["X_data"], arrays["X_indices"], arrays["X_indptr"]),
                          shape=shape)
    digest = arrays.get("digest")
    return Partition(index, X, arrays.get("y"), arrays.get("w"), arrays.get("ids"), state,
                     digest=None if digest is None else str(digest[()]))


# This process's memory maps of stored partitions, kept from one task to the next: a fresh map
# faults its pages in on first touch, which measured 15-65 ms a round in a jobs-engine task
# over 500k x 50 rows (the kernel's first pass 44-95 ms, its next ones 30 ms), when Python
# workers are reused and so meet the same partitions round after round. Keyed by the entry's
# folder, checked by its features file's identity (a replaced entry is a new folder of new
# files; the change time guards against an inode number a file system reuses); a map whose
# entry is gone is dropped at the next read, as its pages stay allocated while mapped. Spark
# stops a worker idle for a minute, which drops the rest.
_maps: dict[str, tuple[tuple, dict]] = {}


def _mapped(path: str) -> dict:
    for known in [p for p in _maps if p != path]:
        try:
            if _identity(known) != _maps[known][0]:
                _maps.pop(known, None)
        except (OSError, KeyError):
            _maps.pop(known, None)
    identity = _identity(path)
    held = _maps.get(path)
    if held is not None and held[0] == identity:
        return held[1]
    arrays = {name[:-4]: np.load(os.path.join(path, name), mmap_mode="r", allow_pickle=False)
              for name in os.listdir(path) if name.endswith(".npy")}
    _maps[path] = (identity, arrays)
    return arrays


def _identity(path: str) -> tuple:
    """The entry's features file as the file system knows it (written once, never touched:
    ``read`` touches the folder)."""
    try:
        st = os.stat(os.path.join(path, "X.npy"))
    except FileNotFoundError:
        st = os.stat(os.path.join(path, "X_data.npy"))  # sparse features
    return st.st_dev, st.st_ino, st.st_ctime_ns, st.st_size


def remove(fit_id: str, index: int | None = None, but: str | None = None) -> None:
    """A fit's stored partitions (or partition ``index``'s), with their states' buffers."""
    for root in candidate_roots():
        if root == but:
            continue
        target = os.path.join(root, fit_id) if index is None else _dir(root, fit_id, index)
        shutil.rmtree(target, ignore_errors=True)
        for path in [p for p in _maps if p == target or p.startswith(target + os.sep)]:
            _maps.pop(path, None)  # this process's maps of it: its pages can be freed now
        if index is not None and but is None:
            remove_buffers(fit_id, f"{index}-", keep=lambda name: False)


# A partition's state beside its rows (``engine.state_store``): one file of raw bytes per
# partition and version, under <root>/<fit id>/state/.

def write_buffers(fit_id: str, name: str, buffers: list, spans: list, size: int) -> bool:
    """Write ``buffers`` at their ``spans`` (offset, length) into one new 0600 file of
    ``size`` bytes; False when no root on this host has room for it."""
    for root in candidate_roots():
        folder = os.path.join(root, fit_id, "state")
        try:
            if shutil.disk_usage(os.path.dirname(os.path.dirname(root))).free < size + (16 << 20):
                continue
            private_dir(os.path.dirname(root))
            os.makedirs(folder, mode=0o700, exist_ok=True)
            tmp = os.path.join(folder, f".{name}.tmp-{uuid.uuid4().hex[:8]}")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                with os.fdopen(fd, "wb") as f:
                    for buffer, (offset, _) in zip(buffers, spans):
                        f.seek(offset)
                        f.write(buffer)
                    f.truncate(size)
                os.replace(tmp, os.path.join(folder, name))
            except OSError:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
            return True
        except PersistenceError as e:
            _tell(f"distml: the partition store skips '{root}': {e}")
        except OSError as e:
            if e.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS,
                               errno.EACCES):
                raise
    return False


def map_buffers(fit_id: str, name: str):
    """The file ``write_buffers`` wrote, mapped copy-on-write: writable, and what is written
    stays private to this process (the file never changes)."""
    import mmap
    for root in candidate_roots():
        path = os.path.join(root, fit_id, "state", name)
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            size = os.fstat(fd).st_size
            if size == 0:
                return bytearray()
            return mmap.mmap(fd, size, flags=mmap.MAP_PRIVATE,
                             prot=mmap.PROT_READ | mmap.PROT_WRITE)
        finally:
            os.close(fd)
    raise StoreMiss(f"the state '{name}' of fit {fit_id} is not stored on this host")


def remove_buffers(fit_id: str, prefix: str, keep) -> None:
    """Remove the state files of fit ``fit_id`` named ``prefix``... unless ``keep(name)``."""
    for root in candidate_roots():
        folder = os.path.join(root, fit_id, "state")
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            if name.startswith(prefix) and not keep(name):
                with contextlib.suppress(OSError):
                    os.unlink(os.path.join(folder, name))


def holds(fit_id: str, index: int) -> bool:
    return _find(fit_id, index) is not None


def entries(prefix: str) -> list[tuple[float, int, str]]:
    """(last use, bytes, folder) of every stored partition whose fit id starts with
    ``prefix``, on this host."""
    found = []
    for root in candidate_roots():
        if not os.path.isdir(root):
            continue
        for fit_id in os.listdir(root):
            if not fit_id.startswith(prefix):
                continue
            for index in os.listdir(os.path.join(root, fit_id)):
                path = _dir(root, fit_id, index)
                if (".tmp-" in index or ".old-" in index or index == "state"
                        or not os.path.isdir(path)):
                    continue
                size = sum(e.stat().st_size for e in os.scandir(path) if e.is_file())
                found.append((os.stat(path).st_mtime, size, path))
    return found


def make_room(prefix: str, needed: int, limit: int, keep: str) -> bool:
    """Remove the least recently used partitions under ``prefix``, but none of fit ``keep``'s,
    until ``needed`` more bytes fit in ``limit``; False (nothing removed) when they cannot.
    ``keep``'s own partitions stay: evicting them to store another of its partitions would
    only trade one miss for another, every round."""
    held = sorted(entries(prefix))
    total = sum(size for _, size, _ in held)
    mine = f"{os.sep}{keep}{os.sep}"
    others = [(size, path) for _, size, path in held if mine not in path]
    if total - sum(size for size, _ in others) + needed > limit:
        return False
    for size, path in others:
        if total + needed <= limit:
            break
        shutil.rmtree(path, ignore_errors=True)
        total -= size
    return True

