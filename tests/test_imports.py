"""The package's import graph has no cycles (module-level imports; a function's own import
is how a module defers a heavy or optional dependency)."""

import ast
import graphlib

from analysis import config

PACKAGE = config.PROJECT_ROOT / "analysis"


def _modules() -> dict[str, ast.Module]:
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = ast.parse(path.read_text())
    return found


def _imports(tree: ast.Module, modules: dict) -> set[str]:
    out = set()
    for node in tree.body:
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names if alias.name in modules}
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                sub = f"{node.module}.{alias.name}"
                if sub in modules:
                    out.add(sub)
                elif node.module in modules:
                    out.add(node.module)
    return out


def test_the_import_graph_has_no_cycles():
    modules = _modules()
    assert {"analysis.result", "analysis.pipeline", "analysis.cli"} <= set(modules)
    graph = {name: _imports(tree, modules) for name, tree in modules.items()}
    assert "analysis.result" in graph["analysis.pipeline"]
    try:
        list(graphlib.TopologicalSorter(graph).static_order())
    except graphlib.CycleError as cycle:
        raise AssertionError(f"import cycle: {' -> '.join(cycle.args[1])}") from None
