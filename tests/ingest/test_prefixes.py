"""Access logs as kubectl and container runtimes print them: the prefix is stripped, every
request is read, and the format is named with the prefix it came with."""

import json

import pytest

from analysis.ingest.registry import detect, parse_file
from analysis.ingest.tabular import pick_columns

STAMP = "2023-03-08T10:00:00.123456789Z "


@pytest.mark.parametrize("prefix, named", [
    (lambda i: STAMP, "ingress-nginx (kubectl --timestamps)"),
    (lambda i: f"[pod/ingress-nginx-controller-7d9f{i % 2}/controller] ",
     "ingress-nginx (kubectl --prefix)"),
    (lambda i: f"{STAMP.strip()} stdout F ", "ingress-nginx (CRI container log)"),
    (lambda i: f"ingress-nginx-controller-{i % 3}  | ", "ingress-nginx (docker compose logs)"),
    (lambda i: f"[pod/ingress-{i}/controller] {STAMP}",
     "ingress-nginx (kubectl --prefix + kubectl --timestamps)"),
])
def test_prefixed_access_lines_are_read_like_plain_ones(tmp_path, fixture_path, prefix, named):
    plain = fixture_path("ingress-nginx.log")
    lines = plain.read_text().splitlines()
    path = tmp_path / "kubectl.log"
    path.write_text("".join(f"{prefix(i)}{line}\n" for i, line in enumerate(lines)))
    fmt, parsed = parse_file("latency", path)
    _, expected = parse_file("latency", plain)
    assert fmt.name == named
    assert parsed.table.drop(columns="source_file").equals(
        expected.table.drop(columns="source_file"))
    assert parsed.rejected.empty and parsed.lines == len(lines)
    assert parsed.latency_field == "$upstream_response_time (s)"


def test_docker_json_file_lines_and_ambassador_prefixes_are_unwrapped(tmp_path, fixture_path):
    """/var/lib/docker/containers/*-json.log wraps each line in JSON with its quotes escaped;
    Ambassador puts `ACCESS ` before Envoy's lines."""
    nginx = fixture_path("ingress-nginx.log").read_text().splitlines()
    path = tmp_path / "docker-json.log"
    path.write_text("".join(json.dumps({"log": f"{line}\n", "stream": "stdout",
                                        "time": "2026-11-24T10:00:00.1Z"},
                                       separators=(",", ":")) + "\n" for line in nginx))
    fmt, parsed = parse_file("latency", path)
    _, plain = parse_file("latency", fixture_path("ingress-nginx.log"))
    assert fmt.name == "ingress-nginx (docker json-file log)"
    assert parsed.table.drop(columns="source_file").equals(
        plain.table.drop(columns="source_file"))
    envoy = fixture_path("envoy.log").read_text().splitlines()
    path = tmp_path / "ambassador.log"
    path.write_text("".join(f"ACCESS {line}\n" for line in envoy))
    fmt, parsed = parse_file("latency", path)
    assert fmt.name == "envoy (Ambassador)" and len(parsed.table) == len(envoy)


def test_a_stern_prefix_before_json_and_kubectl_noise_are_handled(tmp_path):
    doc = {"start_time": "2024-06-21T01:32:10.407Z", "response_code": 200, "duration": 9,
           "x-envoy-upstream-service-time": "7"}
    path = tmp_path / "gateway.log"
    path.write_text("\n".join([
        "$ kubectl logs -n envoy-gateway-system deploy/envoy-default -f",
        'Defaulted container "envoy" out of: envoy, shutdown-manager',
        *(f"envoy-default-5d7c-x{i} envoy {json.dumps(doc)}" for i in range(4))]) + "\n")
    fmt, parsed = parse_file("latency", path)
    assert fmt.name == "json-lines (stern)" and len(parsed.table) == 4
    assert list(parsed.skipped["what"]) == ["shell prompt and command line", "kubectl message"]


def test_envoy_gateway_json_takes_the_upstream_time_not_the_proxy_total(tmp_path):
    """Envoy Gateway's default JSON keys are header names with hyphens: the backend's time is
    x-envoy-upstream-service-time; `duration` is the proxy's total."""
    names = ["start_time", "duration", "x-envoy-upstream-service-time", "response_code"]
    chosen = pick_columns(names, tmp_path / "x")
    assert chosen["latency"] == ("x-envoy-upstream-service-time", 1.0)
    assert chosen["total"] == ("duration", 1.0)
    path = tmp_path / "gw.jsonl"
    path.write_text(json.dumps({"start_time": "2024-06-21T01:32:10.407Z", "duration": 90,
                                "x-envoy-upstream-service-time": "12", "response_code": 200})
                    + "\n")
    _, parsed = parse_file("latency", path)
    assert parsed.table["latency_ms"].tolist() == [12.0] and parsed.table["total_ms"].tolist() \
        == [90.0]
    assert parsed.latency_field == "x-envoy-upstream-service-time (ms)"


def test_without_a_known_prefix_an_unknown_file_is_still_refused(tmp_path):
    path = tmp_path / "x.log"
    path.write_text("2023-03-08T10:00:00Z something that is no access log\n" * 5)
    with pytest.raises(Exception, match="not a known latency format"):
        detect("latency", path)
