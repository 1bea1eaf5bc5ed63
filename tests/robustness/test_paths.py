"""SERVICE, DATA_DIR and REPORTS_DIR values that lead out of their folder are refused before
anything is read or written."""

import shutil

import pytest

from analysis import cli
from tests.conftest import EXAMPLES
from tests.robustness.conftest import TALLY


def _report(service, data, reports):
    return cli.main(["report", service, "--data-dir", str(data), "--reports-dir", str(reports)])


@pytest.mark.parametrize("service", ["../search-api", "/etc", "a/b", "..", ".", "", "~root", "x;y",
                                     "search-api/../../x"])
def test_a_service_name_that_is_not_a_plain_folder_name_is_refused(service, tmp_path, capsys):
    assert _report(service, EXAMPLES, tmp_path) == 1
    assert "plain folder name" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
    TALLY["bad_inputs"] += 1


def test_a_service_folder_linked_outside_the_data_dir_is_refused(tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    (data / "search-api").symlink_to(EXAMPLES / "search-api")
    assert _report("search-api", data, tmp_path / "reports") == 1
    assert "outside the data directory" in capsys.readouterr().err
    TALLY["bad_inputs"] += 1


def test_an_evidence_file_linked_outside_the_service_is_refused(tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(EXAMPLES / "search-api", data / "search-api")
    secret = tmp_path / "elsewhere.log"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    (data / "search-api" / "k8s" / "latency" / "more.log").symlink_to(secret)
    assert _report("search-api", data, tmp_path / "reports") == 1
    err = capsys.readouterr().err
    assert "more.log" in err and "outside the service folder" in err and "root:x" not in err
    TALLY["bad_inputs"] += 1


@pytest.mark.parametrize("layout", ["reports inside data", "data inside reports", "same"])
@pytest.mark.parametrize("command", ["report", "fleet"])
def test_reports_and_data_must_be_separate_folders(layout, command, tmp_path, capsys):
    data = tmp_path / "data"
    shutil.copytree(EXAMPLES / "payments-api", data / "payments-api")
    reports = {"reports inside data": data / "reports", "same": data,
               "data inside reports": tmp_path}[layout]
    args = ["--data-dir", str(data), "--reports-dir", str(reports)]
    code = cli.main(["report", "payments-api", *args] if command == "report" else
                    ["fleet", *args])
    assert code == 1 and "must be separate folders" in capsys.readouterr().err
    assert sorted(p.name for p in data.iterdir()) == ["payments-api"]
    TALLY["bad_inputs"] += 1
