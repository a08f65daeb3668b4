"""The package's modules import each other without a cycle.

Every import counts, wherever it is written: at the top, inside a function, or
under ``if TYPE_CHECKING:``. A cycle there means two modules each need the
other, which is what this layout avoids (the framework glue and the fake
server get the native toolkit from ``ToolkitBase.native()``).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set

from conftest import REPO

PACKAGE = REPO / "bindings-python/python/oatk"


def modules() -> Dict[str, Path]:
    """``oatk.x`` -> its source; the native module (``_oatk.pyi``) is a leaf."""
    found = {}
    for path in sorted(PACKAGE.glob("*.py*")):
        if path.suffix not in (".py", ".pyi"):
            continue
        name = "oatk" if path.stem == "__init__" else f"oatk.{path.stem}"
        found.setdefault(name, path)
    return found


def imports(name: str, path: Path, known: Set[str]) -> Set[str]:
    """The package modules that module ``name`` imports."""
    package = name if path.stem == "__init__" else name.rsplit(".", 1)[0]
    targets: Set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            # `from . import fake` imports the module oatk.fake; `from .errors import X` oatk.errors.
            submodules = {f"{module}.{alias.name}" for alias in node.names} & known
            targets.update(submodules or {module})
    return {t for t in targets if t in known and t != name}


def graph() -> Dict[str, Set[str]]:
    found = modules()
    return {name: imports(name, path, set(found)) for name, path in found.items()}


def cycles(edges: Dict[str, Set[str]]) -> List[List[str]]:
    """Every elementary cycle, each listed once from its smallest module."""
    found: List[List[str]] = []

    def walk(start: str, node: str, path: List[str]) -> None:
        for nxt in sorted(edges[node]):
            if nxt == start:
                found.append(path + [start])
            elif nxt > start and nxt not in path:
                walk(start, nxt, path + [nxt])

    for start in sorted(edges):
        walk(start, start, [start])
    return found


def test_the_graph_sees_the_packages_imports() -> None:
    edges = graph()
    assert {"oatk", "oatk._toolkit", "oatk.decorators", "oatk.fake", "oatk.errors", "oatk._oatk",
            "oatk.async_toolkit", "oatk.fastapi", "oatk.quart", "oatk._guard"} <= set(edges)
    assert "oatk._toolkit" in edges["oatk"] and "oatk.fake" in edges["oatk"]
    assert "oatk.async_toolkit" in edges["oatk"]
    assert edges["oatk.fake"] == {"oatk._toolkit"}
    # the framework glue shares one decision path, _guard over the native module
    assert edges["oatk.decorators"] == {"oatk._oatk", "oatk._guard", "oatk._extras"}
    assert edges["oatk.quart"] == {"oatk._oatk", "oatk._guard", "oatk._extras"}
    assert edges["oatk.fastapi"] == {"oatk._oatk", "oatk._guard", "oatk._extras", "oatk._toolkit"}
    assert edges["oatk._guard"] == {"oatk._oatk"}
    # AsyncOAuthToolkit imports Quart's glue only when its decorators are used
    assert "oatk.quart" in edges["oatk.async_toolkit"]
    assert edges["oatk._oatk"] == set()


def test_the_cycle_finder_finds_cycles() -> None:
    assert cycles({"a": {"b"}, "b": {"a", "c"}, "c": {"a"}}) == [["a", "b", "a"], ["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles() -> None:
    found = cycles(graph())
    assert found == [], "import cycles: " + "; ".join(" -> ".join(c) for c in found)
