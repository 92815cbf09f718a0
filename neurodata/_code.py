"""Which source files a stage runs: the import closure of its module, and their content hash.

The closure is read from the source (every ``import`` and ``from ... import`` of a
``neurodata`` module, at module level or inside functions, and the ``__init__.py`` of every
package on the way), not from ``sys.modules``, so lazy imports count too. Each family's ``dvc.yaml`` must
list every file of a stage's closure among its deps (a test checks it), and the store records
the closure's hash in each artifact instead of a git commit: the same code gives the same bytes.
"""

from __future__ import annotations

import ast
import functools
import hashlib
from collections.abc import Iterable, Iterator
from pathlib import Path

__all__ = ["code_digest", "import_closure", "module_file"]

PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGE = PACKAGE_DIR.name


def module_file(module: str) -> Path | None:
    """The source file of a ``neurodata`` module (``pkg/__init__.py`` for a package), or None."""
    parts = module.split(".")
    if parts[0] != PACKAGE:
        return None
    base = PACKAGE_DIR.joinpath(*parts[1:])
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _statements(nodes: Iterable[ast.AST]) -> Iterator[ast.AST]:
    """Every statement in *nodes* and in their bodies (imports are statements: no need to
    visit the expressions, which are most of a module's nodes)."""
    for node in nodes:
        yield node
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            yield from _statements(getattr(node, field, None) or ())


def _imported_modules(module: str, path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _statements(tree.body):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, node.module] if node.module else anchor)
            else:
                base = node.module or ""
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)  # `from pkg import submodule`
    return {m for m in found if m.split(".")[0] == PACKAGE and module_file(m) is not None}


def _parents(module: str) -> list[str]:
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


@functools.cache
def import_closure(module: str) -> tuple[Path, ...]:
    """Every ``neurodata`` source file importing *module* can execute, sorted."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        path = module_file(current)
        if path is None:
            continue
        todo.extend(_parents(current))
        todo.extend(_imported_modules(current, path))
    files = {module_file(m) for m in seen}
    return tuple(sorted(f for f in files if f is not None))


def code_digest(files: Iterable[Path], root: Path | None = None) -> str:
    """SHA-256 over the files' paths (relative to *root*) and contents, in sorted order."""
    root = root or PACKAGE_DIR.parent
    digest = hashlib.sha256()
    for path in sorted(Path(f) for f in files):
        digest.update(path.resolve().relative_to(root).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()
