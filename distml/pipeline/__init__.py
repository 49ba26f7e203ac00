"""Params, Estimator/Model/Transformer, feature transformers, statistics, save/load."""
from distml.pipeline.base import Estimator, HasEngine, Model, Transformer
from distml.pipeline.feature import PCA, PCAModel, StandardScaler, StandardScalerModel
from distml.pipeline.stat import Summarizer, SummaryResult

__all__ = ["Estimator", "HasEngine", "Model", "Transformer", "PCA", "PCAModel", "StandardScaler",
           "StandardScalerModel", "Summarizer", "SummaryResult"]
