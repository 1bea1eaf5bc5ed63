"""The collector records collection problems and never dies of them: a role name with a
space or other characters a URL cannot hold is quoted and fetched, and what still cannot be
requested (a bad endpoint or --url) is a line in collector.log and a status-0 call."""

import json

import pytest

from collector import collect
from collector.emulator import ImdsEmulator
from tests.robustness.conftest import TALLY

ROLES = ["latency gap role", "role/../../user-data", "role?x=1#frag", "role%20x",
         "role,with,commas", "r\u00f4le"]


def _collect(out, endpoint, *extra):
    resolv = out.parent / "resolv.conf"
    resolv.write_text("nameserver 127.0.0.1\n")
    return collect.main(["--env", "k8s", "--out", str(out), "--duration", "0.5", "--interval",
                         "0.2", "--resolv-conf", str(resolv), "--metadata-endpoint", endpoint,
                         "--metadata-timeout", "0.5", "--quiet", *extra])


@pytest.mark.parametrize("role", ROLES)
def test_a_role_name_a_url_cannot_hold_is_quoted_and_fetched(tmp_path, role):
    with ImdsEmulator(lifetime_s=900, role=role) as endpoint:
        assert _collect(tmp_path / "out", endpoint.endpoint) == 0
        assert endpoint.counts["credentials"] >= 2 and endpoint.counts["other"] == 0
    folder = tmp_path / "out" / "k8s"
    docs = next((folder / "credentials").iterdir()).read_text().splitlines()
    assert docs and all(json.loads(d)["Code"] == "Success" for d in docs)
    calls = next((folder / "metadata").iterdir()).read_text().splitlines()
    assert all(len(line.split(",")) == 5 for line in calls), "the CSV keeps five fields"
    assert "not URL-safe" in (folder / "collector.log").read_text()
    TALLY["bad_inputs"] += 1


@pytest.mark.parametrize(("option", "value"), [
    ("--metadata-endpoint", "http://[127.0.0.1"),        # an unclosed IPv6 bracket
    ("--metadata-endpoint", "metadata.internal"),        # no scheme
    ("--url", "http://127.0.0.1:1/health check"),        # a space
    ("--url", "ftp\x00://x"),
])
def test_what_cannot_be_requested_is_recorded_not_fatal(tmp_path, option, value):
    with ImdsEmulator(lifetime_s=900) as endpoint:
        extra = [option, value] if option == "--url" else []
        chosen = value if option == "--metadata-endpoint" else endpoint.endpoint
        assert _collect(tmp_path / "out", chosen, *extra) == 0
    log = (tmp_path / "out" / "k8s" / "collector.log").read_text()
    assert "no answer after" in log and "done:" in log
    if option == "--url":
        rows = next((tmp_path / "out" / "k8s" / "latency").iterdir()).read_text().splitlines()
        assert rows[1:] and all(r.endswith(",0") for r in rows[1:])
    else:
        rows = next((tmp_path / "out" / "k8s" / "metadata").iterdir()).read_text().splitlines()
        assert rows[1:] and all(r.split(",")[3] == "0" for r in rows[1:])
    TALLY["bad_inputs"] += 1
