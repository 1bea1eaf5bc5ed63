"""End to end: papermill and nbconvert really run, into a temporary REPORTS_DIR."""

import json
import re
import shutil
from pathlib import Path

import pytest

from analysis import cli, config, pipeline, result
from analysis.errors import ConfigError, EvidenceError
from tests.conftest import EXAMPLES, tree_digest

SUMMARY_KEYS = {"service", "baseline", "candidate", "latency_ms", "gap_ms", "attribution_ms",
                "verdict", "findings", "inputs"}


def _secrets_in(folder):
    pattern = re.compile(r'"(?:SecretAccessKey|Token)"\s*:\s*"([^"]+)"')
    return {m for p in folder.rglob("*.json") for m in pattern.findall(p.read_text())}


def test_report_and_summary_are_published(search_report):
    result, reports, messages, _ = search_report
    folder = reports / "search-api"
    assert result.folder == folder
    assert {p.name for p in folder.iterdir()} >= {"report.html", "summary.json", "notebooks",
                                                  "tables"}
    summary = json.loads((folder / "summary.json").read_text())
    assert SUMMARY_KEYS <= set(summary)
    assert summary["verdict"]["cause"] == "credential_refresh"
    assert summary["inputs"]["ec2"]["latency"]["files"] == 2
    assert set(summary["gap_ms"]["p50"]) == {"value", "ci95"}
    assert not list(reports.glob(".staging/*")), "staging folders are cleaned up"


def test_the_user_sees_each_step_and_the_total_time(search_report):
    _, _, messages, _ = search_report
    assert any("running 01_evidence.ipynb" in m for m in messages)
    assert any("rendering report.html" in m for m in messages)
    assert re.search(r"total \d+\.\d s", messages[-1])


def test_report_is_self_contained_with_code_hidden(search_report):
    _, reports, _, _ = search_report
    html = (reports / "search-api" / "report.html").read_text()
    assert "<script src" not in html
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)
    assert "data:image/svg+xml;base64," in html
    assert 'jp-InputArea-editor"' not in html
    assert "search-api: BLOCKED" in html


def test_code_can_be_kept_for_analysts(search_report, tmp_path):
    _, reports, _, _ = search_report
    executed = reports / "search-api" / "notebooks" / config.REPORT_NOTEBOOK
    html = pipeline.render_html(executed, tmp_path / "r.html", "t", code=True).read_text()
    assert 'jp-InputArea-editor"' in html


def test_no_secret_reaches_any_output(search_report):
    _, reports, _, _ = search_report
    secrets = _secrets_in(EXAMPLES / "search-api")
    assert len(secrets) >= 4
    for path in (p for p in reports.rglob("*") if p.is_file()):
        content = path.read_bytes()
        assert not any(s.encode() in content for s in secrets), path


def test_evidence_is_not_modified(search_report):
    *_, before = search_report
    assert tree_digest(EXAMPLES / "search-api") == before


def test_summary_json_is_the_verdict_commands_summary(search_report, capsys):
    """summary.json is written by the library from the result the notebooks present; the
    verdict command, with no kernel, gives the same content."""
    _, reports, _, _ = search_report
    folder = reports / "search-api"
    assert not (folder / result.STATE_FILE).exists(), "the pickle the notebooks load is published"
    assert (folder / "tables" / "latency.parquet").is_file()
    published = json.loads((folder / "summary.json").read_text())
    assert cli.main(["verdict", "search-api", "--data-dir", str(EXAMPLES), "--json"]) == 2
    verdict = json.loads(capsys.readouterr().out)
    for key in ("verdict", "gap_ms", "attribution_ms"):
        assert verdict[key] == published[key], key
    assert verdict == published
    assert published["what_if"] == {}


def test_an_unknown_override_fails_before_any_kernel_starts(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "_run_notebooks", _no_kernel)
    with pytest.raises(ConfigError, match="--set no.such.key: unknown key"):
        pipeline.report("payments-api", EXAMPLES, tmp_path, overrides={"no.such.key": 1})
    assert not (tmp_path / ".staging").exists() or not any((tmp_path / ".staging").iterdir())


def _no_kernel(*args, **kwargs):
    raise AssertionError("a kernel was started")


def test_a_bad_service_yaml_fails_the_report_command_before_any_kernel(
        example_copy, tmp_path, monkeypatch, capsys):
    folder = example_copy("payments-api")
    (folder / "service.yaml").write_text("name: payments-api\nbudget:\n  p50_ms: fast\n")
    monkeypatch.setattr(pipeline, "_run_notebooks", _no_kernel)
    code = cli.main(["report", "payments-api", "--data-dir", str(folder.parent),
                     "--reports-dir", str(tmp_path / "reports")])
    err = capsys.readouterr().err
    assert code == 1
    assert f"{folder / 'service.yaml'}, line 3: budget.p50_ms: expected a number" in err
    assert "cell" not in err and "notebook" not in err


def test_bad_evidence_fails_before_any_kernel_naming_the_file(example_copy, tmp_path,
                                                              monkeypatch):
    folder = example_copy("payments-api")
    (folder / "k8s" / "latency" / "garbage.log").write_text("this is not an access log\n" * 5)
    monkeypatch.setattr(pipeline, "_run_notebooks", _no_kernel)
    with pytest.raises(EvidenceError, match="garbage.log.*not a known latency format"):
        pipeline.report("payments-api", folder.parent, tmp_path / "r", say=lambda m: None)


def test_missing_environment_is_named_before_any_kernel_starts(example_copy, tmp_path):
    folder = example_copy("listings-api")
    shutil.rmtree(folder / "k8s")
    with pytest.raises(EvidenceError, match="environment folder 'k8s' is missing"):
        pipeline.report("listings-api", folder.parent, tmp_path / "r", say=lambda m: None)
    assert not (tmp_path / "r").exists()


def test_one_kernel_runs_the_notebooks_and_forgets_variables_between_them():
    """The pipeline reuses one kernel; a reset between notebooks keeps them independent."""
    from jupyter_core.utils import run_sync
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from nbformat.v4 import new_code_cell, new_notebook

    km = pipeline.IpcKernelManager(kernel_name=config.KERNEL_NAME)
    run_sync(km.start_kernel)()
    try:
        NotebookClient(new_notebook(cells=[new_code_cell("left_over = 1")]), km=km).execute()
        pipeline._reset_kernel(km)
        with pytest.raises(CellExecutionError, match="left_over"):
            NotebookClient(new_notebook(cells=[new_code_cell("left_over")]), km=km).execute()
    finally:
        run_sync(km.shutdown_kernel)(now=True)
    assert not list(Path.cwd().glob("kernel-ipc*")), "IPC sockets belong in Jupyter's runtime dir"
