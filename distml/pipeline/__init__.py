"""Params, Estimator/Model/Transformer, pipelines, feature transformers, evaluators, tuning,
statistics, save/load."""
from distml.pipeline.base import Estimator, HasEngine, Model, Transformer
from distml.pipeline.evaluation import (BinaryClassificationEvaluator, ClusteringEvaluator,
                                        MulticlassClassificationEvaluator, RegressionEvaluator)
from distml.pipeline import feature  # noqa: F401 (distml re-exports its __all__)
from distml.pipeline.feature import PCA, PCAModel, StandardScaler, StandardScalerModel
from distml.pipeline.pipeline import Pipeline, PipelineModel
from distml.pipeline.stat import Summarizer, SummaryResult
from distml.pipeline.tuning import (CrossValidator, CrossValidatorModel, ParamGridBuilder,
                                    TrainValidationSplit, TrainValidationSplitModel)

__all__ = ["Estimator", "HasEngine", "Model", "Transformer", "PCA", "PCAModel", "StandardScaler",
           "StandardScalerModel", "Summarizer", "SummaryResult", "Pipeline", "PipelineModel",
           "BinaryClassificationEvaluator", "ClusteringEvaluator",
           "MulticlassClassificationEvaluator", "RegressionEvaluator", "CrossValidator",
           "CrossValidatorModel", "ParamGridBuilder", "TrainValidationSplit",
           "TrainValidationSplitModel"]
