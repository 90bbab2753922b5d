"""The layers' imports: the API documents never import the web layer, and only the
web layer (and ``deepaas-run``'s server) imports aiohttp.

Read from the source (every ``import``, also inside functions), followed through
deepaas-lite's own modules: a module imports what the modules it imports import.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import deepaas_lite

PACKAGE = Path(deepaas_lite.__file__).parent

# The modules allowed to import aiohttp: the web layer and the server command
# (deepaas-run: its entry point, its start, its serving, its accept loop and --reload's
# supervisor).
WEB = (
    "deepaas_lite.web",
    "deepaas_lite.cmd.serve",
    "deepaas_lite.cmd.accept",
    "deepaas_lite.cmd.reload",
    "deepaas_lite.cmd.run",
    "deepaas_lite.cmd.start",
)


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(path): path for path in PACKAGE.rglob("*.py")}


@functools.cache
def _direct(module: str) -> frozenset[str]:
    """Every module ``module`` names in an import statement, anywhere in it."""
    path = MODULES[module]
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            out.add(base)
            out.update(f"{base}.{alias.name}" for alias in node.names)
    return frozenset(out)


def _imports(module: str) -> set[str]:
    """What importing ``module`` imports, through deepaas-lite's own modules."""
    seen: set[str] = set()
    todo = [module]
    while todo:
        current = todo.pop()
        for name in _direct(current):
            if name in seen:
                continue
            seen.add(name)
            parts = name.split(".")
            for i in range(1, len(parts) + 1):  # importing a.b.c imports a and a.b
                prefix = ".".join(parts[:i])
                seen.add(prefix)
                if prefix in MODULES and prefix not in todo:
                    todo.append(prefix)
    return seen


def _within(name: str, packages: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in packages)


def test_the_modules_are_found() -> None:
    assert {"deepaas_lite.openapi.openapi3", "deepaas_lite.web.app"} <= set(MODULES)
    assert "aiohttp" in _imports("deepaas_lite.web.app")
    assert "deepaas_lite.openapi.openapi3" in _imports("deepaas_lite.web.app")


def test_the_documents_do_not_import_the_web_layer() -> None:
    for module in MODULES:
        if _within(module, ("deepaas_lite.openapi",)):
            web = sorted(n for n in _imports(module) if _within(n, ("deepaas_lite.web",)))
            assert not web, f"{module} imports {web}"


def test_only_the_web_layer_imports_aiohttp() -> None:
    for module in MODULES:
        if not _within(module, WEB):
            assert "aiohttp" not in _imports(module), f"{module} imports aiohttp"


def test_the_engine_does_not_import_the_training_package() -> None:
    """The engine runs the jobs it is handed; the training package keeps the records."""
    for module in MODULES:
        if _within(module, ("deepaas_lite.engine",)):
            training = sorted(n for n in _imports(module) if _within(n, ("deepaas_lite.training",)))
            assert not training, f"{module} imports {training}"
