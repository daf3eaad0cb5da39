"""The package's import graph: no cycles, and imports flow from the I/O layer down to the core.

The graph is read from the sources with ``ast``: every ``import`` counts, at module level or
inside a function, except those under ``if TYPE_CHECKING:`` (never run).  ``_accel`` loads the
hot modules by name at call time; those are leaves and add no edge here.

``python tests/test_import_graph.py`` prints the graph (ARCHITECTURE.md shows it).
"""

from __future__ import annotations

import ast
import os
import sys

ROOT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "sioclient")

#: the sans-I/O modules: fed bytes and the clock, no greenlet, no socket, no gevent
SANS_IO = (
    "sioclient",
    "sioclient._version",
    "sioclient.backoff",
    "sioclient.core",
    "sioclient.exceptions",
    "sioclient.options",
    "sioclient.parsers",
    "sioclient.redact",
    "sioclient.tlsconfig",
    "sioclient.url",
)
#: the modules that run greenlets and sockets
IO_LAYER = (
    "sioclient.client",
    "sioclient.contrib",
    "sioclient.dispatch",
    "sioclient.engine",
    "sioclient.manager",
    "sioclient.socket",
    "sioclient.transports",
)


def _module_name(path: str) -> str:
    rel = os.path.relpath(path, os.path.dirname(ROOT))[: -len(".py")]
    parts = rel.split(os.sep)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, str]:
    """Module name -> source path, for every module of the package."""
    found = {}
    for directory, _, files in os.walk(ROOT):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(directory, name)
                found[_module_name(path)] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST, module: str, is_package: bool, known: set[str]) -> set[str]:
    """The package modules that ``module`` imports when it runs."""
    base = module.split(".") if is_package else module.split(".")[:-1]
    out: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            for alias in node.names:
                out.add(alias.name)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                anchor = base[: len(base) - node.level + 1]
                target = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            for alias in node.names:
                sub = f"{target}.{alias.name}"
                out.add(sub if sub in known else target)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return out


def graph() -> dict[str, set[str]]:
    """Module -> the package modules it imports (gevent shown as ``gevent`` when imported)."""
    found = modules()
    known = set(found)
    edges: dict[str, set[str]] = {}
    for module, path in found.items():
        with open(path, encoding="utf-8") as f:
            tree = ast.parse(f.read(), path)
        imported = _imports(tree, module, path.endswith("__init__.py"), known)
        edges[module] = {name for name in imported if name in known and name != module} | {
            "gevent" for name in imported if name == "gevent" or name.startswith("gevent.")
        }
    return edges


def _in(module: str, layer: tuple[str, ...]) -> bool:
    return any(module == top or module.startswith(top + ".") for top in layer if top != "sioclient")


def find_cycle(edges: dict[str, set[str]]) -> list[str] | None:
    """A cycle of imports, as the list of its modules (first one repeated at the end)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        path.pop()
        state[node] = 2
        return None

    for node in sorted(edges):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_the_graph_is_read():
    edges = graph()
    # a few edges known to exist, so that an empty graph cannot pass for an acyclic one
    assert "sioclient.url" in edges["sioclient.manager"]
    assert "sioclient.core.session" in edges["sioclient.engine"]
    assert "sioclient.transports.http" in edges["sioclient.transports.websocket"]
    assert "gevent" in edges["sioclient.engine"]


def test_no_import_cycles():
    assert find_cycle(graph()) is None


def test_the_cycle_finder_finds_cycles():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set(), "c": {"a", "b"}}) is None


def test_sans_io_modules_import_neither_gevent_nor_the_io_layer():
    edges = graph()
    for module, imported in edges.items():
        if module == "sioclient" or _in(module, SANS_IO):
            assert "gevent" not in imported, module
            below = sorted(name for name in imported if _in(name, IO_LAYER))
            assert not below, f"{module} imports {below}"


#: what the core may import from outside itself: modules that import nothing of the package
CORE_MAY_IMPORT = ("sioclient.exceptions", "sioclient.url")


def test_the_core_imports_only_the_core_and_leaf_modules():
    edges = graph()
    for name in CORE_MAY_IMPORT:
        assert not edges[name], f"{name} must stay a leaf: it imports {sorted(edges[name])}"
    for module, imported in edges.items():
        if _in(module, ("sioclient.core",)):
            outside = sorted(
                name
                for name in imported
                if not _in(name, ("sioclient.core",)) and name not in CORE_MAY_IMPORT
            )
            assert not outside, f"{module} imports {outside}"


def main() -> None:
    edges = graph()
    for module in sorted(edges):
        imported = sorted(name.replace("sioclient.", "") for name in edges[module])
        print(f"{module.replace('sioclient.', '')}: {', '.join(imported) or '-'}", file=sys.stdout)


if __name__ == "__main__":
    main()
