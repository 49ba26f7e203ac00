"""Collaborative filtering (pyspark.ml.recommendation's)."""
from distml.lazy import lazy_namespace

__getattr__, __dir__, __all__ = lazy_namespace(__name__, {".als": ["ALS", "ALSModel"]})
