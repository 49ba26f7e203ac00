"""Python workers fork from a daemon that has imported what distml's tasks need
(``distml.frames.worker_daemon``), where that daemon can start, and from pyspark's own where
it could not."""
import os
import subprocess
import sys

import pytest

from distml.frames import worker_daemon


@pytest.mark.spark
def test_the_session_s_workers_fork_from_a_daemon_holding_numpy_and_pyarrow(spark):
    def parent_of_this_worker(_):
        import os
        parent = os.getppid()
        with open(f"/proc/{parent}/cmdline", "rb") as f:
            command = [part.decode() for part in f.read().split(b"\0") if part]
        with open(f"/proc/{parent}/maps") as f:
            maps = f.read()
        return command, "/numpy/" in maps and "/pyarrow/" in maps

    # An RDD job: pyspark's worker alone imports neither numpy nor pyarrow.
    command, holds_libraries = spark.sparkContext.parallelize([0], 1).map(
        parent_of_this_worker).collect()[0]
    assert worker_daemon.MODULE in command
    assert holds_libraries


@pytest.mark.spark
def test_rdd_jobs_and_dataframe_udfs_share_one_pool_of_workers(spark):
    """Spark pools workers per environment; ``local_session`` makes the RDD jobs' the same
    as the SQL runners', so a fit on resident rows (an RDD stage) after one that read them
    (``mapInArrow``) runs in a worker that has imported its program already."""
    import pyarrow as pa

    def daemon_of_this_worker(batches):
        import os
        for batch in batches:
            yield pa.RecordBatch.from_pydict({"daemon": [os.getppid()] * batch.num_rows})

    rdd_daemons = set(spark.sparkContext.parallelize(range(4), 2).map(
        lambda _: __import__("os").getppid()).collect())
    sql_daemons = {row.daemon for row in spark.range(4, numPartitions=2).mapInArrow(
        daemon_of_this_worker, "daemon long").collect()}
    assert rdd_daemons == sql_daemons and len(rdd_daemons) == 1


def test_every_preloaded_module_imports_and_none_starts_a_python_thread():
    """A renamed module would be skipped without a word (``preload`` tolerates failures for
    the daemon's sake); a Python thread at fork time could hold a lock the child waits on."""
    probe = subprocess.run(
        [sys.executable, "-c", "import threading; from distml.frames import worker_daemon; "
         "print(worker_daemon.preload(), threading.active_count())"],
        capture_output=True, text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr[-2000:]
    assert probe.stdout.split("\n")[0] == "[] 1", probe.stdout


def test_preload_keeps_stdout_clean_and_reports_what_failed(tmp_path, monkeypatch, capsys):
    (tmp_path / "talkative_module.py").write_text("print('imported')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    failed = worker_daemon.preload(["talkative_module", "no_such_module_here"])
    assert failed == ["no_such_module_here"]
    assert "talkative_module" in sys.modules
    out = capsys.readouterr()
    assert out.out == "" and "imported" in out.err  # stdout carries the daemon's port


def test_the_daemon_is_asked_for_only_where_a_fresh_interpreter_finds_distml(tmp_path,
                                                                             monkeypatch):
    worker_daemon.daemon_module_conf.cache_clear()
    monkeypatch.setenv("PYTHONPATH", os.path.dirname(os.path.dirname(worker_daemon.__file__)))
    assert worker_daemon.daemon_module_conf() == {"spark.python.daemon.module":
                                                  worker_daemon.MODULE}
    # The same interpreter without its site-packages, where distml is installed: the
    # driver's PYTHONPATH still finds this checkout, which the probe must not count.
    bare = tmp_path / "python"
    bare.write_text(f"#!/bin/sh\nexec {sys.executable} -S \"$@\"\n")
    bare.chmod(0o700)
    monkeypatch.setattr(sys, "executable", str(bare))
    worker_daemon.daemon_module_conf.cache_clear()
    try:
        assert worker_daemon.daemon_module_conf() == {}
    finally:
        worker_daemon.daemon_module_conf.cache_clear()
