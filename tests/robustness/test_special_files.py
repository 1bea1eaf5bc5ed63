"""Files that are not regular files, links that leave their folder, folders the tool cannot
write: each is a one-line error naming the path, in seconds, never a hang or a traceback, and
nothing the tool writes lands under DATA_DIR."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from analysis import pipeline
from tests.conftest import EXAMPLES, tree_digest
from tests.robustness.conftest import TALLY

CLI = str(Path(sys.executable).parent / "latency-gap")
SHADOW = "root:$6$CANARYSHADOWx9Q7zK2mVb:19000:0:99999:7:::\n"


def _run(*args, timeout=60):
    """The real command: a hang fails the test at `timeout` instead of hanging the suite."""
    done = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)
    return done.returncode, done.stderr


def _run_inspect(path):
    done = subprocess.run([CLI, "inspect", str(path)], capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)
    return done.returncode, done.stdout + done.stderr


def _one_line_error(code, err, *fragments):
    assert code == 1, err
    assert "Traceback" not in err and "MemoryError" not in err, err
    line = err.strip().splitlines()[-1]
    assert line.startswith("latency-gap: error:"), err
    for fragment in fragments:
        assert fragment in err, err
    TALLY["bad_inputs"] += 1


@pytest.fixture
def service(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(EXAMPLES / "search-api", data / "search-api")
    return data, data / "search-api"


def test_service_yaml_as_a_fifo_is_named_not_waited_on(service):
    data, folder = service
    (folder / "service.yaml").unlink()
    os.mkfifo(folder / "service.yaml")
    _one_line_error(*_run("preflight", folder), "service.yaml", "FIFO")
    _one_line_error(*_run("report", "search-api", "--data-dir", data, "--reports-dir",
                          folder.parent.parent / "reports"), "FIFO")


def test_resolv_conf_as_a_fifo_is_named(service):
    data, folder = service
    (folder / "k8s" / "resolv.conf").unlink()
    os.mkfifo(folder / "k8s" / "resolv.conf")
    _one_line_error(*_run("preflight", folder), "resolv.conf", "FIFO")
    code, out = _run_inspect(folder)
    assert code == 1 and "resolv.conf: expected a file, found a FIFO" in out


@pytest.mark.parametrize("name", ["service.yaml", "k8s/resolv.conf"])
def test_a_link_to_dev_zero_or_outside_is_refused_without_reading_it(service, tmp_path, name):
    _, folder = service
    shadow = tmp_path / "shadow"
    shadow.write_text(SHADOW)
    for target in ("/dev/zero", shadow):
        (folder / name).unlink()
        (folder / name).symlink_to(target)
        code, err = _run("preflight", folder)
        _one_line_error(code, err, "outside the service folder")
        assert "CANARYSHADOW" not in err and "root:" not in err


def test_preflight_resolv_of_a_device_or_fifo_is_an_error(tmp_path):
    os.mkfifo(tmp_path / "fifo")
    _one_line_error(*_run("preflight", "--sdk", "aws-java-sdk-v1", "--resolv", "/dev/zero"),
                    "/dev/zero", "character device")
    _one_line_error(*_run("preflight", "--sdk", "aws-java-sdk-v1", "--resolv",
                          tmp_path / "fifo"), "FIFO")


def test_symlink_loops_as_data_dir_or_evidence_are_named(service, tmp_path):
    data, folder = service
    (tmp_path / "loop-a").symlink_to(tmp_path / "loop-b")
    (tmp_path / "loop-b").symlink_to(tmp_path / "loop-a")
    _one_line_error(*_run("report", "search-api", "--data-dir", tmp_path / "loop-a",
                          "--reports-dir", tmp_path / "r"), "DATA_DIR", "loop-a")
    _one_line_error(*_run("fleet", "--data-dir", tmp_path / "loop-a", "--reports-dir",
                          tmp_path / "r"), "loop-a")
    (folder / "k8s" / "latency" / "x.log").symlink_to(folder / "k8s" / "latency" / "x.log")
    _one_line_error(*_run("report", "search-api", "--data-dir", data, "--reports-dir",
                          tmp_path / "r"), "x.log")


def test_reports_dir_that_is_a_file_or_has_no_parent_or_cannot_be_written(service, tmp_path):
    data, _ = service
    (tmp_path / "afile").write_text("x")
    for reports, fragment in [(tmp_path / "afile", "is a file"),
                              (tmp_path / "no" / "such" / "parent", "does not exist"),
                              (Path("/proc/latency-gap-reports"), "cannot write")]:
        _one_line_error(*_run("report", "search-api", "--data-dir", data, "--reports-dir",
                              reports), "REPORTS_DIR", fragment)


@pytest.mark.parametrize("name", [".failed", ".staging", "search-api"])
def test_links_under_reports_dir_never_lead_a_write_into_data(service, tmp_path, name):
    """A `.failed` linked into the evidence once received a failed run."""
    data, folder = service
    reports = tmp_path / "reports"
    reports.mkdir()
    (reports / name).symlink_to(folder / "k8s")
    (folder / "k8s" / "latency" / "garbage.log").write_text("not an access log\n" * 5)
    before = tree_digest(data)
    with pytest.raises(Exception) as raised:
        pipeline.report("search-api", data, reports, say=lambda m: None)
    assert "inside DATA_DIR" in str(raised.value) and name in str(raised.value)
    assert tree_digest(data) == before
    TALLY["bad_inputs"] += 1


@pytest.mark.parametrize("kind, name", [("credentials", "creds.json"),
                                        ("latency", "access.jsonl"), ("dig", "dig.txt")])
def test_utf16_evidence_is_named_as_utf16_without_its_secrets(service, kind, name):
    data, folder = service
    text = ('{"Code": "Success", "LastUpdated": "2026-11-24T09:59:12Z", "AccessKeyId": '
            '"ASIACANARYUTF16", "SecretAccessKey": "CANARYUTF16SECRETx9Q7", "Token": '
            '"CANARYUTF16TOKENx9Q7", "Expiration": "2026-11-24T10:14:12Z"}\n')
    for encoding in ("utf-16", "utf-16-le"):  # with and without a byte order mark
        (folder / "k8s" / kind / name).write_bytes(text.encode(encoding))
        for target in (folder / "k8s" / kind / name, folder):
            code, out = _run_inspect(target)
            assert code == 1 and "is UTF-16 text" in out and "iconv" in out, out
            assert "CANARYUTF16" not in out and "ASIACANARY" not in out
        TALLY["bad_inputs"] += 1


@pytest.mark.parametrize("args, fragment", [
    (["--lifetime", "-5"], "expected a duration"),
    (["--lifetime", "0"], "expected a duration above 0"),
    (["--lifetime", "nan"], "expected a duration"),
    (["--rate", "0"], "expected a number above 0"),
    (["--provider", "kiamm"], "invalid choice"),
])
def test_preflight_values_that_cannot_be_true_are_refused(args, fragment, capsys):
    from analysis import cli

    with pytest.raises(SystemExit) as raised:
        cli.main(["preflight", "--sdk", "aws-java-sdk-v1", "--provider", "kiam", *args])
    assert raised.value.code == 2 and fragment in capsys.readouterr().err
    TALLY["bad_inputs"] += 1
