"""Relations in data contracts: checks that tie variables to each other and to attrs.

A contract lists them as small expressions over the artifact's variables (by name) and its
attrs (``attrs.<name>``), for example::

    relations:
      - neuron < attrs.N_E + attrs.N_I          # every id below the network size
      - time_ms <= attrs.simtime_ms
      - count(label == 1) == count(label == 0)  # one non-burst window per pre-burst window
      - any(isfinite(activation_times))         # not all NaN

An expression that yields an array holds when every element is true. The language is a
whitelist (comparisons, arithmetic, ``and``/``or``/``not`` and the functions below); nothing
else parses. Arrays stay lazy (dask) until a reduction, so a relation over a large store
streams it chunk by chunk.

Functions: ``all any count size min max sum mean abs isfinite isnan fraction numbers``;
``fraction(cond)`` is the share of true elements, ``numbers(attr)`` reads a list attr
(``[0.7, 0.15, 0.15]`` or ``"0.7,0.15,0.15"``) as an array to index with ``[i]``.
"""

from __future__ import annotations

import ast
import functools
import operator
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import xarray as xr

__all__ = ["RelationError", "check_relation", "parse_relation"]


class RelationError(ValueError):
    """A relation in a contract does not parse (a contract bug, not a data problem)."""


def _reduce(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    @functools.wraps(fn)
    def wrapper(x: Any) -> Any:
        value = fn(x)
        if isinstance(value, xr.DataArray):
            value = value.compute().values
        return np.asarray(value).item() if np.ndim(value) == 0 else value

    return wrapper


def _numbers(value: Any) -> np.ndarray:
    if isinstance(value, str):
        value = [float(v) for v in value.replace("[", "").replace("]", "").split(",") if v.strip()]
    return np.asarray(value, dtype=float)


def _as_array(x: Any) -> Any:
    return x if isinstance(x, xr.DataArray) else np.asarray(x)


def _sorted_within(values: Any, groups: Any) -> bool:
    """*values* never decrease between neighbours of the same group (a table sorted by group, then
    by *values*); neighbours are compared, never subtracted, so unsigned values cannot wrap."""
    x, g = np.asarray(values).ravel(), np.asarray(groups).ravel()
    same = g[1:] == g[:-1]
    return bool(np.all(x[1:][same] >= x[:-1][same]))


_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "sorted_within": _sorted_within,
    "all": _reduce(lambda x: _as_array(x).all()),
    "any": _reduce(lambda x: _as_array(x).any()),
    "count": _reduce(lambda x: _as_array(x).sum()),
    "fraction": _reduce(lambda x: _as_array(x).mean()),
    "size": lambda x: int(np.size(x)) if not isinstance(x, xr.DataArray) else int(x.size),
    "min": _reduce(lambda x: _as_array(x).min()),
    "max": _reduce(lambda x: _as_array(x).max()),
    "sum": _reduce(lambda x: _as_array(x).sum()),
    "mean": _reduce(lambda x: _as_array(x).mean()),
    "abs": abs,
    "isfinite": lambda x: np.isfinite(x) if not isinstance(x, xr.DataArray) else xr.apply_ufunc(np.isfinite, x, dask="allowed"),
    "isnan": lambda x: np.isnan(x) if not isinstance(x, xr.DataArray) else x.isnull(),
    "numbers": _numbers,
}
_BINARY = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
           ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod}
_COMPARE = {ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
            ast.Eq: operator.eq, ast.NotEq: operator.ne}
_SYMBOL = {ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!="}


@functools.cache
def parse_relation(text: str) -> ast.Expression:
    """Parse and whitelist-check a relation; raise :class:`RelationError` if it is not one."""
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as exc:
        msg = f"Relation {text!r} does not parse: {exc.msg}."
        raise RelationError(msg) from None
    allowed = (ast.Expression, ast.Compare, ast.BinOp, ast.UnaryOp, ast.BoolOp, ast.Call, ast.Name, ast.Attribute,
               ast.Constant, ast.Subscript, ast.Load, ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd,
               *_BINARY, *_COMPARE)
    for node in ast.walk(tree):
        if not isinstance(node, allowed):
            msg = f"Relation {text!r}: {type(node).__name__} is not allowed in a contract relation."
            raise RelationError(msg)
        if isinstance(node, ast.Call) and not (isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS):
            msg = f"Relation {text!r}: only the functions {sorted(_FUNCTIONS)} may be called."
            raise RelationError(msg)
        if isinstance(node, ast.Attribute) and not (isinstance(node.value, ast.Name) and node.value.id == "attrs"):
            msg = f"Relation {text!r}: only attrs.<name> may use a dot."
            raise RelationError(msg)
    return tree


def variables_of(text: str) -> list[str]:
    """The variable names a relation mentions, in order."""
    names = []
    for node in ast.walk(parse_relation(text)):
        if isinstance(node, ast.Name) and node.id not in _FUNCTIONS and node.id != "attrs" and node.id not in names:
            names.append(node.id)
    return names


class _Evaluator:
    def __init__(self, ds: xr.Dataset, attrs: Mapping[str, Any], text: str) -> None:
        self.ds, self.attrs, self.text = ds, attrs, text

    def __call__(self, node: ast.AST) -> Any:
        method = getattr(self, f"_{type(node).__name__}")
        return method(node)

    def _Expression(self, node: ast.Expression) -> Any:
        return self(node.body)

    def _Constant(self, node: ast.Constant) -> Any:
        return node.value

    def _Name(self, node: ast.Name) -> Any:
        if node.id not in self.ds.variables:
            msg = f"names {node.id!r}, which the artifact does not have"
            raise KeyError(msg)
        return self.ds[node.id]

    def _Attribute(self, node: ast.Attribute) -> Any:
        if node.attr not in self.attrs:
            msg = f"needs attr {node.attr!r}, which the artifact does not have"
            raise KeyError(msg)
        value = self.attrs[node.attr]
        try:
            return float(value) if isinstance(value, str) and "," not in value else value
        except ValueError:
            return value

    def _Subscript(self, node: ast.Subscript) -> Any:
        return self(node.value)[self(node.slice)]

    def _UnaryOp(self, node: ast.UnaryOp) -> Any:
        value = self(node.operand)
        if isinstance(node.op, ast.Not):
            return ~value if isinstance(value, xr.DataArray | np.ndarray) else not value
        return -value if isinstance(node.op, ast.USub) else value

    def _BinOp(self, node: ast.BinOp) -> Any:
        return _BINARY[type(node.op)](self(node.left), self(node.right))

    def _BoolOp(self, node: ast.BoolOp) -> Any:
        values = [self(v) for v in node.values]
        combine = operator.and_ if isinstance(node.op, ast.And) else operator.or_
        return functools.reduce(combine, values)

    def _Compare(self, node: ast.Compare) -> Any:
        left = self(node.left)
        result = None
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = self(right_node)
            part = _COMPARE[type(op)](left, right)
            result = part if result is None else result & part
            left = right
        return result

    def _Call(self, node: ast.Call) -> Any:
        return _FUNCTIONS[node.func.id](*[self(a) for a in node.args])  # type: ignore[attr-defined]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) or (isinstance(value, np.ndarray) and value.ndim == 0) else value


def _describe_failure(ev: _Evaluator, tree: ast.Expression, result: Any) -> str:
    body = tree.body
    if isinstance(result, xr.DataArray | np.ndarray) and np.size(result):
        bad = np.asarray(~np.asarray(result.values if isinstance(result, xr.DataArray) else result, dtype=bool))
        detail = f"{int(bad.sum())} of {bad.size} values fail"
        if isinstance(body, ast.Compare) and len(body.ops) == 1:
            left, right = ev(body.left), ev(body.comparators[0])
            lv = np.asarray(left.values if isinstance(left, xr.DataArray) else left)
            rv = np.asarray(right.values if isinstance(right, xr.DataArray) else right)
            lv_bad = np.broadcast_to(lv, bad.shape)[bad]
            rv_bad = np.broadcast_to(rv, bad.shape)[bad]
            detail += f" (e.g. {lv_bad.flat[0].item()!r} {_SYMBOL[type(body.ops[0])]} {rv_bad.flat[0].item()!r} is false)"
        return detail
    if isinstance(body, ast.Compare) and len(body.ops) == 1:
        left, right = ev(body.left), ev(body.comparators[0])
        return f"{ast.unparse(body.left)} = {_plain(left)!r}, {ast.unparse(body.comparators[0])} = {_plain(right)!r}"
    return "false"


def check_relation(ds: xr.Dataset, text: str, attrs: Mapping[str, Any] | None = None) -> str | None:
    """Evaluate relation *text* on *ds*; None when it holds, else what failed (one line).

    *attrs* (default ``ds.attrs``) are the attrs ``attrs.<name>`` looks up.
    """
    tree = parse_relation(text)
    ev = _Evaluator(ds, ds.attrs if attrs is None else attrs, text)
    try:
        result = ev(tree)
        if isinstance(result, xr.DataArray):
            result = result.compute()
        holds = bool(np.all(np.asarray(result.values if isinstance(result, xr.DataArray) else result)))
    except KeyError as exc:
        return str(exc.args[0])
    return None if holds else _describe_failure(ev, tree, result)
