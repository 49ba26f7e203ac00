"""A rank's memory (issue 25): ingestion that grows its arrays in place, the check that stops a
partition before it is held, the budget read from Spark's confs, and the words that say an
executor was killed for memory. (On real executors: ``tests/cluster/test_memory_limits.py``.)"""
import json
import subprocess
import sys
import textwrap

import numpy as np
import pyarrow as pa
import pytest
import scipy.sparse as sp

from distml.engine import memory
from distml.engine.memory import (MEMORY_KILL, Budget, IngestBudget, IngestGuard, MemoryUse,
                                  process_memory, rank_budget, size_bytes)
from distml.errors import ExecutorMemoryError, ParamError
from distml.frames.arrow_input import (ARRAY, FEATURES, ID, LABEL, VECTOR_STRUCT, WEIGHT,
                                       InputLayout, _GrowingRows, batches_to_partition)
from distml.frames.vectors import vector_arrow


def _batch(features, n, offset=0):
    return pa.RecordBatch.from_arrays(
        [features, pa.array(np.arange(n, dtype=float) + offset), pa.array(np.ones(n)),
         pa.array(np.arange(n, dtype=np.int64) + offset)], [FEATURES, LABEL, WEIGHT, ID])


@pytest.mark.parametrize("reserve", ["free memory", 0, 120 * 8 * 9])
@pytest.mark.parametrize("kind", [ARRAY, VECTOR_STRUCT])
def test_many_batches_grow_into_the_arrays_one_batch_would_make(rng, kind, reserve,
                                                                  monkeypatch):
    """Reference: the same rows converted as one batch (the arrays are then Arrow's own).
    Dense rows fill a reservation of the machine's free memory, no reservation (the arrays
    grow), or one of 120 rows the arrays grow past."""
    if reserve != "free memory":
        monkeypatch.setattr(IngestGuard, "reservable", lambda self: reserve)
    X = rng.normal(size=(1000, 6))
    X[X < 0] = 0.0
    convert = (lambda rows: pa.array(list(rows))) if kind == ARRAY else \
        (lambda rows: vector_arrow(sp.csr_matrix(rows)))
    layout = InputLayout(kind, "f", "y", "w", "id")
    cuts = [0, 1, 7, 100, 101, 555, 1000]  # uneven, so the arrays grow several times
    pieces = batches_to_partition(
        [_batch(convert(X[a:b]), b - a, a) for a, b in zip(cuts, cuts[1:])], layout, 0)
    whole = batches_to_partition([_batch(convert(X), 1000)], layout, 0)
    if kind == ARRAY:
        np.testing.assert_array_equal(pieces.X, whole.X)
        assert pieces.X.flags.c_contiguous and pieces.X.flags.owndata
    else:
        assert (pieces.X != whole.X).nnz == 0 and pieces.X.shape == whole.X.shape
        assert pieces.X.indptr.dtype == whole.X.indptr.dtype == np.int32
    for name in ("y", "w", "ids"):
        np.testing.assert_array_equal(getattr(pieces, name), getattr(whole, name))
        assert getattr(pieces, name).dtype == getattr(whole, name).dtype


@pytest.mark.parametrize("reserve, grows", [(2000 * (6 * 8 + 3 * 8), False), (0, True)])
def test_dense_rows_fill_the_guards_reservation_without_growing(rng, monkeypatch, reserve,
                                                                grows):
    """What ``batches_to_partition`` does with ``IngestGuard.reservable()``: room for 2,000
    rows of 6 features, a label, a weight and an id holds all 1,000 with no array grown; no
    room grows them. (The arrays are equal either way, the test above; the reservation is
    there for speed, so this is where its loss would show.)"""
    from distml.frames import arrow_input
    monkeypatch.setattr(IngestGuard, "reservable", lambda self: reserve)
    grown = []
    room = arrow_input._room

    def counting_room(a, rows):
        if a.shape[0] < rows:
            grown.append(rows)
        return room(a, rows)

    monkeypatch.setattr(arrow_input, "_room", counting_room)
    X = rng.normal(size=(1000, 6))
    cuts = [0, 10, 400, 1000]
    part = batches_to_partition(
        [_batch(pa.array(list(X[a:b])), b - a, a) for a, b in zip(cuts, cuts[1:])],
        InputLayout(ARRAY, "f", "y", "w", "id"), 0)
    np.testing.assert_array_equal(part.X, X)
    assert bool(grown) == grows, grown


def test_an_error_after_good_batches_counts_the_whole_partition():
    good = _batch(pa.array([[1.0], [2.0]]), 2)
    bad = _batch(pa.array([[1.0], None, None], pa.list_(pa.float64())), 3)
    with pytest.raises(ValueError, match="'f' has 2 null values of 5 rows"):
        batches_to_partition([good, bad], InputLayout(ARRAY, "f"), 0)


_PEAK_SCRIPT = textwrap.dedent("""
    import json, numpy as np, pyarrow as pa
    from distml.engine.memory import array_bytes, process_memory, reset_peak
    from distml.frames.arrow_input import FEATURES, LABEL, InputLayout, batches_to_partition
    rows, width, per_batch = 400_000, 50, 10_000  # Spark's default Arrow batch
    block = np.random.default_rng(0).normal(size=(per_batch, width))
    offsets = pa.array(np.arange(0, per_batch * width + 1, width, dtype=np.int32))
    def batches():  # made one at a time, as the JVM streams them
        for i in range(rows // per_batch):
            values = pa.array((block + i).ravel())
            yield pa.RecordBatch.from_arrays(
                [pa.ListArray.from_arrays(offsets, values), pa.array(np.ones(per_batch))],
                [FEATURES, LABEL])
    reset_peak()
    before = process_memory()["rss"]
    part = batches_to_partition(batches(), InputLayout("array", "f", "y"), 0)
    print(json.dumps({"added": process_memory()["peak"] - before,
                      "arrays": array_bytes(part.X, part.y)}))
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_ingestion_peaks_under_one_and_a_quarter_times_the_arrays():
    """In a fresh process, so nothing else allocates: 160 MB of rows in 40 batches. Holding
    the batches and concatenating them, as ingestion did before, peaked at 2.0x."""
    out = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT], capture_output=True, text=True,
                         check=True)
    measured = json.loads(out.stdout)
    assert measured["arrays"] == 400_000 * 51 * 8
    assert measured["added"] / measured["arrays"] <= 1.25


def test_a_reservation_takes_no_memory_until_rows_are_written(rng):
    """8 GiB of address space reserved for 1,000 rows of 50 doubles: the rows are the only
    resident memory it adds (a zero-filled reservation would add the 8 GiB), and ``finish``
    hands back arrays of the rows alone."""
    X, y = rng.normal(size=(1000, 50)), rng.normal(size=1000)
    before = process_memory()["rss"]
    rows = _GrowingRows((X, y, None, None), 8 << 30)
    assert rows.X.shape[0] == (8 << 30) // (51 * 8), "the rows were not reserved"
    rows.append((X, y, None, None), "f")
    assert process_memory()["rss"] - before < 64 << 20
    held, labels, _, _ = rows.finish()
    np.testing.assert_array_equal(held, X)
    np.testing.assert_array_equal(labels, y)
    assert held.shape == (1000, 50) and held.flags.owndata and labels.shape == (1000,)


def test_a_reservation_the_kernel_refuses_becomes_growth(rng):
    X = rng.normal(size=(10, 3))
    rows = _GrowingRows((X, None, None, None), 1 << 62)
    assert rows.X.shape[0] == 0
    rows.append((X, None, None, None), "f")
    np.testing.assert_array_equal(rows.finish()[0], X)


def test_the_reservation_is_what_the_guard_lets_a_partition_hold(monkeypatch):
    """No limit: the machine's free memory. A resident-memory budget: the room its check
    leaves for arrays, at most the free memory. None under Spark's address-space cap or strict
    overcommit, where reserved address space is charged as used."""
    monkeypatch.setattr(memory, "_free_memory", lambda: 10 << 30)
    monkeypatch.setattr(memory, "_strict_overcommit", lambda: False)
    assert IngestGuard(None, 0).reservable() == 10 << 30
    use = MemoryUse(factor=2.0, fixed=1 << 20)
    budget = Budget(process_memory()["rss"] + (101 << 20), "spark.executor.memoryOverhead", "1g",
                    1)
    plan = IngestBudget(use, budget, ranks=1)
    guard = IngestGuard(plan, 0)
    assert guard.reservable() == (plan.budget.bytes - guard.base - (1 << 20)) // 2
    monkeypatch.setattr(memory, "_free_memory", lambda: 1 << 20)
    assert guard.reservable() == 1 << 20
    monkeypatch.setattr(memory, "_strict_overcommit", lambda: True)
    assert IngestGuard(None, 0).reservable() == 0
    monkeypatch.setattr(memory, "_strict_overcommit", lambda: False)
    monkeypatch.setattr(memory, "address_space_limit", lambda: 4 << 30)
    assert IngestGuard(plan, 0).reservable() == 0
    # A worker capped by Spark that reads rows without a plan (a transform), or with the
    # check turned off, does not reserve either.
    assert IngestGuard(None, 0).reservable() == 0
    assert IngestGuard(IngestBudget(use, budget, 1, False), 0).reservable() == 0


class _Conf(dict):
    def get(self, key, default=None):
        return super().get(key, default)


class _Session:
    def __init__(self, master, **conf):
        self.conf = _Conf({"spark.master": master, **conf})
        self.sparkContext = type("SC", (), {"master": master})()


def test_the_budget_is_pyspark_memory_over_the_cores_else_the_overhead_over_the_slots():
    assert rank_budget(_Session("local[4]", **{"spark.executor.pyspark.memory": "2g"})) is None
    given = rank_budget(_Session("yarn", **{"spark.executor.pyspark.memory": "4g",
                                            "spark.executor.cores": "4"}))
    assert given == Budget(1 << 30, "spark.executor.pyspark.memory", "4g", 4)
    default = rank_budget(_Session("yarn", **{"spark.executor.memory": "8g",
                                              "spark.executor.cores": "4"}))
    assert default.bytes == int((8 << 30) * 0.1) // 4
    assert default.describe() == ("205 MiB (spark.executor.memoryOverhead=819m (its default) "
                                  "over 4 task slots per executor)")
    small = rank_budget(_Session("k8s://https://h:443", **{"spark.executor.memory": "1g"}))
    assert small.bytes == 384 << 20  # Spark's floor
    slots = rank_budget(_Session("yarn", **{"spark.executor.memoryOverhead": "3000m",
                                            "spark.executor.cores": "4", "spark.task.cpus": "2"}))
    assert slots.bytes == 1500 << 20 and slots.conf_for(1500 << 20) == \
        "spark.executor.memoryOverhead=3.3g"
    assert rank_budget(_Session("spark://h:7077")) is None  # standalone: nothing caps it


def test_memory_sizes_read_as_spark_reads_them():
    assert size_bytes("512m", "c") == 512 << 20 and size_bytes("2G", "c") == 2 << 30
    assert size_bytes("1024", "c") == 1 << 30  # MiB without a unit
    assert size_bytes("1.5g", "c") == 3 << 29 and size_bytes("64kb", "c") == 64 << 10
    with pytest.raises(ParamError, match="spark.executor.pyspark.memory must be a memory size"):
        size_bytes("lots", "spark.executor.pyspark.memory")


def test_a_partition_past_the_budget_stops_and_says_what_fits(rng):
    """A budget of resident memory (the overhead's case: no address-space cap in this process)
    64 MiB above what this process holds now, against rows that need far more: the rank counts
    its rows to the end without holding them and names the need, the budget, the conf value and
    the partitions."""
    width, per_batch = 100, 10_000
    block = pa.array(list(rng.normal(size=(per_batch, width))))
    seen = []
    limit = process_memory()["rss"] + (64 << 20)
    budget = Budget(limit, "spark.executor.memoryOverhead", "256m", 4)
    plan = IngestBudget(MemoryUse(factor=1.5, fixed=0), budget, ranks=2)

    def batches():
        for i in range(100):  # 1M rows: 800 MB
            seen.append(i)
            yield _batch(block, per_batch)

    with pytest.raises(ExecutorMemoryError) as raised:
        batches_to_partition(batches(), InputLayout(ARRAY, "f", "y", "w", "id"), 1, plan)
    message = str(raised.value)
    assert len(seen) == 100  # counted to the end
    assert message.startswith("the fit needs about ")
    assert (f"more than the {limit / (1 << 20):.0f} MiB (spark.executor.memoryOverhead=256m "
            "over 4 task slots per executor) Spark gives") in message
    assert "rank 1's partition has 1000000 rows of 100 features, 786 MiB of arrays (x1.5" \
        in message
    need = int(message.split("needs about ")[1].split()[0])
    assert need > 1.5 * 786
    assert f"Set spark.executor.memoryOverhead={np.ceil(need * 1.1 * 4 / 1024 * 10) / 10:g}g" \
        in message
    # 64 MiB of room (give or take what the process allocated since) at 1.5 x 824 bytes a row:
    # about 54k rows a rank, 37 partitions for the 2 ranks' 2M rows
    partitions = int(message.rpartition("at least ")[2].split()[0])
    assert 30 <= partitions <= 45


def test_the_check_turned_off_loads_what_it_would_refuse(rng):
    """spark.distml.memoryCheck=false: the same rows against a budget of 1 MiB load."""
    budget = Budget(1 << 20, "spark.executor.memoryOverhead", "4m", 4)
    batch = _batch(pa.array(list(rng.normal(size=(1000, 10)))), 1000)
    layout = InputLayout(ARRAY, "f", "y", "w", "id")
    with pytest.raises(ExecutorMemoryError):
        batches_to_partition([batch], layout, 0, IngestBudget(MemoryUse(), budget, 1))
    part = batches_to_partition([batch], layout, 0, IngestBudget(MemoryUse(), budget, 1, False))
    assert part.num_rows == 1000


def test_the_memory_use_counts_the_fixed_part_larger_for_address_space():
    use = MemoryUse(factor=1.2, fixed=100 << 20)
    assert use.need(1000, 500) == 1000 + (100 << 20) + 600
    assert use.need(1000, 500, "vm") == 1000 + int((100 << 20) * 2.7) + 600


@pytest.mark.parametrize("text, memory", [
    ("Container killed by YARN for exceeding physical memory limits. 5.5 GB of 5.5 GB "
     "physical memory used. Consider boosting spark.executor.memoryOverhead.", True),
    ("Container killed by YARN for exceeding memory limits.", True),
    ("Executor Process Lost: Command exited with code 137", True),
    ("The executor with id 3 exited with exit code 137(SIGKILL, possible container OOM).", True),
    ("reason: OOMKilled", True),
    ("Container exited with a non-zero exit code 143. Killed by external signal", True),
    ("Exit status: -104. Diagnostics: ...", True),
    ("Command exited with code 129", False),
    ("Command exited with code 1370", False),
    ("Executor heartbeat timed out after 120000 ms", False),
    ("ExecutorLostFailure (executor 1 exited caused by one of the running tasks) Reason: "
     "Remote RPC client disassociated.", False),
])
def test_the_words_of_a_memory_kill(text, memory):
    assert (MEMORY_KILL.search(text) is not None) == memory
