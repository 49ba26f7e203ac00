"""A rank's memory: what its partition's arrays take, what its Python worker peaks at, what
Spark lets that worker use, and the check that stops an ingestion that would not fit.

A rank holds its partition as numpy arrays in a Python worker. On YARN and Kubernetes that
worker's memory counts against the executor's ``spark.executor.pyspark.memory`` where that is
set (Spark then also caps the worker's address space, ``RLIMIT_AS``, at that value over the
executor's cores), else against ``spark.executor.memoryOverhead``, shared by the executor's task
slots. A fit needs about ``worker + fixed + factor * array bytes``: the worker's own memory
when the task starts (interpreter, numpy, pyarrow), what the program loads at any size (numba's
kernels) and the partition's arrays times the program's factor, both measured by
``benchmarks/bench_memory.py`` (a program states its own as ``program.memory_use``). The ranks
check that as their rows arrive, before they hold more than fits, and report what they peaked
at when the fit ends.
"""
from __future__ import annotations

import logging
import math
import os
import re
import resource
import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from distml.errors import ExecutorMemoryError

log = logging.getLogger("distml")

PYSPARK_MEMORY = "spark.executor.pyspark.memory"
OVERHEAD = "spark.executor.memoryOverhead"
# On YARN a container is killed only when all its processes together pass heap + overhead, so
# a Python worker may use heap the JVM leaves unused; where a cluster is known to allow that,
# this conf turns the ranks' check off.
CHECK_CONF = "spark.distml.memoryCheck"
# numba's address space grows 2.7 times its resident bytes (measured: +300 MiB of VmSize for
# +111 MiB of VmRSS), and the address space is what Spark's RLIMIT_AS cap counts
VM_PER_RESIDENT_FIXED = 2.7
_MIB = 1 << 20


@dataclass(frozen=True)
class MemoryUse:
    """What a program adds to its worker: ``factor`` x its partition's array bytes, plus
    ``fixed`` bytes at any size (resident; numba and its compiled kernels take about 115 MiB
    when a program first calls them)."""

    factor: float = 1.3
    fixed: int = 128 << 20

    def need(self, base: int, held: int, kind: str = "rss") -> int:
        """What a worker holding ``base`` bytes ("rss" resident, or "vm" address space) needs
        to fit ``held`` bytes of arrays."""
        fixed = int(self.fixed * (VM_PER_RESIDENT_FIXED if kind == "vm" else 1))
        return base + fixed + int(self.factor * held)


DEFAULT_USE = MemoryUse()


# --- this process ------------------------------------------------------------------------------

def process_memory() -> dict:
    """This process's resident (``rss``), peak resident (``peak``) and virtual (``vm``) bytes,
    from /proc (empty where there is none)."""
    fields = {"VmRSS:": "rss", "VmHWM:": "peak", "VmSize:": "vm"}
    found = {}
    try:
        with open("/proc/self/status") as f:
            for line in f:
                words = line.split()
                if words and words[0] in fields:
                    found[fields[words[0]]] = int(words[1]) * 1024
    except OSError:
        return {}
    return found


def _free_memory() -> int:
    """The machine's unused physical memory, in bytes (0 where the OS does not say)."""
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return 0


def _strict_overcommit() -> bool:
    """Linux's strict overcommit (mode 2), under which address space is charged when mapped."""
    try:
        with open("/proc/sys/vm/overcommit_memory") as f:
            return f.read().strip() == "2"
    except OSError:
        return False


def reset_peak() -> None:
    """Start this process's peak resident size again from its current size (Linux: writing 5
    to clear_refs), so the peak a task reports is its own, not an earlier task's in the same
    reused worker."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def address_space_limit() -> int | None:
    """The cap Spark put on this worker's address space (``spark.executor.pyspark.memory``
    over the executor's cores), or None."""
    soft, _ = resource.getrlimit(resource.RLIMIT_AS)
    return None if soft == resource.RLIM_INFINITY else int(soft)


def array_bytes(*arrays) -> int:
    """The bytes of a partition's arrays (dense or CSR; None skipped)."""
    total = 0
    for a in arrays:
        if a is None:
            continue
        if sp.issparse(a):
            total += a.data.nbytes + a.indices.nbytes + a.indptr.nbytes
        else:
            total += np.asarray(a).nbytes
    return total


@dataclass
class RankMeter:
    """What one rank's worker held when its task started; ``report`` adds its peak since."""

    start_rss: int = 0

    @classmethod
    def start(cls) -> "RankMeter":
        reset_peak()
        return cls(process_memory().get("rss", 0))

    def report(self, part, plan: "IngestBudget | None") -> dict:
        """The worker's resident bytes at the task's start (``start``) and at its peak since
        (``peak``), the partition's array bytes (``arrays``) and the estimate the fit was held
        to (``need``: ``MemoryUse.need``)."""
        held = array_bytes(part.X, part.y, part.w, part.ids)
        use = plan.use if plan is not None else DEFAULT_USE
        return {"start": self.start_rss, "peak": process_memory().get("peak", 0),
                "arrays": held, "need": use.need(self.start_rss, held)}


# --- what Spark gives a rank (driver side) -----------------------------------------------------

@dataclass(frozen=True)
class Budget:
    """What a rank's Python worker may use: ``bytes``, set by ``conf`` (whose value is
    ``value``, or the default Spark derives), shared by ``slots`` tasks of an executor."""

    bytes: int
    conf: str
    value: str
    slots: int

    def describe(self) -> str:
        shared = f" over {self.slots} task slots per executor" if self.slots > 1 else ""
        return f"{_mib(self.bytes)} ({self.conf}={self.value}{shared})"

    def conf_for(self, need: int) -> str:
        """The conf value that would give a rank ``need`` bytes, and a tenth more."""
        return f"{self.conf}={math.ceil(need * 1.1 * self.slots / _MIB / 1024 * 10) / 10:g}g"


def rank_budget(spark) -> Budget | None:
    """The memory Spark gives each rank's Python worker, or None where nothing caps it (a
    local master, whose workers share the driver's machine; a standalone cluster without
    ``spark.executor.pyspark.memory``)."""
    from distml.frames.capacity import is_local, master_of, task_cpus
    if is_local(spark):
        return None
    cores = int(spark.conf.get("spark.executor.cores", "1") or 1)
    pyspark_memory = spark.conf.get(PYSPARK_MEMORY, None)
    if pyspark_memory:
        # Spark divides it over the executor's cores (BasePythonRunner), one worker each.
        return Budget(size_bytes(pyspark_memory, PYSPARK_MEMORY) // cores, PYSPARK_MEMORY,
                      pyspark_memory, cores)
    master = master_of(spark)
    if not (master.startswith("yarn") or master.startswith("k8s")):
        return None
    slots = max(1, cores // task_cpus(spark))
    overhead = spark.conf.get(OVERHEAD, None)
    if overhead:
        total, value = size_bytes(overhead, OVERHEAD), overhead
    else:  # Spark's default: a share of the heap, at least 384 MiB
        heap = size_bytes(spark.conf.get("spark.executor.memory", "1g"), "spark.executor.memory")
        factor = float(spark.conf.get("spark.executor.memoryOverheadFactor", "0.1"))
        total = max(384 * _MIB, int(heap * factor))
        value = f"{total // _MIB}m (its default)"
    return Budget(total // slots, OVERHEAD, value, slots)


def size_bytes(value: str, conf: str) -> int:
    """A Spark memory size ("4g", "512m", "1024": MiB without a unit) in bytes."""
    text = str(value).strip().lower().removesuffix("b")
    units = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}
    unit = units.get(text[-1:], None)
    number = text[:-1] if unit else text
    try:
        return int(float(number) * (unit or _MIB))
    except ValueError:
        from distml.errors import ParamError
        raise ParamError(f"{conf} must be a memory size such as 4g or 512m, got {value!r}") \
            from None


def _mib(n: int) -> str:
    if n < _MIB:
        return f"{n / 1024:.0f} KiB"
    return f"{n / _MIB / 1024:.1f} GiB" if n >= 10 << 30 else f"{n / _MIB:.0f} MiB"


def ingest_budget(spark, program, ranks: int) -> "IngestBudget":
    """What the ranks of ``program`` check their rows against (``spark.distml.memoryCheck``
    false: nothing; the budget is still reported)."""
    check = str(spark.conf.get(CHECK_CONF, "true")).strip().lower()
    if check not in ("true", "false"):
        from distml.errors import ParamError
        raise ParamError(f"{CHECK_CONF} must be true or false, got {check!r}")
    return IngestBudget(getattr(program, "memory_use", DEFAULT_USE), rank_budget(spark), ranks,
                        check == "true")


def log_memory(label: str, reports: list, budget: Budget | None, engine: str) -> None:
    """The INFO line every fit on Spark leaves: the largest rank's estimate, what a rank
    peaked at (on the jobs engine, while its rows arrived: its rounds are tasks of their own),
    and the budget."""
    if not reports:
        return
    rank = max(range(len(reports)), key=lambda r: reports[r]["need"])
    top = reports[rank]
    peak = max(reports, key=lambda r: r["peak"])
    grown = peak["peak"] - peak["start"]
    # (a ratio over a few MiB of rows says more about the worker than the fit)
    factor = f", {grown / peak['arrays']:.2f}x its arrays" if peak["arrays"] >= 16 * _MIB else ""
    when = " while the rows arrived" if engine == "jobs" else ""
    given = budget.describe() if budget is not None else \
        "none set (a local master or standalone executors: the ranks share their machine)"
    log.info("distml: %s memory per rank: estimate %s (rank %d: %s of arrays), peak%s %s "
             "(%s over the worker's start%s); budget %s", label, _mib(top["need"]), rank,
             _mib(top["arrays"]), when, _mib(peak["peak"]), _mib(grown), factor, given)


# --- an executor killed for memory (driver side) ----------------------------------------------

# How cluster managers say an executor was killed for its memory: YARN's diagnostics
# ("Container killed by YARN for exceeding physical memory limits", exit status -104/-103),
# Kubernetes' OOMKilled, and the exit codes of SIGKILL and SIGTERM (137, 143), which the kernel's
# OOM killer and YARN's memory monitor send.
MEMORY_KILL = re.compile(
    r"exceed\w*\s+(?:\w+\s+)?memory|OOMKilled|possible container OOM|"
    r"exit(?:ed)?\s+(?:with\s+)?(?:exit\s+)?(?:code|status)[:\s]+(?:137|143|-10[34])\b",
    re.IGNORECASE)
REMOVAL_WAIT = 3.0  # seconds: the executor's removal may reach the driver after the failure


def memory_kill(spark, since_ms: int, error: BaseException) -> str | None:
    """Why an executor of this attempt was lost for memory, if it was: from the error's own
    text (a jobs stage names its lost executor's reason), else from the executors Spark
    removed since ``since_ms`` (its status store; a barrier fit's ranks notice a lost peer
    before Spark says why it went)."""
    found = MEMORY_KILL.search(str(error))
    if found is not None:
        return _sentence_around(str(error), found)
    from distml.frames.capacity import is_local, removed_executors
    from distml.frames.session import is_connect
    if spark is None or is_connect(spark) or is_local(spark):  # (no executor to lose)
        return None
    deadline = time.monotonic() + REMOVAL_WAIT
    while True:
        removed = removed_executors(spark, since_ms)
        for executor, reason in removed:
            if MEMORY_KILL.search(reason):
                return f"executor {executor} was removed: {reason}"
        if removed or time.monotonic() >= deadline:
            return None
        time.sleep(0.2)


def _sentence_around(text: str, found: re.Match) -> str:
    start = max(text.rfind("\n", 0, found.start()), text.rfind(". ", 0, found.start()) + 1)
    end = text.find("\n", found.end())
    return text[start + 1 if text[start:start + 1] == "\n" else start:
                end if end >= 0 else len(text)].strip()[:400]


def killed_for_memory(label: str, reason: str, spark) -> str:
    budget = rank_budget(spark) if spark is not None else None
    where = budget.describe() if budget is not None else \
        f"{PYSPARK_MEMORY}, else {OVERHEAD}"
    return (f"{label} lost an executor to its memory limit ({reason}). A rank holds its "
            f"partition's rows as numpy arrays in a Python worker, whose memory counts against "
            f"{where}: raise it, or spread the rows over more, smaller partitions "
            "(numWorkers). It was not retried: the same partition would be killed the same "
            "way again")


# --- the check as rows arrive (rank side) ------------------------------------------------------

@dataclass(frozen=True)
class IngestBudget:
    """Shipped to the ranks: the program's memory use, the driver's view of the budget (None
    where Spark caps nothing), the rank count, and whether to check at all."""

    use: MemoryUse
    budget: Budget | None
    ranks: int
    check: bool = True

    def limit(self) -> tuple[int, str] | None:
        """(bytes, "vm" or "rss"): what this worker may reach. Spark's address-space cap where
        it set one (``spark.executor.pyspark.memory``), else the driver's budget in resident
        bytes. None when the check is off."""
        if not self.check:
            return None
        cap = address_space_limit()
        if cap is not None:
            return cap, "vm"
        if self.budget is not None:
            return self.budget.bytes, "rss"
        return None


class IngestGuard:
    """Follows a partition's arrays as they grow: ``over`` says when the fit on what has
    arrived would pass the worker's limit, so the rank stops before it holds it, and ``error``
    says so in full."""

    def __init__(self, plan: IngestBudget | None, rank: int):
        self.plan, self.rank = plan, rank
        self.limit = plan.limit() if plan is not None else None
        if self.limit is not None:
            self.kind = self.limit[1]
            self.base = process_memory().get(self.kind, 0)

    def over(self, held: int) -> bool:
        return self.limit is not None and self.need(held) > self.limit[0]

    def need(self, held: int) -> int:
        return self.plan.use.need(self.base, held, self.kind)

    def reservable(self) -> int:
        """Bytes a partition's arrays may reserve before their rows arrive: the most this
        guard lets them hold, within the machine's free memory. The reservation is address
        space only (the kernel supplies a page when a row is first written to it), so it is 0
        where address space itself is charged: under Spark's cap on it (looked up here, not in
        the plan: a worker reading rows without one, or with the check off, is capped too), or
        where the kernel commits every page it hands out (strict overcommit)."""
        if address_space_limit() is not None or _strict_overcommit():
            return 0
        free = _free_memory()
        if self.limit is None:
            return free
        room = (self.limit[0] - self.need(0)) / self.plan.use.factor
        return max(0, min(free, int(room)))

    def error(self, rows: int, held_per_row: float, width: int) -> ExecutorMemoryError:
        """The error for a partition of ``rows`` rows (counted to its end)."""
        plan, limit = self.plan, self.limit[0]
        held = int(rows * held_per_row)
        need = self.need(held)
        room = limit - self.need(0)  # for arrays, once the worker and the fixed part are in
        budget = plan.budget
        where = budget.describe() if budget is not None else \
            f"{_mib(limit)} (the worker's address-space cap, from {PYSPARK_MEMORY})"
        raise_conf = (budget.conf_for(need) if budget is not None else
                      f"{PYSPARK_MEMORY} to about {_mib(need)} per executor core")
        if room > 0:
            fits = max(1, int(room / (plan.use.factor * held_per_row)))
            partitions = math.ceil(rows * plan.ranks / fits)
            spread = (f", or spread the rows over at least {partitions} partitions "
                      f"(numWorkers={partitions}, with the executors to run them)")
        else:
            spread = " (the worker and the program alone take more than that)"
        kind = "address space" if self.kind == "vm" else "memory"
        return ExecutorMemoryError(
            f"the fit needs about {_mib(need)} per rank, more than the {where} Spark gives a "
            f"rank's Python worker: rank {self.rank}'s partition has {rows} rows of {width} "
            f"features, {_mib(held)} of arrays (x{plan.use.factor:g} while fitting), beside "
            f"{_mib(need - int(plan.use.factor * held))} of worker {kind} and kernels. It "
            f"stopped before holding them. Set {raise_conf}{spread}")
