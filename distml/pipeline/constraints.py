"""Declared param rules, checked in one place (scikit-learn's ``_parameter_constraints``).

A stage lists its rules as a class attribute, ``_param_constraints = {"maxIter":
[Interval(0, None)], ...}``: a value passes when it meets any rule of its list, and a value that
meets none is a ``ParamError`` naming the param, the rules and the value
("maxIter must be >= 0, got -1"). Mixins declare the rules of the params they bring; a class's
rules are the union over its bases. ``ParamChecks`` checks them before every ``_fit``,
``_transform`` and ``_evaluate`` the class defines: that is when pyspark.ml reports a bad value
too (its JVM validates params when they are transferred at fit); at set, pyspark.ml's type
converters run as in pyspark.ml itself.
"""
from __future__ import annotations

import functools
import math
import numbers
from dataclasses import dataclass
from typing import Any, Callable

from distml.errors import ParamError


@dataclass(frozen=True)
class Interval:
    """A number between ``low`` and ``high`` (None: unbounded); ``closed`` says which ends
    belong to it: "both", "left", "right" or "neither". NaN is in no interval."""

    low: float | None = None
    high: float | None = None
    closed: str = "both"

    def accepts(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or math.isnan(value):
            return False
        left_in, right_in = self.closed in ("both", "left"), self.closed in ("both", "right")
        above = self.low is None or (value >= self.low if left_in else value > self.low)
        below = self.high is None or (value <= self.high if right_in else value < self.high)
        return above and below

    def describe(self) -> str:
        left_in, right_in = self.closed in ("both", "left"), self.closed in ("both", "right")
        if self.high is None:
            return f"{'>=' if left_in else '>'} {self.low}"
        if self.low is None:
            return f"{'<=' if right_in else '<'} {self.high}"
        return f"in {'[' if left_in else '('}{self.low}, {self.high}{']' if right_in else ')'}"


@dataclass(frozen=True)
class OneOf:
    """One of ``options``; ``text`` says them the way the stage's docs do (default: "one of
    a, b, c")."""

    options: tuple
    text: str | None = None

    def accepts(self, value: Any) -> bool:
        return value in self.options

    def describe(self) -> str:
        return self.text or "one of " + ", ".join(str(o) for o in self.options)


@dataclass(frozen=True)
class Rule:
    """Any other rule: ``test(value)`` says whether the value meets it, ``text`` what it is."""

    test: Callable[[Any], bool]
    text: str

    def accepts(self, value: Any) -> bool:
        return bool(self.test(value))

    def describe(self) -> str:
        return self.text


@dataclass(frozen=True)
class Required:
    """The param must have a value (it has no default); ``text`` says what to set it to."""

    text: str

    def accepts(self, value: Any) -> bool:
        return True

    def describe(self) -> str:
        return self.text


def check_params(stage: Any, constraints: dict[str, list]) -> None:
    """A ParamError for the first param of ``stage`` that meets none of its rules."""
    for name, rules in constraints.items():
        if not stage.hasParam(name):
            continue
        if not stage.isDefined(name):
            required = [r for r in rules if isinstance(r, Required)]
            if required:
                raise ParamError(f"{name} must be set{required[0].text}")
            continue
        value = stage.getOrDefault(name)
        checked = [r for r in rules if not isinstance(r, Required)]
        if checked and not any(r.accepts(value) for r in checked):
            rule = " or ".join(r.describe() for r in checked)
            raise ParamError(f"{name} must be {rule}, got {value!r}")


_CHECKED = ("_fit", "_transform", "_evaluate")


class ParamChecks:
    """Checks a stage's declared ``_param_constraints`` before its ``_fit``, ``_transform``
    or ``_evaluate`` runs (each wrapped once, where a class defines it)."""

    _param_constraints: dict[str, list] = {}

    def __init_subclass__(cls, **kwargs: Any):
        super().__init_subclass__(**kwargs)
        for name in _CHECKED:
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "_checks_params", False):
                setattr(cls, name, _checking(method))

    @classmethod
    def param_constraints(cls) -> dict[str, list]:
        """The rules of this class and its bases (a subclass's rules for a param win)."""
        merged: dict[str, list] = {}
        for klass in reversed(cls.__mro__):
            merged.update(klass.__dict__.get("_param_constraints", {}))
        return merged

    def _check_params(self) -> None:
        check_params(self, self.param_constraints())


def _checking(method: Callable) -> Callable:
    @functools.wraps(method)
    def checked(self, *args: Any, **kwargs: Any):
        self._check_params()
        return method(self, *args, **kwargs)
    checked._checks_params = True
    return checked
