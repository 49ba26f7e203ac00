from distml.algorithms.tree.decision_tree import (DecisionTreeClassificationModel,
                                                  DecisionTreeClassifier,
                                                  DecisionTreeRegressionModel,
                                                  DecisionTreeRegressor)
from distml.algorithms.tree.ensemble import (GBTClassificationModel, GBTClassifier,
                                             GBTRegressionModel, GBTRegressor,
                                             RandomForestClassificationModel,
                                             RandomForestClassifier, RandomForestRegressionModel,
                                             RandomForestRegressor)

__all__ = ["DecisionTreeClassifier", "DecisionTreeClassificationModel", "DecisionTreeRegressor",
           "DecisionTreeRegressionModel", "RandomForestClassifier",
           "RandomForestClassificationModel", "RandomForestRegressor",
           "RandomForestRegressionModel", "GBTClassifier", "GBTClassificationModel",
           "GBTRegressor", "GBTRegressionModel"]
