"""Bad input on Spark gets an error that names the column or param, from either engine."""
import numpy as np
import pytest
from pyspark.ml.linalg import Vectors

from distml import DataError, ParamError, StandardScaler, Summarizer
from spark_tasks import counting_failed_tasks

pytestmark = pytest.mark.spark


# "auto" first tries one JVM aggregate (``statistics_in_jvm``), which hands such input to the
# engine: the message must be the engine's.
@pytest.mark.parametrize("engine", ["auto", "barrier", "jobs"])
def test_nan_and_infinite_features(spark, engine):
    for bad in (np.nan, np.inf):
        df = spark.createDataFrame([(Vectors.dense([1.0, bad]),), (Vectors.dense([1.0, 2.0]),)],
                                   ["feats"])
        with pytest.raises(DataError, match="'feats' has 1 NaN or infinite"):
            StandardScaler(inputCol="feats", engine=engine).fit(df)


def test_jobs_engine_raises_bad_data_without_spark_retrying_the_task(spark):
    """Every attempt would fail alike: the task returns the error, so no task fails (Spark
    would retry a failed one spark.task.maxFailures times, each in a new Python worker)."""
    df = spark.createDataFrame([(Vectors.dense([1.0, np.nan]),), (Vectors.dense([1.0, 2.0]),)],
                               ["feats"]).repartition(2)
    with counting_failed_tasks(spark.sparkContext) as tasks:
        with pytest.raises(DataError, match="'feats' has 1 NaN or infinite"):
            StandardScaler(inputCol="feats", engine="jobs").fit(df)
    assert tasks["stages"] > 0 and tasks["failed"] == 0


@pytest.mark.parametrize("engine", ["auto", "barrier", "jobs"])
def test_vectors_of_different_lengths(spark, engine):
    df = spark.createDataFrame([(Vectors.dense([1.0, 2.0]),), (Vectors.dense([1.0]),)] * 3,
                               ["feats"]).repartition(1)
    with pytest.raises(DataError, match="'feats' holds vectors of different lengths"):
        StandardScaler(inputCol="feats", engine=engine).fit(df)
    # The same problem split over two partitions is caught by the cross-partition check.
    a = spark.createDataFrame([(Vectors.dense([1.0, 2.0]),)], ["feats"])
    b = spark.createDataFrame([(Vectors.dense([1.0]),)], ["feats"])
    with pytest.raises(DataError, match="'feats' holds vectors of different lengths"):
        StandardScaler(inputCol="feats", engine=engine).fit(a.union(b).repartition(2))


def test_unknown_column(spark):
    df = spark.createDataFrame([(Vectors.dense([1.0]),)], ["features"])
    with pytest.raises(DataError, match="'nope' not found"):
        StandardScaler(inputCol="nope").fit(df)
    with pytest.raises(DataError, match="'wt' not found"):
        Summarizer.metrics("mean").summary(df, weightCol="wt")


@pytest.mark.parametrize("engine", ["auto", "barrier", "jobs", "local"])
def test_empty_dataframe(spark, engine):
    df = spark.createDataFrame([(Vectors.dense([1.0]),)], ["features"]).limit(0)
    with pytest.raises(DataError, match="0 rows.*'features'"):
        StandardScaler(inputCol="features", engine=engine).fit(df)


def test_non_numeric_columns(spark):
    df = spark.createDataFrame([("a", 1.0, "x")], ["s", "x", "w"])
    with pytest.raises(DataError, match="'s' has type string"):
        StandardScaler(inputCol="s").fit(df)
    with pytest.raises(DataError, match="'s' has type string"):
        Summarizer.metrics("mean").summary(df, featuresCol=("x", "s"))
    with pytest.raises(DataError, match="'w' .*weight.* has type string"):
        Summarizer.metrics("mean").summary(df, featuresCol=("x",), weightCol="w")


def test_null_features(spark):
    from pyspark.ml.linalg import VectorUDT
    from pyspark.sql.types import StructField, StructType
    schema = StructType([StructField("features", VectorUDT(), True)])
    df = spark.createDataFrame([(Vectors.dense([1.0]),), (None,)], schema)
    with pytest.raises(DataError, match="'features' has 1 null"):
        StandardScaler(inputCol="features").fit(df.repartition(1))


def test_bad_params(spark):
    df = spark.createDataFrame([(Vectors.dense([1.0]),)], ["features"])
    with pytest.raises(ParamError, match="engine must be one of"):
        StandardScaler(inputCol="features", engine="fast").fit(df)
    with pytest.raises(ParamError, match="numWorkers must be >= 0"):
        StandardScaler(inputCol="features", numWorkers=-1).fit(df)
    with pytest.raises(DataError, match="output column 'features' already exists"):
        StandardScaler(inputCol="features", outputCol="features").fit(df).transform(df)
