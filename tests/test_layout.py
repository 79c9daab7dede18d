"""The package's layout holds: imports run only down the layers, no private name crosses a module, every
public module declares ``__all__``, no module grows past the size of one idea, and the README's module table and
the package docstring name exactly the modules that exist."""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path

import pytest

import synthlab

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "synthlab"
LAYERS = ("core", "llm", "annotation", "curation", "evaluation", "generation", "directions", "workflows")
MAX_LINES = 400  # a module past 400 lines holds two ideas: split it by idea


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = sorted(path for path in PACKAGE.rglob("*.py") if path.name != "__init__.py" and path.parent != PACKAGE)


def imports(path: Path) -> list[ast.ImportFrom | ast.Import]:
    tree = ast.parse(path.read_text())
    return [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]


def imported_modules(node: ast.ImportFrom | ast.Import) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    return [node.module or ""]


def test_every_module_sits_in_a_layer():
    assert {path.relative_to(PACKAGE).parts[0] for path in MODULES} == set(LAYERS)
    assert sorted(path.name for path in PACKAGE.glob("*.py")) == ["__init__.py", "__main__.py"]


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_imports_run_down_the_layers_only(path):
    here = LAYERS.index(path.relative_to(PACKAGE).parts[0])
    upward = [
        f"line {node.lineno}: {target}"
        for node in imports(path)
        for target in imported_modules(node)
        if target.startswith("synthlab.") and LAYERS.index(target.split(".")[1]) > here
    ]
    assert not upward, f"{module_name(path)} imports a higher layer: {upward}"


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_no_private_name_crosses_a_module(path):
    private = [
        f"line {node.lineno}: {node.module}.{alias.name}"
        for node in imports(path)
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("synthlab")
        for alias in node.names
        if alias.name.startswith("_")
    ]
    assert not private, f"{module_name(path)} imports private names: {private}"


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_every_module_declares_its_public_names(path):
    module = importlib.import_module(module_name(path))
    assert hasattr(module, "__all__"), f"{module.__name__} has no __all__"
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert not missing, f"{module.__name__}.__all__ names what it does not define: {missing}"
    assert len(set(module.__all__)) == len(module.__all__), f"{module.__name__}.__all__ repeats a name"


@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_no_module_holds_two_ideas(path):
    lines = len(path.read_text().splitlines())
    assert lines <= MAX_LINES, f"{module_name(path)} has {lines} lines; split it by idea"


def test_readme_module_table_lists_exactly_the_modules():
    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("| layer | module | what it holds |") :].split("\n\n", 1)[0]
    rows = [line.split("|") for line in table.splitlines()[2:]]
    listed = {name: row[1].strip() for row in rows for name in re.findall(r"`(synthlab\.[\w.]+)`", row[2])}
    existing = {module_name(path) for path in MODULES}
    assert set(listed) == existing, (
        f"README lists modules that do not exist: {sorted(set(listed) - existing)}; "
        f"and misses: {sorted(existing - set(listed))}"
    )
    wrong_layer = {name: layer for name, layer in listed.items() if name.split(".")[1] != layer}
    assert not wrong_layer, f"README puts modules in the wrong layer: {wrong_layer}"
    order = [LAYERS.index(layer) for layer in listed.values()]
    assert order == sorted(order), "README's table must list the layers from the ground up"


def test_package_docstring_names_every_layer_in_order():
    positions = [synthlab.__doc__.find(f":mod:`synthlab.{layer}`") for layer in LAYERS]
    assert -1 not in positions, (
        f"the package docstring misses layers: {[name for name, at in zip(LAYERS, positions) if at < 0]}"
    )
    assert positions == sorted(positions)
    for layer in LAYERS:
        assert importlib.import_module(f"synthlab.{layer}").__doc__, f"synthlab.{layer} has no docstring"
