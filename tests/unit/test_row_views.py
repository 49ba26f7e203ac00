"""Row views (``engine.row_views``): a program run on some rows of every partition, as model
selection runs its fold fits; the reference is the same program on those rows cut out by
hand."""
import numpy as np
import pytest

from distml.engine.context import run_program
from distml.engine.local import LocalContext
from distml.engine.partition import Partition
from distml.engine.row_views import RowGroups, RowView, ViewContext, forget, partition_offsets
from distml.errors import DataError


def _partitions(X, y, cuts):
    bounds = [0, *cuts, len(y)]
    return [Partition(i, X[a:b].copy(), y[a:b].copy())
                    for i, (a, b) in enumerate(zip(bounds[:-1], bounds[1:]))]


def _groups_of(parts, **kw):
    rows = RowGroups(offsets=partition_offsets([p.num_rows for p in parts]), **kw)
    return np.concatenate([rows.of(p) for p in parts])


def test_a_row_s_group_does_not_depend_on_the_partitioning(rng):
    X, y = rng.normal(size=(500, 2)), rng.integers(0, 2, 500).astype(float)
    one = _groups_of(_partitions(X, y, []), groups=4, seed=9)
    three = _groups_of(_partitions(X, y, [100, 350]), groups=4, seed=9)
    np.testing.assert_array_equal(one, three)
    assert np.bincount(one).min() > 90  # about 125 each
    other_seed = _groups_of(_partitions(X, y, []), groups=4, seed=10)
    assert (other_seed != one).mean() > 0.5
    split = _groups_of(_partitions(X, y, [250]), groups=2, seed=9, cut=0.8)
    assert 0.1 < split.mean() < 0.3  # group 1 (validation) is about a fifth


def _counting_program(ctx, params):
    """Rows, sums and a state kept across rounds, as the tree program keeps node ids."""
    ctx.map_update(lambda p: p.state.__setitem__("seen", p.num_rows))
    total = ctx.map_reduce(lambda p: np.array([p.num_rows, p.X.sum(), p.state["seen"]]))
    return {"total": total}


def test_a_view_runs_a_program_on_its_rows_only(rng):
    X, y = rng.normal(size=(300, 3)), rng.integers(0, 2, 300).astype(float)
    parts = _partitions(X, y, [120])
    ctx = LocalContext(parts, 2)
    rows = RowGroups(groups=3, seed=1, offsets=partition_offsets([120, 180]))
    group = np.concatenate([rows.of(p) for p in parts])
    for inside in (True, False):
        view = RowView(rows, 1, inside)
        result = run_program(_counting_program, ViewContext(ctx, view, "fit"), {}, "features")
        chosen = (group == 1) if inside else (group != 1)
        np.testing.assert_allclose(result.values["total"],
                                   [chosen.sum(), X[chosen].sum(), chosen.sum()])
        assert result.summary.num_rows == chosen.sum()
        forget(ctx, fit="fit")
        assert all("fit" not in p.state.get("_row_view_states", {}) for p in parts)
    forget(ctx)
    assert all(not p.device_cache.get("row_views") for p in parts)
    ctx.close()


def test_a_fold_column_outside_the_folds_names_the_column():
    part = Partition(0, np.zeros((3, 1)), np.zeros(3), ids=np.array([0, 1, 4]))
    rows = RowGroups(groups=3, seed=0, offsets=(0,), from_ids="fold")
    with pytest.raises(DataError, match="foldCol 'fold' holds values outside 0..2"):
        rows.of(part)
