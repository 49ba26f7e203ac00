"""ALS on pandas input (LocalEngine): a dense reference written here, the kernels against each
other, the model's outputs, and bad input."""
import numpy as np
import pandas as pd
import pytest

from distml import ALS, ALSModel, DataError, ParamError
from distml.algorithms.recommendation.als_program import initial_factors, spread
from distml.gpu import MXNetBackend
from distml.kernels.als import (RatingBlock, nonnegative_least_squares, padded_chunks,
                                padded_systems, solve_factors, top_k)


def _ratings(num_users=40, num_items=25, density=0.3, seed=0, negative=False):
    """Sparse ratings with ids that are not 0..n-1 (negative, large, with gaps)."""
    rng = np.random.default_rng(seed)
    observed = rng.random((num_users, num_items)) < density
    observed[np.arange(num_users), rng.integers(0, num_items, num_users)] = True
    observed[rng.integers(0, num_users, num_items), np.arange(num_items)] = True
    values = rng.normal(3.0, 1.0, size=(num_users, num_items)).round(1)
    if negative:
        values -= 2.5
    user_ids = np.sort(rng.choice(np.arange(-10**9, 2 * 10**9, 7919), num_users, replace=False))
    item_ids = np.sort(rng.choice(np.arange(-5000, 10**6), num_items, replace=False))
    u, i = np.nonzero(observed)
    frame = pd.DataFrame({"user": user_ids[u], "item": item_ids[i], "rating": values[u, i]})
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True), \
        (user_ids, item_ids, values, observed)


def _reference_als(ids, values, observed, rank, reg, iterations, implicit, alpha, seed):
    """ALS on the dense matrix, one user (item) at a time: MLlib's objective (ALS-WR's
    regularization; Hu, Koren and Volinsky's confidence 1 + alpha |r| and preference r > 0
    over every entry when implicit), items solved first."""
    users, _ = initial_factors(*ids, rank, seed)

    def half(R, M, Y):
        out = np.empty((R.shape[0], rank))
        for row in range(R.shape[0]):
            if implicit:
                confidence = 1.0 + alpha * np.abs(R[row]) * M[row]
                preference = ((R[row] > 0) & M[row]).astype(float)
                A = Y.T @ (confidence[:, None] * Y) + reg * preference.sum() * np.eye(rank)
                b = Y.T @ (confidence * preference)
            else:
                Yo = Y[M[row]]
                A = Yo.T @ Yo + reg * M[row].sum() * np.eye(rank)
                b = Yo.T @ R[row, M[row]]
            out[row] = np.linalg.solve(A, b)
        return out

    for _ in range(iterations):
        items = half(values.T, observed.T, users)
        users = half(values, observed, items)
    return users, items


@pytest.mark.parametrize("implicit", [False, True])
def test_factors_match_a_dense_reference(implicit):
    frame, (user_ids, item_ids, values, observed) = _ratings(negative=implicit)
    kwargs = dict(rank=4, regParam=0.05, maxIter=5, implicitPrefs=implicit, alpha=2.0, seed=7)
    model = ALS(numWorkers=3, **kwargs).fit(frame)
    users, items = _reference_als((user_ids, item_ids), values, observed, 4, 0.05, 5, implicit,
                                  2.0, 7)
    np.testing.assert_array_equal(model._users[0], user_ids)
    np.testing.assert_array_equal(model._items[0], item_ids)
    np.testing.assert_allclose(model._users[1], users, rtol=0, atol=1e-8)
    np.testing.assert_allclose(model._items[1], items, rtol=0, atol=1e-8)


def test_the_model_does_not_depend_on_the_rank_count():
    frame, _ = _ratings(seed=3)
    one, four = (ALS(rank=3, maxIter=4, numWorkers=n, seed=1).fit(frame) for n in (1, 4))
    np.testing.assert_allclose(one._users[1], four._users[1], rtol=0, atol=1e-12)
    np.testing.assert_allclose(one._items[1], four._items[1], rtol=0, atol=1e-12)


def test_ids_spread_evenly_over_ranks_even_with_a_common_stride():
    ids = np.arange(0, 20000, 4, dtype=np.int64)  # id % 2 would put them all on one rank
    counts = np.bincount(spread(ids) % 2)
    assert abs(counts[0] - counts[1]) < 0.05 * ids.size
    assert (spread(np.array([-(1 << 31), -1, 0, (1 << 31) - 1])) >= 0).all()


def _block(seed=0, rows=30, others=12, rank=3):
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 9, rows)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    cols = np.concatenate([np.sort(rng.choice(others, c, replace=False)) for c in counts])
    ratings = rng.normal(1.0, 2.0, indptr[-1])
    return RatingBlock(np.arange(rows), indptr, cols.astype(np.int32), ratings), \
        rng.normal(size=(others, rank))


@pytest.mark.parametrize("implicit", [False, True])
def test_compiled_and_padded_kernels_agree(implicit):
    block, F = _block()
    compiled = solve_factors(block, F, 0.1, implicit, 1.5, False)
    # The padded path on numpy, chunks small enough that there are several of them.
    base = F.T @ F if implicit else np.zeros((3, 3))
    padded = np.empty_like(compiled)
    chunks = padded_chunks(block, max_slots=40)
    assert len(chunks) > 3
    for chunk in chunks:
        A, b = padded_systems(F, base, list(chunk[1:]), 0.1, implicit, 1.5)
        padded[chunk.rows] = np.linalg.solve(A, b)
    np.testing.assert_allclose(compiled, padded, rtol=0, atol=1e-10)


@pytest.mark.parametrize("implicit", [False, True])
def test_mxnet_kernel_matches_numpy(implicit):
    block, F = _block(seed=1)
    expected = solve_factors(block, F, 0.1, implicit, 1.5, False)
    got = solve_factors(block, F, 0.1, implicit, 1.5, False, MXNetBackend())
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("backend", ["numpy", "mxnet"])
def test_singular_systems_get_the_least_squares_solution(backend):
    block, F = _block(seed=2, rank=5)  # rows with fewer ratings than the rank, no regParam
    got = solve_factors(block, F, 0.0, False, 1.0, False,
                        *([MXNetBackend()] if backend == "mxnet" else []))
    for row in range(block.indptr.size - 1):
        span = slice(block.indptr[row], block.indptr[row + 1])
        Y = F[block.cols[span]]
        expected = np.linalg.lstsq(Y, block.ratings[span], rcond=None)[0]
        np.testing.assert_allclose(got[row], expected, atol=1e-8)


@pytest.mark.parametrize("implicit", [False, True])
def test_nonnegative_factors_satisfy_the_optimality_conditions(implicit):
    block, F = _block(seed=4)
    x = solve_factors(block, F, 0.1, implicit, 1.0, True)
    assert (x >= 0).all() and (x == 0).any()
    for row in range(block.indptr.size - 1):  # KKT: gradient Ax - b is 0 where x > 0, >= 0
        span = slice(block.indptr[row], block.indptr[row + 1])
        Y, r = F[block.cols[span]], block.ratings[span]
        if implicit:
            c1, p = np.abs(r), (r > 0).astype(float)
            A = F.T @ F + (Y * c1[:, None]).T @ Y + 0.1 * p.sum() * np.eye(3)
            b = Y.T @ (p * (1 + c1))
        else:
            A, b = Y.T @ Y + 0.1 * r.size * np.eye(3), Y.T @ r
        grad = A @ x[row] - b
        assert np.all(np.abs(grad[x[row] > 0]) < 1e-8) and np.all(grad[x[row] == 0] > -1e-8)
    np.testing.assert_allclose(nonnegative_least_squares(np.eye(2)[None], np.array([[1., -1.]])),
                               [[1.0, 0.0]])


def test_top_k_is_the_brute_force_ranking():
    rng = np.random.default_rng(5)
    queries, targets = rng.normal(size=(7, 3)), rng.normal(size=(40, 3))
    positions, scores = top_k(queries, targets, 5, block_rows=3)
    expected = np.argsort(-(queries @ targets.T), axis=1)[:, :5]
    np.testing.assert_array_equal(positions, expected)
    np.testing.assert_allclose(scores, np.take_along_axis(queries @ targets.T, expected, 1))
    assert top_k(queries, targets[:2], 5)[0].shape == (7, 2)


def test_transform_predicts_dot_products_and_handles_cold_start():
    frame, _ = _ratings(seed=6)
    model = ALS(rank=3, maxIter=3, seed=0).fit(frame)
    users, items = dict(zip(*model._users)), dict(zip(*model._items))
    pairs = frame.head(5).copy()
    pairs.loc[len(pairs)] = [12345, frame["item"].iloc[0], 0.0]  # unknown user
    pairs.loc[len(pairs)] = [frame["user"].iloc[0], 0.5, 0.0]    # not an integer: unknown
    out = model.transform(pairs)
    assert out["prediction"].dtype == np.float32
    expected = [users[u] @ items[i] for u, i in zip(frame["user"][:5], frame["item"][:5])]
    np.testing.assert_allclose(out["prediction"][:5], expected, rtol=1e-6)
    assert out["prediction"][5:].isna().all()
    assert np.isnan(model.predict(12345, frame["item"].iloc[0]))
    dropped = model.setColdStartStrategy("drop").transform(pairs)
    assert len(dropped) == 5 and not dropped["prediction"].isna().any()


def test_recommendations_rank_all_targets_and_subsets_keep_known_ids():
    frame, _ = _ratings(seed=8)
    model = ALS(rank=3, maxIter=3, seed=0).fit(frame)
    (user_ids, U), (item_ids, V) = model._users, model._items
    recs = model.recommendForAllUsers(4)
    assert list(recs.columns) == ["user", "recommendations"] and len(recs) == user_ids.size
    first = recs.iloc[0]
    expected = item_ids[np.argsort(-(V @ U[0]))[:4]]
    assert first["user"] == user_ids[0]
    assert [r["item"] for r in first["recommendations"]] == expected.tolist()
    by_item = model.recommendForAllItems(2)
    assert list(by_item.columns) == ["item", "recommendations"] and len(by_item) == item_ids.size
    subset = model.recommendForUserSubset(pd.DataFrame({"user": [user_ids[3], user_ids[3],
                                                                 99, user_ids[1]]}), 3)
    assert sorted(subset["user"]) == sorted([user_ids[1], user_ids[3]])
    items = model.recommendForItemSubset(pd.DataFrame({"item": [item_ids[2]]}), 100)
    assert len(items.iloc[0]["recommendations"]) == user_ids.size
    with pytest.raises(ParamError, match="recommendations must be >= 1"):
        model.recommendForAllUsers(0)


def test_save_load_keeps_factors_and_params(tmp_path):
    frame, _ = _ratings(seed=9)
    model = ALS(rank=2, maxIter=2, userCol="user", coldStartStrategy="drop").fit(frame)
    model.save(str(tmp_path / "m"))
    loaded = ALSModel.load(str(tmp_path / "m"))
    assert loaded.rank == 2 and loaded.getColdStartStrategy() == "drop"
    for a, b in zip(model._users + model._items, loaded._users + loaded._items):
        np.testing.assert_array_equal(a, b)
    pd.testing.assert_frame_equal(model.transform(frame), loaded.transform(frame))


def test_bad_ids_and_ratings_are_clear_errors():
    frame, _ = _ratings(seed=10)
    with pytest.raises(DataError, match="'user' has type object.*StringIndexer"):
        ALS().fit(frame.assign(user=frame["user"].astype(str)))
    with pytest.raises(DataError, match="'item' has 1 values that are not integers.*2.5"):
        ALS().fit(frame.assign(item=np.where(frame.index == 3, 2.5, frame["item"])))
    with pytest.raises(DataError, match="'user' has 2 values.*int range"):
        ALS().fit(frame.assign(user=np.where(frame.index < 2, 1 << 40, frame["user"])))
    with pytest.raises(DataError, match="'rating' has 1 null, NaN"):
        ALS().fit(frame.assign(rating=np.where(frame.index == 0, np.nan, frame["rating"])))
    with pytest.raises(DataError, match="0 rows"):
        ALS().fit(frame.iloc[:0])
    for name, value in (("rank", 0), ("regParam", -1.0), ("alpha", -0.5), ("maxIter", -1),
                        ("coldStartStrategy", "ignore")):
        with pytest.raises(ParamError, match=name):
            ALS(**{name: value}).fit(frame)


@pytest.mark.parametrize("implicit", [False, True])
def test_a_fit_on_the_mxnet_backend_matches_numpy(implicit):
    frame, _ = _ratings(seed=12)
    kwargs = dict(rank=3, maxIter=3, implicitPrefs=implicit, seed=2, numWorkers=2)
    on_numpy = ALS(backend="numpy", **kwargs).fit(frame)
    on_mxnet = ALS(backend="mxnet", **kwargs).fit(frame)
    assert on_mxnet._devices == ["mxnet:cpu(0)"] * 2 and on_numpy._devices == ["numpy:cpu"] * 2
    np.testing.assert_allclose(on_mxnet._users[1], on_numpy._users[1], rtol=0, atol=1e-8)
    np.testing.assert_allclose(on_mxnet._items[1], on_numpy._items[1], rtol=0, atol=1e-8)
