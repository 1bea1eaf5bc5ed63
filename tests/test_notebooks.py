"""Committed notebooks are thin, output-free and parameterized."""

import ast
import shutil

import nbformat
import papermill
import pytest

from analysis import config
from analysis.pipeline import PIPELINE_PARAMETERS, IpcKernelManager, notebook_parameters

NOTEBOOKS = sorted(config.NOTEBOOKS_DIR.glob("*.ipynb"))


def test_every_pipeline_notebook_is_committed():
    assert {p.name for p in NOTEBOOKS} >= set(config.NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, f"{path.name}: strip outputs"


#: what a notebook cell may call: loading the library's result, and presenting it
PRESENTERS = {"view", "plots"}
LOADERS = {("results", "for_notebook")}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebooks_only_load_and_present(path):
    """No computation in a notebook: every call loads the result or draws a figure or a
    table of it (analysis/view.py, analysis/plots.py); imports come from analysis/ only."""
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                assert module.split(".")[0] == "analysis", f"{path.name}: imports {module}"
            if isinstance(node, ast.Call):
                func = node.func
                assert isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) \
                    and (func.value.id in PRESENTERS or (func.value.id, func.attr) in LOADERS), \
                    f"{path.name}: computes in a cell: {ast.unparse(node)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_cell_defaults_point_at_an_example(path):
    params = notebook_parameters(path)
    assert set(PIPELINE_PARAMETERS) <= set(params)
    service = params["service"]["default"].strip("\"'")
    data_dir = params["data_dir"]["default"].strip("\"'")
    assert (config.NOTEBOOKS_DIR / data_dir / service).is_dir()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_kernel_is_the_projects(path):
    assert nbformat.read(path, as_version=4).metadata.kernelspec.name == config.KERNEL_NAME


def test_notebooks_run_top_to_bottom_with_their_defaults(tmp_path):
    """What an analyst gets in `make lab`: both notebooks run as committed, in order."""
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "data").symlink_to(config.PROJECT_ROOT / "data")
    for name in config.NOTEBOOKS:
        shutil.copy(config.NOTEBOOKS_DIR / name, tmp_path / "notebooks" / name)
        papermill.execute_notebook(
            str(tmp_path / "notebooks" / name), str(tmp_path / f"out-{name}"),
            cwd=str(tmp_path / "notebooks"), kernel_name=config.KERNEL_NAME,
            progress_bar=False, kernel_manager_class=IpcKernelManager)
    # opened by hand, they compute from the evidence and write nothing
    assert not (tmp_path / "reports").exists()
    shown = (tmp_path / f"out-{config.REPORT_NOTEBOOK}").read_text()
    assert "BLOCKED" in shown and "credential" in shown
