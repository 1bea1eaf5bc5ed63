"""What comes from evidence is safe in a report: canary secrets planted in every credential
variant reach no file, and markup from a log line shows as text."""

import shutil

import pytest

from analysis import pipeline
from tests.conftest import EXAMPLES, FIXTURES

CANARY_SECRET = "CANARYSECRETdoNotLeak"
CANARY_TOKEN = "CANARYTOKENdoNotLeak"


def _plant(credentials_dir):
    for name in ("credentials-concatenated.json", "credentials-curl-i.txt",
                 "credentials.jsonl"):
        shutil.copy(FIXTURES / name, credentials_dir / f"canary-{name}")
    # a broken document among good ones: rejected, and shown in the report without its secret
    good = (FIXTURES / "credentials.jsonl").read_text().splitlines()[0]
    broken = '{"Code":"Success","SecretAccessKey":"' + CANARY_SECRET + 'Z","Token":"' + \
        CANARY_TOKEN + 'Z"'
    (credentials_dir / "canary-mixed.jsonl").write_text("\n".join([good] * 40 + [broken]) + "\n")


INJECTED = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture(scope="module")
def planted_report(tmp_path_factory):
    root = tmp_path_factory.mktemp("planted")
    folder = root / "data" / "search-api"
    shutil.copytree(EXAMPLES / "search-api", folder)
    _plant(folder / "k8s" / "credentials")
    log = folder / "k8s" / "latency" / "ingress-nginx.log"
    log.write_text(log.read_text() + f'10.0.3.9 - - [24/Nov/2026:10:30:00 +0000] "GET /{INJECTED} '
                   'HTTP/1.1" 200 1 "-" "' + INJECTED + '" broken\n')
    reports = root / "reports"
    pipeline.build_report("search-api", folder.parent, reports, say=lambda m: None)
    return reports


def test_markup_from_a_log_line_shows_as_text(planted_report):
    html = (planted_report / "search-api" / "report.html").read_text()
    assert "does not match the ingress-nginx format" in html  # the line is shown, rejected
    assert INJECTED not in html and "<script>alert" not in html
    assert "&lt;script&gt;alert(" in html


def test_canaries_reach_no_file_under_reports(planted_report):
    reports = planted_report
    scanned = [p for p in reports.rglob("*") if p.is_file()]
    assert len(scanned) >= 10
    html = (reports / "search-api" / "report.html").read_text()
    assert "canary-mixed.jsonl" in html  # the rejected line is shown...
    for path in scanned:
        content = path.read_bytes()
        assert CANARY_SECRET.encode() not in content, path  # ...without its secret
        assert CANARY_TOKEN.encode() not in content, path
