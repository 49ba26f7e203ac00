"""Clustering and topics on Spark: KMeans on blobs (with the silhouette) and LDA on a
synthetic corpus of term counts (with its topics' top terms and held-out perplexity).

    spark-submit examples/clustering.py              # or: python examples/clustering.py
"""
import argparse

import numpy as np
from pyspark.ml.linalg import Vectors

from _session import session
from distml import LDA, ClusteringEvaluator, KMeans

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--master")
parser.add_argument("--rows", type=int, default=3000)
args = parser.parse_args()
spark = session(args.master)
rng = np.random.default_rng(0)

centers = rng.normal(scale=6.0, size=(4, 5))
X = centers[rng.integers(0, 4, args.rows)] + rng.normal(size=(args.rows, 5))
blobs = spark.createDataFrame([(Vectors.dense(r),) for r in X], ["features"])
kmeans = KMeans(k=4, seed=1).fit(blobs)
print(f"KMeans: cluster sizes {kmeans.summary.clusterSizes}, silhouette "
      f"{ClusteringEvaluator().evaluate(kmeans.transform(blobs)):.3f}")

topics = rng.dirichlet(np.full(200, 0.05), 5)
docs = [Vectors.sparse(200, {int(i): float(c) for i, c in enumerate(
    rng.multinomial(60, rng.dirichlet(np.full(5, 0.2)) @ topics)) if c})
    for _ in range(args.rows // 3)]
corpus = spark.createDataFrame([(d,) for d in docs], ["features"])
train, test = corpus.randomSplit([0.9, 0.1], seed=0)
lda = LDA(k=5, optimizer="batch", maxIter=30, docConcentration=[0.2], topicConcentration=0.05,
          seed=1).fit(train)
print("LDA: top terms of each topic")
for row in lda.describeTopics(5).collect():
    print(f"  topic {row['topic']}: {row['termIndices']}")
print(f"LDA held-out log perplexity {lda.logPerplexity(test):.3f}")
