"""A context over some rows of every partition: how one engine run fits many training subsets.

Model selection fits the same program on k training subsets of the same rows (a fold's
complement, a train split) and scores held-out rows. ``ViewContext`` runs a program on a
subset without a Spark filter or a second ingestion: each primitive runs on the inner
context, and there, on each partition, ``RowView.of`` picks the subset's rows. Which rows is
a function of the row's global position and a seed (``hashed_random``), or of a fold column
read with the rows, so every engine and every rank count picks the same rows.

The subset's copy of the rows is made once per partition object and kept in its
``device_cache`` (on the barrier and local engines the partition lives for the whole run; the
jobs engine reads its partitions afresh each round, so there the copy is made each round).
The subset's own ``state`` sits inside the partition's, under the fit's name, so the jobs
engine keeps it between rounds as it keeps any state; ``forget`` drops it after the fit.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from distml.engine.combine import check_op
from distml.engine.context import Context, Recovery
from distml.engine.partition import Partition
from distml.errors import DataError
from distml.kernels.hashed_random import uniforms

# The hashed_random stream of fold draws; other streams of a seed are LDA's.
FOLD_STREAM = 0x666F6C64

_VIEWS = "row_views"      # device_cache key: {view name: the view's Partition}
_STATES = "_row_view_states"  # state key: {fit name: the view partition's state}


@dataclass(frozen=True)
class RowGroups:
    """How rows are dealt into groups: ``groups`` of them by hashed uniform draws of
    (seed, global row position); or, with ``cut``, two groups, 1 where the draw is >= cut
    (TrainValidationSplit's validation rows); or, with ``from_ids``, the value of the column
    read as the partition's ids (a fold column). ``offsets`` holds each partition's first
    global row position."""

    groups: int
    seed: int
    offsets: tuple
    cut: float | None = None
    from_ids: str | None = None

    def of(self, part: Partition) -> np.ndarray:
        if self.from_ids is not None:
            values = np.asarray(part.ids)
            bad = (values < 0) | (values >= self.groups)
            if bad.any():
                raise DataError(f"foldCol '{self.from_ids}' holds values outside "
                                f"0..{self.groups - 1} ({int(bad.sum())} rows, e.g. "
                                f"{values[bad][0]})")
            return values.astype(np.int64)
        positions = self.offsets[part.index] + np.arange(part.num_rows, dtype=np.int64)
        return groups_of(positions, self.groups, self.seed, self.cut)


def groups_of(positions: np.ndarray, groups: int, seed: int, cut: float | None = None):
    """The group of each global row position (``RowGroups``' rule; the pandas procedure of
    ``pipeline.tuning`` deals its rows by it too, so both paths agree)."""
    draws = uniforms(seed, FOLD_STREAM, positions)[:, 0]
    if cut is not None:
        return (draws >= cut).astype(np.int64)
    return np.minimum((draws * groups).astype(np.int64), groups - 1)


@dataclass(frozen=True)
class RowView:
    """The rows of group ``group`` (``inside``), or of every other group."""

    rows: RowGroups
    group: int
    inside: bool

    @property
    def name(self) -> tuple:
        return (self.rows, self.group, self.inside)

    def of(self, part: Partition, fit: str | None = None) -> Partition:
        views = part.device_cache.setdefault(_VIEWS, {})
        view = views.get(self.name)
        if view is None:
            in_group = self.rows.of(part) == self.group
            view = views[self.name] = part.take(in_group if self.inside else ~in_group)
        if fit is not None:
            view.state = part.state.setdefault(_STATES, {}).setdefault(fit, {})
        return view


def _on_view(part: Partition, view: RowView, fit: str, fn: Callable, *args: Any) -> Any:
    return fn(view.of(part, fit), *args)


def _forget(part: Partition, keep: tuple, fit: str | None) -> None:
    views = part.device_cache.get(_VIEWS, {})
    for name in [n for n in views if n not in keep]:
        del views[name]
    if fit is not None:
        part.state.get(_STATES, {}).pop(fit, None)


def forget(ctx: Context, keep: tuple = (), fit: str | None = None) -> None:
    """Drop every view's rows but those named in ``keep`` (and the state of ``fit``)."""
    ctx.map_update(_forget, tuple(v.name for v in keep), fit)


def partition_offsets(rows_per_partition: list[int]) -> tuple:
    """Each partition's first global row position."""
    return tuple(int(x) for x in np.concatenate([[0], np.cumsum(rows_per_partition)[:-1]]))


class ViewContext(Context):
    """The primitives of ``inner``, on ``view``'s rows of every partition; ``fit`` names this
    fit's state. It checkpoints nothing and reports to its own history only (the run's
    program reports each finished fit to the driver)."""

    def __init__(self, inner: Context, view: RowView, fit: str) -> None:
        super().__init__(Recovery())
        self.inner, self.view, self.fit = inner, view, fit
        self.num_partitions = inner.num_partitions

    def _emit(self, entry: dict) -> None:
        pass

    def map_reduce(self, fn, *args, op="sum"):
        check_op(op)
        return self.inner.map_reduce(_on_view, self.view, self.fit, fn, *args, op=op)

    def map_collect(self, fn, *args):
        return self.inner.map_collect(_on_view, self.view, self.fit, fn, *args)

    def map_update(self, fn, *args, op="sum"):
        return self.inner.map_update(_on_view, self.view, self.fit, fn, *args, op=op)

    def repartition(self, fn, into):
        raise NotImplementedError("a program that repartitions (ALS) is tuned by pyspark.ml's "
                                  "procedure, one fit at a time")
