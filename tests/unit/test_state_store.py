"""A jobs-engine partition's state kept in the host store (``engine.state_store``): the
program gets back exactly what it left, writable, without the stored file changing; small
states stay in the pickle; versions no lineage needs are removed; a missing file is a
StateMiss (the attempt runs again), and a host without room keeps the state in Spark's cache."""
import os
import pickle
import uuid

import numpy as np
import pytest
import scipy.sparse as sp

from distml.engine import partition_store, state_store
from distml.engine.state_store import StateMiss, StoredState


@pytest.fixture
def fit_id():
    fid = "test-state-" + uuid.uuid4().hex
    yield fid
    partition_store.remove(fid)


def large_state(rng):
    return {"bins": rng.integers(0, 32, size=(5000, 40), dtype=np.uint8),
            "node": np.arange(5000, dtype=np.int32), "iteration": 3, "history": [0.5, 0.25],
            "small": np.ones(4), "block": sp.random(300, 200, density=0.3, format="csr",
                                                     random_state=2)}


def everything_needed(version):
    return True


def test_a_large_state_travels_by_reference_and_comes_back_equal_and_writable(fit_id, rng):
    state = large_state(rng)
    kept = state_store.keep(state, fit_id, 0, 1, everything_needed)
    assert isinstance(kept, StoredState)
    cached = pickle.dumps(kept)  # what Spark's cache holds
    # The large buffers are not in it (the bins, the block's arrays); the 20 kB of node ids,
    # under SPILL_BYTES, are.
    assert len(cached) < 25_000 < 15 * 25_000 < len(pickle.dumps(state))
    back = state_store.restore(pickle.loads(cached))
    np.testing.assert_array_equal(back["bins"], state["bins"])
    np.testing.assert_array_equal(back["node"], state["node"])
    assert (back["block"] != state["block"]).nnz == 0
    assert back["iteration"] == 3 and back["history"] == [0.5, 0.25]
    back["node"][:10] = -1  # the program updates in place, as the tree's node ids do
    again = state_store.restore(pickle.loads(cached))
    np.testing.assert_array_equal(again["node"], state["node"])  # the file did not change


def test_a_small_state_stays_in_the_pickle(fit_id):
    state = {"x": np.ones(100), "iteration": 1}
    assert state_store.keep(state, fit_id, 0, 1, everything_needed) is state


def test_versions_no_lineage_needs_are_removed(fit_id, rng):
    for version in range(1, 6):
        state_store.keep(large_state(rng), fit_id, 0, version, lambda v: v >= 4 or v == 2)
    state_store.keep(large_state(rng), fit_id, 1, 1, everything_needed)  # another partition
    names = set()
    for root in partition_store.candidate_roots():
        folder = os.path.join(root, fit_id, "state")
        if os.path.isdir(folder):
            names |= set(os.listdir(folder))
    assert names == {"0-2", "0-4", "0-5", "1-1"}
    partition_store.remove(fit_id, 0)
    with pytest.raises(StateMiss, match="0-5.*not stored on this host"):
        state_store.restore(StoredState(fit_id, "0-5", b"", []))


def test_no_room_keeps_the_state_in_sparks_cache(fit_id, rng, monkeypatch):
    monkeypatch.setattr(partition_store, "write_buffers", lambda *a: False)
    state = large_state(rng)
    assert state_store.keep(state, fit_id, 0, 1, everything_needed) is state


def test_state_files_are_private(fit_id, rng):
    state_store.keep(large_state(rng), fit_id, 0, 1, everything_needed)
    for root in partition_store.candidate_roots():
        path = os.path.join(root, fit_id, "state", "0-1")
        if os.path.exists(path):
            assert os.stat(path).st_mode & 0o777 == 0o600
            assert os.stat(os.path.dirname(root)).st_mode & 0o077 == 0  # distml-<uid>
            return
    raise AssertionError("the state file was not written")
