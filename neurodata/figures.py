"""Writing figures: one place that decides the file format, resolution and cleanup."""

from __future__ import annotations

from pathlib import Path

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["save_figure"]

DPI = 150


def save_figure(fig: Figure, out_dir: str | Path, name: str) -> Path:
    """Lay out *fig* (tight, unless it has a layout engine of its own), write it as
    ``<out_dir>/<name>.png`` and close it; return the path."""
    import matplotlib.pyplot as plt

    path = Path(out_dir) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    if fig.get_layout_engine() is None:
        fig.tight_layout()
    fig.savefig(path, dpi=DPI)
    plt.close(fig)
    return path
