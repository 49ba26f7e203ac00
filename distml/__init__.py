"""distml: Spark MLlib-compatible machine learning, trained partition-parallel at numpy speed.

Every public class is importable from here as well as from its subpackage::

    from distml import LogisticRegression, StandardScaler, Summarizer
"""
__version__ = "0.1.0"

from distml.algorithms import (LogisticRegression, LogisticRegressionModel,  # noqa: E402
                               MultilayerPerceptronClassificationModel,
                               MultilayerPerceptronClassifier, NaiveBayes,
                               NaiveBayesModel, SVD, SVDModel, computeSVD, KMeans,
                               KMeansModel, DecisionTreeClassifier,
                               DecisionTreeClassificationModel, DecisionTreeRegressor,
                               DecisionTreeRegressionModel, ALS, ALSModel, LDA, LDAModel,
                               LocalLDAModel, DistributedLDAModel, LinearRegression,
                               LinearRegressionModel, RandomForestClassifier,
                               RandomForestClassificationModel, RandomForestRegressor,
                               RandomForestRegressionModel, GBTClassifier,
                               GBTClassificationModel, GBTRegressor, GBTRegressionModel)
from distml.engine.resident import release  # noqa: E402
from distml.errors import (CollectiveError, DataError, FitError,  # noqa: E402
                           MXNetUnavailableError, ParamError, PersistenceError)
from distml import pipeline as _pipeline  # noqa: E402
from distml.pipeline import *  # noqa: E402,F401,F403 (every stage, evaluator and tuner)
from distml.pipeline.feature import *  # noqa: E402,F401,F403

__all__ = ["LogisticRegression", "LogisticRegressionModel", "MultilayerPerceptronClassifier",
           "MultilayerPerceptronClassificationModel", "NaiveBayes", "NaiveBayesModel", "SVD",
           "SVDModel", "computeSVD", "KMeans", "KMeansModel",
           "DecisionTreeClassifier", "DecisionTreeClassificationModel", "DecisionTreeRegressor",
           "DecisionTreeRegressionModel", "ALS", "ALSModel", "LDA", "LDAModel",
           "LocalLDAModel", "DistributedLDAModel", "LinearRegression", "LinearRegressionModel",
           "RandomForestClassifier", "RandomForestClassificationModel", "RandomForestRegressor",
           "RandomForestRegressionModel", "GBTClassifier", "GBTClassificationModel",
           "GBTRegressor", "GBTRegressionModel", "CollectiveError", "DataError",
           "FitError", "MXNetUnavailableError", "ParamError", "PersistenceError", "release"]
__all__ += sorted(set(_pipeline.__all__) | set(_pipeline.feature.__all__))
