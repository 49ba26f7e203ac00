"""Estimator, Model and Transformer bases: pyspark.ml's own classes plus distml's plumbing.

Why subclass pyspark.ml's classes: ``pyspark.ml.Pipeline`` fits a stage only if it is a
``pyspark.ml.Estimator``, CrossValidator relies on ``copy``/``fitMultiple``/param maps, and
pyspark.ml's Pipeline persistence accepts stages that are ``MLWritable``. These classes are
pure Python (no JVM starts), so distml keeps the exact Params semantics users know — camelCase
names, defaults, ``setX``/``getX``, ``copy(extra)``, ``explainParams`` — at no cost.

An algorithm writes only its hooks (as in spark-rapids-ml's core): the training program, its
params, which columns it reads, and the model from the program's result. This class owns the
engine choice and all Spark plumbing.
"""
from __future__ import annotations

import logging
from typing import Any

import numpy as np

from pyspark import keyword_only
from pyspark.ml import Estimator as _SparkEstimator
from pyspark.ml import Model as _SparkModel
from pyspark.ml import Transformer as _SparkTransformer
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasCheckpointInterval, HasWeightCol
from pyspark.ml.util import MLReadable, MLWritable

from distml import frames
from distml.engine.context import FitResult, Program
from distml.engine.fit import fit_program
from distml.engine.recovery import CheckpointSettings
from distml.errors import ParamError
from distml.frames import InputSpec
from distml.gpu.placement import BACKENDS
from distml.pipeline.constraints import Interval, OneOf, ParamChecks
from distml.pipeline.persistence import DistmlReader, DistmlWriter

log = logging.getLogger("distml")


def java_string_hash(text: str) -> int:
    """Java's ``String.hashCode``: Scala's pyspark.ml seeds an estimator with its class name's,
    a value that (unlike Python's ``hash`` of a string) is the same in every process."""
    h = 0
    for ch in text:
        h = (31 * h + ord(ch)) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def setter(name: str):
    """pyspark.ml's ``setX`` for the param ``name``: sets it, returns the stage. Declared
    once per class as ``setX = setter("x")`` (or ``setters(...)`` for several) rather than
    written out: the one-line methods, over a hundred of them, were all the same method."""
    def set_value(self, value):
        return self._set(**{name: value})
    set_value.__name__ = set_value.__qualname__ = "set" + name[0].upper() + name[1:]
    set_value.__doc__ = f"Sets the value of :py:attr:`{name}`."
    return set_value


def setters(*names: str) -> tuple:
    """``setter(name)`` for each of ``names``, in order."""
    return tuple(setter(name) for name in names)


def getter(name: str):
    """pyspark.ml's ``getX`` for the param ``name``: its value or default (as ``setter``)."""
    def get_value(self):
        return self.getOrDefault(getattr(self, name))
    get_value.__name__ = get_value.__qualname__ = "get" + name[0].upper() + name[1:]
    get_value.__doc__ = f"Gets the value of :py:attr:`{name}` or its default value."
    return get_value


def getters(*names: str) -> tuple:
    """``getter(name)`` for each of ``names``, in order."""
    return tuple(getter(name) for name in names)


class HasEngine(Params):
    """Where and how wide a fit runs; shared by every distml estimator."""

    engine: Param[str] = Param(
        Params._dummy(), "engine",
        "where the fit runs: 'auto' (one Spark barrier stage; the same ranks as an ordinary "
        "stage, 'gang', when dynamic allocation is on; in process for pandas input; a fit "
        "that is only column statistics, one Spark SQL aggregate), 'barrier', 'gang', "
        "'jobs' or 'local'",
        typeConverter=TypeConverters.toString)
    numWorkers: Param[int] = Param(
        Params._dummy(), "numWorkers",
        "number of ranks (tasks, partitions or threads); 0 means as many as the cluster "
        "runs at once", typeConverter=TypeConverters.toInt)

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(engine="auto", numWorkers=0)

    def getEngine(self) -> str:
        return self.getOrDefault(self.engine)

    def getNumWorkers(self) -> int:
        return self.getOrDefault(self.numWorkers)

    setEngine, setNumWorkers = setters("engine", "numWorkers")


class HasCheckpoints(HasCheckpointInterval):
    """Checkpoints of an iterative fit, from which a failed fit resumes (``engine.recovery``).

    ``checkpointInterval`` is MLlib's param (every this many iterations; -1 never).
    Checkpoints go to Spark's checkpoint directory when one is set
    (``SparkContext.setCheckpointDir``), else to ``checkpointDir``, else to a local temporary
    directory. A fit that fails on every attempt leaves them there: fitting again with the
    same directory and params resumes, as does ``fit(df, resumeFrom=path)``.
    """

    checkpointDir: Param[str] = Param(
        Params._dummy(), "checkpointDir",
        "directory of the fit's checkpoints when Spark has no checkpoint directory set "
        "(SparkContext.setCheckpointDir); '' means a local temporary directory",
        typeConverter=TypeConverters.toString)

    _param_constraints = {"checkpointInterval": [OneOf((-1,), "-1 (never)"), Interval(1)]}

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(checkpointInterval=10, checkpointDir="")

    setCheckpointInterval = setter("checkpointInterval")

    def getCheckpointDir(self) -> str:
        return self.getOrDefault(self.checkpointDir)

    setCheckpointDir = setter("checkpointDir")

    def _checkpoint_settings(self, resume_from: str | None) -> CheckpointSettings:
        return CheckpointSettings(self.getCheckpointInterval(), self.getCheckpointDir() or None,
                                  resume_from)


class HasWeights(HasWeightCol):
    """pyspark.ml's ``weightCol``, unset or "" meaning every row weighs 1."""

    setWeightCol = setter("weightCol")

    def _weight_col(self) -> str | None:
        """The weight column's name, or None when unset or empty."""
        return (self.getWeightCol() or None) if self.isDefined(self.weightCol) else None


class HasBackend(Params):
    """The array backend of an estimator whose kernels also run on MXNet (``distml.gpu``)."""

    backend: Param[str] = Param(
        Params._dummy(), "backend",
        "array backend of the kernels: 'auto' (MXNet on the GPU Spark assigned to the task, "
        "numpy when it has none), 'numpy', or 'mxnet' (MXNet on the task's GPU, else on the "
        "CPU); MXNet needs the extra: pip install 'distml[mxnet]'",
        typeConverter=TypeConverters.toString)

    _param_constraints = {"backend": [OneOf(BACKENDS)]}

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(backend="auto")

    def getBackend(self) -> str:
        return self.getOrDefault(self.backend)

    setBackend = setter("backend")

    def _checked_backend(self) -> str:
        """The backend param, checked on the driver before any task starts: "mxnet" without
        MXNet installed fails here with one clear message (a bad name fails the declared
        rule)."""
        from distml.gpu import INSTALL_HINT, MXNetUnavailableError, mxnet_installed

        value = self.getBackend()
        if value == "mxnet" and not mxnet_installed():
            raise MXNetUnavailableError("backend='mxnet' needs MXNet, which is not installed; "
                                        f"install the extra: {INSTALL_HINT}")
        return value


class _Persistable(ParamChecks, MLReadable, MLWritable):
    """What every distml stage has: pyspark.ml's persistence API on distml's format, and its
    declared param rules checked when it runs (``pipeline.constraints``)."""

    def _set_given(self, kwargs: dict):
        """Set the params a keyword-only ``__init__`` or ``setParams`` was given a value.
        None means "not given" in every distml stage (pyspark.ml's own stages disagree among
        themselves): the param keeps its default."""
        return self._set(**{k: v for k, v in kwargs.items() if v is not None})

    @keyword_only
    def setParams(self, **kwargs: Any):
        """pyspark.ml's ``setParams``: keyword arguments only, each naming one of the stage's
        params. Stages that declare their own (pyspark.ml's signature) override this one."""
        unknown = sorted(name for name in self._input_kwargs if not self.hasParam(name))
        if unknown:
            raise TypeError(f"setParams() got an unexpected keyword argument '{unknown[0]}'")
        return self._set_given(self._input_kwargs)

    def _fitted(self, model: Any) -> Any:
        """``model`` with this stage's uid and params: what an estimator's fit returns
        (pyspark.ml's models take their estimator's uid), or a model's other form."""
        model._resetUid(self.uid)
        return self._copyValues(model)

    def write(self) -> DistmlWriter:
        return DistmlWriter(self)

    @classmethod
    def read(cls) -> DistmlReader:
        return DistmlReader(cls)

    def _repr_params(self) -> str:
        shown = ", ".join(f"{p.name}={v!r}" for p, v in sorted(
            self._paramMap.items(), key=lambda kv: kv[0].name))
        return f"{type(self).__name__}({shown})"

    def __repr__(self) -> str:
        return self._repr_params()

    def _repr_html_(self) -> str:
        from distml.pipeline.html import stage_html
        return stage_html(self)


class Estimator(_SparkEstimator, HasEngine, _Persistable):
    """Base of distml estimators. Subclasses implement the four hooks below."""

    _resume_from: str | None = None

    def fit(self, dataset: Any, params: Any = None, resumeFrom: str | None = None):
        """pyspark.ml's ``fit``; ``resumeFrom`` names a checkpoint directory (the one a failed
        fit's error gives) to continue from instead of iteration 0."""
        if resumeFrom is None:
            return super().fit(dataset, params)
        if not isinstance(self, HasCheckpoints):
            raise ParamError(f"{type(self).__name__} does not checkpoint: resumeFrom does not "
                             "apply to it")
        if isinstance(params, (list, tuple)):
            raise ParamError("resumeFrom resumes one fit; it cannot go with a list of param maps")
        estimator = self.copy(params) if params else self.copy()
        estimator._resume_from = resumeFrom
        return estimator._fit(dataset)

    def _fit(self, dataset: Any):
        settings = (self._checkpoint_settings(self._resume_from)
                    if isinstance(self, HasCheckpoints) else None)
        result = fit_program(self._training_program(), self._all_program_params(dataset),
                             dataset, self._input_spec(), self.getEngine(),
                             self.getNumWorkers(), label=type(self).__name__,
                             checkpoints=settings)
        return self._model_from_result(result, dataset)

    def _all_program_params(self, dataset: Any) -> dict:
        return {**self._program_params(), **self._dataset_params(dataset)}

    def _model_from_result(self, result: FitResult, dataset: Any,
                           summarized: bool = True) -> "Model":
        """The fitted model: the hook's, with this estimator's params, how it was trained
        (``trainingInfo``) and (``summarized``) its training summary on ``dataset``."""
        model = self._model_from_values(result.values)
        model._fitted_on_spark = frames.of(dataset).session is not None
        model._training_info = TrainingInfo.of(result)
        if result.summary is not None and result.summary.devices:  # an array backend's
            model._devices = list(result.summary.devices)
            log.info("%s trained on %s", type(self).__name__, ", ".join(model._devices))
        if summarized:
            self._summarize(model, dataset)
        return model

    def _model_from_values(self, values: dict) -> "Model":
        """The model of a program's result, with this estimator's uid (as pyspark.ml's
        models have) and params (also on a rank)."""
        return self._fitted(self._create_model(FitResult(values=values)))

    # hooks ------------------------------------------------------------------------------------
    def _training_program(self) -> Program:
        raise NotImplementedError

    def _program_params(self) -> dict:
        raise NotImplementedError

    def _input_spec(self) -> InputSpec:
        raise NotImplementedError

    def _dataset_params(self, dataset: Any) -> dict:
        """Program params read from the dataset's schema (column metadata); none by default."""
        return {}

    def _create_model(self, result: FitResult) -> "Model":
        raise NotImplementedError

    def _summarize(self, model: "Model", dataset: Any) -> None:
        """Attach the model's training summary, for the estimators that have one."""

    # Model selection on the ranks (``pipeline.tuning_on_ranks``): whether the program runs on
    # a subset of the rows (no repartition) and the model scores arrays (``Model._scores``).
    _tunes_on_ranks = False

    def _path_order(self, param_maps: list) -> list[int]:
        """The order to fit ``param_maps`` in within one fold, so each may start from the one
        before (``_warm_start``); as given by default."""
        return list(range(len(param_maps)))

    def _warm_start(self, previous: dict) -> dict:
        """Program params that start a fit from the values of the fit before it in
        ``_path_order`` (that of a neighbouring param map, on the same rows); none by
        default."""
        return {}


class TrainingInfo:
    """How a model was trained (``Model.trainingInfo``): the engine, the partitions and rows,
    and whether the rows came from resident partitions (``distml.engine.resident``: nothing
    was ingested) or the fit resumed from a checkpoint. ``rankMemory`` holds, per rank of a
    barrier or gang fit, its Python worker's resident bytes when its task started (``start``)
    and at their peak (``peak``), its partition's array bytes (``arrays``) and the estimate the
    fit checked against its budget (``need``; ``distml.engine.memory``)."""

    __slots__ = ("engine", "numPartitions", "numRows", "residentInput", "resumedFrom",
                 "rankMemory")

    def __init__(self, engine: str, num_partitions: int, num_rows: int, resident_input: bool,
                 resumed_from: int | None, rank_memory: list | None = None) -> None:
        self.engine, self.numPartitions, self.numRows = engine, num_partitions, num_rows
        self.residentInput, self.resumedFrom = resident_input, resumed_from
        self.rankMemory = list(rank_memory or [])

    @classmethod
    def of(cls, result: FitResult) -> "TrainingInfo":
        summary = result.summary
        return cls(result.engine, len(summary.rows_per_partition) if summary else 0,
                   summary.num_rows if summary else 0, result.resident, result.resumed_from,
                   result.memory)

    def __repr__(self) -> str:
        return "TrainingInfo(" + ", ".join(f"{n}={getattr(self, n)!r}"
                                           for n in self.__slots__) + ")"


class Model(_SparkModel, _Persistable):
    """Base of distml models: ``_save_data``/``_load_data`` carry their arrays on save/load."""

    _fitted_on_spark: bool | None = None  # None: loaded, or made by hand
    _training_info: TrainingInfo | None = None

    @property
    def trainingInfo(self) -> TrainingInfo | None:
        """How this model was trained (``TrainingInfo``); None for a loaded model."""
        return self._training_info

    def _feature_width(self) -> int | None:
        """The size of the vectors the model takes in its features or input column, or None
        where its inputs are not one vector column. A row of another size is an error naming
        the column, on every scoring path (``InputSpec.width``, ``spark_input.width_checked``).
        A model without ``numFeatures`` overrides it."""
        return getattr(self, "numFeatures", None)

    def _description(self) -> dict | None:
        """What the JVM twin's ``toString`` shows after the uid, which is pyspark.ml's model
        ``repr``; None where the twin shows the uid alone."""
        return None

    def __repr__(self) -> str:
        shown = self._description()
        if shown is None:
            return self.uid
        fields = "".join(f", {name}={scala_string(v)}" for name, v in shown.items())
        return f"{type(self).__name__}: uid={self.uid}{fields}"

    def _set_column_counts(self) -> dict:
        """The ``numInputCols``/``numOutputCols`` a multi-column twin adds when they are set."""
        return {name: len(self.getOrDefault(param)) for name, param in
                (("numInputCols", "inputCols"), ("numOutputCols", "outputCols"))
                if self.hasParam(param) and self.isSet(param)}

    def _scores(self, wanted: frozenset) -> Any:
        """X -> {output: array} for the outputs ``wanted`` ("rawPrediction", "probability",
        "prediction"), for models that score arrays (``Estimator._tunes_on_ranks``)."""
        raise NotImplementedError

    def _table_session(self):
        """Where tables the model returns (factors, topics) live: the active SparkSession,
        unless the model was fitted on pandas (then pandas, whatever else the process runs)."""
        if self._fitted_on_spark is False:
            return None
        return frames.active_spark()

    def _save_data(self) -> tuple[dict, dict]:
        """(arrays by name, JSON-able scalars) that make up the fitted state."""
        raise NotImplementedError

    def _load_data(self, arrays: dict, extra: dict) -> None:
        raise NotImplementedError


class Transformer(_SparkTransformer, _Persistable):
    """Base of distml transformers that need no fit."""


class SetsColumns:
    """pyspark.ml's setters of the column params (and handleInvalid) a stage mixes in."""

    (setInputCol, setInputCols, setOutputCol, setOutputCols, setHandleInvalid) = setters(
        "inputCol", "inputCols", "outputCol", "outputCols", "handleInvalid")


def input_output_columns(stage: Params) -> tuple[list[str], list[str]]:
    """(input columns, output columns) of a stage with pyspark.ml's inputCol/outputCol and
    inputCols/outputCols params: one pair or the other, the lists of one length."""
    single = stage.isSet("inputCol") or stage.isSet("outputCol")
    plural = stage.isSet("inputCols") or stage.isSet("outputCols")
    if single == plural:
        raise ParamError("set either inputCol and outputCol, or inputCols and outputCols")
    if single:
        return [stage.getOrDefault("inputCol")], [stage.getOrDefault("outputCol")]
    inputs, outputs = stage.getOrDefault("inputCols"), stage.getOrDefault("outputCols")
    if len(inputs) != len(outputs):
        raise ParamError(f"inputCols has {len(inputs)} columns but outputCols has "
                         f"{len(outputs)}")
    return list(inputs), list(outputs)


class SparkTwin(ParamChecks):
    """For row-wise stages whose pyspark.ml counterpart is a JVM expression with nothing to
    learn (tokenizers, VectorAssembler, HashingTF...): on a Spark DataFrame the counterpart,
    given this stage's params, does the work (same output, metadata and errors as MLlib, at
    JVM speed, no Python round trip); on pandas the subclass's ``_transform_pandas`` does the
    same thing here."""

    def _spark_class(self) -> type:
        raise NotImplementedError

    def _transform_pandas(self, frame: Any) -> Any:
        raise NotImplementedError

    def _checked_for_nulls(self) -> list[str]:
        """Input columns where MLlib fails on a null deep in the JVM (a NullPointerException):
        nulls there are an error naming the column instead. A subclass's ``_null_checked``
        lists them."""
        return self._null_checked() if hasattr(self, "_null_checked") else []

    def _transform(self, dataset: Any) -> Any:
        checked = frames.of(dataset).fail_on_nulls(self._checked_for_nulls(), null_message)
        return frames.of(checked).with_mllib(self._transform_with_mllib,
                                             self._transform_pandas)

    def _transform_with_mllib(self, dataset: Any) -> Any:
        twin = self._spark_class()()
        for param, value in self._paramMap.items():  # set ones: the defaults are MLlib's
            if twin.hasParam(param.name):
                twin._set(**{param.name: value})
        return twin.transform(dataset)


def scala_string(value: Any) -> str:
    """A param value as Scala's string interpolation writes it (true, NaN, 1.0E-5)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        if value != value:
            return "NaN"
        if value in (float("inf"), float("-inf")):
            return "Infinity" if value > 0 else "-Infinity"
        if value != 0.0 and not 1e-3 <= abs(value) < 1e7:
            mantissa, exponent = np.format_float_scientific(value, unique=True).split("e")
            return f"{float(mantissa)!r}E{int(exponent)}"
    return str(value)


def null_message(column: str, count: int | None = None) -> str:
    counted = "" if count is None else f" ({count} rows)"
    return (f"column '{column}' has null values{counted}; drop or fill them first "
            "(pyspark.ml's stage would fail on them inside the JVM)")
