"""The package's layers import downward only, and no import cycle exists, deferred imports included.

Every import statement counts, wherever it stands (module level, inside a function, under
TYPE_CHECKING), and so do the `cimport`/`import` lines of the Cython sources (.pyx and .pxd). A module may import one in
its own layer or below, never above; the layers, lowest first, are the architecture of the README.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "chatfmt"

LAYERS = [
    (
        "base",
        ["_flags", "_values", "errors", "tokens", "spans", "clock", "batch_errors", "cli_common", "tokenizer_folder"],
    ),
    ("formats", ["formats"]),
    ("builders", ["_fast"]),
    ("jinja", ["jinja"]),
    ("pipeline", ["pipeline", "strict"]),
    ("routing", ["routing"]),
    ("template", ["template", "columnar"]),
    ("users", ["registry", "compat", "masks", "messages", "integrations", "jobs", "testing", "template_check"]),
    ("command line", ["cli", "__main__"]),
    ("public API", ["__init__"]),
]


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _resolve(module: str, is_package: bool, level: int, name: str | None) -> str:
    if level == 0:
        return name or ""
    base = module.split(".")
    base = base if is_package else base[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _existing(name: str, modules: set[str]) -> str | None:
    """The package module `name` refers to (a module or package), or its nearest existing parent."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def _from_targets(base: str, names: list[str], modules: set[str]) -> set[str]:
    """`from base import a, b`: the submodules it names, and `base` itself for names defined in it."""
    submodules = {f"{base}.{name}" for name in names} & modules
    return submodules | ({base} if len(submodules) < len(names) else set())


def _imports(path: Path, modules: set[str]) -> set[str]:
    module, package = _module_name(path), _is_package(path)
    targets: set[str] = set()
    if path.suffix in (".pyx", ".pxd"):
        for level, name, names in re.findall(r"^\s*from\s+(\.*)([\w.]*)\s+c?import\s+(.+)$", path.read_text(), re.M):
            base = _resolve(module, False, len(level), name or None)
            targets |= _from_targets(base, [n.strip() for n in names.split(",")], modules)
    else:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(module, package, node.level, node.module)
                targets |= _from_targets(base, [alias.name for alias in node.names], modules)
    found = {_existing(t, modules) for t in targets if t == "chatfmt" or t.startswith("chatfmt.")}
    return {t for t in found if t is not None and t != module}


def _graph() -> dict[str, set[str]]:
    files = [p for p in PACKAGE.rglob("*") if p.suffix in (".py", ".pyx", ".pxd") and "__pycache__" not in p.parts]
    modules = {_module_name(p) for p in files}
    return {_module_name(p): _imports(p, modules) for p in files}


def _layer(module: str) -> int:
    relative = module.removeprefix("chatfmt").lstrip(".") or "__init__"
    top = relative.split(".")[0]
    for index, (_, names) in enumerate(LAYERS):
        if top in names:
            return index
    raise AssertionError(f"{module} is in no layer: add it to LAYERS (and to the README's Layout)")


GRAPH = _graph()


def test_every_module_has_a_layer() -> None:
    for module in GRAPH:
        _layer(module)


@pytest.mark.parametrize("module", sorted(GRAPH))
def test_imports_go_down_only(module: str) -> None:
    upward = [t for t in GRAPH[module] if _layer(t) > _layer(module)]
    assert not upward, f"{module} (layer {LAYERS[_layer(module)][0]}) imports a higher layer: {sorted(upward)}"


def test_no_import_cycle() -> None:
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for target in sorted(GRAPH.get(module, ())):
            if state.get(target) == 1:
                cycle = path[path.index(target) :] + [target]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if target not in state:
                visit(target, path + [target])
        state[module] = 2

    for module in sorted(GRAPH):
        if module not in state:
            visit(module, [module])


def test_the_checker_sees_deferred_imports() -> None:
    """A deferred (function-level) import is an edge like any other."""
    assert "chatfmt.routing" in GRAPH["chatfmt.template"]
    assert "chatfmt.jinja.environment" in GRAPH["chatfmt.pipeline"]
