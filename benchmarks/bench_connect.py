"""LogisticRegression and KMeans fits from a Spark Connect client beside the same fits on the
classic session, on the same rows and the same executors.

The benchmark session (classic) also serves Spark Connect (the server's plugin, on a free
port), and a second Python process is its Connect client: one process cannot hold both, as
pyspark's functions build Connect columns for every session once a client exists there. Both
sides generate the same rows in Spark (``randn`` with fixed seeds, in as many partitions) and
cache them. Contenders alternate round by round (``common.best_of``; the client fits when told
to, on stdin, and its time includes that pipe's round trip) and keep their best. The client
fits on the barrier engine (what ``auto`` picks) and on the jobs engine (what it picks where
the server runs with dynamic allocation), and pyspark.ml fits from the same client. Fixed
work: LogisticRegression maxIter 20 with tol 0
(L-BFGS), KMeans k=10, maxIter 20, tol 0.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

FITS = ("LogisticRegression", "KMeans")


def frame(spark, rows: int, features: int, partitions: int):
    """The benchmark's rows, made in Spark the same way on either kind of session."""
    from pyspark.ml.functions import array_to_vector
    from pyspark.sql import functions as F
    columns = [F.randn(seed=i) for i in range(features)]
    label = (sum(columns[:5]) + F.randn(seed=features) > 0).cast("double")
    df = (spark.range(0, rows, 1, partitions)
          .select(array_to_vector(F.array(*columns)).alias("features"), label.alias("label"))
          .cache())
    df.count()
    return df


def fit(name: str, df, engine: str = "auto") -> dict:
    """One fit (``engine`` "pyspark.ml": pyspark.ml's); its quality (the same measure on
    both sides)."""
    if engine == "pyspark.ml":
        from pyspark.ml.classification import LogisticRegression
        from pyspark.ml.clustering import KMeans
    else:
        from distml import KMeans, LogisticRegression
    engine_param = {} if engine == "pyspark.ml" else {"engine": engine}
    if name == "LogisticRegression":
        model = LogisticRegression(maxIter=20, tol=0.0, **engine_param).fit(df)
        return {"coefficient_0": float(model.coefficients[0])}
    model = KMeans(k=10, maxIter=20, tol=0.0, seed=1, **engine_param).fit(df)
    return {"training_cost": float(model.summary.trainingCost)}


def _client(url: str, rows: int, features: int, partitions: int) -> None:
    """The Connect side: make the rows, then fit each name read on stdin, one JSON line out."""
    from pyspark.sql import SparkSession
    spark = SparkSession.builder.remote(url).create()
    df = frame(spark, rows, features, partitions)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        name, engine = line.split()
        print(json.dumps(fit(name, df, engine)), flush=True)
    spark.stop()


def run(spark, n: int, d: int, rounds: int, out: str) -> dict:
    from benchmarks.common import best_of, report
    port = spark.conf.get("spark.connect.grpc.binding.port", None)
    if port is None:
        raise RuntimeError("bench_connect needs a session that serves Spark Connect "
                           "(server_conf(), which benchmarks/run.py adds for this suite)")
    partitions = spark.sparkContext.defaultParallelism
    everything = {}
    for rows in (n, 2 * n):
        df = frame(spark, rows, d, partitions)
        client = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.bench_connect", f"sc://localhost:{port}",
             str(rows), str(d), str(partitions)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        try:
            _read(client)  # the client's rows are cached
            for name in FITS:
                def classic(name=name):
                    quality = fit(name, df)
                    return lambda: quality

                def connect(name=name, engine="auto"):  # timed here: the client's fit and a
                    client.stdin.write(f"{name} {engine}\n")  # pipe round trip
                    client.stdin.flush()
                    quality = _read(client)
                    return lambda: quality

                results = best_of({"distml, classic session": classic,
                                   "distml, Spark Connect client": connect,
                                   "distml, Spark Connect client, engine='jobs'":
                                       lambda name=name: connect(name, "jobs"),
                                   "pyspark.ml, Spark Connect client":
                                       lambda name=name: connect(name, "pyspark.ml")},
                                  rounds)
                report(f"{name} fit, {rows:,} x {d}, {spark.sparkContext.master}, classic vs "
                       "Spark Connect", results,
                       out.replace(".json", f"_{name}_{rows}.json"),
                       {"rows": rows, "features": d, "rounds": rounds})
                everything[f"{name}, {rows:,} rows"] = results
        finally:
            client.stdin.close()
            client.wait(timeout=120)
        df.unpersist()
    return everything


def _read(client) -> dict:
    line = client.stdout.readline()
    if not line:
        raise RuntimeError(f"the Connect client ended (exit code {client.wait()})")
    return json.loads(line)


def server_conf() -> dict[str, str]:
    """The confs that make a starting session serve Spark Connect too (its plugin, read only
    when a SparkContext starts), on a free port."""
    with socket.socket() as s:
        s.bind(("localhost", 0))
        port = s.getsockname()[1]
    return {"spark.plugins": "org.apache.spark.sql.connect.SparkConnectPlugin",
            "spark.connect.grpc.binding.port": str(port)}


if __name__ == "__main__":
    _client(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
