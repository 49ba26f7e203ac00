"""Text transformers with nothing to fit: Tokenizer, RegexTokenizer, StopWordsRemover, HashingTF.

On Spark each runs as pyspark.ml's own stage (``SparkTwin``); on pandas the same rules run here
(Java's regex split drops trailing empty strings; HashingTF hashes each term's UTF-8 bytes with
MurmurHash3 x86_32, seed 42, as MLlib does).
"""
from __future__ import annotations

import glob
import os
import re
import zipfile
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd
from pyspark import keyword_only
from pyspark.ml.linalg import SparseVector
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import (HasInputCol, HasInputCols, HasNumFeatures, HasOutputCol,
                                     HasOutputCols)

from distml.errors import DataError
from distml.pipeline.base import SparkTwin, Transformer, getters, setters


def _column(frame: pd.DataFrame, name: str, kind: type = str) -> list:
    """A column's values, each checked to be a ``kind`` (str, or list for token lists)."""
    if name not in frame.columns:
        raise DataError(f"column '{name}' not found; the input has columns {list(frame.columns)}")
    values = frame[name].tolist()
    wrong = next((v for v in values if not isinstance(v, (kind, np.ndarray) if kind is list
                                                      else kind)), None)
    if wrong is not None:
        wanted = "strings" if kind is str else "arrays of strings"
        raise DataError(f"column '{name}' holds {type(wrong).__name__} values; it must hold "
                        f"{wanted}")
    return values


def _with(frame: pd.DataFrame, name: str, values: list) -> pd.DataFrame:
    if name in frame.columns:
        raise DataError(f"output column '{name}' already exists in the input")
    out = frame.copy()
    out[name] = values
    return out


def _java_split(pattern: re.Pattern, text: str) -> list[str]:
    """Java's String.split: a text the pattern does not match is returned whole (even ""),
    else empty strings at the end are dropped."""
    if pattern.search(text) is None:
        return [text]
    parts = pattern.split(text)
    while parts and parts[-1] == "":
        parts.pop()
    return parts


class _InOut(HasInputCol, HasOutputCol):
    def _null_checked(self) -> list[str]:
        return [self.getInputCol()] if self.isSet(self.inputCol) else []

    setInputCol, setOutputCol = setters("inputCol", "outputCol")


class Tokenizer(SparkTwin, Transformer, _InOut):
    """Lower-cases a string column and splits it on whitespace (pyspark.ml's).

    >>> import pandas as pd
    >>> from distml.pipeline.feature import Tokenizer
    >>> Tokenizer(inputCol="s", outputCol="t").transform(pd.DataFrame({"s": ["Hi  there"]}))["t"][0]
    ['hi', '', 'there']
    """

    @keyword_only
    def __init__(self, *, inputCol: str | None = None, outputCol: str | None = None):
        super().__init__()
        self._set_given(self._input_kwargs)

    def _spark_class(self):
        from pyspark.ml.feature import Tokenizer as SparkTokenizer
        return SparkTokenizer

    def _transform_pandas(self, frame):
        space = re.compile(r"\s", re.ASCII)
        return _with(frame, self.getOutputCol(),
                     [_java_split(space, s.lower()) for s in _column(frame, self.getInputCol())])


class RegexTokenizer(SparkTwin, Transformer, _InOut):
    """Splits on a regex (``gaps``) or keeps its matches, then drops tokens shorter than
    ``minTokenLength`` (pyspark.ml's). Patterns are read by Python's ``re`` on pandas and by
    Java's on Spark: they agree on the common syntax.

    >>> import pandas as pd
    >>> from distml.pipeline.feature import RegexTokenizer
    >>> tok = RegexTokenizer(inputCol="s", outputCol="t", pattern="\\\\W+")
    >>> tok.transform(pd.DataFrame({"s": ["Hello, World!"]}))["t"][0]
    ['hello', 'world']
    """

    minTokenLength: Param[int] = Param(Params._dummy(), "minTokenLength",
                                       "minimum token length (>= 0)",
                                       typeConverter=TypeConverters.toInt)
    gaps: Param[bool] = Param(Params._dummy(), "gaps", "whether regex splits on gaps (True) "
                              "or matches tokens (False)", typeConverter=TypeConverters.toBoolean)
    pattern: Param[str] = Param(Params._dummy(), "pattern", "regex pattern (Java dialect) used "
                                "for tokenizing", typeConverter=TypeConverters.toString)
    toLowercase: Param[bool] = Param(Params._dummy(), "toLowercase", "whether to convert all "
                                     "characters to lowercase before tokenizing",
                                     typeConverter=TypeConverters.toBoolean)

    @keyword_only
    def __init__(self, *, minTokenLength: int = 1, gaps: bool = True, pattern: str = "\\s+",
                 inputCol: str | None = None, outputCol: str | None = None,
                 toLowercase: bool = True):
        super().__init__()
        self._setDefault(minTokenLength=1, gaps=True, pattern="\\s+", toLowercase=True)
        self._set_given(self._input_kwargs)

    (setPattern, setGaps, setMinTokenLength, setToLowercase) = setters(
        "pattern", "gaps", "minTokenLength", "toLowercase")

    def _spark_class(self):
        from pyspark.ml.feature import RegexTokenizer as SparkRegexTokenizer
        return SparkRegexTokenizer

    def _transform_pandas(self, frame):
        # ASCII: Java's \w, \s, \d and \b are ASCII-only unless asked otherwise.
        pattern = re.compile(self.getOrDefault(self.pattern), re.ASCII)
        gaps, lower = self.getOrDefault(self.gaps), self.getOrDefault(self.toLowercase)
        shortest = self.getOrDefault(self.minTokenLength)

        def tokens(text):
            text = text.lower() if lower else text
            found = _java_split(pattern, text) if gaps else \
                [m.group(0) for m in pattern.finditer(text)]
            return [t for t in found if len(t) >= shortest]
        return _with(frame, self.getOutputCol(),
                     [tokens(s) for s in _column(frame, self.getInputCol())])

    # pyspark.ml's accessors (issue 22)
    (getGaps, getMinTokenLength, getPattern, getToLowercase) = getters(
        "gaps", "minTokenLength", "pattern", "toLowercase")


@lru_cache(maxsize=None)
def default_stop_words(language: str = "english") -> list[str]:
    """MLlib's stop word list, read from the Spark MLlib jar that pyspark ships (no JVM)."""
    import pyspark
    jars = glob.glob(os.path.join(os.path.dirname(pyspark.__file__), "jars", "spark-mllib_*.jar"))
    if not jars:
        raise DataError("pyspark's spark-mllib jar was not found: it holds the stop word lists")
    with zipfile.ZipFile(jars[0]) as jar:
        try:
            text = jar.read(f"org/apache/spark/ml/feature/stopwords/{language}.txt").decode()
        except KeyError:
            raise DataError(f"no stop word list for language {language!r}") from None
    return [w for w in text.splitlines() if w]


class StopWordsRemover(SparkTwin, Transformer, _InOut, HasInputCols, HasOutputCols):
    """Drops stop words from token lists (pyspark.ml's): MLlib's English list by default,
    compared case-insensitively unless ``caseSensitive``.

    >>> import pandas as pd
    >>> from distml.pipeline.feature import StopWordsRemover
    >>> remover = StopWordsRemover(inputCol="t", outputCol="u")
    >>> remover.transform(pd.DataFrame({"t": [["The", "cat", "is", "here"]]}))["u"][0]
    ['cat']
    """

    stopWords: Param[list[str]] = Param(Params._dummy(), "stopWords", "The words to be "
                                        "filtered out", typeConverter=TypeConverters.toListString)
    caseSensitive: Param[bool] = Param(Params._dummy(), "caseSensitive", "whether to do a case "
                                       "sensitive comparison over the stop words",
                                       typeConverter=TypeConverters.toBoolean)
    locale: Param[str] = Param(Params._dummy(), "locale", "locale of the input for case "
                               "insensitive matching (Python lower-cases by Unicode rules)",
                               typeConverter=TypeConverters.toString)

    @keyword_only
    def __init__(self, *, inputCol: str | None = None, outputCol: str | None = None,
                 stopWords: list[str] | None = None, caseSensitive: bool = False,
                 locale: str | None = None, inputCols: list[str] | None = None,
                 outputCols: list[str] | None = None):
        super().__init__()
        self._setDefault(stopWords=default_stop_words("english"), caseSensitive=False,
                         locale="en_US")
        self._set_given(self._input_kwargs)

    def _null_checked(self) -> list[str]:
        return [self.getInputCol()] if self.isSet(self.inputCol) else list(self.getInputCols())

    setStopWords, setCaseSensitive = setters("stopWords", "caseSensitive")

    @staticmethod
    def loadDefaultStopWords(language: str) -> list[str]:
        return list(default_stop_words(language))

    def _spark_class(self):
        from pyspark.ml.feature import StopWordsRemover as SparkRemover
        return SparkRemover

    def _transform_pandas(self, frame):
        sensitive = self.getOrDefault(self.caseSensitive)
        words = self.getOrDefault(self.stopWords)
        stop = set(words) if sensitive else {w.lower() for w in words}
        key = (lambda t: t) if sensitive else (lambda t: t.lower())
        pairs = [(self.getInputCol(), self.getOutputCol())] if self.isSet(self.inputCol) else \
            list(zip(self.getInputCols(), self.getOutputCols()))
        for source, target in pairs:
            frame = _with(frame, target, [[t for t in tokens if t is None or key(t) not in stop]
                                          for tokens in _column(frame, source, list)])
        return frame

    # pyspark.ml's accessors (issue 22)
    (setInputCols, setLocale, setOutputCols) = setters("inputCols", "locale", "outputCols")
    (getCaseSensitive, getLocale, getStopWords) = getters("caseSensitive", "locale", "stopWords")


class HashingTF(SparkTwin, Transformer, _InOut, HasNumFeatures):
    """Term frequencies by the hashing trick (pyspark.ml's): term -> MurmurHash3 x86_32 of its
    UTF-8 bytes (seed 42) modulo ``numFeatures``; ``binary`` makes counts 0/1.

    >>> import pandas as pd
    >>> from distml.pipeline.feature import HashingTF
    >>> tf = HashingTF(inputCol="t", outputCol="v", numFeatures=16)
    >>> tf.transform(pd.DataFrame({"t": [["a", "b", "a"]]}))["v"][0].size
    16
    """

    binary: Param[bool] = Param(Params._dummy(), "binary", "If True, all non zero counts are "
                                "set to 1.", typeConverter=TypeConverters.toBoolean)

    @keyword_only
    def __init__(self, *, numFeatures: int = 1 << 18, binary: bool = False,
                 inputCol: str | None = None, outputCol: str | None = None):
        super().__init__()
        self._setDefault(numFeatures=1 << 18, binary=False)
        self._set_given(self._input_kwargs)

    setNumFeatures, setBinary = setters("numFeatures", "binary")

    def indexOf(self, term: Any) -> int:
        return murmur3_32(str(term).encode("utf-8"), 42) % self.getNumFeatures()

    def _spark_class(self):
        from pyspark.ml.feature import HashingTF as SparkHashingTF
        return SparkHashingTF

    def _transform_pandas(self, frame):
        size, binary = self.getNumFeatures(), self.getOrDefault(self.binary)
        index = lru_cache(maxsize=1 << 20)(self.indexOf)

        def vector(tokens):
            slots, counts = np.unique(np.array([index(t) for t in tokens], dtype=np.int64),
                                      return_counts=True)
            return SparseVector(size, slots, np.ones(slots.size) if binary else
                                counts.astype(np.float64))
        return _with(frame, self.getOutputCol(),
                     [vector(t) for t in _column(frame, self.getInputCol(), list)])

    # pyspark.ml's accessors (issue 22)
    (getBinary,) = getters("binary")


def murmur3_32(data: bytes, seed: int) -> int:
    """MurmurHash3 x86_32 of ``data`` (signed 32-bit), as Spark's hashUnsafeBytes2."""
    c1, c2, mask = 0xCC9E2D51, 0x1B873593, 0xFFFFFFFF
    h = seed & mask
    full = len(data) // 4 * 4
    for i in range(0, full, 4):
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * c1) & mask
        k = ((k << 15) | (k >> 17)) & mask
        k = (k * c2) & mask
        h ^= k
        h = ((h << 13) | (h >> 19)) & mask
        h = (h * 5 + 0xE6546B64) & mask
    tail = data[full:]
    if tail:
        k = int.from_bytes(tail, "little")
        k = (k * c1) & mask
        k = ((k << 15) | (k >> 17)) & mask
        k = (k * c2) & mask
        h ^= k
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & mask
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & mask
    h ^= h >> 16
    return h - (1 << 32) if h >= 1 << 31 else h
