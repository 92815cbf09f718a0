"""``neurodata describe ENTRY``: dims, coords, variables with units, and provenance of an artifact."""

from __future__ import annotations

import argparse
import json


from ._common import add_data_dir, data_dir

_PROVENANCE = ("neurodata_version", "stage", "code_sha256", "schema", "schema_version", "seeds", "stage_params")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("describe", help="describe one artifact", description=__doc__)
    parser.add_argument("entry", help="catalog entry name (see `neurodata list`)")
    add_data_dir(parser)
    parser.set_defaults(func=run)


def _describe_dataset(ds: xr.Dataset, indent: str = "  ") -> list[str]:
    lines = [f"{indent}dims: " + ", ".join(f"{d}={n}" for d, n in ds.sizes.items())]
    for title, group in (("coords", ds.coords), ("variables", ds.data_vars)):
        lines.append(f"{indent}{title}:")
        for name, var in group.items():
            units = var.attrs.get("units", "-")
            long_name = var.attrs.get("long_name", "")
            lines.append(f"{indent}  {name} ({', '.join(map(str, var.dims))}) {var.dtype} [{units}] {long_name}".rstrip())
    return lines


def run(args: argparse.Namespace) -> int:
    import xarray as xr
    from ..catalog import check_entry, entry_artifact, open_catalog
    from ..store import open_artifact

    cat = open_catalog()
    entry = check_entry(cat, args.entry)
    artifact = entry_artifact(cat, args.entry)
    obj = open_artifact(artifact, data_dir=data_dir(args))
    meta = entry.metadata or {}
    print(f"{args.entry}: {meta.get('description', '').strip()}")
    if isinstance(obj, xr.DataTree):
        root_attrs = obj.attrs
        for node in obj.subtree:
            ds = node.to_dataset(inherit=False)
            if ds.variables:
                print(f" node {node.path}")
                print("\n".join(_describe_dataset(ds, "   ")))
    else:
        root_attrs = obj.attrs
        print("\n".join(_describe_dataset(obj)))
    print("  provenance:")
    for key in _PROVENANCE:
        if key in root_attrs:
            value = root_attrs[key]
            if key == "stage_params":
                value = json.dumps(json.loads(value), sort_keys=True)
            print(f"    {key}: {value}")
    return 0
