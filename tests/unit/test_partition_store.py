"""The per-host partition store: round trip, atomic replace, misses."""
import numpy as np
import pytest
import scipy.sparse as sp

from distml.engine import partition_store
from distml.engine.partition import Partition
from distml.engine.partition_store import StoreMiss


@pytest.fixture
def fit_id():
    import uuid
    fid = "test-" + uuid.uuid4().hex
    yield fid
    partition_store.remove(fid)


def test_dense_and_sparse_round_trip(fit_id, rng):
    X = rng.normal(size=(20, 3))
    partition_store.write(fit_id, Partition(0, X, rng.random(20), None, np.arange(20)))
    Xs = sp.random(15, 40, density=0.1, format="csr", random_state=1)
    partition_store.write(fit_id, Partition(1, Xs, None, rng.random(15)))
    a = partition_store.read(fit_id, 0, {"k": 1})
    np.testing.assert_array_equal(a.X, X)
    assert a.w is None and a.ids.tolist() == list(range(20)) and a.state == {"k": 1}
    b = partition_store.read(fit_id, 1, {})
    assert sp.issparse(b.X) and (b.X != Xs).nnz == 0 and b.y is None


def test_replace_and_keep(fit_id):
    partition_store.write(fit_id, Partition(0, np.zeros((2, 2))))
    partition_store.write(fit_id, Partition(0, np.ones((2, 2))))  # kept: same task, retried
    assert partition_store.read(fit_id, 0, {}).X.sum() == 0
    partition_store.write(fit_id, Partition(0, np.ones((2, 2))), replace=True)
    assert partition_store.read(fit_id, 0, {}).X.sum() == 4


def test_a_missing_partition_is_a_store_miss(fit_id):
    with pytest.raises(StoreMiss, match="partition 3"):
        partition_store.read(fit_id, 3, {})
    partition_store.write(fit_id, Partition(3, np.zeros((1, 1))))
    partition_store.remove(fit_id, 3)
    assert not partition_store.holds(fit_id, 3)


def test_the_rows_digest_is_stored_with_the_partition(fit_id, rng):
    part = Partition(0, rng.normal(size=(5, 2)), rng.random(5))
    digest = part.fingerprint()
    partition_store.write(fit_id, part)
    assert partition_store.read(fit_id, 0, {}).digest == digest


def test_make_room_evicts_the_least_recently_used_but_never_the_fit_s_own(rng):
    """Resident entries (issue 20): room is made by evicting other fits' partitions, oldest
    first; a fit's own partitions are never traded for another of its partitions."""
    import os
    import time
    import uuid
    prefix = "test-room-" + uuid.uuid4().hex[:8] + "-"
    a, b = prefix + "a", prefix + "b"
    part = Partition(0, rng.normal(size=(100, 10)))  # 8,000 bytes of X
    try:
        partition_store.write(b, part)
        time.sleep(0.01)
        partition_store.write(b, Partition(1, part.X))
        size = partition_store.entries(prefix)[0][1]
        os.utime(partition_store.entries(prefix)[0][2], (0, 0))  # entry used longest ago
        oldest = partition_store.entries(prefix)[0][2]
        assert partition_store.make_room(prefix, 8_000, 2 * size + 100, keep=a)
        left = partition_store.entries(prefix)
        assert len(left) == 1 and left[0][2] != oldest
        partition_store.write(a, part)
        # a's own partition stays: storing a's second one needs b's, not a's, room
        assert partition_store.make_room(prefix, 8_000, 2 * size + 100, keep=a)
        assert [path for _, _, path in partition_store.entries(prefix)] == \
            [path for _, _, path in partition_store.entries(prefix) if a in path]
        assert not partition_store.make_room(prefix, 8_000, size + 100, keep=a)
        assert partition_store.holds(a, 0)
    finally:
        partition_store.remove(a)
        partition_store.remove(b)


def test_a_process_keeps_its_maps_of_an_entry_until_the_entry_changes(fit_id, rng):
    """Round after round a reused Python worker reads the same partition: the second read
    gives the arrays the first mapped (their pages already faulted in); a replaced entry is
    mapped afresh, and a removed one is let go (its pages stay allocated while mapped)."""
    X = rng.normal(size=(30, 4))
    partition_store.write(fit_id, Partition(0, X))
    first = partition_store.read(fit_id, 0, {"round": 1})
    second = partition_store.read(fit_id, 0, {"round": 2})
    assert second.X is first.X and second.state == {"round": 2}
    partition_store.write(fit_id, Partition(0, X + 1.0), replace=True)
    replaced = partition_store.read(fit_id, 0, {})
    assert replaced.X is not first.X
    np.testing.assert_array_equal(replaced.X, X + 1.0)
    np.testing.assert_array_equal(first.X, X)  # a reader of the old entry keeps its rows
    partition_store.remove(fit_id, 0)
    assert not [p for p in partition_store._maps if fit_id in p]
