"""The training program of ALS: ratings exchanged once by user and by item, then alternating
half-iterations that exchange only factors.

Setup: the ids are checked (integers in Java's int range, as pyspark.ml requires); the ratings
are repartitioned by a hash of the user id, so each rank owns a set of users with all their
ratings; the ranks' users and the items those rated are gathered, so every rank knows both
sides' ids in sorted order, and each rank turns its block into CSR over its own rows with the
items' positions in that order; then the same by item. One side at a time: a rank never holds
both sides' received ratings before they are indexed.

Each iteration then solves the items given the user factors and the users given the item
factors (MLlib's order). In a half-iteration every rank solves its own rows' normal equations
(``kernels.als``) and the new factors are gathered to every rank (one allgather of the factor
blocks), so the next half-iteration finds every factor it needs locally.

Per-rank memory: its share of the ratings twice (by user and by item, ~2 x 20 bytes a rating)
plus both full factor matrices, (users + items) x rank x 8 bytes: 10 million users and items at
rank 10 is 0.8 GB a rank. Beyond that the exchange would have to send each rank only the
factors its ratings need (MLlib's out-blocks); the gathered matrices buy rounds with one
collective and no per-destination bookkeeping.

Factors are ordered by sorted id and start where MLlib's start for the same seed (the same
Spark random stream, block by block, as ``numUserBlocks``/``numItemBlocks`` say), so the model
depends neither on the engine nor on how many ranks trained it, and a seed means what it means
in pyspark.ml.
"""
from __future__ import annotations

import numpy as np

from distml.engine.memory import MemoryUse
from distml.errors import DataError
from distml.gpu.backend import rank_backend
from distml.kernels.als import RatingBlock, place_chunks, solve_factors
from distml.kernels.jvm_random import byteswap64, hash_seed, next_gaussians, next_long

BY_USER, BY_ITEM = "als_by_user", "als_by_item"
INT_MIN, INT_MAX = -(1 << 31), (1 << 31) - 1
# Fibonacci hashing: the high bits of id x this odd constant spread ids over ranks even when
# they share a stride (id % ranks, MLlib's partitioner, puts all even ids on one of two ranks).
_HASH = np.uint64(0x9E3779B97F4A7C15)


def als(ctx, params: dict) -> dict:
    _check_ids(ctx, params)
    # One side at a time, so a rank holds one side's received ratings unindexed, not both
    # (issue 25: the exchange's pieces and the indexing's temporaries are the fit's peak).
    ctx.repartition(_ratings_by(0), BY_USER)
    seen = ctx.map_collect(_ids_seen)
    user_ids = np.unique(np.concatenate([users for users, _ in seen])).astype(np.int64)
    item_ids = np.unique(np.concatenate([items for _, items in seen])).astype(np.int64)
    ctx.map_update(_index_block, BY_USER, user_ids, item_ids)
    ctx.repartition(_ratings_by(1), BY_ITEM)
    ctx.map_update(_index_block, BY_ITEM, item_ids, user_ids)
    rank = params["rank"]
    solve = {k: params[k] for k in ("regParam", "implicitPrefs", "alpha", "nonnegative",
                                    "backend")}
    saved = ctx.resume()  # both factor matrices after an iteration (sorted-id order)
    if saved is not None:
        users, items, done = saved["users"], saved["items"], saved["iteration"]
    else:
        users, items = initial_factors(user_ids, item_ids, rank, params["seed"],
                                       params["numUserBlocks"], params["numItemBlocks"])
        done = 0
    for iteration in range(done + 1, params["maxIter"] + 1):
        items = _gathered(ctx.map_collect(_solve, BY_ITEM, users, solve), item_ids.size, rank)
        users = _gathered(ctx.map_collect(_solve, BY_USER, items, solve), user_ids.size, rank)
        ctx.report(iteration=iteration)
        ctx.checkpoint(iteration, lambda: {"users": users, "items": items,
                                           "iteration": iteration})
    return {"userIds": user_ids, "userFactors": users, "itemIds": item_ids,
            "itemFactors": items}


def initial_factors(user_ids: np.ndarray, item_ids: np.ndarray, rank: int, seed: int,
                    user_blocks: int = 10, item_blocks: int = 10) -> tuple:
    """MLlib's random start for ``seed``: unit-norm rows of single-precision Gaussians, for
    the users and then the items, each side from its own seed drawn from ``seed``
    (``initial_block_factors``). The ids come sorted; so do the rows. Only the users' are used
    by a fit (items are solved first); the items' are the model of maxIter=0."""
    sides = hash_seed(seed)
    user_seed, sides = next_long(sides)
    item_seed, _ = next_long(sides)
    return (initial_block_factors(user_ids, rank, user_seed, user_blocks),
            initial_block_factors(item_ids, rank, item_seed, item_blocks))


def initial_block_factors(ids: np.ndarray, rank: int, seed: int, blocks: int) -> np.ndarray:
    """One side's start as MLlib draws it: ids go to ``id mod blocks`` (its hash partitioner
    over int ids); block b draws its rows, by ascending id, from Spark's XORShiftRandom seeded
    with byteswap64(seed ^ b): ``rank`` Gaussians each, rounded to float and scaled to unit
    norm in float, as MLlib's factors are floats."""
    out = np.empty((ids.size, rank))
    block_of = np.mod(ids, blocks)
    for block in np.unique(block_of):
        rows = np.flatnonzero(block_of == block)
        draws, _ = next_gaussians(hash_seed(byteswap64(seed ^ int(block))), rows.size * rank)
        factors = draws.astype(np.float32).reshape(rows.size, rank)
        norms = np.linalg.norm(factors, axis=1, keepdims=True).astype(np.float32)
        out[rows] = factors * (np.float32(1.0) / norms)
    return out


def _bad_ids(ids: np.ndarray) -> np.ndarray:
    return (ids != np.round(ids)) | (ids < INT_MIN) | (ids > INT_MAX)


def _id_check(part):
    X = part.X
    found = []
    for column in (0, 1):
        bad = np.flatnonzero(_bad_ids(X[:, column]))
        found.append((bad.size, X[bad[0], column] if bad.size else 0.0))
    return found


def _check_ids(ctx, params):
    results = ctx.map_collect(_id_check)
    for column, name in enumerate((params["userCol"], params["itemCol"])):
        count = sum(r[column][0] for r in results)
        if count:
            example = next(r[column][1] for r in results if r[column][0])
            raise DataError(
                f"column '{name}' has {count} values that are not integers in Java's int range "
                f"[{INT_MIN}, {INT_MAX}] (e.g. {example!r}); ALS ids must be; map other ids "
                "to integers first (StringIndexer does it for strings)")


def spread(ids: np.ndarray) -> np.ndarray:
    """A non-negative key per id whose remainder by the rank count spreads ids evenly."""
    hashed = ids.astype(np.int64).view(np.uint64)  # (in place from here: one row-length array)
    with np.errstate(over="ignore"):
        hashed *= _HASH
    hashed >>= np.uint64(33)
    return hashed.view(np.int64)


def _ratings_by(column: int):
    def keyed(part):
        # int32: the ids were checked to be in Java's int range (half an int64's bytes)
        ids = part.X[:, column].astype(np.int32)
        return spread(ids), {"own": ids, "other": part.X[:, 1 - column].astype(np.int32),
                             "rating": part.y}
    return keyed


def _ids_seen(part):
    """The users this rank owns, and the items they rated (every item is rated by someone)."""
    received = part.state[BY_USER]
    return np.unique(received["own"]), np.unique(received["other"])


def _index_block(part, into, own_ids, other_ids):
    """The received ratings as CSR over this rank's own rows, sorted by (row, other side's
    position). Each received column is let go as soon as it is used: this is the fit's peak."""
    received = part.state.pop(into)
    del received["key"]
    own = np.searchsorted(own_ids, received.pop("own"))
    other = np.searchsorted(other_ids, received.pop("other"))
    order = np.lexsort((other, own))
    own = own[order]
    index_type = np.int32 if other_ids.size < 1 << 31 else np.int64
    cols = other[order].astype(index_type)
    del other
    ratings = np.ascontiguousarray(received.pop("rating")[order])
    del order
    # own is sorted: each row starts where it differs from the row before
    starts = np.flatnonzero(np.concatenate(([True], own[1:] != own[:-1])))
    part.state[into] = RatingBlock(own[starts], np.append(starts, own.size).astype(np.int64),
                                   cols, ratings)


def _solve(part, side, F, params):
    block = part.state[side]
    backend = rank_backend(params["backend"])
    placed = None
    if backend.name != "numpy":  # the padded ratings go to the device once per partition
        key = ("als chunks", side, backend.device)
        source, placed = part.device_cache.get(key, (None, None))
        if source is not block:
            placed = place_chunks(block, backend)
            part.device_cache[key] = (block, placed)
    factors = solve_factors(block, F, params["regParam"], params["implicitPrefs"],
                            params["alpha"], params["nonnegative"], backend, placed)
    return block.rows, factors


def _gathered(blocks, count: int, rank: int) -> np.ndarray:
    full = np.empty((count, rank))
    for rows, factors in blocks:
        full[rows] = factors
    return full


# Measured by benchmarks/bench_memory.py (2.46x and 160 MiB), rounded up: what the ranks hold
# the fit to before loading their rows (engine.memory). The ratings are exchanged and indexed
# by user and by item, beside the rows as they came, hence the factor.
als.memory_use = MemoryUse(2.75, 192 << 20)
