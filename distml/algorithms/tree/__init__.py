from distml.algorithms.tree.decision_tree import (DecisionTreeClassificationModel,
                                                  DecisionTreeClassifier,
                                                  DecisionTreeRegressionModel,
                                                  DecisionTreeRegressor)

__all__ = ["DecisionTreeClassifier", "DecisionTreeClassificationModel", "DecisionTreeRegressor",
           "DecisionTreeRegressionModel"]
