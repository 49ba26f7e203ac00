"""Pipeline and PipelineModel: pyspark.ml's, on Spark and pandas data, saved by distml.

Fitting is pyspark.ml's own (pure Python): stages up to the last estimator are fitted, each on
the output of the ones before; later stages are kept as they are. So stages may be distml's or,
on Spark data, pyspark.ml's.

Persistence writes pyspark.ml's layout for Python pipelines (metadata with ``stageUids`` and
``language: Python``, each stage under ``stages/<index>_<uid>``), so pyspark.ml's
``PipelineModel.load`` reads distml's saves and distml reads pyspark.ml's. Unlike pyspark.ml's
writer it needs no SparkSession when every stage is distml's and the path is local, and the
whole directory appears at once (written beside the target, then renamed) or not at all.
"""
from __future__ import annotations

from typing import Any

from pyspark.ml import Pipeline as _SparkPipeline
from pyspark.ml import PipelineModel as _SparkPipelineModel
from pyspark.ml.pipeline import PipelineSharedReadWrite

from distml import frames
from distml.errors import PersistenceError
from distml.pipeline.persistence import DistmlReader, DistmlWriter, load_instance, raw_metadata


class _SavesStages:
    """Persistence of a list of stages under the instance's directory."""

    def _stage_list(self) -> list:
        raise NotImplementedError

    def write(self) -> DistmlWriter:
        return DistmlWriter(self)

    @classmethod
    def read(cls) -> "_PipelineReader":
        return _PipelineReader(cls)

    def _repr_html_(self) -> str:
        from distml.pipeline.html import pipeline_html
        return pipeline_html(self, self._stage_list())

    def _metadata_param_map(self) -> dict:
        return {"stageUids": [s.uid for s in self._stage_list()], "language": "Python"}

    def _save_children(self, directory: str) -> None:
        stages = self._stage_list()
        for index, stage in enumerate(stages):
            if not hasattr(stage, "write"):
                raise PersistenceError(f"stage {index} ({type(stage).__name__}) cannot be "
                                       "saved: it is not MLWritable")
            stage.write().save(PipelineSharedReadWrite.getStagePath(
                stage.uid, index, len(stages), f"{directory}/stages"))

    @staticmethod
    def _loaded_stages(path: str, meta: dict) -> list:
        uids = meta["paramMap"]["stageUids"]
        return [_load_stage(PipelineSharedReadWrite.getStagePath(
            uid, index, len(uids), f"{path.rstrip('/')}/stages")) for index, uid in enumerate(uids)]


class _PipelineReader(DistmlReader):
    """Reads distml's pipeline saves and pyspark.ml's Python-language ones alike."""

    def load(self, path: str) -> Any:
        meta = raw_metadata(path)
        if "formatVersion" in meta:
            return super().load(path)
        if meta.get("paramMap", {}).get("language") != "Python":
            raise PersistenceError(f"'{path}' is a pyspark.ml pipeline of JVM stages only: "
                                   "load it with pyspark.ml.PipelineModel.load")
        instance = self.cls()
        instance._resetUid(meta["uid"])
        instance._load_children(path, meta)
        return instance


def _load_stage(path: str) -> Any:
    """A distml stage by distml's reader; any other by pyspark.ml's (which needs Spark)."""
    meta = raw_metadata(path)
    if "formatVersion" in meta:
        return load_instance(path)
    from pyspark.ml.util import DefaultParamsReader
    if not str(meta.get("class", "")).startswith(("pyspark.ml.", "org.apache.spark.ml.")):
        # pyspark's reader imports the module a save names: only pyspark.ml's own are read.
        raise PersistenceError(f"stage '{path}' names the class {meta.get('class')!r}, which "
                               "is neither distml's nor pyspark.ml's; it is not loaded")
    from pyspark import SparkContext
    # The active session is per thread (pyspark's tuning loads in a thread pool), the
    # context per process; a Connect session has no context.
    spark = frames.active_spark() or SparkContext._active_spark_context
    if spark is None:
        raise PersistenceError(f"stage '{path}' is a {meta['class']}, which pyspark.ml loads "
                               "only with an active SparkSession")
    return DefaultParamsReader.loadParamsInstance(path, spark)


class Pipeline(_SavesStages, _SparkPipeline):
    """pyspark.ml's Pipeline, returning a distml PipelineModel and saved by distml.

    >>> import numpy as np, pandas as pd, tempfile, os
    >>> from distml import LogisticRegression, StandardScaler
    >>> from distml.pipeline import Pipeline, PipelineModel
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 2))
    >>> data = pd.DataFrame({"raw": list(X), "label": (X[:, 0] > 0).astype(float)})
    >>> pipeline = Pipeline(stages=[StandardScaler(inputCol="raw", outputCol="features"),
    ...                             LogisticRegression(maxIter=20)])
    >>> model = pipeline.fit(data)
    >>> path = os.path.join(tempfile.mkdtemp(), "pipeline")
    >>> model.save(path)
    >>> loaded = PipelineModel.load(path)
    >>> bool((loaded.transform(data)["prediction"] == model.transform(data)["prediction"]).all())
    True
    """

    def _stage_list(self) -> list:
        return self.getStages()

    def _fit(self, dataset: Any) -> "PipelineModel":
        """pyspark.ml's procedure, plus one thing on Spark: the data an estimator is fitted on
        is persisted while the pipeline fits when earlier stages transformed it. An estimator
        reads its input several times (a look at the vector column, the fit's stage, its
        summary), and each read would rerun every earlier stage's transform (measured: a
        LogisticRegression after four stages took 2.4 s on 300 rows, 0.2 s on cached ones)."""
        from pyspark.ml import Estimator as SparkEstimator

        stages = self.getStages()
        last = max((i for i, s in enumerate(stages) if isinstance(s, SparkEstimator)),
                   default=-1)
        fitted, releases = [], []
        try:
            for i, stage in enumerate(stages):
                if i > last:
                    fitted.append(stage)
                    continue
                if isinstance(stage, SparkEstimator):
                    if i > 0:
                        dataset, release = frames.of(dataset).persist_for_reuse()
                        releases.append(release)
                    stage = stage.fit(dataset)
                fitted.append(stage)
                if i < last:
                    dataset = stage.transform(dataset)
        finally:
            for release in releases:
                release()
        return PipelineModel(fitted)

    def _load_children(self, path: str, meta: dict) -> None:
        self.setStages(self._loaded_stages(path, meta))


class PipelineModel(_SavesStages, _SparkPipelineModel):
    """pyspark.ml's PipelineModel (``stages``, ``transform``), saved by distml."""

    def __init__(self, stages: list | None = None):
        super().__init__(stages or [])

    def _stage_list(self) -> list:
        return self.stages

    def _load_children(self, path: str, meta: dict) -> None:
        self.stages = self._loaded_stages(path, meta)
