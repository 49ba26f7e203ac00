import numpy as np
import pytest

from distml.engine.combine import check_op, fold


def test_fold_is_left_to_right_in_partition_order():
    # Floating-point addition is not associative: the fixed order is what makes engines agree.
    parts = [np.array([1e16]), np.array([1.0]), np.array([-1e16]), np.array([1.0])]
    assert fold(parts, "sum")[0] == ((1e16 + 1.0) - 1e16) + 1.0


def test_fold_structures_and_mixed_ops():
    a = ({"s": np.array([1.0, 2.0])}, np.array([3.0]), np.array([3.0]))
    b = ({"s": np.array([10.0, 20.0])}, np.array([1.0]), np.array([1.0]))
    out = fold([a, b], op=("sum", "min", "max"))
    assert out[0]["s"].tolist() == [11.0, 22.0]
    assert out[1].tolist() == [1.0] and out[2].tolist() == [3.0]


def test_fold_does_not_alias_the_first_result():
    first = np.array([1.0])
    fold([first, np.array([2.0])], "sum")
    assert first[0] == 1.0


@pytest.mark.parametrize("op", ["mean", ("sum", "avg"), 3])
def test_unknown_op_is_rejected(op):
    with pytest.raises(ValueError, match="op"):
        check_op(op)
