"""The engines on Spark data: same bits, identical collectives, errors, engine choice."""
import logging
import textwrap
import time

import numpy as np
import pytest
from pyspark.ml.linalg import Vectors

import programs
from distml.frames import InputSpec
from distml.engine.fit import choose_engine, fit_program
from distml.errors import DataError, ParamError
from spark_tasks import counting_failed_tasks

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def labelled(spark):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(200, 5)) * 1e3
    y = rng.integers(0, 6, size=200).astype(float)
    rows = [(Vectors.dense(r), float(t)) for r, t in zip(X, y)]
    df = spark.createDataFrame(rows, ["features", "label"]).repartition(2).cache()
    df.count()
    return df, X, y


def test_every_primitive_gives_the_same_bits_on_all_engines(labelled):
    df, X, y = labelled
    spec = InputSpec("features", label="label")
    runs = {e: fit_program(programs.primitives, {}, df, spec, engine=e)
            for e in ("local", "barrier", "gang", "jobs")}
    ref = runs["local"].values
    np.testing.assert_allclose(ref["total"], X.sum(axis=0), rtol=1e-10)
    assert ref["per_partition"][:, 0].sum() == 200
    assert ref["grouped"][:, 0].sum() == 200 and ref["grouped"][:, 2].all()
    for engine in ("barrier", "gang", "jobs"):
        assert runs[engine].engine == engine
        got = runs[engine].values
        for key in ref:
            assert got[key].tobytes() == ref[key].tobytes(), (engine, key)
        assert runs[engine].history == runs["local"].history


def test_the_engines_are_one_protocol(spark, labelled):
    """Issue 19: every engine is an ``Engine``, and one program runs through each by that
    protocol alone (``fit(program, params, frame, spec)``), with the same bits."""
    from distml.engine.barrier import BarrierEngine
    from distml.engine.context import Engine
    from distml.engine.gang import GangEngine
    from distml.engine.jobs import JobsEngine
    from distml.engine.local import LocalEngine
    df, _, _ = labelled
    engines = [LocalEngine(2), BarrierEngine(spark, 2), GangEngine(spark, 2),
               JobsEngine(spark, 2)]
    assert all(isinstance(engine, Engine) for engine in engines)
    spec = InputSpec("features", label="label")
    results = [engine.fit(programs.primitives, {}, df, spec).values for engine in engines]
    for got in results[1:]:
        for key in results[0]:
            assert got[key].tobytes() == results[0][key].tobytes(), key


def test_encrypted_collectives_give_the_same_bits(spark, labelled):
    """Issue 18: with spark.distml.encryption=true every frame is sealed (AES-GCM); the fit's
    results are the authenticated-only fit's, bit for bit."""
    df, _, _ = labelled
    spec = InputSpec("features", label="label")
    plain = fit_program(programs.primitives, {}, df, spec, engine="barrier").values
    spark.conf.set("spark.distml.encryption", "true")
    try:
        sealed = fit_program(programs.primitives, {}, df, spec, engine="barrier").values
    finally:
        spark.conf.unset("spark.distml.encryption")
    for key in plain:
        assert sealed[key].tobytes() == plain[key].tobytes(), key


def test_collective_results_are_identical_on_every_rank(labelled):
    df, _, _ = labelled
    views = fit_program(programs.primitives, {}, df, InputSpec("features", label="label"),
                        engine="barrier").values["views"]
    assert views.shape[0] == 2 and (views[0] == views[1]).all()


@pytest.mark.parametrize("engine", ["barrier", "gang", "jobs"])
def test_a_failing_rank_fails_the_fit_with_its_message(labelled, engine):
    df, _, _ = labelled
    start = time.monotonic()
    with pytest.raises(ValueError, match="partition 1 refuses to work"):
        fit_program(programs.fails_on_one_rank, {"bad": 1}, df, InputSpec("features"),
                    engine=engine)
    assert time.monotonic() - start < 30


@pytest.mark.parametrize("update", [False, True])
def test_jobs_engine_raises_a_data_error_without_spark_retrying_the_task(spark, labelled,
                                                                         update):
    df, _, _ = labelled
    with counting_failed_tasks(spark.sparkContext) as tasks:
        with pytest.raises(DataError, match="partition 1 holds bad data"):
            fit_program(programs.bad_data_on_one_rank, {"bad": 1, "update": update}, df,
                        InputSpec("features"), engine="jobs")
    assert tasks["stages"] > 0 and tasks["failed"] == 0


@pytest.mark.parametrize("engine", ["barrier", "jobs"])
def test_a_rank_out_of_memory_ends_in_one_error_that_says_what_to_change(labelled, engine,
                                                                        caplog):
    """Issue 25: not retried (the same partition needs the same memory again), and the error
    names where a rank's memory is counted and the two fixes."""
    df, _, _ = labelled
    with caplog.at_level(logging.WARNING, logger="distml"), \
            pytest.raises(MemoryError) as raised:
        fit_program(programs.runs_out_of_memory_on_one_rank, {"bad": 1}, df,
                    InputSpec("features"), engine=engine, label="OOMProgram")
    message = str(raised.value)
    assert message.startswith("OOMProgram ran out of memory (")
    assert "Unable to allocate" in message  # numpy's own words, from the rank
    assert ("counts against spark.executor.pyspark.memory, or "
            "spark.executor.memoryOverhead where that is not set") in message
    assert "more, smaller partitions (numWorkers)" in message
    assert "attempt 1 of" not in caplog.text


@pytest.mark.parametrize("engine", ["barrier", "gang"])
def test_a_failing_rank_stops_a_busy_peer_within_seconds(labelled, engine):
    df, _, _ = labelled
    start = time.monotonic()
    with pytest.raises(ValueError, match="partition 1 refuses to work"):
        fit_program(programs.fails_while_peer_is_slow, {"bad": 1, "sleep": 120}, df,
                    InputSpec("features"), engine=engine)
    assert time.monotonic() - start < 30


def test_too_many_ranks_is_refused_before_any_work(labelled):
    df, _, _ = labelled
    with pytest.raises(ParamError, match="numWorkers=5.*at most 2"):
        fit_program(programs.primitives, {}, df, InputSpec("features"), engine="barrier",
                    num_workers=5)


def test_auto_picks_barrier_on_spark_and_local_on_pandas(labelled):
    import pandas as pd
    df, _, _ = labelled
    assert choose_engine("auto", df) == "barrier"
    assert choose_engine("auto", pd.DataFrame({"f": []})) == "local"
    with pytest.raises(ParamError, match="needs a Spark DataFrame"):
        choose_engine("barrier", pd.DataFrame({"f": []}))
    with pytest.raises(ParamError, match="engine must be one of"):
        choose_engine("gpu", df)


def test_jobs_engine_keeps_a_large_state_in_the_host_store_between_rounds(labelled):
    """Issue 21: the state's 100 kB array crosses rounds through the host store (read back
    by memory map), not Spark's cache; the local engine, which keeps it in memory, reads the
    same values."""
    df, _, _ = labelled
    spec = InputSpec("features", label="label")
    jobs = fit_program(programs.state_between_rounds, {}, df, spec, engine="jobs")
    local = fit_program(programs.state_between_rounds, {}, df, spec, engine="local")
    np.testing.assert_array_equal(jobs.values["seen"][:, 0], [0.0, 100_000.0])
    np.testing.assert_array_equal(local.values["seen"][:, 0], jobs.values["seen"][:, 0])
    assert jobs.values["seen"][:, 1].tolist() == [1.0, 1.0]
    assert local.values["seen"][:, 1].tolist() == [0.0, 0.0]


def test_jobs_engine_survives_losing_its_host_store(labelled):
    df, X, _ = labelled
    spec = InputSpec("features", label="label")
    ref = fit_program(programs.survives_a_lost_store, {}, df, spec, engine="local").values
    got = fit_program(programs.survives_a_lost_store, {}, df, spec, engine="jobs").values
    for key in ref:
        assert got[key].tobytes() == ref[key].tobytes(), key
    assert got["update"].tolist() == [200.0, 600.0]


@pytest.mark.parametrize("reliable", [False, True])
def test_jobs_engine_cuts_the_lineage_of_long_fits(spark, labelled, tmp_path, reliable):
    """MLlib's ALS without a checkpoint directory dies of deep lineage; distml's jobs engine
    cuts it every few updates: on the executors, or to Spark's checkpoint directory."""
    from distml.engine.jobs import LINEAGE_CUT_EVERY
    df, _, _ = labelled
    sc = spark.sparkContext
    if reliable:
        sc.setCheckpointDir(str(tmp_path))
    try:
        out = fit_program(programs.lineage_depths, {"updates": 3 * LINEAGE_CUT_EVERY + 2}, df,
                          InputSpec("features"), engine="jobs").values
    finally:
        if reliable:
            sc._jsc.sc().setCheckpointDir(None)  # back to none for the other tests
    assert (out["bumps"] == 3 * LINEAGE_CUT_EVERY + 2).all()
    depths = out["depths"]
    assert depths.max() <= depths[:LINEAGE_CUT_EVERY].max() + 2  # bounded, not growing
    assert depths[-1] < depths[LINEAGE_CUT_EVERY - 2]
    if reliable:
        assert any(p.is_dir() for p in tmp_path.iterdir())  # Spark wrote the states there


def test_jobs_engine_describes_the_input_while_taking_it_in(spark, labelled, monkeypatch):
    """The conversion returns what ``describe_input`` checks, so no round runs for it; a
    program with no rounds of its own costs one Spark job (on a local master the driver
    removes the fit's stored files itself, no removal job) and leaves no file of the fit.
    Resident partitions are off: a second fit would otherwise not convert at all."""
    from distml.engine import partition_store
    from distml.engine.jobs import JobsContext
    df, _, _ = labelled
    sc = spark.sparkContext
    spec = InputSpec("features", label="label")
    spark.conf.set("spark.distml.residentBytes", "0")
    try:
        # Once before: a DataFrame's first fit looks at a row for its vectors' kind (kept).
        fit_program(programs.rows_described, {}, df, spec, engine="jobs")
        rounds = []
        monkeypatch.setattr(JobsContext, "map_collect",
                            lambda self, fn, *args: rounds.append(fn.__name__))
        stored_before = {path for _, _, path in partition_store.entries("")}
        sc.setJobGroup("distml-one-fit", "counting the jobs of one fit")
        out = fit_program(programs.rows_described, {}, df, spec, engine="jobs")
    finally:
        sc.setLocalProperty("spark.jobGroup.id", None)
        spark.conf.unset("spark.distml.residentBytes")
    assert rounds == []
    jobs = sc.statusTracker().getJobIdsForGroup("distml-one-fit")
    assert len(jobs) == 1, jobs
    assert out.values["rows"].sum() == 200 and out.values["rows"].size == 2
    assert {path for _, _, path in partition_store.entries("")} <= stored_before


@pytest.mark.parametrize("engine", ["barrier", "gang", "jobs"])
def test_every_fit_reports_its_ranks_memory_and_logs_estimate_and_budget(labelled, engine,
                                                                         caplog):
    """Issue 25: each rank's worker start, peak, array bytes and estimate, one per partition,
    and the INFO line (a local master: no budget caps a worker). On the jobs engine the peak
    is the ingestion task's (resident partitions off: a jobs fit that finds them ingests
    nothing, and has no ingestion to measure)."""
    df, X, y = labelled
    spark = df.sparkSession
    spark.conf.set("spark.distml.residentBytes", "0")
    try:
        with caplog.at_level(logging.INFO, logger="distml"):
            result = fit_program(programs.primitives, {}, df,
                                 InputSpec("features", label="label"), engine=engine,
                                 label="Primitives")
    finally:
        spark.conf.unset("spark.distml.residentBytes")
    assert len(result.memory) == 2
    assert sum(r["arrays"] for r in result.memory) == X.nbytes + y.nbytes
    for rank in result.memory:
        assert 0 < rank["start"] <= rank["peak"] < rank["need"]
    line = next(r.getMessage() for r in caplog.records if "memory per rank" in r.getMessage())
    assert line.startswith("distml: Primitives memory per rank: estimate ")
    assert line.endswith("budget none set (a local master or standalone executors: the ranks "
                         "share their machine)")


def test_a_program_the_executors_cannot_import_fails_once_saying_so(labelled, tmp_path,
                                                                     monkeypatch, caplog):
    """A task whose function names a module only the driver has fails while Spark unpickles
    it, before distml's wrapper runs: every attempt would fail the same way, so the fit raises
    one ImportError with what to do, and is not retried. (The jobs engines build the same
    error with the same helper, ``spark_errors.spark_failure``.)"""
    df, _, _ = labelled
    (tmp_path / "driver_only_program.py").write_text(textwrap.dedent('''
        def column_sums(part):
            return part.X.sum(axis=0)

        def sums(ctx, params):
            return {"sums": ctx.map_reduce(column_sums)}
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))  # the driver's path, not the executors'
    import driver_only_program
    with caplog.at_level(logging.WARNING, logger="distml"), \
            pytest.raises(ImportError, match="could not import what the fit needs .*"
                                             "driver_only_program.*--py-files"):
        fit_program(driver_only_program.sums, {}, df, InputSpec("features"), engine="barrier")
    assert "attempt 1 of" not in caplog.text
