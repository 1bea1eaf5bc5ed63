"""Faults while a report is built: the kernel killed mid-notebook, a cell raising, the disk
full while the report is rendered or published. Each is a clear error naming the service and
the step, the failed run's artifacts are kept aside, and the last good report is intact."""

import errno
import os
import shutil
from html.parser import HTMLParser

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from analysis import config, pipeline
from analysis.errors import NotebookError, PublishError
from tests.conftest import EXAMPLES
from tests.robustness.conftest import TALLY

SERVICE = "payments-api"


@pytest.fixture(scope="module")
def good(tmp_path_factory):
    """One good report that every fault below must leave as it was."""
    reports = tmp_path_factory.mktemp("faults") / "reports"
    pipeline.report(SERVICE, EXAMPLES, reports, say=lambda m: None)
    return reports, (reports / SERVICE / "report.html").read_bytes()


def _readable(html: bytes) -> bool:
    parser = HTMLParser()
    parser.feed(html.decode())
    return b'class="lg-banner"' in html and html.rstrip().endswith(b"</html>")


def _still_good(reports, before):
    after = (reports / SERVICE / "report.html").read_bytes()
    assert after == before and _readable(after)
    assert (reports / SERVICE / "summary.json").is_file()
    assert not list((reports / ".staging").iterdir())


@pytest.fixture
def notebooks_with(tmp_path, monkeypatch):
    """The real notebooks, with one cell added to the comparison notebook."""
    def make(code: str):
        folder = tmp_path / "notebooks"
        shutil.copytree(config.NOTEBOOKS_DIR, folder)
        path = folder / config.REPORT_NOTEBOOK
        nb = nbformat.read(path, as_version=4)
        nb.cells.insert(3, new_code_cell(code))
        nbformat.write(nb, path)
        monkeypatch.setattr(config, "NOTEBOOKS_DIR", folder)
    return make


def test_the_kernel_killed_mid_notebook(good, notebooks_with):
    reports, before = good
    notebooks_with("import os, signal\nos.kill(os.getpid(), signal.SIGKILL)")
    with pytest.raises(NotebookError) as raised:
        pipeline.report(SERVICE, EXAMPLES, reports, say=lambda m: None)
    message = str(raised.value)
    assert SERVICE in message and config.REPORT_NOTEBOOK in message and "died" in message.lower()
    assert (reports / ".failed" / SERVICE / "notebooks" / "01_evidence.ipynb").is_file()
    _still_good(reports, before)
    TALLY["faults"] += 1


def test_a_cell_raising(good, notebooks_with):
    reports, before = good
    notebooks_with("raise RuntimeError('injected fault')")
    with pytest.raises(NotebookError) as raised:
        pipeline.report(SERVICE, EXAMPLES, reports, say=lambda m: None)
    assert "RuntimeError: injected fault" in str(raised.value)
    assert "cell 4" in str(raised.value)  # the injected cell, counted among the notebook's own
    kept = nbformat.read(reports / ".failed" / SERVICE / "notebooks" / config.REPORT_NOTEBOOK, 4)
    assert any("injected fault" in str(c.get("outputs")) for c in kept.cells)
    _still_good(reports, before)
    TALLY["faults"] += 1


def _disk_full(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_the_disk_full_while_rendering(good, monkeypatch):
    reports, before = good
    monkeypatch.setattr(pipeline, "render_html", _disk_full)
    with pytest.raises(PublishError) as raised:
        pipeline.report(SERVICE, EXAMPLES, reports, say=lambda m: None)
    assert "rendering report.html failed" in str(raised.value)
    assert "No space left on device" in str(raised.value)
    assert (reports / ".failed" / SERVICE / "notebooks" / config.REPORT_NOTEBOOK).is_file()
    _still_good(reports, before)
    TALLY["faults"] += 1


def test_the_disk_full_while_publishing(good, monkeypatch):
    """The old report is moved aside, then the new one fails to move in: the old one returns."""
    reports, before = good
    real_replace = os.replace

    def replace(src, dst):
        if ".staging" in str(src):
            _disk_full()
        return real_replace(src, dst)

    monkeypatch.setattr(pipeline.os, "replace", replace)
    with pytest.raises(PublishError) as raised:
        pipeline.report(SERVICE, EXAMPLES, reports, say=lambda m: None)
    monkeypatch.setattr(pipeline.os, "replace", real_replace)
    assert "publishing failed" in str(raised.value)
    assert not list(reports.glob(f".{SERVICE}.old-*")), "the old report was put back"
    _still_good(reports, before)
    TALLY["faults"] += 1


def test_the_cli_says_it_in_one_line_and_exits_non_zero(good, monkeypatch, capsys):
    from analysis import cli

    reports, before = good
    monkeypatch.setattr(pipeline, "render_html", _disk_full)
    code = cli.main(["report", SERVICE, "--data-dir", str(EXAMPLES), "--reports-dir",
                     str(reports)])
    err = capsys.readouterr().err
    assert code == 1
    assert "latency-gap: error: service 'payments-api': rendering report.html failed" in err
    assert "Traceback" not in err
    _still_good(reports, before)
    TALLY["faults"] += 1
