from distml.algorithms.clustering.kmeans import KMeans, KMeansModel, KMeansSummary
from distml.algorithms.clustering.lda import LDA, LDAModel

__all__ = ["KMeans", "KMeansModel", "KMeansSummary", "LDA", "LDAModel"]
