"""One package per algorithm family: thin estimator classes over engine-agnostic programs."""
from distml.algorithms.classification import (LogisticRegression, LogisticRegressionModel,
                                              MultilayerPerceptronClassificationModel,
                                              MultilayerPerceptronClassifier, NaiveBayes,
                                              NaiveBayesModel)
from distml.algorithms.clustering import (LDA, DistributedLDAModel, KMeans, KMeansModel, LDAModel,
                                          LocalLDAModel)
from distml.algorithms.decomposition import SVD, SVDModel, computeSVD
from distml.algorithms.recommendation import ALS, ALSModel
from distml.algorithms.regression import LinearRegression, LinearRegressionModel
from distml.algorithms.tree import (DecisionTreeClassificationModel, DecisionTreeClassifier,
                                    DecisionTreeRegressionModel, DecisionTreeRegressor,
                                    GBTClassificationModel, GBTClassifier, GBTRegressionModel,
                                    GBTRegressor, RandomForestClassificationModel,
                                    RandomForestClassifier, RandomForestRegressionModel,
                                    RandomForestRegressor)

__all__ = ["LogisticRegression", "LogisticRegressionModel", "MultilayerPerceptronClassifier",
           "MultilayerPerceptronClassificationModel", "NaiveBayes", "NaiveBayesModel",
           "SVD", "SVDModel", "computeSVD", "KMeans", "KMeansModel", "DecisionTreeClassifier",
           "DecisionTreeClassificationModel", "DecisionTreeRegressor",
           "DecisionTreeRegressionModel", "ALS", "ALSModel", "LDA", "LDAModel",
           "LocalLDAModel", "DistributedLDAModel", "LinearRegression", "LinearRegressionModel",
           "RandomForestClassifier", "RandomForestClassificationModel",
           "RandomForestRegressor", "RandomForestRegressionModel", "GBTClassifier",
           "GBTClassificationModel", "GBTRegressor", "GBTRegressionModel"]
