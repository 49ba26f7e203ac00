"""Clustering and topic models (pyspark.ml.clustering's)."""
from distml.lazy import lazy_namespace

__getattr__, __dir__, __all__ = lazy_namespace(__name__, {
    ".kmeans": ["KMeans", "KMeansModel", "KMeansSummary"],
    ".lda": ["LDA", "LDAModel", "LocalLDAModel", "DistributedLDAModel"]})
