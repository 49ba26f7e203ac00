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
