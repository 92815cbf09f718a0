"""Arguments several subcommands share."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .. import _options


def add_data_dir(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="artifact folder (default: data/ of the checkout, or $NEURODATA_DATA_DIR)"
    )


def data_dir(args: argparse.Namespace) -> Path:
    return Path(args.data_dir) if args.data_dir is not None else _options.data_dir()


def human_size(nbytes: int) -> str:
    size = float(nbytes)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"
