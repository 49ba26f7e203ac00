from distml.algorithms.clustering.kmeans import KMeans, KMeansModel, KMeansSummary

__all__ = ["KMeans", "KMeansModel", "KMeansSummary"]
