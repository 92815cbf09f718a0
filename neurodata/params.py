"""Stage parameters: read a section of params.yaml and check it before any work.

Constraints are declared per key (scikit-learn's idea); one generator writes every message:

    The 'N' parameter of stage adex_we_sweep must be an int in the range [1, inf). Got 0 instead.

An unknown key, a missing key or a bad value raises :class:`neurodata.ParamError`.
"""

from __future__ import annotations

import ast
import functools
import math
import numbers
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ._exceptions import ParamError
from ._paths import load_yaml, project_root

__all__ = [
    "Boolean",
    "Constraint",
    "Interval",
    "ListOf",
    "Nullable",
    "Options",
    "Rule",
    "Text",
    "check_params",
    "load_params",
    "merge_profile",
]

_MISSING = object()


class Constraint(ABC):
    """A rule for one parameter. Subclasses implement ``describe`` and ``normalize``."""

    def __init__(self, *, default: Any = _MISSING) -> None:
        self.default = default

    @property
    def required(self) -> bool:
        return self.default is _MISSING

    @abstractmethod
    def describe(self) -> str:
        """What a valid value is, e.g. "an int in the range [1, inf)"."""

    @abstractmethod
    def normalize(self, value: Any) -> Any:
        """Return the value in canonical form, or raise ValueError (the message is ours)."""


class Interval(Constraint):
    """A number of *kind* (int or float) in an interval; bounds None are infinite.

    Parameters
    ----------
    kind : {int, float}
    low, high : float or None
    closed : {"both", "left", "right", "neither"}, default "both"
    """

    def __init__(
        self, kind: type, low: float | None, high: float | None, *, closed: str = "both", default: Any = _MISSING
    ) -> None:
        super().__init__(default=default)
        if kind not in (int, float):
            msg = f"Interval kind must be int or float, got {kind!r}."
            raise TypeError(msg)
        self.kind, self.low, self.high, self.closed = kind, low, high, closed

    def describe(self) -> str:
        left = "[" if self.closed in ("both", "left") and self.low is not None else "("
        right = "]" if self.closed in ("both", "right") and self.high is not None else ")"
        low = "-inf" if self.low is None else self.low
        high = "inf" if self.high is None else self.high
        noun = "an int" if self.kind is int else "a float"
        return f"{noun} in the range {left}{low}, {high}{right}"

    def normalize(self, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ValueError
        if self.kind is int:
            if not float(value).is_integer():
                raise ValueError
            value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                raise ValueError
        if self.low is not None:
            if value < self.low or (value == self.low and self.closed in ("right", "neither")):
                raise ValueError
        if self.high is not None:
            if value > self.high or (value == self.high and self.closed in ("left", "neither")):
                raise ValueError
        return value


class Options(Constraint):
    """One of a fixed set of values."""

    def __init__(self, values: Sequence[Any], *, default: Any = _MISSING) -> None:
        super().__init__(default=default)
        self.values = list(values)

    def describe(self) -> str:
        return f"one of {self.values}"

    def normalize(self, value: Any) -> Any:
        if value not in self.values:
            raise ValueError
        return value


class Boolean(Constraint):
    def describe(self) -> str:
        return "a bool"

    def normalize(self, value: Any) -> Any:
        if not isinstance(value, bool):
            raise ValueError
        return value


class Text(Constraint):
    """A string, optionally matching a regular expression."""

    def __init__(self, pattern: str | None = None, *, default: Any = _MISSING) -> None:
        super().__init__(default=default)
        self.pattern = pattern

    def describe(self) -> str:
        return "a string" + (f" matching {self.pattern!r}" if self.pattern else "")

    def normalize(self, value: Any) -> Any:
        if not isinstance(value, str) or (self.pattern and not re.fullmatch(self.pattern, value)):
            raise ValueError
        return value


class Nullable(Constraint):
    """None, or a value satisfying *inner*."""

    def __init__(self, inner: Constraint, *, default: Any = _MISSING) -> None:
        super().__init__(default=default)
        self.inner = inner

    def describe(self) -> str:
        return f"None or {self.inner.describe()}"

    def normalize(self, value: Any) -> Any:
        return None if value is None else self.inner.normalize(value)


class ListOf(Constraint):
    """A list whose items all satisfy *inner*."""

    def __init__(
        self,
        inner: Constraint,
        *,
        min_len: int = 1,
        max_len: int | None = None,
        unique: bool = False,
        increasing: bool = False,
        default: Any = _MISSING,
    ) -> None:
        super().__init__(default=default)
        self.inner, self.min_len, self.max_len = inner, min_len, max_len
        self.unique, self.increasing = unique, increasing

    def describe(self) -> str:
        size = f"at least {self.min_len}" + (f" and at most {self.max_len}" if self.max_len else "")
        extra = (", without repeats" if self.unique else "") + (", increasing" if self.increasing else "")
        return f"a list of {size} items, each {self.inner.describe()}{extra}"

    def normalize(self, value: Any) -> Any:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            raise ValueError
        if len(value) < self.min_len or (self.max_len is not None and len(value) > self.max_len):
            raise ValueError
        items = [self.inner.normalize(v) for v in value]
        if self.unique and len(set(map(repr, items))) != len(items):
            raise ValueError
        if self.increasing and any(b <= a for a, b in zip(items, items[1:], strict=False)):
            raise ValueError
        return items


@dataclass(frozen=True)
class Rule:
    """A condition between parameters, declared in a stage's spec beside the single-value constraints.

    Parameters
    ----------
    holds : str or callable
        An expression over parameter names (``"stimulus_time_ms < t_stop_ms"``; arithmetic,
        comparisons, ``and``/``or``/``not`` and the functions ``abs all any len max min round
        sorted``), or a function of the checked parameters returning a bool.
    param : str
        The parameter the message names (the one to change).
    must : str
        Completes "The 'param' parameter of stage S must ..."; ``{name}`` is replaced by the
        value of parameter *name*, e.g. ``"be < t_stop_ms = {t_stop_ms}"``.
    when : str or callable, optional
        The rule applies only where this holds (e.g. ``"js is None"``).

    Examples
    --------
    >>> spec = {"start": Interval(float, 0, None), "stop": Interval(float, 0, None)}
    >>> rules = [Rule("start < stop", param="start", must="be < stop = {stop}")]
    >>> check_params({"start": 2.0, "stop": 1.0}, spec, stage="demo", rules=rules)
    Traceback (most recent call last):
    ...
    neurodata._exceptions.ParamError: The 'start' parameter of stage demo must be < stop = 1.0. Got 2.0 instead.
    """

    holds: str | Callable[[Mapping[str, Any]], bool]
    param: str
    must: str
    when: str | Callable[[Mapping[str, Any]], bool] | None = None

    def applies(self, params: Mapping[str, Any]) -> bool:
        return self.when is None or bool(_evaluate(self.when, params))

    def check(self, params: Mapping[str, Any]) -> bool:
        return bool(_evaluate(self.holds, params))


_RULE_FUNCTIONS = {"abs": abs, "all": all, "any": any, "len": len, "max": max, "min": min, "round": round,
                   "sorted": sorted}


def _evaluate(condition: str | Callable[[Mapping[str, Any]], bool], params: Mapping[str, Any]) -> Any:
    if callable(condition):
        return condition(params)
    tree = _parse_rule(condition)
    return eval(compile(tree, "<rule>", "eval"), {"__builtins__": {}}, {**_RULE_FUNCTIONS, **params})  # noqa: S307


@functools.cache
def _parse_rule(text: str) -> ast.Expression:
    """Parse a rule and allow only names, constants, arithmetic, comparisons, subscripts and the
    whitelisted functions (so evaluating it cannot do anything but compute a value)."""
    tree = ast.parse(text, mode="eval")
    allowed = (ast.Expression, ast.Compare, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Call, ast.Name, ast.Constant,
               ast.Subscript, ast.Load, ast.Tuple, ast.List, ast.operator, ast.unaryop, ast.boolop, ast.cmpop)
    for node in ast.walk(tree):
        if not isinstance(node, allowed) or (isinstance(node, ast.Call) and not (
                isinstance(node.func, ast.Name) and node.func.id in _RULE_FUNCTIONS)):
            msg = f"Rule {text!r}: {type(node).__name__} is not allowed in a parameter rule."
            raise ValueError(msg)
    return tree


def check_params(
    params: Mapping[str, Any] | None,
    spec: Mapping[str, Constraint],
    *,
    stage: str,
    rules: Sequence[Rule] = (),
) -> dict[str, Any]:
    """Check *params* against *spec* and *rules*; return them normalized.

    Each parameter is checked against its own constraint first, then the rules relating
    several parameters; every message comes from one generator:
    "The 'p' parameter of stage S must <what>. Got <value> instead."

    Parameters
    ----------
    params : mapping or None
        The parameters (a params.yaml section).
    spec : mapping of str to Constraint
        One constraint per parameter; every parameter is required (defaults live in params.yaml).
    stage : str
        The stage's name, for messages.
    rules : sequence of Rule, optional
        Conditions between parameters.

    Returns
    -------
    dict
        The parameters, normalized (ints as int, floats as float, lists as lists).

    Raises
    ------
    neurodata.ParamError
        For an unknown key, a missing required key, a value outside its constraint or a
        broken rule; the message names the stage, the key, the value and what was expected.
    """
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        msg = f"The parameters of stage {stage} must be a mapping of names to values. Got {params!r} instead."
        raise ParamError(msg)
    unknown = sorted(set(params) - set(spec))
    if unknown:
        msg = f"Unknown parameter(s) {unknown} for stage {stage}. Valid parameters: {sorted(spec)}."
        raise ParamError(msg)
    checked: dict[str, Any] = {}
    for key, constraint in spec.items():
        if key not in params:
            if constraint.required:
                msg = f"Missing parameter {key!r} for stage {stage} (expected {constraint.describe()})."
                raise ParamError(msg)
            checked[key] = constraint.default
            continue
        try:
            checked[key] = constraint.normalize(params[key])
        except (ValueError, TypeError):
            msg = f"The {key!r} parameter of stage {stage} must be {constraint.describe()}. Got {params[key]!r} instead."
            raise ParamError(msg) from None
    for rule in rules:
        if rule.applies(checked) and not rule.check(checked):
            must = rule.must.format(**checked)
            msg = f"The {rule.param!r} parameter of stage {stage} must {must}. Got {checked[rule.param]!r} instead."
            raise ParamError(msg)
    return checked


def _params_file(path: str | Path | None) -> Path:
    if path is not None:
        return Path(path)
    return Path(project_root(required=True)) / "params.yaml"  # type: ignore[arg-type]


def load_params(stage: str, path: str | Path | None = None) -> dict[str, Any]:
    """The section *stage* of params.yaml (default: the registry's).

    Parameters
    ----------
    stage : str
        The stage (a top-level key of params.yaml).
    path : path, optional
        Another params file.

    Raises
    ------
    neurodata.ParamError
        The file cannot be read, is not a YAML mapping, or has no section *stage*.
    """
    file = _params_file(path)
    try:
        with file.open() as fh:
            everything = load_yaml(fh) or {}
    except OSError as exc:
        msg = f"Cannot read the params file {file}: {exc.strerror or exc}."
        raise ParamError(msg) from exc
    except yaml.YAMLError as exc:
        msg = f"The params file {file} is not valid YAML: {exc}"
        raise ParamError(msg) from exc
    if not isinstance(everything, Mapping):
        msg = f"The params file {file} must map stage names to their parameters; got {type(everything).__name__}."
        raise ParamError(msg)
    if stage not in everything:
        msg = f"{file} has no section {stage!r}. Sections: {sorted(everything)}."
        raise ParamError(msg)
    return everything[stage] or {}


def merge_profile(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge a profile's *overrides* into *base* (mappings merge, everything else replaces).

    Parameters
    ----------
    base : mapping
        The parameters (e.g. params.yaml).
    overrides : mapping
        A profile's overrides (profiles/<name>.yaml).
    """
    merged = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_profile(merged[key], value)
        else:
            merged[key] = value
    return merged
