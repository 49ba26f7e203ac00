"""Training programs used by the engine tests; they exercise one primitive each."""
from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from distml.engine.memory import MemoryUse


def _sums(part):
    X = part.X.toarray() if sp.issparse(part.X) else part.X
    return X.sum(axis=0), X.min(axis=0, initial=np.inf), X.max(axis=0, initial=-np.inf)


def _rows_and_first_id(part):
    return np.array([part.num_rows, part.index], dtype=np.int64)


def _digest(part, value):
    # Each rank's own copy of a collective's result, so the test can compare them bitwise.
    return np.frombuffer(np.ascontiguousarray(value).tobytes(), dtype=np.uint8).copy()


def _count_step(part, step):
    seen = part.state.get("steps", 0) + step
    part.state["steps"] = seen
    return np.float64(seen * part.num_rows)


def _label_keys(part):
    return part.y.astype(np.int64), {"X": part.X, "y": part.y}


def _grouped(part):
    view = part.state["by_label"]
    keys = view["key"]
    ok = bool(np.all(keys % 2 == part.index % 2)) if keys.size else True
    return np.array([keys.size, float(view["y"].sum()), float(ok)])


def primitives(ctx, params):
    """Every primitive once; returns what a test compares across engines."""
    total, mins, maxs = ctx.map_reduce(_sums, op=("sum", "min", "max"))
    per_partition = np.array(ctx.map_collect(_rows_and_first_id))
    views = np.array(ctx.map_collect(_digest, total))
    first = ctx.map_update(_count_step, 1.0)
    second = ctx.map_update(_count_step, 2.0)
    ctx.repartition(_label_keys, "by_label")
    grouped = np.array(ctx.map_collect(_grouped))
    ctx.report(iteration=1, loss=float(total.sum()))
    return {"total": total, "mins": mins, "maxs": maxs, "per_partition": per_partition,
            "views": views, "update": np.array([first, second]), "grouped": grouped}


def _fail_on_partition(part, bad):
    if part.index == bad:
        raise ValueError(f"partition {part.index} refuses to work")
    return np.ones(1)


def fails_on_one_rank(ctx, params):
    ctx.map_reduce(_fail_on_partition, params["bad"])
    return {}


def _bad_data_on_partition(part, bad):
    from distml.errors import DataError
    if part.index == bad:
        raise DataError(f"partition {part.index} holds bad data")
    return np.ones(1)


def bad_data_on_one_rank(ctx, params):
    """A DataError from partition ``bad``, in a map_update or a map_reduce."""
    primitive = ctx.map_update if params["update"] else ctx.map_reduce
    primitive(_bad_data_on_partition, params["bad"])
    return {}


def _allocate_on_partition(part, bad):
    if part.index == bad:
        np.empty(2 ** 40)  # 8 TiB: numpy's own MemoryError, at once (no page touched)
    return np.ones(1)


def runs_out_of_memory_on_one_rank(ctx, params):
    ctx.map_reduce(_allocate_on_partition, params["bad"])
    return {}


def _slow(part, seconds):
    import time
    time.sleep(seconds)
    return np.ones(1)


def fails_while_peer_is_slow(ctx, params):
    """Rank 1 fails at once while rank 0 is busy for a long time: rank 0 must stop anyway."""
    ctx.map_reduce(_fail_or_sleep, params["bad"], params["sleep"])
    return {}


def _fail_or_sleep(part, bad, seconds):
    if part.index == bad:
        raise ValueError(f"partition {part.index} refuses to work")
    return _slow(part, seconds)


def _wipe_host_store(part):
    # Each task removes only its own partition's entry (of every fit): removing the whole
    # store would race with the other task's writes.
    import glob
    import os
    import shutil

    from distml.engine.partition_store import candidate_roots
    for root in candidate_roots():
        for path in glob.glob(os.path.join(root, "*", str(part.index))):
            shutil.rmtree(path, ignore_errors=True)
    return np.zeros(1)


def survives_a_lost_store(ctx, params):
    """The jobs engine's host store vanishes mid-fit: later rounds must give the same bits."""
    before = ctx.map_reduce(_sums, op=("sum", "min", "max"))[0]
    ctx.map_collect(_wipe_host_store)
    updated = ctx.map_update(_count_step, 1.0)  # slow path: data converted again, store refilled
    after = ctx.map_reduce(_sums, op=("sum", "min", "max"))[0]
    ctx.map_collect(_wipe_host_store)
    again = ctx.map_reduce(_sums, op=("sum", "min", "max"))[0]
    steps = ctx.map_update(_count_step, 2.0)
    return {"before": before, "after": after, "again": again,
            "update": np.array([updated, steps])}


def _partition_total(part, step):
    return np.array([part.num_rows * step], dtype=np.float64)


def counts_with_per_rank_state(ctx, params):
    """An iterative program whose state holds one entry per rank (so it depends on the rank
    count): it resumes only on as many ranks as wrote the checkpoint."""
    saved = ctx.resume()
    per_rank = saved["per_rank"] if saved is not None else np.zeros(ctx.num_partitions)
    first = saved["iteration"] + 1 if saved is not None else 1
    for iteration in range(first, params["iterations"] + 1):
        per_rank = per_rank + np.asarray(ctx.map_collect(_partition_total, iteration)).ravel()
        ctx.report(iteration=iteration)
        ctx.checkpoint(iteration, lambda: {"per_rank": per_rank, "iteration": iteration})
    return {"per_rank": per_rank, "started_at": np.int64(first)}


def _bump(part):
    part.state["bumps"] = part.state.get("bumps", 0) + 1


def lineage_depths(ctx, params):
    """Many map_updates on the jobs engine (the loop runs on the driver): the depth of the
    cached states' lineage after each, and the partitions' count of updates at the end."""
    depths = []
    for _ in range(params["updates"]):
        ctx.map_update(_bump)
        depths.append(len(ctx.states.toDebugString().decode().splitlines()))
    bumps = ctx.map_collect(lambda part: part.state["bumps"])
    return {"depths": np.array(depths), "bumps": np.array(bumps)}


def _keep_large_state(part):
    part.state["large"] = np.full(100_000, part.index, dtype=np.uint8)


def _where_state_lives(part):
    import mmap
    large = part.state["large"]
    base = large.base
    while isinstance(base, np.ndarray):  # numpy's views of the buffer it was rebuilt from
        base = base.base
    mapped = isinstance(base, memoryview) and isinstance(base.obj, mmap.mmap)
    return np.array([float(large.sum()), float(mapped)])


def state_between_rounds(ctx, params):
    """A large state left by one round and read by the next: its sum, and whether each
    partition read it from a memory map (the jobs engine's host store)."""
    ctx.map_update(_keep_large_state)
    return {"seen": np.array(ctx.map_collect(_where_state_lives))}


def rows_described(ctx, params):
    """No round of its own: what the input's description gave."""
    return {"rows": np.array(ctx.input.rows_per_partition, dtype=np.float64)}


def _copies(part, copies):
    # Every page written, so the copies are real memory (a cap on the address space refuses
    # them before that; a resident-memory limit would only see touched pages).
    held = [np.array(part.X, copy=True) for _ in range(copies)]
    return np.float64(sum(float(h[0, 0]) for h in held))


def copies_its_rows(ctx, params):
    """Each rank copies its partition ``copies`` times: more memory than it states it uses
    (below), so it passes the check as its rows arrive and runs out afterwards."""
    ctx.map_reduce(_copies, params["copies"])
    return {}


copies_its_rows.memory_use = MemoryUse(factor=1.0, fixed=0)
