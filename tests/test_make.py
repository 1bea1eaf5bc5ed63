"""The Makefile is the front door: its targets really run."""

import json
import os
import shutil
import subprocess
import sys

import pytest

from analysis import config


def make(*args, **env):
    environment = {k: v for k, v in os.environ.items()
                   if k not in ("DATA_DIR", "REPORTS_DIR", "SERVICE", "MAKEFLAGS")}
    environment.update(env)
    return subprocess.run(["make", "--no-print-directory", *args], cwd=config.PROJECT_ROOT,
                          capture_output=True, text=True, env=environment, timeout=300)


RECORDER = """#!{python}
import json, os, sys
with open(os.environ["LG_RECORD"], "a") as out:
    out.write(json.dumps({{"argv": sys.argv[1:], "addopts": os.environ.get("PYTEST_ADDOPTS")}})
              + "\\n")
"""


def recording_venv(folder, installed=True):
    """A venv (VENV=) whose latency-gap, python and ruff record how they were called in
    $LG_RECORD: recipes run in milliseconds, and the test sees the exact argument list."""
    (folder / "bin").mkdir(parents=True)
    for program in ("latency-gap", "python", "ruff"):
        path = folder / "bin" / program
        path.write_text(RECORDER.format(python=sys.executable))
        path.chmod(0o755)
    if installed:
        (folder / ".installed").touch()  # newer than pyproject.toml: setup has nothing to do
    return folder


def recorded(record):
    """The calls a recording venv saw, in order."""
    return [json.loads(line) for line in record.read_text().splitlines()] \
        if record.exists() else []


def test_help_is_the_default_and_documents_the_targets():
    out = make().stdout
    for target in ("setup", "report", "test", "lab", "clean"):
        assert f"make {target}" in out


def test_setup_does_nothing_when_the_venv_is_up_to_date():
    assert make("--question", "setup").returncode == 0


@pytest.mark.parametrize("service", ["", "../x", "a/b"])
def test_report_refuses_a_service_that_is_not_a_plain_folder_name(service):
    run = make("report", f"SERVICE={service}")
    assert run.returncode != 0
    assert "plain folder name" in run.stderr


def test_report_for_an_unknown_service_lists_the_known_ones():
    run = make("report", "SERVICE=nope")
    assert run.returncode != 0
    assert "no service 'nope'" in run.stderr and "listings-api" in run.stderr


def test_report_honours_reports_dir(tmp_path):
    run = make("report", "SERVICE=listings-api", f"REPORTS_DIR={tmp_path}")
    assert run.returncode == 0, run.stderr
    summary = json.loads((tmp_path / "listings-api" / "summary.json").read_text())
    assert summary["verdict"]["cause"] == "dns"
    assert (tmp_path / "listings-api" / "report.html").is_file()


def test_setup_registers_the_projects_kernel_for_lab_and_papermill():
    run = subprocess.run([str(config.PROJECT_ROOT / ".venv" / "bin" / "jupyter"), "kernelspec",
                          "list", "--json"], capture_output=True, text=True, check=True)
    spec = json.loads(run.stdout)["kernelspecs"][config.KERNEL_NAME]
    assert spec["spec"]["argv"][0].startswith(str(config.PROJECT_ROOT / ".venv"))


@pytest.mark.parametrize(("variables", "flag"), [(["CODE=1"], "--code"), (["FORMAT=pdf"], "--pdf")])
def test_report_variables_reach_the_command(variables, flag):
    run = make("--dry-run", "report", "SERVICE=search-api", *variables)
    assert flag in run.stdout
    assert flag not in make("--dry-run", "report", "SERVICE=search-api").stdout


def test_fleet_variables_reach_the_command(tmp_path):
    venv, record = recording_venv(tmp_path / "venv"), tmp_path / "calls.jsonl"
    run = make("fleet", f"VENV={venv}", "SERVICES=a,b", "JOBS=3", "EXECUTOR=dask",
               "SCHEDULER=tcp://127.0.0.1:8786", "GATE=1", "FORCE=1", LG_RECORD=str(record))
    assert run.returncode == 0, run.stderr
    assert recorded(record)[0]["argv"] == [
        "fleet", "--services", "a,b", "--jobs", "3", "--executor", "dask", "--scheduler",
        "tcp://127.0.0.1:8786", "--gate", "--force"]


def test_report_what_if_reaches_the_command_as_data(tmp_path):
    """SET='KEY=VALUE ...' becomes one --set per word; nothing in it is run by make or the
    shell."""
    venv, record = recording_venv(tmp_path / "venv"), tmp_path / "calls.jsonl"
    marker = tmp_path / "ran"
    run = make("report", f"VENV={venv}", "SERVICE=search-api",
               f"SET=budget.p99_ms=100 dns.names=$(shell touch {marker}) x=`touch {marker}` *",
               LG_RECORD=str(record))
    assert run.returncode == 0, run.stderr
    assert recorded(record)[0]["argv"] == [
        "report", "search-api", "--set=budget.p99_ms=100", "--set=dns.names=$(shell",
        "--set=touch", f"--set={marker})", "--set=x=`touch", f"--set={marker}`", "--set=*"]
    assert not marker.exists()
    make("report", f"VENV={venv}", "SERVICE=search-api", LG_RECORD=str(record))
    assert recorded(record)[1]["argv"] == ["report", "search-api"]


def test_a_bad_service_yaml_stops_make_report_naming_file_and_line(tmp_path):
    folder = tmp_path / "data" / "bad-api"
    shutil.copytree(config.PROJECT_ROOT / "data" / "payments-api", folder)
    (folder / "service.yaml").write_text("name: bad-api\nsdk: aws-java-sdk-v1\nsdk: botocore\n")
    run = make("report", "SERVICE=bad-api", f"DATA_DIR={tmp_path / 'data'}",
               f"REPORTS_DIR={tmp_path / 'reports'}")
    assert run.returncode != 0
    assert f"{folder / 'service.yaml'}, line 3: sdk is given twice" in run.stderr
    assert "running 01_evidence" not in run.stderr and "cell" not in run.stderr
