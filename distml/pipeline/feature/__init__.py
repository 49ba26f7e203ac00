from distml.pipeline.feature.normalizer import Normalizer
from distml.pipeline.feature.one_hot_encoder import OneHotEncoder, OneHotEncoderModel
from distml.pipeline.feature.pca import PCA, PCAModel
from distml.pipeline.feature.range_scalers import (MaxAbsScaler, MaxAbsScalerModel,
                                                   MinMaxScaler, MinMaxScalerModel)
from distml.pipeline.feature.standard_scaler import StandardScaler, StandardScalerModel
from distml.pipeline.feature.string_indexer import StringIndexer, StringIndexerModel
from distml.pipeline.feature.vector_assembler import VectorAssembler

__all__ = ["MaxAbsScaler", "MaxAbsScalerModel", "MinMaxScaler", "MinMaxScalerModel",
           "Normalizer", "PCA", "PCAModel", "StandardScaler", "StandardScalerModel",
           "StringIndexer", "StringIndexerModel", "OneHotEncoder", "OneHotEncoderModel",
           "VectorAssembler"]
