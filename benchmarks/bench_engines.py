"""The engines side by side (issue 21): barrier, gang and jobs against pyspark.ml, for the
five fits the gang engine exists for, and what ``engine="auto"`` runs under dynamic allocation.

Two sessions, one after the other, since dynamic allocation is fixed when a SparkContext
starts and Spark refuses barrier stages under it:

- the suite's session (dynamic allocation off): distml on the barrier, gang and jobs engines
  and pyspark.ml, alternated, best of ``rounds``;
- a child process with a ``local[2]`` session with dynamic allocation on (local mode honours
  it only with ``spark.dynamicAllocation.testing``, as Spark's own tests do; shuffle tracking
  on): ``engine="auto"``, which must choose the gang engine (checked), and pyspark.ml,
  alternated.

Fits, with fixed iteration counts (tol 0) so that no contender stops early: LogisticRegression
(regParam 1e-3, 10 iterations), KMeans (k 10, 20 iterations) and DecisionTreeClassifier
(depth 8) on n x d dense rows at two sizes (``--rows`` and twice that); ALS (rank 10, 10
iterations) on ``bench_als``'s ~1M ratings; LDA (online, k 20, 20 iterations) on
``bench_lda``'s 20,000 documents.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys

from pyspark.ml.classification import DecisionTreeClassifier as SparkDecisionTreeClassifier
from pyspark.ml.classification import LogisticRegression as SparkLogisticRegression
from pyspark.ml.clustering import KMeans as SparkKMeans
from pyspark.ml.clustering import LDA as SparkLDA
from pyspark.ml.recommendation import ALS as SparkALS

from benchmarks import bench_als, bench_lda
from benchmarks.common import best_of, dense_frame
from distml import ALS, LDA, DecisionTreeClassifier, KMeans, LogisticRegression

ENGINES = ("barrier", "gang", "jobs")
DYNAMIC_ALLOCATION = {"spark.dynamicAllocation.enabled": "true",
                      "spark.dynamicAllocation.testing": "true",
                      "spark.dynamicAllocation.shuffleTracking.enabled": "true",
                      "spark.shuffle.service.enabled": "false"}

# name -> (distml estimator, pyspark.ml estimator, the shared params)
FITS = {
    "LogisticRegression": (LogisticRegression, SparkLogisticRegression,
                           dict(regParam=1e-3, maxIter=10, tol=0.0)),
    "KMeans": (KMeans, SparkKMeans, dict(k=10, maxIter=20, tol=0.0, seed=1)),
    "DecisionTreeClassifier": (DecisionTreeClassifier, SparkDecisionTreeClassifier,
                               dict(maxDepth=8)),
    "ALS": (ALS, SparkALS, dict(rank=10, regParam=0.1, maxIter=10, seed=1)),
    "LDA": (LDA, SparkLDA, dict(k=20, maxIter=20, seed=1)),
}


def datasets(spark, n: int, d: int):
    """(fit name, size label, DataFrame) for every measurement."""
    out = []
    for rows in (n, 2 * n):
        df, _, _ = dense_frame(spark, rows, d)
        out += [(name, f"{rows:,} x {d}", df)
                for name in ("LogisticRegression", "KMeans", "DecisionTreeClassifier")]
    train, _ = bench_als.ratings_frame(spark, bench_als.RATINGS)
    out.append(("ALS", f"{train.count():,} ratings", train))
    out.append(("LDA", f"{bench_lda.DOCUMENTS:,} documents",
                bench_lda.frame_of(spark, bench_lda.corpus()[:bench_lda.DOCUMENTS])))
    return out


def time_fits(spark, n: int, d: int, rounds: int, engines) -> list[dict]:
    rows = []
    for name, size, df in datasets(spark, n, d):
        ours, theirs, params = FITS[name]
        contenders = {}
        for engine in engines:
            def fit(engine=engine):
                model = ours(engine=engine, **params).fit(df)
                return lambda: {"engine": model.trainingInfo.engine}
            contenders[f"distml {engine}"] = fit
        contenders["pyspark.ml"] = lambda: (theirs(**params).fit(df), dict)[1]
        best = best_of(contenders, rounds)
        rows.append({"fit": name, "size": size,
                     **{k: round(v["seconds"], 3) for k, v in best.items()},
                     "engines_run": {k: v.get("engine") for k, v in best.items()
                                     if k != "pyspark.ml"}})
        print(f"  {name}, {size}: " + ", ".join(f"{k} {v['seconds']:.3f} s"
                                                  for k, v in best.items()), flush=True)
    return rows


def run(spark, n: int, d: int, rounds: int, out: str) -> dict:
    print("\nengines, dynamic allocation off:", flush=True)
    static = time_fits(spark, n, d, rounds, ENGINES)
    print("engines, dynamic allocation on (a child process):", flush=True)
    child = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_engines", str(n), str(d), str(rounds)],
        capture_output=True, text=True, check=True,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    *progress, last = child.stdout.rstrip().splitlines()
    print("\n".join(progress), flush=True)
    dynamic = json.loads(last)
    for row in dynamic:
        assert row["engines_run"]["distml auto"] == "gang", row  # auto took the gang engine
    table = []
    for s, dyn in zip(static, dynamic):
        table.append({**s, "distml auto under dynamic allocation": dyn["distml auto"],
                      "pyspark.ml under dynamic allocation": dyn["pyspark.ml"],
                      "gang / barrier": round(s["distml gang"] / s["distml barrier"], 2)})
    _print(table, spark.sparkContext.master, rounds)
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        json.dump({"title": "engines", "master": spark.sparkContext.master, "rounds": rounds,
                   "results": table}, f, indent=2)
    print(f"(written to {out})")
    return {"results": table}


def _print(table: list[dict], master: str, rounds: int) -> None:
    print(f"\nEngines, {master}, best of {rounds} (seconds)")
    columns = ["distml barrier", "distml gang", "gang / barrier",
               "distml auto under dynamic allocation", "distml jobs", "pyspark.ml",
               "pyspark.ml under dynamic allocation"]
    print(f"{'fit':<24}{'size':<22}" + "".join(f"{c[:18]:>20}" for c in columns))
    for row in table:
        print(f"{row['fit']:<24}{row['size']:<22}" +
              "".join(f"{row[c]:>20}" for c in columns))


def _child(n: int, d: int, rounds: int) -> None:
    from distml.frames import local_session
    spark = local_session("local[2]", app_name="distml-benchmarks-dynamic-allocation",
                          **{"spark.driver.memory": "8g", "spark.distml.residentBytes": "0",
                             **DYNAMIC_ALLOCATION})
    spark.sparkContext.setLogLevel("ERROR")
    rows = time_fits(spark, n, d, rounds, ("auto",))
    spark.stop()
    print(json.dumps(rows))


if __name__ == "__main__":
    _child(*(int(a) for a in sys.argv[1:4]))
