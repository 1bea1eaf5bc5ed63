import pytest

from analysis.errors import EvidenceError
from analysis.ingest.resolv import parse_resolv_conf


def test_pod_resolv_conf(fixture_path):
    conf = parse_resolv_conf(fixture_path("resolv-k8s.conf"))
    assert conf.nameservers == ("172.20.0.10",)
    assert len(conf.search) == 4 and conf.search[0] == "search.svc.cluster.local"
    assert (conf.ndots, conf.timeout_s, conf.attempts, conf.lines) == (5, 2, 2, 4)
    assert conf.flags == {"single-request-reopen"}


def test_unknown_option_names_file_and_line(tmp_path):
    path = tmp_path / "resolv.conf"
    path.write_text("nameserver 10.0.0.2\noptions ndots:many\n")
    with pytest.raises(EvidenceError, match=r"resolv.conf:2: unknown resolver option"):
        parse_resolv_conf(path)
