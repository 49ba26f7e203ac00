from distml.algorithms.decomposition.svd import (SVD, SingularValueDecomposition, SVDModel,
                                                 computeSVD)

__all__ = ["SVD", "SVDModel", "SingularValueDecomposition", "computeSVD"]
