"""One command for the benchmarks: ``make benchmark`` or ``python benchmarks/run.py``.

Prints a table per algorithm and writes JSON to benchmarks/results/.
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import (bench_als, bench_checkpoint, bench_connect,  # noqa: E402
                        bench_decision_tree, bench_engines, bench_kmeans, bench_lda,
                        bench_linear_regression, bench_logistic_regression, bench_memory,
                        bench_naive_bayes, bench_pca, bench_pipeline, bench_resident,
                        bench_security, bench_standard_scaler, bench_svd,
                        bench_tree_ensembles, bench_tuning)
from distml.frames import local_session  # noqa: E402

SUITES = {"als": bench_als.run, "checkpoint": bench_checkpoint.run,
          "connect": bench_connect.run,
          "decision_tree": bench_decision_tree.run, "engines": bench_engines.run,
          "kmeans": bench_kmeans.run, "lda": bench_lda.run,
          "linear_regression": bench_linear_regression.run,
          "logistic_regression": bench_logistic_regression.run,
          "memory": bench_memory.run,
          "naive_bayes": bench_naive_bayes.run, "pca": bench_pca.run,
          "pipeline": bench_pipeline.run,
          "resident": bench_resident.run,
          "security": bench_security.run,
          "standard_scaler": bench_standard_scaler.run, "svd": bench_svd.run,
          "tree_ensembles": bench_tree_ensembles.run,
          "tuning": bench_tuning.run}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--rows", type=int, default=500_000)
    parser.add_argument("--features", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", choices=sorted(SUITES), action="append")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results"))
    args = parser.parse_args()
    # Every fit of a round is a first fit (it ingests), as before resident partitions
    # (issue 20): the suites repeat fits on one cached DataFrame, which would otherwise time
    # second fits. bench_resident turns them on for itself.
    chosen = args.only or sorted(SUITES)
    server = bench_connect.server_conf() if "connect" in chosen else {}
    spark = local_session(args.master, app_name="distml-benchmarks",
                          **{"spark.driver.memory": "8g", "spark.distml.residentBytes": "0",
                             **server})
    spark.sparkContext.setLogLevel("ERROR")
    for name in chosen:
        SUITES[name](spark, args.rows, args.features, args.rounds,
                     os.path.join(args.out, f"{name}.json"))
    spark.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
