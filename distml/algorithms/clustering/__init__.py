from distml.algorithms.clustering.kmeans import KMeans, KMeansModel, KMeansSummary
from distml.algorithms.clustering.lda import LDA, DistributedLDAModel, LDAModel, LocalLDAModel

__all__ = ["KMeans", "KMeansModel", "KMeansSummary", "LDA", "LDAModel", "LocalLDAModel",
           "DistributedLDAModel"]
