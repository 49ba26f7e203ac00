"""The cost of checkpoints: each iterative algorithm fitted at the default checkpointInterval
(10) and with checkpoints off (-1), alternating, on the barrier and the jobs engine.

What a checkpoint costs: the input's fingerprint once per fit (a SHA-256 of every partition's
bytes, taken while the rows arrive, so a resume can tell its input; the hash alone is timed in
bench_security.py), and every 10 iterations the program's state encoded (``wire``), sent to
the driver (barrier: rank 0 over the rendezvous connection, and the ranks wait for the write)
and written durably to the checkpoint directory. The data are the other benchmarks' (500k x 50 dense for LogisticRegression and
KMeans, bench_als's ratings, bench_lda's corpus); the directory is the local temporary one.
"""
from __future__ import annotations

from benchmarks import bench_als, bench_lda
from benchmarks.common import best_of, dense_frame, report
from distml import ALS, LDA, KMeans, LogisticRegression


def run(spark, n: int, d: int, rounds: int, out: str) -> dict:
    df, _, _ = dense_frame(spark, n, d)
    ratings, _ = bench_als.ratings_frame(spark, bench_als.RATINGS)
    documents = bench_lda.frame_of(spark, bench_lda.corpus()[:bench_lda.DOCUMENTS])
    summary_iterations = (lambda m: m.summary.totalIterations)
    fits = {  # name: (estimator with the given engine and interval, its data, iterations run)
        "LogisticRegression": (lambda **kw: LogisticRegression(**kw), df, summary_iterations),
        "LogisticRegression (elastic net)": (
            lambda **kw: LogisticRegression(regParam=0.001, elasticNetParam=0.5, **kw), df,
            summary_iterations),
        "KMeans": (lambda **kw: KMeans(k=10, seed=1, **kw), df, lambda m: m.summary.numIter),
        "ALS": (lambda **kw: ALS(rank=bench_als.RANK, regParam=0.1, seed=1, **kw), ratings,
                lambda m: 10),  # maxIter's default; ALS runs every iteration
        "LDA": (lambda **kw: LDA(k=bench_lda.K, seed=1, **kw), documents, lambda m: 20),
    }
    results = {}
    for name, (make, data, iterations) in fits.items():
        for engine in ("barrier", "jobs"):
            def contender(interval, make=make, data=data, engine=engine, iterations=iterations):
                def fit():
                    model = make(engine=engine, checkpointInterval=interval).fit(data)
                    return lambda: {"iterations": iterations(model)}
                return fit
            timed = best_of({"every 10": contender(10), "off": contender(-1)}, rounds)
            on, off = timed["every 10"], timed["off"]
            results[f"{name} ({engine})"] = {
                "seconds": on["seconds"], "seconds_without": off["seconds"],
                "iterations": on["iterations"], "checkpoints": on["iterations"] // 10,
                "overhead_percent": round(100.0 * (on["seconds"] / off["seconds"] - 1.0), 2)}
    report(f"Checkpoint overhead at checkpointInterval=10 against -1, "
           f"{spark.sparkContext.master}", results, out,
           {"rows": n, "features": d, "rounds": rounds})
    return results
