"""The pipeline notebooks' code cells run in this process, without a kernel: what every cell
computes and shows (figures drawn to PNG, tables to HTML), at a fraction of a report's cost.
Only the papermill + nbconvert tests need the real pipeline."""

from __future__ import annotations

import ast
from io import BytesIO
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402

from analysis import config  # noqa: E402


def _show(value) -> None:
    """Render a cell's value as the report would."""
    for method in ("_repr_html_", "to_html"):
        if hasattr(value, method):
            getattr(value, method)()
            return


def run_notebooks(service: str, data_dir: Path, result_dir: Path | None = None) -> dict:
    """Run both notebooks' code for one service, cell by cell; returns the last namespace.

    A cell's error propagates with the notebook and cell named."""
    namespace: dict = {}
    for name in config.NOTEBOOKS:
        notebook = nbformat.read(config.NOTEBOOKS_DIR / name, as_version=4)
        namespace = {"service": service, "data_dir": str(data_dir),
                     "result_dir": str(result_dir) if result_dir else None}
        for index, cell in enumerate(notebook.cells):
            if cell.cell_type != "code" or "parameters" in cell.metadata.get("tags", []):
                continue
            where = f"{name} cell {index}"
            tree = ast.parse(cell.source)
            last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
            try:
                exec(compile(tree, where, "exec"), namespace)
                if last is not None:
                    _show(eval(compile(ast.Expression(last.value), where, "eval"), namespace))
                for number in plt.get_fignums():
                    plt.figure(number).savefig(BytesIO(), format="png", bbox_inches="tight")
            except Exception as err:
                raise AssertionError(f"{where} failed: {cell.source}") from err
            finally:
                plt.close("all")
    return namespace
