"""LDA on pandas input (LocalEngine): topics recovered from a known model, perplexity against
scikit-learn's, the kernels against each other, the model's outputs, and bad input."""
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from pyspark.ml.linalg import SparseVector, Vectors
from scipy.optimize import linear_sum_assignment
from scipy.special import digamma
from sklearn.decomposition import LatentDirichletAllocation

from distml import LDA, DataError, LDAModel, ParamError
from distml.gpu import MXNetBackend
from distml.kernels.lda import (alpha_step, as_csr, digamma_series, dirichlet_expectation,
                                estep, padded_documents, padded_estep)

K, VOCAB, ALPHA, ETA = 5, 200, 0.2, 0.05


@pytest.fixture(scope="module")
def corpus():
    """3,000 documents drawn from a known LDA model: k=5 topics over 200 terms, topics
    ~ Dirichlet(0.05), document mixtures ~ Dirichlet(0.2), lengths 1 + Poisson(80); seed 0.
    The first 2,400 train, the last 600 are held out."""
    rng = np.random.default_rng(0)
    beta = rng.dirichlet(np.full(VOCAB, ETA), K)
    theta = rng.dirichlet(np.full(K, ALPHA), 3000)
    lengths = rng.poisson(80, 3000) + 1
    counts = sp.csr_matrix(np.stack([rng.multinomial(n, t @ beta)
                                     for n, t in zip(lengths, theta)]).astype(float))
    return beta, counts[:2400], counts[2400:]


def _frame(counts):
    return pd.DataFrame({"features": [SparseVector(counts.shape[1], counts.indices[a:b],
                                                   counts.data[a:b])
                                      for a, b in zip(counts.indptr[:-1], counts.indptr[1:])]})


def _topic_similarity(topics, beta):
    """Mean cosine similarity of learned and true topics, matched by the Hungarian method."""
    unit = (lambda m: m / np.linalg.norm(m, axis=1, keepdims=True))
    cosine = unit(topics) @ unit(beta).T
    rows, cols = linear_sum_assignment(-cosine)
    return cosine[rows, cols].mean()


# The online schedule both libraries run: 100 mini-batches of a tenth of the documents.
ONLINE = dict(maxIter=100, subsamplingRate=0.1, learningOffset=1.0, learningDecay=0.5)


def _fit(optimizer, train, **extra):
    params = dict(k=K, optimizer=optimizer, docConcentration=[ALPHA], topicConcentration=ETA,
                  optimizeDocConcentration=False, seed=1, numWorkers=2)
    params.update(ONLINE if optimizer == "online" else dict(maxIter=50))
    params.update(extra)
    return LDA(**params).fit(_frame(train))


def test_batch_mode_recovers_the_topics(corpus):
    beta, train, _ = corpus
    assert _topic_similarity(_fit("batch", train)._topics, beta) >= 0.95


def test_online_mode_recovers_the_topics(corpus):
    beta, train, _ = corpus
    assert _topic_similarity(_fit("online", train)._topics, beta) >= 0.8


def test_batch_perplexity_is_within_5_percent_of_scikit_learn(corpus):
    _, train, test = corpus
    # 20 iterations each, not 50: scikit-learn's batch fit takes ~0.3 s an iteration here
    # (and 3 s for its first), and at 20 the two are 0.4% apart, at 50 0.3%.
    ours = np.exp(_fit("batch", train, maxIter=20).logPerplexity(_frame(test)))
    sk = LatentDirichletAllocation(K, doc_topic_prior=ALPHA, topic_word_prior=ETA,
                                   learning_method="batch", max_iter=20, random_state=0)
    theirs = sk.fit(train).perplexity(test)
    assert abs(ours / theirs - 1) <= 0.05, (ours, theirs)


def test_online_perplexity_is_within_5_percent_of_scikit_learn(corpus):
    _, train, test = corpus
    ours = np.exp(_fit("online", train).logPerplexity(_frame(test)))
    # The same schedule: batches of subsamplingRate x documents, maxIter x rate epochs.
    sk = LatentDirichletAllocation(
        K, doc_topic_prior=ALPHA, topic_word_prior=ETA, learning_method="online",
        batch_size=240, max_iter=10, learning_offset=1.0, learning_decay=0.5,
        total_samples=2400, random_state=0)
    theirs = sk.fit(train).perplexity(test)
    assert abs(ours / theirs - 1) <= 0.05, (ours, theirs)


def test_the_bound_matches_scikit_learns_for_the_same_topics(corpus):
    _, train, test = corpus
    model = _fit("batch", train, maxIter=5)
    sk = LatentDirichletAllocation(K, doc_topic_prior=ALPHA, topic_word_prior=ETA)
    sk.components_ = model._topics.copy()
    sk.exp_dirichlet_component_ = np.exp(dirichlet_expectation(model._topics))
    sk.n_features_in_, sk.doc_topic_prior_, sk.topic_word_prior_ = VOCAB, ALPHA, ETA
    np.testing.assert_allclose(np.exp(model.logPerplexity(_frame(test))), sk.perplexity(test),
                               rtol=1e-6)


@pytest.mark.parametrize("optimizer", ["batch", "online"])
def test_the_model_does_not_depend_on_the_rank_count(corpus, optimizer):
    _, train, _ = corpus
    one, three = (_fit(optimizer, train[:500], maxIter=5, numWorkers=n) for n in (1, 3))
    np.testing.assert_allclose(one._topics, three._topics, rtol=1e-10)


def test_digamma_series_is_scipys():
    x = np.concatenate([np.geomspace(1e-4, 1e4, 200), [0.5, 1.0, 9.99, 10.0]])
    np.testing.assert_allclose(digamma_series(x), digamma(x), rtol=1e-13, atol=1e-13)


def _small_counts(seed=0):
    rng = np.random.default_rng(seed)
    X = rng.poisson(0.3, size=(40, 30)).astype(float)
    X[5] = 0.0  # an empty document
    return as_csr(X), rng.gamma(2.0, 1.0, (4, 30)), rng.gamma(100.0, 0.01, (40, 4))


def test_compiled_and_padded_e_steps_agree():
    X, lam, start = _small_counts()
    exp_beta, alpha = np.exp(dirichlet_expectation(lam)), np.full(4, 0.3)
    gamma, stats = estep(X, exp_beta, alpha, True, start)
    padded = np.empty_like(gamma)
    chunks = padded_documents(X, max_slots=60)
    assert len(chunks) > 2
    for chunk in chunks:
        padded[chunk.rows] = padded_estep(exp_beta.T.copy(), alpha, chunk.ids, chunk.counts,
                                          start[chunk.rows])[0]
    np.testing.assert_allclose(padded, gamma, rtol=1e-10)
    np.testing.assert_allclose(gamma[5], alpha)  # an empty document keeps the prior
    # The statistics by a sparse product from gamma, as the MXNet path computes them.
    from distml.kernels.lda import topic_stats
    np.testing.assert_allclose(topic_stats(X, gamma, exp_beta), stats, rtol=1e-10)


def test_mxnet_e_step_matches_numpy():
    X, lam, start = _small_counts(seed=1)
    exp_beta, alpha = np.exp(dirichlet_expectation(lam)), np.full(4, 0.3)
    expected = estep(X, exp_beta, alpha, True, start)
    got = estep(X, exp_beta, alpha, True, start, MXNetBackend())
    for a, b in zip(got, expected):
        np.testing.assert_allclose(a, b, rtol=1e-10)


def test_alpha_step_moves_towards_the_dirichlet_mle():
    rng = np.random.default_rng(2)
    true_alpha = np.array([0.5, 2.0, 1.0])
    log_theta = np.log(rng.dirichlet(true_alpha, 20000)).sum(axis=0)
    alpha = np.ones(3)
    for _ in range(50):
        alpha = alpha_step(alpha, log_theta, 20000, 0.5)
    np.testing.assert_allclose(alpha, true_alpha, rtol=0.05)


def test_online_mode_optimizes_the_document_concentration(corpus):
    _, train, _ = corpus
    model = _fit("online", train, optimizeDocConcentration=True)
    estimated = model.estimatedDocConcentration().toArray()
    assert estimated.shape == (K,) and not np.allclose(estimated, ALPHA)
    assert (estimated > 0).all()


def test_model_outputs(corpus, tmp_path):
    _, train, test = corpus
    model = _fit("batch", train, maxIter=10)
    assert model.vocabSize() == VOCAB and not model.isDistributed()
    matrix = model.topicsMatrix()
    assert (matrix.numRows, matrix.numCols) == (VOCAB, K)
    np.testing.assert_array_equal(matrix.toArray(), model._topics.T)
    topics = model.describeTopics(3)
    assert list(topics.columns) == ["topic", "termIndices", "termWeights"]
    weights = model._topics / model._topics.sum(axis=1, keepdims=True)
    assert topics["termIndices"][0] == np.argsort(-weights[0])[:3].tolist()
    np.testing.assert_allclose(topics["termWeights"][0], np.sort(weights[0])[::-1][:3])
    frame = _frame(test[:20])
    theta = np.stack([v.toArray() for v in model.transform(frame)["topicDistribution"]])
    np.testing.assert_allclose(theta.sum(axis=1), 1.0)
    assert model.logLikelihood(frame) < 0
    np.testing.assert_allclose(model.logPerplexity(frame),
                               -model.logLikelihood(frame) / test[:20].sum())
    model.save(str(tmp_path / "lda"))
    loaded = LDAModel.load(str(tmp_path / "lda"))
    np.testing.assert_array_equal(loaded._topics, model._topics)
    assert loaded.logPerplexity(frame) == model.logPerplexity(frame)


def test_empty_documents_are_allowed_and_get_the_prior_mean():
    docs = pd.DataFrame({"features": [Vectors.sparse(4, {0: 3.0, 1: 1.0}),
                                      Vectors.sparse(4, {}),
                                      Vectors.sparse(4, {2: 2.0, 3: 5.0})]})
    model = LDA(k=2, maxIter=5, optimizer="batch", docConcentration=[0.5, 1.5], seed=0).fit(docs)
    theta = model.transform(docs)["topicDistribution"][1].toArray()
    np.testing.assert_allclose(theta, [0.25, 0.75])
    assert np.isfinite(model.logLikelihood(docs))


def test_bad_input_and_params_are_clear_errors(corpus):
    _, train, _ = corpus
    docs = _frame(train[:30])
    negative = docs.copy()
    negative.at[2, "features"] = Vectors.sparse(VOCAB, {0: -1.0, 3: 2.0})
    with pytest.raises(DataError, match="'features' has 1 negative term counts"):
        LDA(k=3, maxIter=2).fit(negative)
    model = LDA(k=3, maxIter=2).fit(docs)
    wrong = pd.DataFrame({"features": [Vectors.sparse(VOCAB + 1, {0: 1.0})]})
    with pytest.raises(DataError, match=f"size {VOCAB + 1}, but the model was fitted on {VOCAB}"):
        model.transform(wrong)
    for params, name in (({"k": 1}, "k"), ({"optimizer": "gibbs"}, "optimizer"),
                         ({"subsamplingRate": 0.0}, "subsamplingRate"),
                         ({"docConcentration": [0.1, 0.2]}, "docConcentration"),
                         ({"topicConcentration": -1.0 + 0.5}, "topicConcentration")):
        with pytest.raises(ParamError, match=name):
            LDA(**{"k": 3, **params}).fit(docs)
    # Fractional counts (weights) are accepted, as in MLlib.
    weighted = pd.DataFrame({"features": [Vectors.sparse(4, {0: 0.5, 1: 1.5}),
                                          Vectors.sparse(4, {2: 2.25})]})
    assert LDA(k=2, maxIter=2).fit(weighted).vocabSize() == 4


@pytest.mark.parametrize("optimizer", ["batch", "online"])
def test_a_fit_on_the_mxnet_backend_matches_numpy(corpus, optimizer):
    _, train, _ = corpus
    on_numpy = _fit(optimizer, train[:100], maxIter=3, backend="numpy")
    on_mxnet = _fit(optimizer, train[:100], maxIter=3, backend="mxnet")
    assert on_mxnet._devices == ["mxnet:cpu(0)"] * 2
    np.testing.assert_allclose(on_mxnet._topics, on_numpy._topics, rtol=1e-8)


def test_em_gives_a_distributed_model_and_says_why_its_bound_is_nan(caplog):
    """A term that never occurs in training has zero counts in an em model, where the bound
    is undefined (pyspark.ml's logPerplexity is NaN there too): NaN, with a warning."""
    docs = pd.DataFrame({"features": [Vectors.sparse(4, {0: 3.0, 1: 1.0}),
                                      Vectors.sparse(4, {1: 2.0, 2: 5.0})] * 5})
    model = LDA(k=2, maxIter=5, optimizer="em", seed=0).fit(docs)
    assert model.isDistributed() and not model.toLocal().isDistributed()
    assert np.isfinite(model.trainingLogLikelihood()) and np.isfinite(model.logPrior())
    with caplog.at_level("WARNING", logger="distml"):
        assert np.isnan(model.logPerplexity(docs))
    assert "1 vocabulary terms have zero weight" in caplog.text
