"""Canary secrets planted in every credential variant never reach any file of a report."""

import shutil

from analysis import pipeline
from tests.conftest import FIXTURES

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


def test_canaries_reach_no_file_under_reports(example_copy, tmp_path):
    folder = example_copy("search-api")
    _plant(folder / "k8s" / "credentials")
    reports = tmp_path / "reports"
    pipeline.build_report("search-api", folder.parent, reports, say=lambda m: None)
    scanned = [p for p in reports.rglob("*") if p.is_file()]
    assert len(scanned) >= 10
    html = (reports / "search-api" / "report.html").read_text()
    assert "canary-mixed.jsonl" in html  # the rejected line is shown...
    for path in scanned:
        content = path.read_bytes()
        assert CANARY_SECRET.encode() not in content, path  # ...without its secret
        assert CANARY_TOKEN.encode() not in content, path
