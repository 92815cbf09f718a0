"""The pipeline as DVC declares it: which stage writes which output, and what it reads.

Each family's ``pipelines/<family>/dvc.yaml`` is the one declaration of its stages (one file per
family, so that DVC, which rewrites a pipeline's ``dvc.lock`` after every stage, re-reads only
that family's lock). neurodata reads them to name the stage that builds an artifact ("not built:
run ..."), to check that a stage rewrote every output it declares, and to know which code a
stage's artifacts were made by.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._paths import load_yaml, project_root

__all__ = [
    "Stage",
    "StageDecl",
    "declared_stages",
    "producer",
    "run_stage",
    "stage",
    "stage_params",
    "write_metrics",
    "write_plot_tables",
]


@dataclass(frozen=True)
class StageDecl:
    """One stage of a family's dvc.yaml: its name, deps and outs (paths relative to the checkout)."""

    name: str
    deps: tuple[str, ...]
    outs: tuple[str, ...]
    params: tuple[str, ...]
    reports: tuple[str, ...] = ()  # metrics and plots files (git-tracked, beside data/)
    dvcfile: str = "dvc.yaml"  # the pipeline file that declares it, relative to the checkout

    @property
    def dvc_target(self) -> str:
        """The stage as ``dvc repro`` names it from the checkout's root."""
        return f"{self.dvcfile}:{self.name}"

    def data_outs(self) -> list[str]:
        """Output names relative to ``data/`` (``adex_we_sweep.zarr``, ``braingrid_simulation.h5``)."""
        return [o.removeprefix("data/") for o in self.outs if o.startswith("data/")]

    def artifacts(self) -> list[str]:
        """The Zarr artifacts the stage writes."""
        return [o.removesuffix(".zarr") for o in self.data_outs() if o.endswith(".zarr")]


def _path(item: str | dict) -> str:
    return item if isinstance(item, str) else next(iter(item))


PIPELINES = "pipelines/*/dvc.yaml"
"""Where the pipeline files are, relative to the checkout (one per family)."""


@functools.cache
def _parse(path: Path, dvcfile: str, mtime: float) -> dict[str, StageDecl]:
    stages = (load_yaml(path.read_text()) or {}).get("stages", {})
    for name, body in stages.items():
        if body.get("wdir") != "../..":  # paths below are read as relative to the checkout
            msg = f"{dvcfile}: stage {name} must run from the checkout's root (wdir: ../..), not {body.get('wdir')!r}"
            raise ValueError(msg)
    return {
        name: StageDecl(
            name=name,
            deps=tuple(_path(d) for d in body.get("deps", [])),
            outs=tuple(_path(o) for o in body.get("outs", [])),
            params=tuple(_path(p) for p in body.get("params", [])),
            reports=tuple(_path(o) for key in ("metrics", "plots") for o in body.get(key, [])),
            dvcfile=dvcfile,
        )
        for name, body in stages.items()
    }


def declared_stages(root: Path | None = None) -> dict[str, StageDecl]:
    """The stages of every ``pipelines/<family>/dvc.yaml`` of the checkout (empty outside a checkout)."""
    root = root if root is not None else project_root(required=False)
    if root is None:
        return {}
    stages: dict[str, StageDecl] = {}
    for path in sorted(Path(root).glob(PIPELINES)):
        stages.update(_parse(path, path.relative_to(root).as_posix(), path.stat().st_mtime))
    return stages


def producer(artifact: str, root: Path | None = None) -> str | None:
    """The stage that writes ``data/<artifact>.zarr``, or None."""
    for decl in declared_stages(root).values():
        if artifact in decl.artifacts():
            return decl.name
    return None


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns


def run_stage(
    name: str,
    params: dict | None = None,
    *,
    data_dir: str | Path | None = None,
    scheduler: str | None = None,
    params_file: str | Path | None = None,
) -> list[Path]:
    """Run stage *name* (as its ``dvc.yaml`` calls it) and check it rewrote every output it declares.

    Parameters
    ----------
    name : str
        A stage of its ``dvc.yaml`` (see ``neurodata.run``'s list).
    params : dict, optional
        The stage's parameters; default: its section of ``params.yaml`` (or *params_file*).
    data_dir : path, optional
        Artifact folder (default: option ``data_dir``).
    scheduler : str, optional
        Dask scheduler for the stage's parallel work (see :mod:`neurodata.runner`).
    params_file : path, optional
        Another params file.

    Returns
    -------
    list of Path
        What the stage wrote.

    Raises
    ------
    neurodata.UnknownName
        *name* is no stage.
    neurodata.SchemaViolation
        The stage left an output that its ``dvc.yaml`` declares unwritten, so it would survive
        from an earlier configuration.
    """
    from . import _options, _registry
    from ._exceptions import SchemaViolation
    from .params import load_params

    stage = _registry.find_stage(name)
    if params is None:
        params = load_params(name, params_file)
    folder = Path(data_dir) if data_dir is not None else _options.data_dir()
    decl = declared_stages().get(name)
    declared = [folder / out for out in decl.data_outs()] + [folder.parent / r for r in decl.reports] if decl else []
    before = {out: _identity(out) for out in declared}
    with _options.set_options(**({"scheduler": scheduler} if scheduler else {})):
        outputs = stage(params, data_dir=folder, scheduler=scheduler) or []
    stale = [out.name for out in declared if _identity(out) is None or _identity(out) == before[out]]
    if stale:
        msg = (f"Stage {name} did not write {stale}, which its dvc.yaml declares as its outputs: they would survive "
               "from an earlier run. Every run of a stage must rewrite each declared output.")
        raise SchemaViolation(msg)
    return [Path(p) for p in outputs]


@dataclass(frozen=True)
class Stage:
    """A pipeline stage: its name (as its dvc.yaml calls it), its parameter spec, and the function.

    Calling it checks the parameters against the spec and rules first (one call, before any
    work), runs the function with the checked parameters, then writes the stage's DVC metrics
    (``metrics/<stage>.json``) and plot tables (``plots/<name>.csv``) beside the data folder,
    computed by *metrics* and *plots* from what the stage wrote.
    """

    name: str
    fn: Callable[..., list[Path]]
    spec: Mapping[str, Any]
    rules: tuple[Any, ...] = ()
    metrics: Callable[[Path], Mapping[str, Any]] | None = None
    plots: Callable[[Path], Mapping[str, Any]] | None = None

    def check(self, params: Mapping[str, Any] | None) -> dict[str, Any]:
        """The checked parameters (see :func:`neurodata.params.check_params`)."""
        from .params import check_params

        return check_params(params, self.spec, stage=self.name, rules=self.rules)

    def __call__(self, params: Mapping[str, Any] | None, *, data_dir: str | Path, scheduler: str | None = None) -> list[Path]:
        data_dir = Path(data_dir)
        outputs = list(self.fn(self.check(params), data_dir=data_dir, scheduler=scheduler))
        if self.metrics is not None:
            outputs.append(write_metrics(self.name, self.metrics(data_dir), data_dir))
        if self.plots is not None:
            outputs.extend(write_plot_tables(self.plots(data_dir), data_dir))
        return outputs

    @property
    def module(self) -> str:
        """The module that defines the stage (its import closure is the stage's code)."""
        return self.fn.__module__


def _plain(value: Any) -> Any:
    """JSON-ready numbers: numpy scalars as Python numbers, NaN and infinities as None."""
    import math

    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def write_metrics(stage: str, metrics: Mapping[str, Any], data_dir: Path) -> Path:
    """Write *metrics* as ``metrics/<stage>.json`` beside *data_dir* (what its dvc.yaml declares)."""
    import json

    from ._atomic import atomic_output

    dest = Path(data_dir).parent / "metrics" / f"{stage}.json"
    with atomic_output(dest) as tmp:
        tmp.write_text(json.dumps(_plain(metrics), indent=2, sort_keys=True) + "\n")
    return dest


def write_plot_tables(tables: Mapping[str, Any], data_dir: Path) -> list[Path]:
    """Write each table (a pandas DataFrame) as ``plots/<name>.csv`` beside *data_dir*."""
    from ._atomic import atomic_output

    written = []
    for name, frame in tables.items():
        dest = Path(data_dir).parent / "plots" / f"{name}.csv"
        with atomic_output(dest) as tmp:
            frame.to_csv(tmp, index=False, float_format="%.10g")
        written.append(dest)
    return written


def stage(
    name: str,
    *,
    spec: Mapping[str, Any],
    rules: Sequence[Any] = (),
    metrics: Callable[[Path], Mapping[str, Any]] | None = None,
    plots: Callable[[Path], Mapping[str, Any]] | None = None,
) -> Callable[[Callable[..., list[Path]]], Stage]:
    """Declare a stage: ``@stage("adex_we_sweep", spec=SPEC)`` over ``fn(p, *, data_dir, scheduler)``,
    where *p* are the parameters already checked against *spec* and *rules*.

    *metrics* (``data_dir -> dict``) and *plots* (``data_dir -> {name: DataFrame}``) summarise
    what the stage wrote, for ``dvc metrics`` and ``dvc plots``.
    """

    def declare(fn: Callable[..., list[Path]]) -> Stage:
        return Stage(name=name, fn=fn, spec=spec, rules=tuple(rules), metrics=metrics, plots=plots)

    return declare


def stage_params(name: str, params_file: str | Path | None = None, **overrides: Any) -> dict[str, Any]:
    """The checked parameters of stage *name*: its section of ``params.yaml`` with *overrides*.

    The way to call a family's science with the pipeline's parameters, e.g.
    ``simulate_ei_network(stage_params("ei_network", N_E=400, N_I=100))``.

    Parameters
    ----------
    name : str
        A stage of a pipelines/<family>/dvc.yaml.
    params_file : path, optional
        Another params file (default: the registry's params.yaml).
    **overrides
        Parameter values replacing the file's.

    Raises
    ------
    neurodata.ParamError
        An override (or the file) breaks the stage's spec or rules.
    """
    from . import _registry
    from .params import load_params

    found = _registry.find_stage(name)
    if not isinstance(found, Stage):  # pragma: no cover - every family declares its stages with @stage
        msg = f"Stage {name} declares no parameter spec."
        raise TypeError(msg)
    return found.check({**load_params(name, params_file), **overrides})
