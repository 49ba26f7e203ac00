"""Surviving lost executors: the driver reruns a failed fit, resuming from its last checkpoint.

Spark does not retry a barrier stage that ends its job ("Could not recover from a failed
barrier ResultStage"), and on the jobs engine a task that fails more often than
``spark.task.maxFailures`` fails its job. Either way the fit's attempt raises on the driver;
when the cause can pass (a lost executor, a killed task, a broken connection: not bad data or
a bad param, which would fail again alike), the driver starts the fit again — on as many ranks
as the cluster has now — and the program resumes from the last complete checkpoint
(``engine.checkpoint``). Attempts are bounded by the conf ``spark.distml.maxRetries``
(default: Spark's stage attempt limit, ``spark.stage.maxConsecutiveAttempts`` - 1 = 3); when
they run out, one error names the first failure's cause and where the checkpoint was left.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable

from distml.engine.checkpoint import (Checkpoint, CheckpointStore, checkpoint_base,
                                      fit_directory, owner_mismatch, owner_of)
from distml.engine.context import FitResult, Recovery
from distml.engine.memory import killed_for_memory, log_memory, memory_kill, rank_budget
from distml.errors import CollectiveError, ExecutorMemoryError, FitError, ParamError
from distml.frames.session import is_connect

log = logging.getLogger("distml")

RETRIES_CONF = "spark.distml.maxRetries"

# Errors of the program or its input: another attempt would fail the same way. A MemoryError
# too: the same partition on the same executors needs the same memory again.
_PERMANENT = (ValueError, TypeError, LookupError, AttributeError, NotImplementedError,
              AssertionError, ArithmeticError, ImportError, MemoryError)


@dataclass
class CheckpointSettings:
    """What the estimator asks for: its checkpointInterval, checkpointDir and resumeFrom, and
    whether a successful fit keeps its last checkpoint (LDA's keepLastCheckpoint)."""

    interval: int = 0
    directory: str | None = None
    resume_from: str | None = None
    keep_last: bool = False


def is_transient(exc: BaseException) -> bool:
    """Whether a failed attempt may succeed when run again."""
    if isinstance(exc, CollectiveError):
        return True
    if isinstance(exc, _PERMANENT):
        return False
    return isinstance(exc, (FitError, OSError, EOFError))


def max_retries(spark) -> int:
    stage_attempts = int(spark.conf.get("spark.stage.maxConsecutiveAttempts", "4"))
    value = spark.conf.get(RETRIES_CONF, str(max(stage_attempts - 1, 0)))
    try:
        retries = int(value)
    except ValueError:
        retries = -1
    if retries < 0:
        raise ParamError(f"{RETRIES_CONF} must be an integer >= 0, got {value!r}")
    return retries


def checkpoint_store(spark, settings: CheckpointSettings, label: str,
                     params: dict) -> CheckpointStore | None:
    """This fit's checkpoint directory, or None when it neither writes nor reads one."""
    if settings.resume_from:
        return CheckpointStore(settings.resume_from, owner_of(label, params))
    if settings.interval <= 0 or (spark is None and not settings.directory):
        # In-process fits of pandas data checkpoint only into a directory the user names:
        # there is no executor to lose, only the process itself.
        return None
    if spark is not None and is_connect(spark):
        # Rank 0 writes them (the client is out of its reach), so only into storage every
        # executor reaches, which distml cannot guess: no directory, no checkpoints.
        base = connect_checkpoint_base(spark, settings.directory)
        if base is None:
            _tell_no_checkpoints(spark)
            return None
        return CheckpointStore(fit_directory(base, label, params), owner_of(label, params))
    return CheckpointStore(fit_directory(checkpoint_base(spark, settings.directory), label,
                                         params), owner_of(label, params))


def connect_checkpoint_base(spark, param_dir: str | None) -> str | None:
    """Where a Connect fit checkpoints: the param, else the session conf
    ``spark.distml.checkpointDir`` (which a client may set), else Spark's static
    ``spark.checkpoint.dir`` (SparkContext.setCheckpointDir's conf), else nowhere."""
    chosen = param_dir or spark.conf.get(SESSION_CHECKPOINT_DIR_CONF, None)
    if chosen:
        return chosen
    spark_dir = spark.conf.get(CHECKPOINT_DIR_CONF, None)
    return f"{spark_dir.rstrip('/')}/distml" if spark_dir else None


SESSION_CHECKPOINT_DIR_CONF = "spark.distml.checkpointDir"
CHECKPOINT_DIR_CONF = "spark.checkpoint.dir"
NO_CHECKPOINTS = ("over Spark Connect a fit checkpoints only into storage every executor "
                  f"reaches (the checkpointDir param, {SESSION_CHECKPOINT_DIR_CONF} or "
                  f"{CHECKPOINT_DIR_CONF}), and none is set, so a retry starts from iteration 0")
_told_connect: set = set()


def _tell_no_checkpoints(spark) -> None:
    if spark.session_id not in _told_connect:
        _told_connect.add(spark.session_id)
        log.info("distml: %s", NO_CHECKPOINTS)


def usable_checkpoint(store: CheckpointStore | None, explicit: bool) -> Checkpoint | None:
    """The store's latest checkpoint if it belongs to this fit (estimator, params, distml
    version); the rank count and the input are checked by the program's context."""
    latest = store.latest() if store is not None else None
    if latest is None:
        return None
    why = owner_mismatch(latest.owner, store.owner)
    if why is None:
        return latest
    if explicit:
        raise ParamError(f"resumeFrom='{store.directory}' cannot be resumed: {why}")
    log.info("distml: %s: the checkpoint at '%s' is not used, %s; starting afresh",
             store.owner["estimator"], store.directory, why)
    return None


def fit_with_retries(run: Callable[[Recovery], FitResult], spark, settings: CheckpointSettings,
                     label: str, params: dict) -> FitResult:
    """``run(recovery)`` until an attempt succeeds, a failure is permanent or the attempts run
    out. Removes the fit's checkpoints once it succeeds."""
    store = checkpoint_store(spark, settings, label, params)
    retries = max_retries(spark) if spark is not None else 0
    explicit = bool(settings.resume_from)
    if explicit and store.latest() is None:
        raise ParamError(f"resumeFrom='{settings.resume_from}' holds no distml checkpoint")
    first: BaseException | None = None
    for attempt in range(retries + 1):
        resume = usable_checkpoint(store, explicit)
        recovery = Recovery(interval=settings.interval,
                            save=store.writer() if store is not None else None, resume=resume,
                            explicit=explicit, attempt=attempt,
                            location=store.directory if store is not None else "")
        if resume is not None:
            log.warning("distml: %s (attempt %d of %d) resumes from the checkpoint of "
                        "iteration %d at '%s'", label, attempt + 1, retries + 1,
                        resume.iteration, store.directory)
        started_ms = int(time.time() * 1000)
        try:
            result = run(recovery)
        except ExecutorMemoryError as e:  # it says all: only the fit's name is added
            raise ExecutorMemoryError(f"{label}: {e}") from None
        except MemoryError as e:  # not retried: the same partition needs the same memory
            raise MemoryError(_out_of_memory(label, e, spark)) from None
        except Exception as e:
            if not is_transient(e):
                raise
            killed = memory_kill(spark, started_ms, e)
            if killed is not None:
                raise ExecutorMemoryError(killed_for_memory(label, killed, spark)) from None
            first = first or e
            if attempt == retries:
                raise FitError(_exhausted(label, attempt + 1, first, store,
                                          spark, settings)) from None
            log.warning("distml: %s attempt %d of %d failed (%s: %s); running it again",
                        label, attempt + 1, retries + 1, type(e).__name__, e)
            continue
        if spark is not None and result.memory:
            log_memory(label, result.memory, rank_budget(spark), result.engine)
        for note in result.notes:
            log.warning("distml: %s: %s", label, note)
        if result.restarted is not None:
            log.info("distml: %s started from iteration 0: %s", label, result.restarted)
        if result.resumed_from is not None:
            log.warning("distml: %s resumed from iteration %d and completed", label,
                        result.resumed_from)
        if store is not None:
            kept = _last_kept(store, spark, settings)
            if kept is None:
                _remove(store)
            else:
                result.checkpoint_files = [kept]
        return result
    raise AssertionError("unreachable")


def _exhausted(label: str, attempts: int, first: BaseException,
               store: CheckpointStore | None, spark, settings: CheckpointSettings) -> str:
    message = (f"{label} failed on all {attempts} attempts; the first failure: "
               f"{type(first).__name__}: {first}")
    if store is None and settings.interval > 0 and spark is not None and is_connect(spark):
        message += f". No checkpoint was written: {NO_CHECKPOINTS}"
    latest = store.latest() if store is not None else None
    if latest is not None:
        message += (f". Its checkpoint of iteration {latest.iteration} is left at "
                    f"'{store.directory}': to resume, fit again with the same checkpointDir "
                    f"(or Spark checkpoint directory), or fit(df, resumeFrom="
                    f"'{store.directory}')")
    return message + f" (retries: {RETRIES_CONF})"


def _out_of_memory(label: str, error: MemoryError, spark) -> str:
    """The message of a fit whose rank ran out of memory: where a rank's memory is counted,
    and the two ways out."""
    detail = f"{label} ran out of memory ({error or 'MemoryError'})"
    if spark is None:
        return (f"{detail} in this process: fit fewer rows at once, or on Spark, where each "
                "rank holds only its partition")
    budget = next(((name, spark.conf.get(name, None)) for name in PYTHON_MEMORY_CONFS
                   if spark.conf.get(name, None)), None)
    where = (f"{budget[0]} (now {budget[1]})" if budget is not None else
             f"{PYTHON_MEMORY_CONFS[0]}, or {PYTHON_MEMORY_CONFS[1]} where that is not set")
    return (f"{detail}. A rank holds its partition's rows as numpy arrays in a Python worker, "
            f"whose memory counts against {where}: raise it, or spread the rows over more, "
            "smaller partitions (numWorkers). It was not retried: the same partition would "
            "need the same memory again")


# Where a Python worker's memory is counted on YARN and Kubernetes, first what Spark reads.
PYTHON_MEMORY_CONFS = ("spark.executor.pyspark.memory", "spark.executor.memoryOverhead")


def _last_kept(store: CheckpointStore, spark, settings: CheckpointSettings) -> str | None:
    """The last checkpoint's file, when the fit keeps it: asked to, and the folder is one the
    user chose (Spark's checkpoint directory or the param), not the temporary fallback."""
    chosen = settings.directory or (spark is not None and (
        connect_checkpoint_base(spark, None) if is_connect(spark)
        else spark.sparkContext.getCheckpointDir()))
    if not (settings.keep_last and chosen):
        return None
    latest = store.latest()
    return store.file_of(latest.iteration) if latest is not None else None


def _remove(store: CheckpointStore) -> None:
    try:
        store.remove()
    except Exception as e:  # the model is fine; only the leftovers stay
        log.warning("distml: could not remove the checkpoints at '%s': %s", store.directory, e)
