"""Publishing survives crashes and company: a run SIGKILLed between the two renames loses no
report, two runs of one service publish one after the other, staging folders of killed runs
are removed, and an error says where the last good report is, truthfully."""

import errno
import os
import shutil
import signal
import subprocess
import sys
import threading

import pytest
from filelock import FileLock

from analysis import config, pipeline, publishing
from analysis.errors import ConfigError, PublishError
from tests.conftest import EXAMPLES, tree_digest
from tests.robustness.conftest import TALLY

SERVICE = "payments-api"


@pytest.fixture(scope="module")
def built_once(tmp_path_factory):
    """One good report, copied by each test that needs a REPORTS_DIR holding it."""
    reports = tmp_path_factory.mktemp("publishing") / "reports"
    pipeline.report(SERVICE, EXAMPLES, reports, say=lambda m: None)
    return reports


@pytest.fixture
def reports(built_once, tmp_path):
    target = tmp_path / "reports"
    shutil.copytree(built_once, target)
    return target


def _new_report(reports, tag):
    """A finished report in a staging folder, told apart from the published one by a file."""
    built = reports / publishing.STAGING / f"{SERVICE}-{tag}" / SERVICE
    shutil.copytree(reports / SERVICE, built)
    (built / "tag").write_text(tag)
    return built


def _next_start_fails_early(reports):
    """The next `make report` of the service, failing on a bad --set before any kernel;
    returns what it said."""
    said = []
    with pytest.raises(ConfigError):
        pipeline.report(SERVICE, EXAMPLES, reports, overrides={"nope": 1},
                              say=said.append)
    return said


KILLED_BETWEEN_RENAMES = """
import os, signal, sys
from pathlib import Path
from analysis import publishing

real = os.replace
def replace(src, dst):
    if ".staging" in str(src):  # the old report is aside, the new one not yet in
        os.kill(os.getpid(), signal.SIGKILL)
    return real(src, dst)
os.replace = replace
publishing.publish(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])
"""


def test_a_run_killed_between_the_renames_gets_its_report_back(reports):
    before = tree_digest(reports / SERVICE)
    built = _new_report(reports, "killed")
    run = subprocess.run([sys.executable, "-c", KILLED_BETWEEN_RENAMES, str(built),
                          str(reports), SERVICE], cwd=config.PROJECT_ROOT, timeout=120)
    assert run.returncode == -signal.SIGKILL
    assert not (reports / SERVICE).exists() and publishing.leftovers(reports, SERVICE)
    said = _next_start_fails_early(reports)
    assert tree_digest(reports / SERVICE) == before, "the last good report is back, intact"
    assert not publishing.leftovers(reports, SERVICE)
    assert any("put back the last good report" in m for m in said), said
    assert not list((reports / publishing.STAGING).iterdir()), "the killed run's staging"
    TALLY["faults"] += 1


def test_a_leftover_beside_a_good_report_is_removed(reports):
    before = tree_digest(reports / SERVICE)
    shutil.copytree(reports / SERVICE, reports / f".{SERVICE}.old-0123abcd")
    _next_start_fails_early(reports)
    assert tree_digest(reports / SERVICE) == before
    assert not publishing.leftovers(reports, SERVICE)
    TALLY["faults"] += 1


def test_staging_folders_no_live_run_owns_are_removed(reports):
    staging = reports / publishing.STAGING
    (staging / f"{SERVICE}-deadbeef" / SERVICE).mkdir(parents=True)  # a killed run's
    (staging / "search-api-0badc0de.lock").touch()                   # killed before mkdir
    live = FileLock(staging / "search-api-c0ffee00.lock", timeout=0)
    live.acquire()
    try:
        (staging / "search-api-c0ffee00" / "search-api").mkdir(parents=True)
        _next_start_fails_early(reports)
        assert sorted(p.name for p in staging.iterdir()) == ["search-api-c0ffee00",
                                                              "search-api-c0ffee00.lock"]
    finally:
        live.release()
    TALLY["faults"] += 1


def test_two_runs_of_one_service_publish_one_after_the_other(reports, monkeypatch):
    """Each run holds still for a while with the old report moved aside; without the
    service's lock the other run moves in meanwhile ("Directory not empty") or finds no report
    to move aside. With it, the other waits: the pause ends by a timeout and both publish."""
    aside = threading.Barrier(2, timeout=3)  # never complete: the second run is waiting
    real = os.replace

    def replace(src, dst):
        moved = real(src, dst)
        if ".old-" in str(dst):
            try:
                aside.wait()
            except threading.BrokenBarrierError:
                pass
        return moved

    monkeypatch.setattr(publishing.os, "replace", replace)
    failures = []

    def publish(built):
        try:
            publishing.publish(built, reports, SERVICE)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            failures.append(exc)

    runs = [threading.Thread(target=publish, args=(_new_report(reports, tag),))
            for tag in ("one", "two")]
    for run in runs:
        run.start()
    for run in runs:
        run.join(timeout=60)
    assert failures == []
    assert (reports / SERVICE / "tag").read_text() in ("one", "two")
    assert (reports / SERVICE / "report.html").is_file()
    assert not publishing.leftovers(reports, SERVICE)
    TALLY["faults"] += 1


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_when_the_old_report_cannot_be_put_back_the_error_says_where_it_is(reports,
                                                                            monkeypatch):
    before = tree_digest(reports / SERVICE)
    real = os.replace

    def replace(src, dst):
        if ".staging" in str(src) or ".old-" in str(src):  # the new one in, the old one back
            _disk_full()
        return real(src, dst)

    monkeypatch.setattr(publishing.os, "replace", replace)
    with pytest.raises(PublishError) as raised:
        pipeline.report(SERVICE, EXAMPLES, reports, say=lambda m: None)
    monkeypatch.setattr(publishing.os, "replace", real)
    message = str(raised.value)
    aside = publishing.leftovers(reports, SERVICE)
    assert "publishing failed" in message and "not touched" not in message
    assert f"the last good report is in {aside[0]}" in message
    _next_start_fails_early(reports)
    assert tree_digest(reports / SERVICE) == before
    TALLY["faults"] += 1


def test_with_no_earlier_report_the_error_does_not_claim_one(tmp_path, monkeypatch):
    monkeypatch.setattr(pipeline, "render_html", _disk_full)
    with pytest.raises(PublishError) as raised:
        pipeline.report(SERVICE, EXAMPLES, tmp_path / "reports", say=lambda m: None)
    message = str(raised.value)
    assert "there was no earlier report" in message and "not touched" not in message
    TALLY["faults"] += 1
