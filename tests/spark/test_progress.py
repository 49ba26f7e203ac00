"""A fit's progress reaches the driver while the fit runs, on every engine, and can be
turned off."""
import logging
import threading

import numpy as np
import pytest

from distml import KMeans
from distml.engine.progress import add_listener, set_progress
from frames import to_df  # tests/helpers is on sys.path (conftest)


@pytest.fixture(scope="module")
def blobs(spark):
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(c, 1.0, (300, 4)) for c in (0.0, 5.0, 10.0)])
    return to_df(spark, X, np.zeros(len(X)))


@pytest.mark.parametrize("engine", ["barrier", "jobs", "local"])
def test_reports_arrive_while_the_fit_runs(blobs, engine):
    seen, finished = [], threading.Event()
    remove = add_listener(lambda label, entry: seen.append((label, entry, finished.is_set())))
    try:
        KMeans(k=3, maxIter=8, tol=0.0, seed=1, engine=engine, initMode="random").fit(blobs)
        finished.set()
    finally:
        remove()
    assert [e["iteration"] for _, e, _ in seen] == list(range(1, len(seen) + 1))
    assert len(seen) >= 2 and all(label == "KMeans" for label, _, _ in seen)
    assert not seen[0][2]  # delivered before fit() returned, not only at the end
    assert all("cost" in e and e["elapsed"] >= 0 for _, e, _ in seen)


def test_the_display_logs_and_can_be_turned_off(blobs, caplog):
    with caplog.at_level(logging.INFO, logger="distml"):
        KMeans(k=3, maxIter=3, seed=1, engine="local").fit(blobs)
    assert any("KMeans: iteration 1" in r.getMessage() for r in caplog.records)
    caplog.clear()
    set_progress(False)
    try:
        with caplog.at_level(logging.INFO, logger="distml"):
            KMeans(k=3, maxIter=3, seed=1, engine="local").fit(blobs)
    finally:
        set_progress(None)
    assert not any("iteration" in r.getMessage() for r in caplog.records)
