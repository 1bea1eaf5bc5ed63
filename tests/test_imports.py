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


#: what commands that run no notebook must not import (issue 17: start-up under `import pandas`)
HEAVY = ("pandas", "numpy", "pyarrow", "papermill", "nbformat", "nbconvert", "jsonschema",
         "matplotlib")


def _loaded_after(argv: list[str], cwd) -> set[str]:
    """The heavy modules a fresh interpreter holds after `latency-gap ARGV`."""
    import json
    import subprocess
    import sys

    script = ("import json, sys\nfrom analysis import cli\ntry:\n    cli.main(sys.argv[1:])\n"
              "except SystemExit:\n    pass\n"
              f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    done = subprocess.run([sys.executable, "-c", script, *argv], capture_output=True,
                          text=True, cwd=cwd, check=True)
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_help_preflight_services_and_an_unchanged_fleet_import_no_heavy_module(tmp_path):
    import shutil

    from analysis import fleet
    from tests.conftest import EXAMPLES

    assert _loaded_after(["--help"], tmp_path) == set()
    assert _loaded_after(["preflight", "--help"], tmp_path) == set()
    assert _loaded_after(["preflight", "--sdk", "aws-java-sdk-v1", "--provider", "kiam"],
                         tmp_path) == set()
    assert _loaded_after(["preflight", "--sdk", "boto3", "--provider", "kube2iam", "--json"],
                         tmp_path) == set()
    data, reports = tmp_path / "data", tmp_path / "reports"
    shutil.copytree(EXAMPLES / "payments-api", data / "payments-api")
    assert _loaded_after(["services", "--data-dir", str(data)], tmp_path) == set()
    fleet.fleet(data, reports, say=lambda m: None, progress=False, jobs=1)
    # the skip decision is taken from the evidence fingerprint: nothing parsed, no worker
    assert _loaded_after(["fleet", "--data-dir", str(data), "--reports-dir", str(reports)],
                         tmp_path) == set()


def test_the_report_path_builds_no_rfc3987_grammars_and_still_validates_notebooks():
    import subprocess
    import sys

    script = ("import sys\nimport analysis.pipeline\nimport nbformat\n"
              "from nbformat.v4 import new_code_cell, new_notebook\n"
              "nbformat.validate(new_notebook(cells=[new_code_cell('1 + 1')]))\n"
              "print(sys.modules.get('rfc3987_syntax') is None, 'jsonschema' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          check=True)
    assert done.stdout.split() == ["True", "True"]
