"""The keys of a sample: which variables each key holds, its dims and its tensor dtype."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from .._exceptions import ParamError

__all__ = ["Field", "default_dtype", "parse_fields", "resolve_fields"]

# As Hugging Face datasets' with_format("torch"): floats become float32, integers int64.
_KIND_DTYPES = {"f": np.float32, "i": np.int64, "u": np.int64, "b": np.bool_}


@dataclass(frozen=True)
class Field:
    """One key of a sample.

    Attributes
    ----------
    key : str
        Name in the sample dict.
    variables : tuple of str
        The variable it holds, or several stacked along a new last axis.
    role : {"input", "target", "extra"}
    dims : tuple of str
        Per-sample dims (the sample dim removed; ``"variable"`` last when stacked).
    shape : tuple of int
    dtype : numpy dtype
        Of the tensor.
    """

    key: str
    variables: tuple[str, ...]
    role: str
    dims: tuple[str, ...] = ()
    shape: tuple[int, ...] = ()
    dtype: Any = None


def parse_fields(spec: Any, role: str, owner: str) -> list[Field]:
    """Fields of an ``inputs``/``targets``/``extras`` argument.

    Parameters
    ----------
    spec : str, sequence of str, mapping of str to str or sequence of str, or None
        A variable name (its key is the name), a list of them, or ``{key: name}`` /
        ``{key: [name, ...]}`` (several variables stacked along a new last axis).
    role : {"input", "target", "extra"}
    owner : str
        Class name, for messages.
    """
    arg = f"{role}s"
    if spec is None:
        return []
    if isinstance(spec, str):
        spec = [spec]
    if isinstance(spec, Mapping):
        items = list(spec.items())
    elif isinstance(spec, Sequence):
        items = [(name, name) for name in spec]
    else:
        items = [(None, spec)]
    fields = []
    for key, names in items:
        names = (names,) if isinstance(names, str) else names
        if (not isinstance(key, str) or not isinstance(names, Sequence) or not names
                or not all(isinstance(n, str) for n in names)):
            msg = (f"The '{arg}' parameter of {owner} must be a variable name, a list of names, or a mapping of "
                   f"key to name(s) such as {{'spatial': ['x', 'y']}}. Got {spec!r} instead.")
            raise ParamError(msg)
        fields.append(Field(key, tuple(names), role))
    return fields


def default_dtype(dtype: np.dtype) -> np.dtype | None:
    """The tensor dtype of a stored dtype (float32, int64 or bool), None if it has none (strings, dates)."""
    kind = _KIND_DTYPES.get(np.dtype(dtype).kind)
    return None if kind is None else np.dtype(kind)


def _numpy_dtype(value: Any, key: str, owner: str) -> np.dtype:
    import torch

    if isinstance(value, torch.dtype):
        return torch.empty(0, dtype=value).numpy().dtype
    try:
        return np.dtype(value)
    except TypeError as err:
        msg = (f"The 'dtypes' parameter of {owner} gives key {key!r} the dtype {value!r}; "
               f"expected a torch or numpy dtype.")
        raise ParamError(msg) from err


def resolve_fields(fields: list[Field], ds: xr.Dataset, sample_dim: str, dtypes: Mapping[str, Any] | None,
                   name: str, owner: str) -> list[Field]:
    """Check *fields* against *ds* and fill in their dims, shapes and dtypes.

    Raises
    ------
    ParamError
        A key repeats; a variable is missing or lacks *sample_dim*; stacked variables differ in
        dims; a stored dtype has no tensor type (and *dtypes* gives none); *dtypes* names an
        unknown key.
    """
    keys = [f.key for f in fields]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        msg = f"The keys of a sample of {owner} must be unique; {repeated} is given more than once."
        raise ParamError(msg)
    dtypes = dict(dtypes or {})
    unknown = sorted(set(dtypes) - set(keys))
    if unknown:
        msg = f"The 'dtypes' parameter of {owner} names keys {unknown} that are not in the sample; keys: {keys}."
        raise ParamError(msg)
    known = sorted(map(str, ds.variables))
    out = []
    for f in fields:
        dims = None
        stored = []
        for var in f.variables:
            if var not in ds.variables:
                msg = (f"The '{f.role}s' parameter of {owner} names {var!r}, which is not a variable of {name}. "
                       f"Expected one of {known}.")
                raise ParamError(msg)
            v = ds[var]
            if sample_dim not in v.dims:
                msg = (f"The '{f.role}s' parameter of {owner} names {var!r}, whose dims {tuple(v.dims)} lack the "
                       f"sample dim {sample_dim!r}.")
                raise ParamError(msg)
            rest = tuple(d for d in v.dims if d != sample_dim)
            if dims is not None and rest != dims:
                msg = (f"The variables {list(f.variables)} stacked as key {f.key!r} of {owner} must share their dims; "
                       f"{var!r} has {rest}, {f.variables[0]!r} has {dims}.")
                raise ParamError(msg)
            dims = rest
            stored.append(v.dtype)
        shape = tuple(int(ds.sizes[d]) for d in dims)
        if len(f.variables) > 1:
            dims, shape = (*dims, "variable"), (*shape, len(f.variables))
        if f.key in dtypes:
            dtype = _numpy_dtype(dtypes[f.key], f.key, owner)
        else:
            dtype = default_dtype(np.result_type(*stored)) if all(s.kind not in "OUTSMm" for s in stored) else None
            if dtype is None:
                msg = (f"Key {f.key!r} of {owner} holds {list(f.variables)} of dtype {stored[0]}, which has no tensor "
                       f"type; give it one with dtypes={{{f.key!r}: ...}} or leave it out.")
                raise ParamError(msg)
        out.append(Field(f.key, f.variables, f.role, dims, shape, np.dtype(dtype)))
    return out
