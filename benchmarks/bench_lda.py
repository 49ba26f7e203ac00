"""LDA fit, online: distml (barrier, jobs) vs pyspark.ml, and scikit-learn's online LDA; then
the em optimizer (MLlib's MAP-EM) on both, written to ``lda_em.json``.

20,000 training documents (and 2,000 held out) drawn from an LDA model: k = 20 topics over a
vocabulary of 5,000 terms, topics ~ Dirichlet(0.01), document mixtures ~ Dirichlet(0.1),
lengths 1 + Poisson(100); seed 0. Every contender runs pyspark.ml's online defaults with k = 20:
maxIter 20, subsamplingRate 0.05, learningOffset 1024, learningDecay 0.51, alpha and eta 1/k,
optimizeDocConcentration (scikit-learn cannot optimize alpha; it runs the same schedule:
batches of 1,000 documents, one epoch). Held-out log perplexity (MLlib's: -bound / tokens,
lower is better) is computed after the clock stops, by each model's own method. The em runs
use MLlib's em defaults with k = 20 and 20 iterations; both start from the same draws on the
same partitions, so their training log likelihoods agree. The sizes are fixed: ``--rows`` and
``--features`` do not apply.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from pyspark.ml.clustering import LDA as SparkLDA
from pyspark.ml.linalg import SparseVector
from sklearn.decomposition import LatentDirichletAllocation

from benchmarks.common import add_speedups, best_of, report
from distml import LDA

DOCUMENTS, HELD_OUT, VOCAB, K = 20_000, 2_000, 5_000, 20


def corpus(seed: int = 0) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    beta = rng.dirichlet(np.full(VOCAB, 0.01), K)
    theta = rng.dirichlet(np.full(K, 0.1), DOCUMENTS + HELD_OUT)
    rows = [rng.multinomial(n, t @ beta) for n, t in
            zip(rng.poisson(100, DOCUMENTS + HELD_OUT) + 1, theta)]
    return sp.csr_matrix(np.array(rows, dtype=np.float64))


def frame_of(spark, counts: sp.csr_matrix):
    vectors = [SparseVector(VOCAB, counts.indices[a:b], counts.data[a:b])
               for a, b in zip(counts.indptr[:-1], counts.indptr[1:])]
    # Arrow cannot carry the vector UDT from pandas (other suites turn it on): rows it is.
    spark.conf.set("spark.sql.execution.arrow.pyspark.enabled", "false")
    df = spark.createDataFrame(pd.DataFrame({"features": vectors}))
    df = df.repartition(spark.sparkContext.defaultParallelism).cache()
    df.count()
    return df


def run(spark, n: int, d: int, rounds: int, out: str) -> dict:
    counts = corpus()
    train, test = counts[:DOCUMENTS], counts[DOCUMENTS:]
    train_df, test_df = frame_of(spark, train), frame_of(spark, test)
    params = dict(k=K, seed=1)

    def distml(engine):
        def fit():
            model = LDA(engine=engine, **params).fit(train_df)
            return lambda: {"heldout_log_perplexity": model.logPerplexity(test_df)}
        return fit

    def pyspark_ml():
        model = SparkLDA(**params).fit(train_df)
        return lambda: {"heldout_log_perplexity": model.logPerplexity(test_df)}

    def sklearn():
        model = LatentDirichletAllocation(
            K, learning_method="online", batch_size=DOCUMENTS // 20, max_iter=1,
            learning_offset=1024.0, learning_decay=0.51, total_samples=DOCUMENTS,
            random_state=1).fit(train)
        return lambda: {"heldout_log_perplexity": float(np.log(model.perplexity(test)))}

    results = best_of({"distml (barrier)": distml("barrier"), "distml (jobs)": distml("jobs"),
                       "pyspark.ml": pyspark_ml, "scikit-learn (in memory)": sklearn}, rounds)
    add_speedups(results)
    report(f"LDA fit (online), {DOCUMENTS:,} documents, vocabulary {VOCAB:,}, k={K}, "
           f"{spark.sparkContext.master}", results, out,
           {"documents": DOCUMENTS, "held_out": HELD_OUT, "vocabulary": VOCAB, "k": K,
            "tokens": int(train.sum()), "rounds": rounds})
    em = dict(k=K, seed=1, optimizer="em", maxIter=20)

    def em_fit(estimator):
        def fit():
            model = estimator(**em).fit(train_df)
            return lambda: {"training_log_likelihood": model.trainingLogLikelihood(),
                            "heldout_log_perplexity": model.logPerplexity(test_df)}
        return fit

    em_results = best_of({"distml (barrier)": em_fit(lambda **kw: LDA(engine="barrier", **kw)),
                          "pyspark.ml": em_fit(SparkLDA)}, rounds)
    add_speedups(em_results)
    report(f"LDA fit (em, MLlib's MAP-EM, 20 iterations), {DOCUMENTS:,} documents, vocabulary "
           f"{VOCAB:,}, k={K}, {spark.sparkContext.master}", em_results,
           out.replace(".json", "_em.json"),
           {"documents": DOCUMENTS, "vocabulary": VOCAB, "k": K, "rounds": rounds})
    return {**results, **{f"{name} em": r for name, r in em_results.items()}}
