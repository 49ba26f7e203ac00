from distml.pipeline.feature.bucketizer import Bucketizer, QuantileDiscretizer
from distml.pipeline.feature.count_vectorizer import CountVectorizer, CountVectorizerModel
from distml.pipeline.feature.idf import IDF, IDFModel
from distml.pipeline.feature.imputer import Imputer, ImputerModel
from distml.pipeline.feature.normalizer import Normalizer
from distml.pipeline.feature.one_hot_encoder import OneHotEncoder, OneHotEncoderModel
from distml.pipeline.feature.pca import PCA, PCAModel
from distml.pipeline.feature.polynomial_expansion import PolynomialExpansion
from distml.pipeline.feature.range_scalers import (MaxAbsScaler, MaxAbsScalerModel,
                                                   MinMaxScaler, MinMaxScalerModel)
from distml.pipeline.feature.standard_scaler import StandardScaler, StandardScalerModel
from distml.pipeline.feature.string_indexer import StringIndexer, StringIndexerModel
from distml.pipeline.feature.text import (HashingTF, RegexTokenizer, StopWordsRemover,
                                          Tokenizer)
from distml.pipeline.feature.vector_assembler import VectorAssembler

__all__ = ["Bucketizer", "Imputer", "ImputerModel", "PolynomialExpansion", "QuantileDiscretizer",
           "CountVectorizer", "CountVectorizerModel", "HashingTF", "IDF", "IDFModel",
           "MaxAbsScaler", "MaxAbsScalerModel", "MinMaxScaler", "MinMaxScalerModel",
           "Normalizer", "OneHotEncoder", "OneHotEncoderModel", "PCA", "PCAModel",
           "RegexTokenizer", "StandardScaler", "StandardScalerModel", "StopWordsRemover",
           "StringIndexer", "StringIndexerModel", "Tokenizer", "VectorAssembler"]
