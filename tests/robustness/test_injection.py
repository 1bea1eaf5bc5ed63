"""Markup and quote-breaking strings from evidence, file names, service.yaml and folder names
show as text in report.html and index.html: no element, attribute or script comes from them."""

import shutil
from html.parser import HTMLParser

import pytest

from analysis import fleet, pipeline
from tests.conftest import EXAMPLES
from tests.robustness.conftest import TALLY

PAYLOADS = ['<script>alert("lg")</script>', "\"'><svg onload=alert('lg')>",
            "<img src=x onerror=alert('lg')>"]
BAD_FOLDER = 'x"><img src=y onerror=alert(1)>'  # a folder name cannot hold a "/"


class Elements(HTMLParser):
    """Every attribute of a page, and the text of its scripts."""

    def __init__(self):
        super().__init__()
        self.attributes, self.scripts, self._in_script = [], [], False

    def handle_starttag(self, tag, attrs):
        self.attributes += [name for name, _ in attrs]
        self._in_script = tag == "script"

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)
            self._in_script = False


def _planted(root):
    data = root / "data"
    shutil.copytree(EXAMPLES / "search-api", data / "search-api")
    folder = data / "search-api"
    yaml = (folder / "service.yaml").read_text()
    (folder / "service.yaml").write_text(
        yaml.replace("name: search-api", f"name: 'search-api {PAYLOADS[0]}'"))
    log = folder / "k8s" / "latency" / "ingress-nginx.log"
    lines = [f'10.0.3.9 - - [24/Nov/2026:10:30:0{i} +0000] "GET /{p} HTTP/1.1" 200 1 "-" '
             f'"{p}" broken' for i, p in enumerate(PAYLOADS)]
    log.write_text(log.read_text() + "\n".join(lines) + "\n")
    dig = folder / "k8s" / "dig"
    (dig / f"{PAYLOADS[2]}.txt").write_text((dig / "dig.txt").read_text())
    shutil.copytree(EXAMPLES / "payments-api", data / BAD_FOLDER)
    return data


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    root = tmp_path_factory.mktemp("injection")
    data, reports = _planted(root), root / "reports"
    pipeline.report("search-api", data, reports, say=lambda m: None)
    report = (reports / "search-api" / "report.html").read_text()
    said = []
    fleet.fleet(data, reports, say=said.append, progress=False)
    # the unusable folder is reported as failed, not counted as unchanged
    assert any(": 2 services: 1 ok, 0 unchanged, 1 failed" in line for line in said), said
    return report, (reports / "index.html").read_text()


@pytest.mark.parametrize("page", ["report", "index"])
def test_no_payload_becomes_markup(pages, page):
    html = pages[0] if page == "report" else pages[1]
    parsed = Elements()
    parsed.feed(html)
    assert not {"onload", "onerror"} & set(parsed.attributes)
    assert not [s for s in parsed.scripts if "alert" in s]
    for payload in PAYLOADS:
        assert payload not in html
    TALLY["injections"] += len(PAYLOADS)


def test_the_payloads_are_shown_as_text(pages):
    report, index = pages
    # pandas escapes < > &, html.escape quotes as well: both keep the text out of the markup
    assert '"GET /&lt;script&gt;alert(' in report                    # a rejected log line
    assert "search-api &lt;script&gt;alert(" in report               # service.yaml's name
    assert "k8s/dig/&lt;img src=x onerror=alert(" in report          # an evidence file name
    assert "x&quot;&gt;&lt;img src=y onerror=alert(1)&gt;" in index   # a folder name
    assert "not a usable service folder" in index
