"""Matrix decompositions (RowMatrix.computeSVD's, as an estimator too)."""
from distml.lazy import lazy_namespace

__getattr__, __dir__, __all__ = lazy_namespace(__name__, {
    ".svd": ["SVD", "SVDModel", "SingularValueDecomposition", "computeSVD"]})
