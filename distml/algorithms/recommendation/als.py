"""ALS: pyspark.ml.recommendation's alternating least squares, explicit and implicit feedback."""
from __future__ import annotations

from typing import Any

import numpy as np
from pyspark import keyword_only
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import (HasBlockSize, HasIntermediateStorageLevel, HasMaxIter,
                                     HasPredictionCol, HasRegParam, HasSeed)

from distml import frames
from distml.algorithms.recommendation.als_program import INT_MAX, INT_MIN, als
from distml.algorithms.recommendation.als_tables import factors_table, recommendations_table
from distml.engine.context import FitResult
from distml.errors import DataError, ParamError
from distml.frames import FLOAT, InputSpec, Output
from distml.pipeline.base import (Estimator, HasBackend, HasCheckpoints, Model, java_string_hash,
                                  setters)
from distml.pipeline.constraints import Interval, OneOf

COLD_START_STRATEGIES = ("nan", "drop")


class _ALSModelParams(HasPredictionCol, HasBlockSize):
    """The params ALS and ALSModel share (pyspark.ml's names and defaults)."""

    userCol: Param[str] = Param(
        Params._dummy(), "userCol",
        "column name for user ids. Ids must be within the integer value range.",
        typeConverter=TypeConverters.toString)
    itemCol: Param[str] = Param(
        Params._dummy(), "itemCol",
        "column name for item ids. Ids must be within the integer value range.",
        typeConverter=TypeConverters.toString)
    coldStartStrategy: Param[str] = Param(
        Params._dummy(), "coldStartStrategy",
        "strategy for dealing with unknown or new users/items at prediction time: 'nan' "
        "(predict NaN) or 'drop' (drop those rows from the output).",
        typeConverter=TypeConverters.toString)

    _param_constraints = {"coldStartStrategy": [OneOf(COLD_START_STRATEGIES, "'nan' or 'drop'")]}

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(userCol="user", itemCol="item", coldStartStrategy="nan",
                         blockSize=4096)

    def getUserCol(self) -> str:
        return self.getOrDefault(self.userCol)

    def getItemCol(self) -> str:
        return self.getOrDefault(self.itemCol)

    def getColdStartStrategy(self) -> str:
        return self.getOrDefault(self.coldStartStrategy)

    (setUserCol, setItemCol, setColdStartStrategy, setPredictionCol, setBlockSize) = setters(
        "userCol", "itemCol", "coldStartStrategy", "predictionCol", "blockSize")


class _ALSParams(_ALSModelParams, HasMaxIter, HasRegParam, HasCheckpoints, HasSeed,
                 HasIntermediateStorageLevel, HasBackend):
    """pyspark.ml.recommendation.ALS's params and defaults, and distml's ``backend``."""

    rank: Param[int] = Param(Params._dummy(), "rank", "rank of the factorization",
                             typeConverter=TypeConverters.toInt)
    numUserBlocks: Param[int] = Param(
        Params._dummy(), "numUserBlocks",
        "number of user blocks (accepted for compatibility: distml's blocks are its ranks, "
        "set by numWorkers)", typeConverter=TypeConverters.toInt)
    numItemBlocks: Param[int] = Param(
        Params._dummy(), "numItemBlocks",
        "number of item blocks (accepted for compatibility: distml's blocks are its ranks, "
        "set by numWorkers)", typeConverter=TypeConverters.toInt)
    implicitPrefs: Param[bool] = Param(Params._dummy(), "implicitPrefs",
                                       "whether to use implicit preference",
                                       typeConverter=TypeConverters.toBoolean)
    alpha: Param[float] = Param(Params._dummy(), "alpha", "alpha for implicit preference",
                                typeConverter=TypeConverters.toFloat)
    ratingCol: Param[str] = Param(Params._dummy(), "ratingCol", "column name for ratings",
                                  typeConverter=TypeConverters.toString)
    nonnegative: Param[bool] = Param(
        Params._dummy(), "nonnegative",
        "whether to use nonnegative constraint for least squares",
        typeConverter=TypeConverters.toBoolean)
    finalStorageLevel: Param[str] = Param(
        Params._dummy(), "finalStorageLevel",
        "StorageLevel for ALS model factors (accepted for compatibility: distml's factors "
        "live in the model)", typeConverter=TypeConverters.toString)

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(rank=10, maxIter=10, regParam=0.1, numUserBlocks=10,
                         numItemBlocks=10, implicitPrefs=False, alpha=1.0, ratingCol="rating",
                         nonnegative=False, checkpointInterval=10,
                         intermediateStorageLevel="MEMORY_AND_DISK",
                         finalStorageLevel="MEMORY_AND_DISK",
                         seed=java_string_hash("org.apache.spark.ml.recommendation.ALS"))

    def getRank(self) -> int:
        return self.getOrDefault(self.rank)

    def getNumUserBlocks(self) -> int:
        return self.getOrDefault(self.numUserBlocks)

    def getNumItemBlocks(self) -> int:
        return self.getOrDefault(self.numItemBlocks)

    def getImplicitPrefs(self) -> bool:
        return self.getOrDefault(self.implicitPrefs)

    def getAlpha(self) -> float:
        return self.getOrDefault(self.alpha)

    def getRatingCol(self) -> str:
        return self.getOrDefault(self.ratingCol)

    def getNonnegative(self) -> bool:
        return self.getOrDefault(self.nonnegative)

    def getFinalStorageLevel(self) -> str:
        return self.getOrDefault(self.finalStorageLevel)


class ALS(Estimator, _ALSParams):
    """Alternating least squares matrix factorization (MLlib's), explicit or implicit feedback.

    A drop-in for ``pyspark.ml.recommendation.ALS``: same params, defaults, columns and model
    (``userFactors``, ``itemFactors``, ``transform``, ``recommendForAllUsers``...). Each row's
    least squares is MLlib's: regularization ``regParam`` times the row's number of ratings
    (ALS-WR); with ``implicitPrefs`` Hu, Koren and Volinsky's confidence-weighted objective,
    confidence 1 + alpha |r| and preference r > 0 (so negative values are allowed, as in
    MLlib, and mean "not preferred, with confidence"). ``nonnegative`` solves each system by
    NNLS.

    The ratings are exchanged once, so each rank owns a set of users with their ratings and a
    set of items with theirs; each half-iteration solves a rank's own rows and exchanges only
    the new factors (``als_program`` states the memory each rank needs). ``numUserBlocks`` and
    ``numItemBlocks`` do not split the work (the blocks are the ranks, ``numWorkers``); they
    shape the random start, which is MLlib's for the same seed and blocks.
    ``intermediateStorageLevel`` and ``finalStorageLevel`` are accepted for compatibility;
    every ``checkpointInterval`` iterations the factors are checkpointed, and a fit that loses
    an executor resumes from them (``HasCheckpoints``). Ids may be any integers in Java's int
    range (other values and strings are an error); factors are float64 inside and float32 in
    the tables and predictions, as pyspark.ml's.

    Examples
    --------
    >>> import pandas as pd, tempfile, os
    >>> from distml import ALS, ALSModel
    >>> ratings = pd.DataFrame({"user": [0, 0, 1, 1, 2, 2], "item": [10, 20, 10, 30, 20, 30],
    ...                         "rating": [4.0, 2.0, 3.5, 1.0, 2.5, 1.5]})
    >>> model = ALS(rank=2, maxIter=15, regParam=0.01, seed=0).fit(ratings)
    >>> model.rank
    2
    >>> predicted = model.transform(ratings)["prediction"]
    >>> bool(((predicted - ratings["rating"]).abs() < 0.1).all())
    True
    >>> recs = model.recommendForAllUsers(1)
    >>> recs.columns.tolist()
    ['user', 'recommendations']
    >>> path = os.path.join(tempfile.mkdtemp(), "als")
    >>> model.save(path)
    >>> ALSModel.load(path).transform(ratings)["prediction"].equals(predicted)
    True
    """

    _param_constraints = {
        "rank": [Interval(1)], "maxIter": [Interval(0)], "regParam": [Interval(0)],
        "alpha": [Interval(0)], "numUserBlocks": [Interval(1)], "numItemBlocks": [Interval(1)]}

    @keyword_only
    def __init__(self, *, rank: int = 10, maxIter: int = 10, regParam: float = 0.1,
                 numUserBlocks: int = 10, numItemBlocks: int = 10, implicitPrefs: bool = False,
                 alpha: float = 1.0, userCol: str = "user", itemCol: str = "item",
                 seed: int | None = None, ratingCol: str = "rating", nonnegative: bool = False,
                 checkpointInterval: int = 10,
                 intermediateStorageLevel: str = "MEMORY_AND_DISK",
                 finalStorageLevel: str = "MEMORY_AND_DISK", coldStartStrategy: str = "nan",
                 blockSize: int = 4096, predictionCol: str = "prediction",
                 engine: str = "auto", numWorkers: int = 0, backend: str = "auto",
                 checkpointDir: str = ""):
        super().__init__()
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, *, rank: int = 10, maxIter: int = 10, regParam: float = 0.1,
                  numUserBlocks: int = 10, numItemBlocks: int = 10,
                  implicitPrefs: bool = False, alpha: float = 1.0, userCol: str = "user",
                  itemCol: str = "item", seed: int | None = None, ratingCol: str = "rating",
                  nonnegative: bool = False, checkpointInterval: int = 10,
                  intermediateStorageLevel: str = "MEMORY_AND_DISK",
                  finalStorageLevel: str = "MEMORY_AND_DISK", coldStartStrategy: str = "nan",
                  blockSize: int = 4096, predictionCol: str = "prediction",
                  engine: str = "auto", numWorkers: int = 0, backend: str = "auto",
                  checkpointDir: str = ""):
        return self._set_given(self._input_kwargs)

    setRank, setNumUserBlocks, setNumItemBlocks = setters("rank", "numUserBlocks", "numItemBlocks")

    def setNumBlocks(self, value: int):
        return self._set(numUserBlocks=value, numItemBlocks=value)

    (setImplicitPrefs, setAlpha, setRatingCol, setNonnegative, setMaxIter, setRegParam, setSeed,
     setIntermediateStorageLevel, setFinalStorageLevel) = setters(
        "implicitPrefs", "alpha", "ratingCol", "nonnegative", "maxIter", "regParam", "seed",
        "intermediateStorageLevel", "finalStorageLevel")

    # hooks ------------------------------------------------------------------------------------
    def _training_program(self):
        return als

    def _program_params(self) -> dict:
        return {"rank": self.getRank(), "maxIter": self.getMaxIter(),
                "regParam": self.getRegParam(), "implicitPrefs": self.getImplicitPrefs(),
                "alpha": self.getAlpha(), "nonnegative": self.getNonnegative(),
                "seed": self.getSeed(), "numUserBlocks": self.getNumUserBlocks(),
                "numItemBlocks": self.getNumItemBlocks(), "userCol": self.getUserCol(),
                "itemCol": self.getItemCol(), "backend": self._checked_backend()}

    def _input_spec(self) -> InputSpec:
        return InputSpec((self.getUserCol(), self.getItemCol()), label=self.getRatingCol())

    def _dataset_params(self, dataset: Any) -> dict:
        """No params from the data, but the id columns' types are checked here, before any
        task starts, so a string id gets a message that says what to do."""
        for name in (self.getUserCol(), self.getItemCol()):
            _check_id_type(frames.of(dataset), name)
        return {}

    def _create_model(self, result: FitResult) -> "ALSModel":
        v = result.values
        return ALSModel(v["userIds"], v["userFactors"], v["itemIds"], v["itemFactors"])


class ALSModel(Model, _ALSModelParams):
    """A fitted ALS: ``rank``, ``userFactors``, ``itemFactors``, ``transform`` and the
    ``recommendFor*`` methods, as pyspark.ml's ALSModel.

    ``userFactors``/``itemFactors`` and ``recommendForAll*`` are Spark DataFrames when a
    SparkSession is active, pandas DataFrames for a model fitted on pandas or used without
    Spark; ``recommendFor*Subset`` follow their input.
    """

    def __init__(self, user_ids: np.ndarray | None = None,
                 user_factors: np.ndarray | None = None, item_ids: np.ndarray | None = None,
                 item_factors: np.ndarray | None = None):
        super().__init__()
        self._users = (user_ids, user_factors)
        self._items = (item_ids, item_factors)

    @property
    def rank(self) -> int:
        return int(self._users[1].shape[1])

    def _description(self) -> dict:
        return {"rank": self.rank}

    @property
    def userFactors(self) -> Any:
        return factors_table(*self._users, self._table_session())

    @property
    def itemFactors(self) -> Any:
        return factors_table(*self._items, self._table_session())

    def predict(self, user: int, item: int) -> float:
        """The predicted rating of one (user, item) pair; NaN for an id not seen in training."""
        return float(self._predictions(np.array([[user, item]], dtype=np.float64))[0])

    def _predictions(self, pairs: np.ndarray) -> np.ndarray:
        (user_ids, users), (item_ids, items) = self._users, self._items
        u, found_u = _positions(user_ids, pairs[:, 0])
        i, found_i = _positions(item_ids, pairs[:, 1])
        scores = np.einsum("ij,ij->i", users[u], items[i])
        return np.where(found_u & found_i, scores, np.nan)

    def _transform(self, dataset: Any) -> Any:
        strategy = self.getColdStartStrategy()
        out = self.getPredictionCol()
        frame = frames.of(dataset)
        for name in (self.getUserCol(), self.getItemCol()):
            _check_id_type(frame, name)
        result = frame.transform(
            InputSpec((self.getUserCol(), self.getItemCol()), check_finite=False),
            lambda X: {out: self._predictions(X)}, [Output(out, FLOAT)])
        if strategy == "nan":
            return result
        return frames.of(result).drop_nan_rows(out)

    def recommendForAllUsers(self, numItems: int) -> Any:
        """Each user's ``numItems`` items of highest predicted rating:
        (userCol, recommendations array<struct<itemCol, rating>>)."""
        return self._recommend(self._users, self._items, None, numItems,
                               self.getUserCol(), self.getItemCol())

    def recommendForAllItems(self, numUsers: int) -> Any:
        """Each item's ``numUsers`` users of highest predicted rating."""
        return self._recommend(self._items, self._users, None, numUsers,
                               self.getItemCol(), self.getUserCol())

    def recommendForUserSubset(self, dataset: Any, numItems: int) -> Any:
        """Recommendations for the distinct users of ``dataset[userCol]`` the model knows."""
        return self._recommend(self._users, self._items, dataset, numItems,
                               self.getUserCol(), self.getItemCol())

    def recommendForItemSubset(self, dataset: Any, numUsers: int) -> Any:
        """Recommendations for the distinct items of ``dataset[itemCol]`` the model knows."""
        return self._recommend(self._items, self._users, dataset, numUsers,
                               self.getItemCol(), self.getUserCol())

    def _recommend(self, queries, targets, dataset, count, query_col, target_col):
        if int(count) < 1:
            raise ParamError(f"the number of recommendations must be >= 1, got {count}")
        query_ids, query_factors = queries
        if dataset is not None:
            wanted = frames.of(dataset).distinct_integers(query_col)
            rows, found = _positions(query_ids, wanted.astype(np.float64))
            query_ids, query_factors = query_ids[rows[found]], query_factors[rows[found]]
        session = frames.of(dataset).session if dataset is not None else \
            self._table_session()
        return recommendations_table(query_ids, query_factors, targets[0], targets[1],
                                     int(count), query_col, target_col, session)

    def _save_data(self) -> tuple[dict, dict]:
        return {"userIds": self._users[0], "userFactors": self._users[1],
                "itemIds": self._items[0], "itemFactors": self._items[1]}, {}

    def _load_data(self, arrays: dict, extra: dict) -> None:
        self._users = (arrays["userIds"], arrays["userFactors"])
        self._items = (arrays["itemIds"], arrays["itemFactors"])


def _positions(sorted_ids: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each value's row in ``sorted_ids`` (0 where absent) and whether it is there."""
    whole = np.isfinite(values) & (values == np.round(values)) & (values >= INT_MIN) & \
        (values <= INT_MAX)
    ids = np.where(whole, values, 0).astype(np.int64)
    pos = np.minimum(np.searchsorted(sorted_ids, ids), max(sorted_ids.size - 1, 0))
    found = whole & (sorted_ids[pos] == ids) if sorted_ids.size else np.zeros(ids.size, bool)
    return np.where(found, pos, 0), found


def _check_id_type(frame: frames.Frame, name: str) -> None:
    found = frame.numeric_type(name)
    if found is None:
        return  # the input layer's message names the missing column
    numeric, shown = found
    if not numeric:
        raise DataError(f"column '{name}' has type {shown}; ALS ids must be integers in Java's "
                        "int range: index other ids first (pyspark.ml.feature.StringIndexer "
                        "maps strings to integers)")
