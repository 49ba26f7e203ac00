"""Every primitive on LocalEngine with P = 1, 2, 4, against a direct numpy computation."""
import numpy as np
import pandas as pd
import pytest

import programs
from distml.engine import LocalEngine
from distml.frames.pandas_input import split_rows
from distml.engine.fit import fit_program
from distml.frames import InputSpec


@pytest.fixture
def data(rng):
    X = rng.normal(size=(37, 4))
    y = rng.integers(0, 5, size=37).astype(np.float64)
    return X, y


@pytest.mark.parametrize("P", [1, 2, 4])
def test_primitives_match_numpy(data, P):
    X, y = data
    result = LocalEngine(P).fit(programs.primitives, {}, split_rows(X, y, None, None, P), "f")
    v = result.values
    np.testing.assert_allclose(v["total"], X.sum(axis=0), rtol=1e-12)
    np.testing.assert_array_equal(v["mins"], X.min(axis=0))
    np.testing.assert_array_equal(v["maxs"], X.max(axis=0))
    sizes = v["per_partition"][:, 0]
    assert sizes.sum() == 37 and sizes.max() - sizes.min() <= 1
    assert v["per_partition"][:, 1].tolist() == list(range(P))
    assert all((row == v["views"][0]).all() for row in v["views"])
    # map_update keeps state between rounds: 1 step, then 1 + 2 steps, times the rows.
    assert v["update"].tolist() == [37.0, 3.0 * 37]
    # repartition by label: every label lands on partition label % P, nothing lost.
    grouped = v["grouped"]
    for dest in range(P):
        expected = y[y.astype(int) % P == dest]
        assert grouped[dest, 0] == expected.size
        assert grouped[dest, 1] == pytest.approx(expected.sum())
    if P == 2:
        assert grouped[:, 2].all()
    assert result.history == [{"iteration": 1, "loss": pytest.approx(X.sum())}]
    assert result.summary.num_rows == 37 and result.summary.num_features == 4


def test_empty_partitions_are_allowed_but_empty_input_is_not(rng):
    X = rng.normal(size=(2, 3))
    result = LocalEngine(4).fit(programs.primitives, {},
                                split_rows(X, np.zeros(2), None, None, 4), "f")
    np.testing.assert_allclose(result.values["total"], X.sum(axis=0))
    from distml.errors import DataError
    with pytest.raises(DataError, match="0 rows.*'f'"):
        fit_program(programs.primitives, {}, pd.DataFrame({"f": []}), InputSpec("f"),
                    engine="local")


def test_an_error_in_one_partition_reaches_the_caller(data):
    X, y = data
    with pytest.raises(ValueError, match="partition 1 refuses"):
        LocalEngine(2).fit(programs.fails_on_one_rank, {"bad": 1},
                           split_rows(X, y, None, None, 2), "f")
