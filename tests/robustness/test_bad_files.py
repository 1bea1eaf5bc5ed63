"""Bad evidence files: each is a clear error naming the file, a non-zero exit, and the last
good report stays as it was. Mixed line endings are not an error: every line is read."""

import gzip
import json
import os
import shutil

import pytest

from analysis import cli, pipeline
from tests.conftest import EXAMPLES
from tests.robustness.conftest import TALLY

SERVICE = "search-api"


@pytest.fixture(scope="module")
def good_report(tmp_path_factory):
    """An earlier good report that every bad run must leave untouched."""
    reports = tmp_path_factory.mktemp("reports")
    pipeline.report(SERVICE, EXAMPLES, reports, say=lambda m: None)
    return reports, (reports / SERVICE / "report.html").read_bytes()


def _k8s_log(folder):
    return folder / "k8s" / "latency" / "ingress-nginx.log"


def _alb_gz(folder):
    return next((folder / "ec2" / "latency").iterdir())


def _empty(folder):
    _k8s_log(folder).write_text("")
    return _k8s_log(folder), "is empty"


def _binary(folder):
    _k8s_log(folder).write_bytes(os.urandom(300_000))
    return _k8s_log(folder), "not a known latency format"


def _truncated_gzip(folder):
    data = _alb_gz(folder).read_bytes()
    _alb_gz(folder).write_bytes(data[: len(data) // 2])
    return _alb_gz(folder), "cannot be read"


def _not_gzip_after_all(folder):
    target = folder / "k8s" / "latency" / "more.log.gz"
    target.write_bytes(b"\x1f\x8b" + os.urandom(5000))
    return target, "cannot be read"


def _wrong_format(folder):
    shutil.copy(folder / "k8s" / "dig" / "dig.txt", _k8s_log(folder))
    return _k8s_log(folder), "not a known latency format"


def _line_without_newline(folder):
    target = folder / "k8s" / "latency" / "dump.log"
    with open(target, "wb") as out:
        out.write(_k8s_log(folder).read_bytes()[:5000])
        for _ in range(100):
            out.write(b"x" * (1 << 20))  # 100 MB without a newline
    return target, "longer than 4 MB"


def _directory_for_a_file(folder):
    target = folder / "k8s" / "latency" / "rotated.log"
    target.mkdir()
    return target, "is a directory"


def _resolv_conf_directory(folder):
    target = folder / "k8s" / "resolv.conf"
    target.unlink()
    target.mkdir()
    return target, "expected a file"


def _kind_folder_is_a_file(folder):
    target = folder / "k8s" / "dig"
    shutil.rmtree(target)
    target.write_text(";; Query time: 3 msec\n")
    return target, "expected a folder of dig files"


def _mostly_garbage(folder):
    lines = _k8s_log(folder).read_text().splitlines()
    _k8s_log(folder).write_text("\n".join(lines[:30] + ["garbage"] * 200) + "\n")
    return _k8s_log(folder), "could not be parsed as ingress-nginx"


CASES = [_empty, _binary, _truncated_gzip, _not_gzip_after_all, _wrong_format,
         _line_without_newline, _directory_for_a_file, _resolv_conf_directory,
         _kind_folder_is_a_file, _mostly_garbage]


@pytest.mark.parametrize("damage", CASES, ids=[c.__name__.strip("_") for c in CASES])
def test_bad_evidence_is_a_named_error_and_the_good_report_stays(damage, good_report,
                                                                  tmp_path, capsys):
    reports, before = good_report
    data = tmp_path / "data"
    shutil.copytree(EXAMPLES / SERVICE, data / SERVICE)
    path, expected = damage(data / SERVICE)
    code = cli.main(["report", SERVICE, "--data-dir", str(data), "--reports-dir", str(reports)])
    err = capsys.readouterr().err
    assert code != 0
    assert str(path) in err and expected in err, err
    assert (reports / SERVICE / "report.html").read_bytes() == before
    TALLY["bad_inputs"] += 1


def test_mixed_line_endings_lose_no_line(tmp_path):
    data = tmp_path / "data"
    shutil.copytree(EXAMPLES / SERVICE, data / SERVICE)
    log = _k8s_log(data / SERVICE)
    lines = log.read_text().splitlines()
    log.write_bytes(b"".join(line.encode() + (b"\r\n" if i % 3 else b"\n")
                             for i, line in enumerate(lines)))
    gz = _alb_gz(data / SERVICE)
    text = gzip.decompress(gz.read_bytes()).decode().splitlines()
    gz.write_bytes(gzip.compress("\r\n".join(text).encode() + b"\r\n"))
    result = pipeline.report(SERVICE, data, tmp_path / "reports", say=lambda m: None)
    inputs = json.loads((result.folder / "summary.json").read_text())["inputs"]
    assert inputs["k8s"]["latency"]["lines"] == len(lines)
    assert inputs["k8s"]["latency"]["rejected"] == 0 and inputs["ec2"]["latency"]["rejected"] == 0
