"""Feature transformers (pyspark.ml.feature's)."""
from distml.lazy import lazy_namespace

__getattr__, __dir__, __all__ = lazy_namespace(__name__, {
    ".bucketizer": ["Bucketizer", "QuantileDiscretizer"],
    ".count_vectorizer": ["CountVectorizer", "CountVectorizerModel"],
    ".idf": ["IDF", "IDFModel"],
    ".imputer": ["Imputer", "ImputerModel"],
    ".normalizer": ["Normalizer"],
    ".one_hot_encoder": ["OneHotEncoder", "OneHotEncoderModel"],
    ".pca": ["PCA", "PCAModel"],
    ".polynomial_expansion": ["PolynomialExpansion"],
    ".range_scalers": ["MaxAbsScaler", "MaxAbsScalerModel", "MinMaxScaler", "MinMaxScalerModel"],
    ".standard_scaler": ["StandardScaler", "StandardScalerModel"],
    ".string_indexer": ["StringIndexer", "StringIndexerModel"],
    ".text": ["HashingTF", "RegexTokenizer", "StopWordsRemover", "Tokenizer"],
    ".vector_assembler": ["VectorAssembler"]})
