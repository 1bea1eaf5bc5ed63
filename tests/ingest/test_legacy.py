"""Formats of earlier releases are recognised without a service.yaml, each by its own name."""

import pytest

from analysis.ingest.registry import parse_file

#: an Istio 1.2 access line as published beside that release's format string (a public test
#: of an istio-proxy log splitter); 1.3 adds %ROUTE_NAME%, 1.1 lacks the failure reason
ISTIO_12 = ('[2019-09-05T17:53:36.908Z] "GET /productpage HTTP/1.1" 200 - "-" "-" 0 5183 47 46 '
            '"10.28.2.1" "Mozilla/5.0 (X11; Linux x86_64)" "4273c09c-2534-962a-b7da-04a04cf39e88" '
            '"35.199.144.198" "127.0.0.1:9080" inbound|9080|http|productpage.default.svc.cluster'
            '.local - 10.28.2.27:9080 10.28.2.1:0 outbound_.9080_._.productpage.default.svc'
            '.cluster.local')


@pytest.mark.parametrize("line, name", [
    (ISTIO_12, "istio-1.2"),
    (ISTIO_12 + " default", "istio-1.3"),
    (ISTIO_12.replace(' "-" "-" 0 ', ' "-" 0 '), "istio-1.1"),
])
def test_each_istio_release_format_is_told_apart(tmp_path, line, name):
    path = tmp_path / "istio.log"
    path.write_text(f"{line}\n" * 5)
    fmt, parsed = parse_file("latency", path)
    assert fmt.name == name and len(parsed.table) == 5
    assert parsed.table["latency_ms"].tolist() == [46.0] * 5  # the upstream time, not 47


def test_an_ingress_nginx_0x_line_is_not_taken_for_the_current_format(tmp_path, fixture_path):
    current = fixture_path("ingress-nginx.log").read_text().splitlines()[0]
    old = current.replace("10.0.3.1 - - [", "10.0.3.1 - [10.0.3.1] - - [").replace(" [] ", " ")
    path = tmp_path / "old.log"
    path.write_text(f"{old}\n" * 5)
    fmt, parsed = parse_file("latency", path)
    assert fmt.name == "ingress-nginx-0.x" and parsed.table["latency_ms"].tolist() == [272.0] * 5
