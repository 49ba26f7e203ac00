"""PCA's training program: per-rank centred Gram matrices merged in one round, then the
covariance's top-k singular vectors. The estimator is ``distml.pipeline.feature.PCA``, where
pyspark.ml users look for it; the program sits with the decomposition family's others (SVD's)."""
from __future__ import annotations

import numpy as np

from distml.errors import DataError, ParamError
from distml.gpu.backend import partition_rows
from distml.kernels.decomposition import centered_gram, merge_centered_grams


def _partition_gram(part, backend):
    X = partition_rows(part, backend).X
    return centered_gram(X)


def principal_components(ctx, params: dict) -> dict:
    """The training program: merged centred Grams, then the covariance's top-k singular
    vectors."""
    k, d = params["k"], ctx.input.num_features
    if k > d:
        raise ParamError(f"k ({k}) must be at most the number of features in column "
                         f"'{params['inputCol']}' ({d})")
    parts = ctx.map_collect(_partition_gram, params["backend"])
    total = merge_centered_grams(parts)
    if total["count"] < 2:
        raise DataError(f"column '{params['inputCol']}' has {int(total['count'])} row; PCA "
                        "needs at least 2")
    covariance = total["gram"] / (total["count"] - 1.0)
    # MLlib takes the components from LAPACK's SVD of the covariance (dgesdd, numpy's too),
    # not an eigensolver: the same routine gives pyspark.ml's component signs.
    vectors, values, _ = np.linalg.svd(covariance)
    values, vectors = values[:k], vectors[:, :k]
    explained = np.maximum(values, 0.0) / max(float(np.trace(covariance)), np.finfo(float).tiny)
    return {"pc": vectors, "explainedVariance": explained}
