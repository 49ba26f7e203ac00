"""Peak Python memory of a rank over its partition's array bytes (issue 25), per algorithm.

Every barrier fit reports, per rank, its Python worker's resident bytes when the task started
and at their peak (``Model.trainingInfo.rankMemory``: /proc's VmHWM, reset as the task starts).
The suite runs in a Spark session of its own (a child process) with
``spark.python.worker.reuse=false``, so every rank starts in a fresh worker: a reused one keeps
the memory earlier tasks freed (its allocators do not hand it back), which a fit reuses without
its resident size growing, and the peak would look smaller than a fresh executor's.

``ratio`` is (peak - start) over the bytes of the partition's arrays (X, label, weights): what
the fit added to the worker, per byte of data, at that size. Each fit runs at two sizes,
``--rows`` and twice that (so a rank's arrays double), and the two give what the estimate
(``engine.memory``) uses: ``factor``, the slope of the added bytes over the array bytes, and
``fixed``, what the fit adds at any size (numba and its compiled kernels, loaded on first use;
buffers the size of the model). The largest rank is reported.

The data is made in Spark (no driver copy), in as many partitions as the session runs tasks:
dense rows of ``--features`` normal values and a 0/1 label for LogisticRegression (L-BFGS,
20 iterations, tol 0), KMeans (k=10, 20 iterations, tol 0) and DecisionTreeClassifier (depth 5,
32 bins); 10 x ``--rows`` ratings of 20,000 users and 5,000 items for ALS (rank 10, 5
iterations); ``--rows`` / 2 documents of 100 tokens over 5,000 terms (sparse) for LDA (online,
k=20, 10 iterations). pyspark.ml holds the same rows in the JVM heap, not in a Python worker,
so it has no counterpart here; its fit times on the same data are in the other suites.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from benchmarks.common import report

USERS, ITEMS, VOCAB = 20_000, 5_000, 5_000


def dense(spark, rows: int, features: int, partitions: int):
    from pyspark.ml.functions import array_to_vector
    from pyspark.sql import functions as F
    columns = [F.randn(seed=i) for i in range(features)]
    label = (sum(columns[:5]) + F.randn(seed=features) > 0).cast("double")
    return (spark.range(0, rows, 1, partitions)
            .select(array_to_vector(F.array(*columns)).alias("features"), label.alias("label")))


def ratings(spark, rows: int, partitions: int):
    from pyspark.sql import functions as F
    return spark.range(0, rows, 1, partitions).select(
        (F.rand(seed=1) * USERS).cast("int").alias("user"),
        (F.rand(seed=2) * ITEMS).cast("int").alias("item"),
        (F.randn(seed=3) + 3.0).alias("rating"))


def documents(spark, docs: int, partitions: int):
    """Bags of words as sparse vectors, made on the executors."""
    from pyspark.ml.linalg import VectorUDT
    from pyspark.sql.types import StructField, StructType

    def make(index, _):
        import numpy as np
        from pyspark.ml.linalg import SparseVector
        rng = np.random.default_rng(index)
        topics = rng.dirichlet(np.full(VOCAB, 0.01), 20)
        for _ in range(docs // partitions):
            words = np.bincount(rng.choice(VOCAB, 100, p=topics[rng.integers(20)]),
                                minlength=VOCAB)
            at = np.flatnonzero(words)
            yield (SparseVector(VOCAB, at, words[at].astype(float)),)

    rdd = spark.sparkContext.parallelize(range(partitions), partitions).mapPartitionsWithIndex(
        make)
    return spark.createDataFrame(rdd, StructType([StructField("features", VectorUDT())]))


def fits(spark, rows: int, features: int, partitions: int) -> tuple[dict, list]:
    from distml import ALS, LDA, DecisionTreeClassifier, KMeans, LogisticRegression
    rows_df = dense(spark, rows, features, partitions).cache()
    ratings_df = ratings(spark, rows * 10, partitions).cache()
    docs_df = documents(spark, rows // 2, partitions).cache()
    for df in (rows_df, ratings_df, docs_df):
        df.count()
    return {
        "LogisticRegression": (LogisticRegression(maxIter=20, tol=0.0), rows_df),
        "KMeans": (KMeans(k=10, maxIter=20, tol=0.0, seed=1), rows_df),
        "DecisionTreeClassifier": (DecisionTreeClassifier(maxDepth=5), rows_df),
        "ALS": (ALS(rank=10, maxIter=5, seed=1), ratings_df),
        "LDA": (LDA(k=20, maxIter=10, seed=1), docs_df),
    }, [rows_df, ratings_df, docs_df]


def largest_rank(info) -> dict:
    """The rank whose fit added the most to its worker: its sizes in MiB."""
    worst = max(info.rankMemory, key=lambda r: r["peak"] - r["start"])
    return {key: worst[key] / 2**20 for key in ("start", "peak", "arrays", "need")}


def measure(master: str, rows: int, features: int) -> dict:
    """Every fit at both sizes, in a session of fresh workers (run in the child process)."""
    from distml.frames import local_session
    spark = local_session(master, app_name="distml-memory-benchmark",
                          **{"spark.python.worker.reuse": "false",
                             "spark.distml.residentBytes": "0", "spark.driver.memory": "6g"})
    spark.sparkContext.setLogLevel("ERROR")
    partitions = spark.sparkContext.defaultParallelism
    sizes: dict = {}
    for size in (rows, 2 * rows):
        estimators, cached = fits(spark, size, features, partitions)
        for name, (estimator, df) in estimators.items():
            start = time.perf_counter()
            model = estimator.copy().setEngine("barrier").fit(df)
            sizes.setdefault(name, []).append(
                {**largest_rank(model.trainingInfo), "seconds": time.perf_counter() - start})
        for df in cached:
            df.unpersist()
    spark.stop()
    return {"partitions": partitions, "sizes": sizes}


def run(spark, n: int, d: int, rounds: int, out: str) -> dict:
    master = spark.sparkContext.master
    child = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_memory", master, str(n), str(d)],
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        capture_output=True, text=True, check=True)
    measured = json.loads(child.stdout.strip().splitlines()[-1])
    results: dict[str, dict] = {}
    for name, (small, large) in measured["sizes"].items():
        added = [m["peak"] - m["start"] for m in (small, large)]
        factor = (added[1] - added[0]) / (large["arrays"] - small["arrays"])
        fixed = added[0] - factor * small["arrays"]
        for m, grown in zip((small, large), added):
            results[f"{name} {m['arrays']:.0f} MiB"] = {
                "seconds": m["seconds"], "arrays_mib": round(m["arrays"], 1),
                "start_mib": round(m["start"], 1), "peak_mib": round(m["peak"], 1),
                "ratio": round(grown / m["arrays"], 3), "factor": round(factor, 3),
                "fixed_mib": round(fixed, 1), "estimate_mib": round(m["need"], 1)}
    report(f"Peak Python memory per rank over its partition's arrays (barrier, "
           f"{measured['partitions']} ranks, {master}, fresh workers)", results, out,
           {"rows": n, "features": d, "partitions": measured["partitions"]})
    return results


if __name__ == "__main__":
    master_, rows_, features_ = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    print(json.dumps(measure(master_, rows_, features_)))
