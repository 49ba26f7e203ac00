"""LDA: pyspark.ml.clustering's topic model, by online or batch variational Bayes."""
from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd
from pyspark import keyword_only
from pyspark.ml.linalg import DenseMatrix, DenseVector
from pyspark.ml.param import Param, Params, TypeConverters
from pyspark.ml.param.shared import HasFeaturesCol, HasMaxIter, HasSeed

from distml import frames
from distml.algorithms.clustering.lda_program import BATCH, EM, ONLINE, lda
from distml.engine.context import FitResult
from distml.engine.recovery import CheckpointSettings
from distml.errors import DataError, ParamError
from distml.frames import DOUBLE, VECTOR, InputSpec, Output
from distml.kernels.lda import as_csr, dirichlet_expectation, document_bounds, estep, topics_bound
from distml.pipeline.base import (Estimator, HasBackend, HasCheckpoints, Model, java_string_hash,
                                  setters)
from distml.pipeline.constraints import Interval, OneOf
from distml.pipeline.linalg_values import dense_matrix


log = logging.getLogger(__name__)

class _LDAParams(HasMaxIter, HasFeaturesCol, HasSeed, HasCheckpoints, HasBackend):
    """pyspark.ml.clustering.LDA's params and defaults, and distml's ``backend``."""

    k: Param[int] = Param(Params._dummy(), "k",
                          "The number of topics (clusters) to infer. Must be > 1.",
                          typeConverter=TypeConverters.toInt)
    optimizer: Param[str] = Param(
        Params._dummy(), "optimizer",
        "Optimizer or inference algorithm used to estimate the LDA model: online "
        "(stochastic variational inference), em (MLlib's MAP-EM, giving a "
        "DistributedLDAModel) or batch (distml's: batch variational Bayes)",
        typeConverter=TypeConverters.toString)
    learningOffset: Param[float] = Param(
        Params._dummy(), "learningOffset",
        "A (positive) learning parameter that downweights early iterations. Larger values "
        "make early iterations count less", typeConverter=TypeConverters.toFloat)
    learningDecay: Param[float] = Param(
        Params._dummy(), "learningDecay",
        "Learning rate, set as an exponential decay rate. This should be between (0.5, 1.0] "
        "to guarantee asymptotic convergence.", typeConverter=TypeConverters.toFloat)
    subsamplingRate: Param[float] = Param(
        Params._dummy(), "subsamplingRate",
        "Fraction of the corpus to be sampled and used in each iteration of mini-batch "
        "gradient descent, in range (0, 1].", typeConverter=TypeConverters.toFloat)
    optimizeDocConcentration: Param[bool] = Param(
        Params._dummy(), "optimizeDocConcentration",
        "Indicates whether the docConcentration (Dirichlet parameter for document-topic "
        "distribution) will be optimized during training.",
        typeConverter=TypeConverters.toBoolean)
    docConcentration: Param[list[float]] = Param(
        Params._dummy(), "docConcentration",
        'Concentration parameter (commonly named "alpha") for the prior placed on documents\' '
        'distributions over topics ("theta").', typeConverter=TypeConverters.toListFloat)
    topicConcentration: Param[float] = Param(
        Params._dummy(), "topicConcentration",
        'Concentration parameter (commonly named "beta" or "eta") for the prior placed on '
        "topic' distributions over terms.", typeConverter=TypeConverters.toFloat)
    topicDistributionCol: Param[str] = Param(
        Params._dummy(), "topicDistributionCol",
        "Output column with estimates of the topic mixture distribution for each document "
        "(often called \"theta\" in the literature). An empty document gets the prior mean "
        "alpha / sum(alpha).", typeConverter=TypeConverters.toString)
    keepLastCheckpoint: Param[bool] = Param(
        Params._dummy(), "keepLastCheckpoint",
        "(For EM optimizer) If using checkpointing, this indicates whether to keep the last "
        "checkpoint. If false, then the checkpoint will be deleted. Deleting the checkpoint "
        "can cause failures if a data partition is lost, so set this bit with care.",
        typeConverter=TypeConverters.toBoolean)

    def __init__(self, *args: Any):
        super().__init__(*args)
        self._setDefault(maxIter=20, checkpointInterval=10, k=10, optimizer=ONLINE,
                         learningOffset=1024.0, learningDecay=0.51, subsamplingRate=0.05,
                         optimizeDocConcentration=True,
                         topicDistributionCol="topicDistribution", keepLastCheckpoint=True,
                         seed=java_string_hash("org.apache.spark.ml.clustering.LDA"))

    def getK(self) -> int:
        return self.getOrDefault(self.k)

    def getOptimizer(self) -> str:
        return self.getOrDefault(self.optimizer)

    def getLearningOffset(self) -> float:
        return self.getOrDefault(self.learningOffset)

    def getLearningDecay(self) -> float:
        return self.getOrDefault(self.learningDecay)

    def getSubsamplingRate(self) -> float:
        return self.getOrDefault(self.subsamplingRate)

    def getOptimizeDocConcentration(self) -> bool:
        return self.getOrDefault(self.optimizeDocConcentration)

    def getDocConcentration(self) -> list[float] | None:
        return self.getOrDefault(self.docConcentration) \
            if self.isDefined(self.docConcentration) else None

    def getTopicConcentration(self) -> float | None:
        return self.getOrDefault(self.topicConcentration) \
            if self.isDefined(self.topicConcentration) else None

    def getTopicDistributionCol(self) -> str:
        return self.getOrDefault(self.topicDistributionCol)

    def getKeepLastCheckpoint(self) -> bool:
        return self.getOrDefault(self.keepLastCheckpoint)

    (setFeaturesCol, setTopicDistributionCol, setSeed) = setters(
        "featuresCol", "topicDistributionCol", "seed")


class LDA(Estimator, _LDAParams):
    """Latent Dirichlet allocation over term-count vectors (CountVectorizer's output).

    A drop-in for ``pyspark.ml.clustering.LDA``: same params, defaults and model methods
    (``topicsMatrix``, ``describeTopics``, ``logLikelihood``, ``logPerplexity``,
    ``estimatedDocConcentration``, ``transform``). Sparse input stays sparse: the E-step
    touches only each document's nonzero terms.

    ``optimizer="online"`` is Hoffman, Blei and Bach's stochastic variational inference, as
    MLlib's: each iteration draws a mini-batch of ``subsamplingRate`` of the documents, every
    rank runs the E-step on its share and the k x vocabulary statistics are allreduced; the
    topics move by rho = (learningOffset + iteration)^-learningDecay, and with
    ``optimizeDocConcentration`` alpha takes a damped Newton step. ``optimizer="em"`` is
    MLlib's MAP-EM (``lda_em_program``): the same start for the same partitions and seed,
    one allreduce of the topics' term counts per iteration, and a ``DistributedLDAModel``
    with the fit's ``trainingLogLikelihood`` and ``logPrior``; both concentrations must be
    above 1, as in MLlib. ``optimizer="batch"`` is distml's: batch variational Bayes
    (scikit-learn's ``learning_method="batch"``), every document in every iteration, sharing
    the online path's kernel. Defaults follow MLlib: alpha = 50/k + 1 and eta = 1.1 for em,
    1/k for online (and batch); ``optimizeDocConcentration`` applies to online only. Online
    and batch fits do not depend on the engine or the rank count; an em fit, like MLlib's,
    depends on the partitions its random start is drawn over.

    Counts may be fractional (weights), as in MLlib; negative counts are an error. Empty
    documents are allowed: training skips them (they still count in the corpus size, as in
    MLlib) and their topic distribution is the prior mean alpha / sum(alpha) (MLlib returns
    zeros). Every ``checkpointInterval`` iterations the topics are checkpointed, and a fit that
    loses an executor resumes from them (``HasCheckpoints``); ``keepLastCheckpoint`` is
    accepted for compatibility.

    Examples
    --------
    >>> import numpy as np, pandas as pd, tempfile, os
    >>> from pyspark.ml.linalg import Vectors
    >>> from distml import LDA, LDAModel
    >>> docs = pd.DataFrame({"features": [Vectors.sparse(4, {0: 5.0, 1: 3.0}),
    ...                                   Vectors.sparse(4, {2: 4.0, 3: 6.0}),
    ...                                   Vectors.sparse(4, {0: 2.0, 1: 4.0}),
    ...                                   Vectors.sparse(4, {2: 5.0, 3: 2.0})]})
    >>> model = LDA(k=2, optimizer="batch", maxIter=30, docConcentration=[0.1],
    ...             topicConcentration=0.1, seed=1).fit(docs)
    >>> model.vocabSize()
    4
    >>> topics = model.describeTopics(2)
    >>> sorted(sorted(t) for t in topics["termIndices"])
    [[0, 1], [2, 3]]
    >>> theta = np.stack(model.transform(docs)["topicDistribution"].map(lambda v: v.toArray()))
    >>> bool(theta[0].argmax() == theta[2].argmax() != theta[1].argmax())
    True
    >>> path = os.path.join(tempfile.mkdtemp(), "lda")
    >>> model.save(path)
    >>> round(LDAModel.load(path).logPerplexity(docs), 6) == round(model.logPerplexity(docs), 6)
    True
    """

    _param_constraints = {
        "k": [Interval(1, closed="neither")],
        "optimizer": [OneOf((ONLINE, EM, BATCH), "online, em or batch")],
        "maxIter": [Interval(0)], "learningOffset": [Interval(0, closed="neither")],
        "learningDecay": [Interval(0, closed="neither")],
        "subsamplingRate": [Interval(0, 1, closed="right")]}

    @keyword_only
    def __init__(self, *, featuresCol: str = "features", maxIter: int = 20,
                 seed: int | None = None, checkpointInterval: int = 10, k: int = 10,
                 optimizer: str = "online", learningOffset: float = 1024.0,
                 learningDecay: float = 0.51, subsamplingRate: float = 0.05,
                 optimizeDocConcentration: bool = True,
                 docConcentration: list[float] | None = None,
                 topicConcentration: float | None = None,
                 topicDistributionCol: str = "topicDistribution",
                 keepLastCheckpoint: bool = True, engine: str = "auto", numWorkers: int = 0,
                 backend: str = "auto",
                 checkpointDir: str = ""):
        super().__init__()
        self.setParams(**self._input_kwargs)

    @keyword_only
    def setParams(self, *, featuresCol: str = "features", maxIter: int = 20,
                  seed: int | None = None, checkpointInterval: int = 10, k: int = 10,
                  optimizer: str = "online", learningOffset: float = 1024.0,
                  learningDecay: float = 0.51, subsamplingRate: float = 0.05,
                  optimizeDocConcentration: bool = True,
                  docConcentration: list[float] | None = None,
                  topicConcentration: float | None = None,
                  topicDistributionCol: str = "topicDistribution",
                  keepLastCheckpoint: bool = True, engine: str = "auto", numWorkers: int = 0,
                  backend: str = "auto",
                  checkpointDir: str = ""):
        return self._set_given(self._input_kwargs)

    (setK, setOptimizer, setLearningOffset, setLearningDecay, setSubsamplingRate,
     setOptimizeDocConcentration, setDocConcentration, setTopicConcentration, setMaxIter,
     setKeepLastCheckpoint) = setters(
        "k", "optimizer", "learningOffset", "learningDecay", "subsamplingRate",
        "optimizeDocConcentration", "docConcentration", "topicConcentration", "maxIter",
        "keepLastCheckpoint")

    # hooks ------------------------------------------------------------------------------------
    def _training_program(self):
        return lda

    def _program_params(self) -> dict:
        k, optimizer = self.getK(), self.getOptimizer()
        return {"k": k, "optimizer": optimizer, "maxIter": self.getMaxIter(),
                "learningOffset": self.getLearningOffset(),
                "learningDecay": self.getLearningDecay(),
                "subsamplingRate": self.getSubsamplingRate(),
                "optimizeDocConcentration": self.getOptimizeDocConcentration(),
                "docConcentration": self._alpha(k, optimizer),
                "topicConcentration": self._eta(k, optimizer), "seed": self.getSeed(),
                "featuresCol": self.getFeaturesCol(), "backend": self._checked_backend()}

    def _alpha(self, k: int, optimizer: str) -> np.ndarray:
        given = self.getDocConcentration()
        if not given or (len(given) == 1 and given[0] == -1):  # unset or MLlib's "auto"
            return np.full(k, 50.0 / k + 1.0 if optimizer == EM else 1.0 / k)
        alpha = np.full(k, given[0]) if len(given) == 1 else np.asarray(given, dtype=float)
        if alpha.size != k:
            raise ParamError(f"docConcentration has {alpha.size} values; it needs 1 or k={k}")
        if not (alpha > 0).all():
            raise ParamError(f"docConcentration must be > 0, got {given}")
        if optimizer == EM and (np.unique(alpha).size > 1 or alpha[0] <= 1.0):
            raise ParamError(f"docConcentration must be one value > 1.0 (or -1 for auto) for "
                             f"the em optimizer (MLlib's MAP-EM), got {given}")
        return alpha

    def _eta(self, k: int, optimizer: str) -> float:
        given = self.getTopicConcentration()
        if given is None or given == -1:
            return 1.1 if optimizer == EM else 1.0 / k
        if given <= 0 or (optimizer == EM and given <= 1.0):
            raise ParamError(f"topicConcentration must be > {1.0 if optimizer == EM else 0} "
                             f"(or -1 for auto) for the {optimizer} optimizer, got {given}")
        return float(given)

    def _input_spec(self) -> InputSpec:
        return InputSpec(self.getFeaturesCol())

    def _checkpoint_settings(self, resume_from: str | None) -> CheckpointSettings:
        settings = super()._checkpoint_settings(resume_from)
        settings.keep_last = self.getOptimizer() == EM and self.getKeepLastCheckpoint()
        return settings

    def _create_model(self, result: FitResult) -> "LDAModel":
        v = result.values
        if self.getOptimizer() == EM:
            return DistributedLDAModel(v["topics"], v["docConcentration"],
                                       float(v["topicConcentration"]),
                                       float(v["trainingLogLikelihood"]), float(v["logPrior"]))
        return LocalLDAModel(v["topics"], v["docConcentration"], float(v["topicConcentration"]))

    def _model_from_result(self, result: FitResult, dataset: Any,
                           summarized: bool = True) -> "LDAModel":
        model = super()._model_from_result(result, dataset, summarized)
        if isinstance(model, DistributedLDAModel):  # the checkpoint keepLastCheckpoint kept
            model._checkpoint_files = list(result.checkpoint_files)
        return model


class LDAModel(Model, _LDAParams):
    """A fitted LDA: topics, inference, the variational bound; what ``LocalLDAModel`` and
    ``DistributedLDAModel`` share, as in pyspark.ml.

    ``describeTopics`` is a Spark DataFrame when a SparkSession is active, pandas for a model
    fitted on pandas or used without Spark.
    """

    def __init__(self, topics: np.ndarray | None = None, alpha: np.ndarray | None = None,
                 eta: float = 0.0):
        super().__init__()
        self._topics, self._alpha, self._eta = topics, alpha, eta

    def isDistributed(self) -> bool:
        return False

    def vocabSize(self) -> int:
        return int(self._topics.shape[1])

    def topicsMatrix(self) -> DenseMatrix:
        """vocabSize x k: column t is topic t's variational parameters lambda (unnormalized),
        as MLlib's LocalLDAModel; a DistributedLDAModel's are the topics' term counts."""
        return dense_matrix(self._topics.T, row_major=False)

    def estimatedDocConcentration(self) -> DenseVector:
        return DenseVector(self._alpha)

    def _description(self) -> dict:
        return {"k": int(self._topics.shape[0]), "numFeatures": self.vocabSize()}

    def describeTopics(self, maxTermsPerTopic: int = 10) -> Any:
        """(topic, termIndices, termWeights): each topic's heaviest terms, weights normalized
        over the vocabulary, heaviest first."""
        weights = self._topics / self._topics.sum(axis=1, keepdims=True)
        count = min(int(maxTermsPerTopic), weights.shape[1])
        order = np.argsort(-weights, axis=1, kind="stable")[:, :count]
        frame = pd.DataFrame({
            "topic": np.arange(weights.shape[0], dtype=np.int32),
            "termIndices": [row.astype(np.int32).tolist() for row in order],
            "termWeights": [w[row].tolist() for w, row in zip(weights, order)]})
        return frames.new_table(self._table_session(), frame, "topic int, termIndices "
                                "array<int>, termWeights array<double>")

    def _counts(self, X) -> Any:
        counts = as_csr(X)
        if (counts.data < 0).any():
            raise DataError(f"column '{self.getFeaturesCol()}' has negative term counts")
        return counts

    def _infer(self):
        """A function of term-count rows -> their variational topic weights gamma."""
        exp_beta, alpha = np.exp(dirichlet_expectation(self._topics)), self._alpha
        return lambda counts: estep(counts, exp_beta, alpha, want_stats=False)[0]

    def _transform(self, dataset: Any) -> Any:
        infer, out = self._infer(), self.getTopicDistributionCol()

        def theta(X):
            gamma = infer(self._counts(X))
            return {out: gamma / gamma.sum(axis=1, keepdims=True)}
        return frames.of(dataset).transform(
            InputSpec(self.getFeaturesCol(), check_finite=False,
                      width=self.vocabSize()),
            theta, [Output(out, VECTOR)])

    def logLikelihood(self, dataset: Any) -> float:
        """A lower bound on log p(documents | alpha, eta) (MLlib's variational bound)."""
        return self._bound(dataset)[0]

    def logPerplexity(self, dataset: Any) -> float:
        """-logLikelihood / the number of tokens (MLlib's, so lower is better)."""
        bound, tokens = self._bound(dataset)
        return -bound / tokens

    def _bound(self, dataset: Any) -> tuple[float, float]:
        unseen = int((self._topics <= 0).all(axis=0).sum())
        if unseen:  # an em model's term counts: a term absent from training has none
            log.warning("LDA: %d vocabulary terms have zero weight in every topic (they never "
                        "occurred in training), where the variational bound is undefined: "
                        "logLikelihood and logPerplexity are NaN, as pyspark.ml's", unseen)
        infer, alpha = self._infer(), self._alpha
        log_beta = dirichlet_expectation(self._topics)
        names = ["__distml_lda_bound", "__distml_lda_tokens"]

        def parts(X):
            counts = self._counts(X)
            return {names[0]: document_bounds(counts, infer(counts), log_beta, alpha),
                    names[1]: np.asarray(counts.sum(axis=1)).ravel()}
        scored = frames.of(dataset).transform(
            InputSpec(self.getFeaturesCol(), check_finite=False,
                      width=self.vocabSize()),
            parts, [Output(n, DOUBLE) for n in names])
        documents, tokens = frames.of(scored).column_sums(names)
        with np.errstate(invalid="ignore"):  # unseen terms: said above
            return documents + topics_bound(self._topics, self._eta), tokens

    def _save_data(self) -> tuple[dict, dict]:
        return {"topics": self._topics, "docConcentration": self._alpha}, \
            {"topicConcentration": self._eta}

    def _load_data(self, arrays: dict, extra: dict) -> None:
        self._topics, self._alpha = arrays["topics"], arrays["docConcentration"]
        self._eta = float(extra["topicConcentration"])


class LocalLDAModel(LDAModel):
    """The LDA model online and batch fits give, and ``DistributedLDAModel.toLocal()``."""


class DistributedLDAModel(LDAModel):
    """The LDA model an ``optimizer="em"`` fit gives, pyspark.ml's: its topics are the term
    counts N_wk of MLlib's MAP-EM, with the fit's ``trainingLogLikelihood`` and ``logPrior``;
    ``toLocal()`` is the LocalLDAModel with the same topics, which ``transform``,
    ``logLikelihood`` and ``logPerplexity`` use here as in pyspark.ml."""

    def __init__(self, topics: np.ndarray | None = None, alpha: np.ndarray | None = None,
                 eta: float = 0.0, training_log_likelihood: float = float("nan"),
                 log_prior: float = float("nan")):
        super().__init__(topics, alpha, eta)
        self._training_log_likelihood, self._log_prior = training_log_likelihood, log_prior
        self._checkpoint_files: list[str] = []

    def isDistributed(self) -> bool:
        return True

    def toLocal(self) -> LocalLDAModel:
        """The same topics as a LocalLDAModel, with this model's params."""
        return self._fitted(LocalLDAModel(self._topics.copy(), self._alpha.copy(), self._eta))

    def trainingLogLikelihood(self) -> float:
        """log P(the training tokens | the topics, the documents' topic counts), MLlib's."""
        return self._training_log_likelihood

    def logPrior(self) -> float:
        """log P(the topics and the documents' topic mixtures | alpha, eta), MLlib's."""
        return self._log_prior

    def getCheckpointFiles(self) -> list[str]:
        """The fit's last checkpoint, kept when checkpointing went to a directory the user
        set (Spark's or ``checkpointDir``) and ``keepLastCheckpoint`` is true; else []."""
        return list(self._checkpoint_files)

    def deleteCheckpointFiles(self) -> None:
        """Remove the files ``getCheckpointFiles`` lists."""
        for path in self._checkpoint_files:
            fs, local_path = frames.filesystem(path)
            if fs.exists(local_path):
                fs.delete(local_path)
        self._checkpoint_files = []

    def _save_data(self) -> tuple[dict, dict]:
        arrays, extra = super()._save_data()
        return arrays, {**extra, "trainingLogLikelihood": self._training_log_likelihood,
                        "logPrior": self._log_prior}

    def _load_data(self, arrays: dict, extra: dict) -> None:
        super()._load_data(arrays, extra)
        self._training_log_likelihood = float(extra["trainingLogLikelihood"])
        self._log_prior = float(extra["logPrior"])
        self._checkpoint_files = []
