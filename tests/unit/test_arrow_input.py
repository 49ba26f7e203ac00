"""The executor-side Arrow -> numpy/CSR conversion, checked against scipy and numpy."""
import numpy as np
import pyarrow as pa
import pytest
import scipy.sparse as sp

from distml.frames.arrow_input import (ARRAY, FEATURES, LABEL, VECTOR_STRUCT, WEIGHT,
                                       InputLayout, batches_to_partition)
from distml.frames.vectors import vector_arrow
from distml.errors import DataError


def _batch(features, label=None, weight=None):
    cols, names = [features], [FEATURES]
    if label is not None:
        cols.append(pa.array(label, pa.float64()))
        names.append(LABEL)
    if weight is not None:
        cols.append(pa.array(weight, pa.float64()))
        names.append(WEIGHT)
    return pa.RecordBatch.from_arrays(cols, names)


def test_dense_lists_become_contiguous_float64(rng):
    X = rng.normal(size=(7, 3))
    batches = [_batch(pa.array(list(X[:4]))), _batch(pa.array(list(X[4:])))]
    part = batches_to_partition(batches, InputLayout(ARRAY, "features"), 0)
    assert part.X.flags.c_contiguous and part.X.dtype == np.float64
    np.testing.assert_array_equal(part.X, X)


def test_vector_struct_with_mixed_rows_becomes_csr(rng):
    X = rng.normal(size=(9, 5))
    X[X < 0.3] = 0.0
    dense_rows = vector_arrow(X[:3])
    sparse_rows = vector_arrow(sp.csr_matrix(X[3:]))
    batches = [_batch(dense_rows), _batch(sparse_rows)]
    part = batches_to_partition(batches, InputLayout(VECTOR_STRUCT, "features"), 0)
    assert sp.isspmatrix_csr(part.X)
    np.testing.assert_array_equal(part.X.toarray(), X)


def test_labels_and_weights_are_read(rng):
    X = rng.normal(size=(4, 2))
    b = _batch(pa.array(list(X)), label=[0, 1, 1, 0], weight=[1, 2, 0.5, 0])
    layout = InputLayout(ARRAY, "features", label_name="label", weight_name="w")
    part = batches_to_partition([b], layout, 3)
    assert part.index == 3
    assert part.y.tolist() == [0, 1, 1, 0] and part.w.tolist() == [1, 2, 0.5, 0]


def test_empty_partition():
    part = batches_to_partition([], InputLayout(ARRAY, "features", label_name="label"), 1)
    assert part.num_rows == 0 and part.y.size == 0


@pytest.mark.parametrize("values, message", [
    ([[1.0, 2.0], [1.0]], "different lengths"),
    ([[1.0, np.nan], [1.0, 2.0]], "NaN or infinite"),
    ([[1.0, np.inf], [1.0, 2.0]], "NaN or infinite"),
    ([[1.0, 2.0], None], "null"),
])
def test_bad_dense_features_name_the_column(values, message):
    with pytest.raises(DataError, match=f"'feats'.*{message}|{message}.*'feats'|'feats'"):
        batches_to_partition([_batch(pa.array(values, pa.list_(pa.float64())))],
                             InputLayout(ARRAY, "feats"), 0)


def test_negative_weight_names_the_column():
    b = _batch(pa.array([[1.0], [2.0]]), weight=[1.0, -1.0])
    with pytest.raises(DataError, match="'wt'.*negative"):
        batches_to_partition([b], InputLayout(ARRAY, "f", weight_name="wt"), 0)


def test_nan_label_names_the_column():
    b = _batch(pa.array([[1.0], [2.0]]), label=[1.0, np.nan])
    with pytest.raises(DataError, match="'lab'"):
        batches_to_partition([b], InputLayout(ARRAY, "f", label_name="lab"), 0)


def test_sparse_vectors_of_different_sizes_are_refused():
    a = vector_arrow(sp.csr_matrix(np.eye(2)))
    b = vector_arrow(sp.csr_matrix(np.eye(3)[:1]))
    with pytest.raises(DataError, match="'f'.*different lengths"):
        batches_to_partition([_batch(a), _batch(b)], InputLayout(VECTOR_STRUCT, "f"), 0)


def test_an_error_counts_the_bad_values_of_every_batch():
    """Batches are checked as they arrive; the error still counts the whole partition's."""
    bad = [[1.0, np.nan], [2.0, 3.0]]
    batches = [_batch(pa.array(bad, pa.list_(pa.float64()))) for _ in range(3)]
    with pytest.raises(DataError, match="'feats' has 3 NaN or infinite"):
        batches_to_partition(batches, InputLayout(ARRAY, "feats"), 0)


def test_batches_of_different_widths_are_refused(rng):
    batches = [_batch(pa.array(list(rng.normal(size=(2, 3))))),
               _batch(pa.array(list(rng.normal(size=(2, 4)))))]
    with pytest.raises(DataError, match="'f'.*different lengths \\(3 and 4\\)"):
        batches_to_partition(batches, InputLayout(ARRAY, "f"), 0)


def test_a_streams_batch_of_dense_vectors_is_the_array_layouts_ndarray(rng):
    """On a stream the kind is decided per batch (``dense_batches``): an all-dense batch of
    vector structs gives the array layout's ndarray, bit for bit; a batch with a sparse row
    gives CSR, as the struct layout always does."""
    X = rng.normal(size=(6, 3))
    per_batch = InputLayout(VECTOR_STRUCT, "f", dense_batches=True)
    dense = batches_to_partition([_batch(vector_arrow(X))], per_batch, 0)
    as_arrays = batches_to_partition([_batch(pa.array(list(X)))], InputLayout(ARRAY, "f"), 0)
    assert isinstance(dense.X, np.ndarray)
    np.testing.assert_array_equal(dense.X, as_arrays.X)
    mixed = pa.concat_arrays([vector_arrow(X[:3]), vector_arrow(sp.csr_matrix(X[3:]))])
    assert sp.isspmatrix_csr(batches_to_partition([_batch(mixed)], per_batch, 0).X)
