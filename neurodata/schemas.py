"""Data contracts: ``schemas/<artifact>.yaml`` compiled into pandera.xarray schemas.

A contract names the dims, coordinates and variables of an artifact with their dtypes,
units and value checks. Checks are pandera's built-ins by name (``ge``, ``in_range``,
``isin``, ...) or custom checks registered here with :func:`register_check`. Values are
checked on dask-backed data too (pandera skips them by default). The ``units`` and
``long_name`` attrs, which pandera does not look at for coordinates, are checked here.

Every violation is reported as ``<artifact>[/<node>]: <variable>: <rule>: <detail>`` in one
:class:`neurodata.SchemaViolation`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ._exceptions import SchemaViolation
from ._paths import load_yaml, project_root

__all__ = [
    "UNITS",
    "Contract",
    "compile_contract",
    "contracts_dir",
    "label",
    "load_contract",
    "register_check",
    "registered_checks",
    "validate",
]

#: The unit vocabulary of the contracts: one spelling per unit (UDUNITS-like, ASCII).
UNITS: dict[str, str] = {
    "1": "dimensionless: counts, ids, labels, flags, fractions",
    "s": "second",
    "ms": "millisecond",
    "step": "simulation time step (BrainGrid: 0.1 ms)",
    "Hz": "per second (firing rate)",
    "1/ms": "per millisecond (firing rate, spikes/ms)",
    "V": "volt",
    "mV": "millivolt",
    "pA": "picoampere",
    "pA ms": "picoampere times millisecond (charge)",
    "pA/ms": "picoampere per millisecond (current slope)",
    "nS": "nanosiemens",
    "pF": "picofarad",
    "MOhm": "megaohm",
    "mV/pA": "millivolt per picoampere",
    "Hz/pA": "hertz per picoampere (f-I slope)",
    "um": "micrometre",
    "grid_unit": "BrainGrid lattice spacing",
    "spike": "number of spikes (window size)",
}

_CHECKS: dict[str, Callable[..., Any]] = {}
_BUILTIN_CHECKS = ("eq", "ne", "gt", "ge", "lt", "le", "in_range", "isin", "notin")
_STRING_DTYPES = ("str", "string")


def register_check(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register a named custom check usable in contracts as ``checks: {<name>: {kwargs}}``.

    Parameters
    ----------
    name : str
        The check's name in contracts.

    Returns
    -------
    A decorator over ``fn(da, **kwargs) -> bool`` (or a boolean DataArray, all of which must
    be true).
    """

    def decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
        if name in _CHECKS or name in _BUILTIN_CHECKS:
            msg = f"A check named {name!r} is already registered."
            raise ValueError(msg)
        _CHECKS[name] = fn
        return fn

    return decorator


def registered_checks() -> list[str]:
    """Names of the custom checks a contract may use."""
    return sorted(_CHECKS)


def _ordered(values: np.ndarray, strict: bool) -> bool:
    # compare neighbours, never subtract them: np.diff wraps around on unsigned dtypes
    later, earlier = values[1:], values[:-1]
    return bool(np.all(later > earlier) if strict else np.all(later >= earlier))


@register_check("monotonic_increasing")
def _monotonic_increasing(da: xr.DataArray, strict: bool = True) -> bool:
    return _ordered(np.asarray(da.values).ravel(), strict)


@register_check("finite")
def _finite(da: xr.DataArray) -> bool:
    return bool(np.isfinite(np.asarray(da.values)).all())


@register_check("unique")
def _unique(da: xr.DataArray) -> bool:
    values = np.asarray(da.values).ravel()
    return len(np.unique(values)) == values.size


@register_check("labels_present")
def _labels_present(da: xr.DataArray, labels: list[Any]) -> bool:
    """Every label in *labels* occurs at least once (e.g. both classes of a binary label)."""
    present = set(np.unique(np.asarray(da.values)).tolist())
    return all(label in present for label in labels)


@register_check("sorted_by")
def _sorted_by(da: xr.DataArray) -> bool:
    """Values are non-decreasing along the array (a table sorted by this column)."""
    return _ordered(np.asarray(da.values).ravel(), strict=False)


@register_check("not_all_nan")
def _not_all_nan(da: xr.DataArray) -> bool:
    """At least one value is not NaN (an array of fill values is a lost computation, not data)."""
    return bool(da.size == 0 or np.asarray(da.notnull().any()))


@register_check("not_all_zero")
def _not_all_zero(da: xr.DataArray) -> bool:
    """At least one value is non-zero."""
    return bool(da.size == 0 or np.asarray((da != 0).any()))


def _strings(da: xr.DataArray) -> list[str]:
    # any string dtype: fixed-width '<U', object, or numpy's StringDType (what Zarr reads back),
    # on which pandera's own string checks fail
    return [str(v) for v in np.asarray(da.values).ravel().tolist()]


@register_check("str_matches")
def _str_matches(da: xr.DataArray, pattern: str) -> bool:
    """Every value matches the regular expression *pattern* as a whole (``re.fullmatch``)."""
    regex = re.compile(pattern)
    return all(regex.fullmatch(v) for v in _strings(da))


@register_check("str_startswith")
def _str_startswith(da: xr.DataArray, prefix: str) -> bool:
    """Every value starts with *prefix*."""
    return all(v.startswith(prefix) for v in _strings(da))


# --------------------------------------------------------------------------------------
# contracts


@dataclass(frozen=True)
class Contract:
    """A parsed ``schemas/<artifact>.yaml``."""

    artifact: str
    version: int
    kind: str
    description: str
    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    node_pattern: str | None = None
    node: dict[str, Any] | None = None
    path: Path | None = None


def contracts_dir() -> Path:
    """The contracts folder, ``schemas/`` of the checkout."""
    return project_root(required=True) / "schemas"  # type: ignore[operator]


@functools.cache
def _load_contract_cached(path: Path, mtime: float) -> Contract:
    with path.open() as fh:
        spec = load_yaml(fh)
    name = spec.get("artifact", path.stem)
    kind = spec.get("kind", "dataset")
    if kind not in ("dataset", "datatree"):
        msg = f"Contract {path}: 'kind' must be 'dataset' or 'datatree'. Got {kind!r}."
        raise ValueError(msg)
    common = {
        "artifact": name,
        "version": int(spec.get("version", 1)),
        "kind": kind,
        "description": spec.get("description", ""),
        "path": path,
    }
    if kind == "dataset":
        body = {k: spec[k] for k in ("dims", "coords", "data_vars", "attrs", "strict", "relations") if k in spec}
        return Contract(nodes={"/": body}, **common)
    return Contract(
        nodes=spec.get("nodes", {}),
        node_pattern=spec.get("node_pattern"),
        node=spec.get("node"),
        **common,
    )


def load_contract(artifact: str, schema_dir: str | Path | None = None) -> Contract:
    """Read the contract of *artifact* from ``schemas/<artifact>.yaml``.

    Parameters
    ----------
    artifact : str
        The artifact.
    schema_dir : path, optional
        Default: :func:`contracts_dir`.
    """
    folder = Path(schema_dir) if schema_dir is not None else contracts_dir()
    path = folder / f"{artifact}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in folder.glob("*.yaml"))
        msg = f"No contract for artifact {artifact!r}: {path} does not exist. Known artifacts: {known}."
        raise FileNotFoundError(msg)
    return _load_contract_cached(path, path.stat().st_mtime)


def _build_checks(owner: str, checks: Mapping[str, Any] | None, labels: dict[int, str]) -> list[Any]:
    import pandera.xarray as pxr

    built = []
    for rule, arg in (checks or {}).items():
        if rule in _BUILTIN_CHECKS:
            factory = getattr(pxr.Check, rule)
            check = factory(**arg) if isinstance(arg, dict) else factory(arg)
            label = f"{rule}({arg})"
        elif rule in _CHECKS:
            kwargs = dict(arg or {})
            fn = _CHECKS[rule]
            check = pxr.Check(lambda da, fn=fn, kw=kwargs: fn(da, **kw), name=rule)
            label = f"{rule}({kwargs})" if kwargs else rule
        else:
            msg = (
                f"{owner}: unknown check {rule!r}. Expected one of pandera's {list(_BUILTIN_CHECKS)} "
                f"or a registered custom check {registered_checks()}."
            )
            raise ValueError(msg)
        labels[id(check)] = label
        built.append(check)
    return built


def _dtype(spec: Mapping[str, Any]) -> str | None:
    dtype = spec.get("dtype")
    return None if dtype in _STRING_DTYPES else dtype


def compile_contract(body: Mapping[str, Any], owner: str) -> tuple[Any, dict[int, str]]:
    """Compile one dataset contract into a ``pandera.xarray.DatasetSchema``.

    Parameters
    ----------
    body : mapping
        One dataset's contract (dims, coords, data_vars, attrs, strict).
    owner : str
        Its name in messages (``<artifact>`` or ``<artifact>/<node>``).

    Returns
    -------
    The schema, and a map from check id to the contract's rule label.
    """
    import pandera.xarray as pxr

    labels: dict[int, str] = {}

    def members(group: str, cls: type) -> dict[str, Any]:
        return {
            name: cls(
                dtype=_dtype(spec),
                dims=tuple(spec["dims"]) if "dims" in spec else None,
                checks=_build_checks(f"{owner}: {name}", spec.get("checks"), labels),
                required=spec.get("required", True),
                nullable=spec.get("nullable", False),
            )
            for name, spec in (body.get(group) or {}).items()
        }

    data_vars, coords = members("data_vars", pxr.DataVar), members("coords", pxr.Coordinate)
    schema = pxr.DatasetSchema(
        data_vars=data_vars,
        coords=coords,
        dims=tuple(body["dims"]) if body.get("dims") else None,
        ordered_dims=False,
        strict=bool(body.get("strict", False)),
        name=owner,
    )
    return schema, labels


# --------------------------------------------------------------------------------------
# validation


def _attr_problems(ds: xr.Dataset, body: Mapping[str, Any]) -> list[str]:
    """The checks pandera does not do: units, long_name, string dtypes, dataset attrs."""
    problems = []
    for group in ("coords", "data_vars"):
        for name, spec in (body.get(group) or {}).items():
            if name not in ds.variables:
                continue  # pandera reports the missing variable
            attrs = ds[name].attrs
            for key in ("units", "long_name"):
                if key not in spec:
                    continue
                if key not in attrs:
                    problems.append(f"{name}: {key}: missing {key!r} attr (expected {spec[key]!r})")
                elif str(attrs[key]) != str(spec[key]):
                    problems.append(f"{name}: {key}: expected {spec[key]!r}, got {attrs[key]!r}")
            if "units" not in spec and "long_name" not in attrs and group == "data_vars":
                problems.append(f"{name}: long_name: a variable without units needs a 'long_name' attr")
            if spec.get("dtype") in _STRING_DTYPES and ds[name].dtype.kind not in "UOT":
                problems.append(f"{name}: dtype: expected strings, got {ds[name].dtype}")
    for key, pattern in (body.get("attrs") or {}).items():
        if key not in ds.attrs:
            problems.append(f"attrs: missing dataset attr {key!r}")
        elif pattern is not None and not re.fullmatch(str(pattern), str(ds.attrs[key])):
            problems.append(f"attrs: {key}={ds.attrs[key]!r} does not match {pattern!r}")
    return problems


def _relation_problems(ds: xr.Dataset, body: Mapping[str, Any], attrs: Mapping[str, Any]) -> list[str]:
    """The contract's relations between variables and attrs (evaluated on the whole dataset)."""
    from ._relations import check_relation, variables_of

    problems = []
    for text in body.get("relations") or []:
        failure = check_relation(ds, text, attrs)
        if failure is not None:
            variable = next(iter(variables_of(text)), "attrs")
            problems.append(f"{variable}: relation {text!r}: {failure}")
    return problems


def _pandera_problems(ds: xr.Dataset, schema: Any, labels: dict[int, str]) -> list[str]:
    from pandera.config import ValidationDepth, config_context
    from pandera.errors import SchemaError, SchemaErrors

    try:
        with config_context(validation_depth=ValidationDepth.SCHEMA_AND_DATA):
            schema.validate(ds, lazy=True)
    except SchemaErrors as exc:
        errors = exc.schema_errors
    except SchemaError as exc:
        errors = [exc]
    else:
        return []
    problems = []
    for err in errors:
        check = getattr(err, "check", None)
        variable = getattr(getattr(err, "schema", None), "name", None)
        reason = getattr(err, "reason_code", None)
        rule = labels.get(id(check)) or (str(check) if check is not None else None)
        if rule is None or rule.startswith("<"):
            rule = getattr(reason, "name", "schema").lower()
        detail = str(err).splitlines()[0]
        match = re.search(r"'([^']+)'", detail)
        if variable in (None, schema.name) and match:
            variable = match.group(1)
        problems.append(f"{variable or 'dataset'}: {rule}: {detail}")
    return problems


def _slices(ds: xr.Dataset, slices: tuple[str, int] | None) -> list[xr.Dataset]:
    if slices is None or slices[0] not in ds.dims:
        return [ds]
    dim, size = slices
    if size < 1:
        msg = f"slices must give a positive size along {dim!r}; got {size}."
        raise ValueError(msg)
    return [ds.isel({dim: slice(start, start + size)}) for start in range(0, max(ds.sizes[dim], 1), size)]


def _whole_coordinate_problems(ds: xr.Dataset, body: Mapping[str, Any], dim: str, owner: str) -> list[str]:
    """Checks of the 1-D coordinates along *dim* over all their values (slices see only a part)."""
    coords = {name: spec for name, spec in (body.get("coords") or {}).items() if name in ds.coords and ds[name].dims == (dim,)}
    if not coords:
        return []
    schema, labels = compile_contract({"coords": coords}, owner)
    whole = xr.Dataset(coords={name: ds[name].load() for name in coords})
    return _pandera_problems(whole, schema, labels)


def _node_contracts(contract: Contract, tree: xr.DataTree) -> dict[str, dict[str, Any]]:
    bodies = {path.strip("/") or "/": body for path, body in contract.nodes.items()}
    if contract.node_pattern and contract.node is not None:
        regex = re.compile(contract.node_pattern.replace("*", ".*"))
        for child in tree.children:
            if regex.fullmatch(child):
                bodies.setdefault(child, contract.node)
    return bodies


def _label_dataset(ds: xr.Dataset, body: Mapping[str, Any]) -> xr.Dataset:
    ds = ds.copy()
    for group in ("coords", "data_vars"):
        for name, spec in (body.get(group) or {}).items():
            if name in ds.variables:
                ds[name].attrs.update({key: spec[key] for key in ("long_name", "units") if key in spec})
    return ds


def label(obj: xr.Dataset | xr.DataTree, artifact: str) -> xr.Dataset | xr.DataTree:
    """Stamp ``units`` and ``long_name`` from the contract of *artifact* onto every coordinate and
    variable of *obj* the contract names; the contract is their one home.

    Parameters
    ----------
    obj : xarray.Dataset or xarray.DataTree
        The artifact's data (a DataTree: each node by its node contract).
    artifact : str

    Returns
    -------
    A labelled copy of *obj*.

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> ds = xr.Dataset({"output_rate": (("we", "seed"), np.zeros((1, 1))), "median_vm": (("we", "seed"), [[-60.0]])},
    ...                 coords={"we": [0.01], "seed": [0]})
    >>> label(ds, "adex_we_sweep")["output_rate"].attrs
    {'long_name': 'output firing rate', 'units': 'Hz'}
    """
    contract = load_contract(artifact)
    if isinstance(obj, xr.DataTree):
        bodies = _node_contracts(contract, obj)
        nodes = {node.path: _label_dataset(node.to_dataset(inherit=False), bodies.get(node.path.strip("/") or "/", {}))
                 for node in obj.subtree}
        return xr.DataTree.from_dict(nodes, name=obj.name)
    return _label_dataset(obj, contract.nodes["/"])


IN_MEMORY_BYTES = 64 * 2**20
"""A dask-backed node up to this size is read once and checked in memory; a larger one is
checked chunk by chunk (by slices, if given)."""


def validate(
    obj: xr.Dataset | xr.DataTree,
    artifact: str,
    *,
    schema_dir: str | Path | None = None,
    slices: tuple[str, int] | None = None,
) -> None:
    """Check *obj* against the contract of *artifact*; raise one SchemaViolation listing every problem.

    Parameters
    ----------
    obj : xarray.Dataset or xarray.DataTree
        numpy- or dask-backed; values are checked in both cases.
    artifact : str
        Name of the contract, ``schemas/<artifact>.yaml``.
    schema_dir : path, optional
        Default: :func:`contracts_dir`.
    slices : (dim, size), optional
        Check the data *size* entries along *dim* at a time, so that validating a large
        dask-backed store holds one slice in memory, not the whole array. Coordinates along
        *dim* are still checked whole (``unique``, ``monotonic_increasing`` see every value).

    Raises
    ------
    neurodata.SchemaViolation
        With one line per violation: ``<artifact>[/<node>]: <variable>: <rule>: <detail>``.
    """
    contract = load_contract(artifact, schema_dir)
    problems: list[str] = []
    if contract.kind == "dataset":
        if not isinstance(obj, xr.Dataset):
            msg = f"{artifact}: expected an xarray.Dataset, got {type(obj).__name__}."
            raise SchemaViolation(msg)
        targets = {"/": (obj, contract.nodes["/"])}
    else:
        if not isinstance(obj, xr.DataTree):
            msg = f"{artifact}: expected an xarray.DataTree, got {type(obj).__name__}."
            raise SchemaViolation(msg)
        bodies = _node_contracts(contract, obj)
        targets = {}
        for path, body in bodies.items():
            node_path = "/" if path == "/" else path
            try:
                targets[path] = (obj[node_path].to_dataset(inherit=False), body)
            except KeyError:
                problems.append(f"{path}: node: missing node {path!r}")
        if contract.node_pattern and not any(p != "/" for p in targets):
            problems.append(f"node: no child node matches {contract.node_pattern!r}")
    for path, (ds, body) in targets.items():
        owner = artifact if path == "/" else f"{artifact}/{path}"
        schema, labels = compile_contract(body, owner)
        if ds.nbytes <= IN_MEMORY_BYTES:
            ds = ds.compute()  # each check would otherwise read the chunks again
        for part in _slices(ds, slices):
            node_problems = _pandera_problems(part, schema, labels) + _attr_problems(part, body)
            problems.extend(f"{owner}: {p}" for p in node_problems)
        if slices is not None and slices[0] in ds.dims:
            problems.extend(f"{owner}: {p}" for p in _whole_coordinate_problems(ds, body, slices[0], owner))
        attrs = {**(obj.attrs if isinstance(obj, xr.DataTree) else {}), **ds.attrs}  # a node sees the root's attrs
        problems.extend(f"{owner}: {p}" for p in _relation_problems(ds, body, attrs))
    problems = list(dict.fromkeys(problems))  # the same failure in several slices is reported once
    if problems:
        msg = f"{artifact} violates its contract (schemas/{artifact}.yaml, version {contract.version}):\n  " + "\n  ".join(
            problems
        )
        raise SchemaViolation(msg)
