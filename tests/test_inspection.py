import json

from analysis.cli import main
from analysis.inspection import inspect
from tests.conftest import EXAMPLES
from tests.ingest.test_custom import CUSTOM_YAML, custom_service


def test_a_good_service_folder_is_ok_with_every_file_described():
    result = inspect(EXAMPLES / "search-api")
    assert result["ok"] and not result["missing"]
    by_kind = {}
    for entry in result["files"]:
        by_kind.setdefault(entry["kind"], []).append(entry)
    assert {e["format"] for e in by_kind["latency"]} == {"aws-alb", "ingress-nginx"}
    nginx = next(e for e in by_kind["latency"] if e["format"] == "ingress-nginx")
    assert nginx["parsed"] == nginx["lines"] == 1808 and nginx["latency_ms_p50"] == 107.0
    k8s_creds = next(e for e in by_kind["credentials"] if "/k8s/" in e["path"])
    assert k8s_creds["lifetime_s_median"] == 900.0 and k8s_creds["distinct_keys"] == 7
    assert by_kind["resolv.conf"][1]["ndots"] == 5


def test_cli_exit_status_and_json(fixture_path, capsys):
    assert main(["inspect", str(EXAMPLES / "payments-api")]) == 0
    capsys.readouterr()
    assert main(["inspect", "--json", str(fixture_path("dig-short.txt"))]) == 1
    result = json.loads(capsys.readouterr().out)
    assert not result["ok"] and "dig +short" in result["files"][0]["error"]


def test_a_mostly_broken_file_fails_inspect_with_samples(example_copy, capsys):
    folder = example_copy("listings-api")
    log = folder / "k8s" / "latency" / "ingress-nginx.log"
    lines = log.read_text().splitlines()
    lines[100:300] = ["<script>alert(1)</script> broken"] * 200
    log.write_text("\n".join(lines) + "\n")
    assert main(["inspect", str(folder)]) == 1
    out = capsys.readouterr().out
    assert "WOULD FAIL" in out and "line 101: does not match the ingress-nginx format" in out
    assert "could not be parsed as ingress-nginx" in out


def test_an_unrecognised_file_names_the_closest_format_and_shows_lines(tmp_path):
    path = tmp_path / "latency" / "access.log"
    path.parent.mkdir()
    good = (EXAMPLES / "listings-api" / "k8s" / "latency" / "ingress-nginx.log").read_text()
    path.write_text("\n".join(["junk <b>"] * 8 + good.splitlines()[:2]) + "\n")
    entry = inspect(path)["files"][0]
    assert "looks most like ingress-nginx (20% of its first lines match)" in entry["error"]
    assert "'junk <b>'" in entry["error"]


def test_what_glibc_ignores_in_a_resolv_conf_is_shown(example_copy, capsys):
    folder = example_copy("listings-api")
    (folder / "k8s" / "resolv.conf").write_text(
        "nameserver 172.20.0.10\noptions ndots:5 retries:1\n")
    assert main(["inspect", str(folder)]) == 0
    assert "ignored: line 2: option 'retries:1' is ignored (unknown to glibc)" in \
        capsys.readouterr().out
    entry = next(e for e in inspect(folder)["files"] if e["path"].endswith("k8s/resolv.conf"))
    assert entry["ignored"] == ["line 2: option 'retries:1' is ignored (unknown to glibc)"]


def test_inspect_reads_a_service_with_the_format_string_of_its_service_yaml(tmp_path):
    folder = custom_service(tmp_path)
    assert not inspect(folder)["ok"]  # no built-in format reads these lines
    (folder / "service.yaml").write_text(CUSTOM_YAML)
    result = inspect(folder)
    latency = [e for e in result["files"] if e["kind"] == "latency"]
    assert result["ok"] and {e["format"] for e in latency} == {"custom-nginx"}
    assert [e["parsed"] for e in latency] == [5, 5] and latency[1]["latency_ms_p50"] == 110.0
    assert {e["latency_from"] for e in latency} == {"$upstream_response_time (s)"}


def test_failed_credential_fetches_are_counted_by_code(tmp_path, fixture_path):
    from analysis.inspection import inspect_file

    path = tmp_path / "credentials" / "pod.txt"
    path.parent.mkdir()
    path.write_text(fixture_path("credentials-transcript.txt").read_text())
    entry = inspect_file(path)
    assert "error" not in entry and entry["documents"] == 1 and entry["failed_fetches"] == 5
    assert entry["failed_fetch_codes"] == {"TokenPutTimeout": 2, "RoleNotFound": 1,
                                           "RoleListing": 1, "ProviderError": 1}
    assert entry["lifetime_s_median"] == 900.0


def test_a_capture_file_alone_is_read_with_its_services_capture_settings(capsys, tmp_path):
    """`inspect data/orders-api/k8s/pcap/k8s.pcap.gz`: the service port and the metadata
    endpoint (the emulator on 127.0.0.1:80) come from orders-api's service.yaml, as in the
    report; the options replace them, and a copy outside a service folder has neither."""
    capture = EXAMPLES / "orders-api" / "k8s" / "pcap" / "k8s.pcap.gz"
    assert main(["inspect", "--json", str(capture)]) == 0
    entry = json.loads(capsys.readouterr().out)["files"][0]
    assert (entry["service_port"], entry["service_port_from"]) == (8080, "given")
    assert (entry["requests"], entry["dns_queries"], entry["metadata_calls"]) == \
        (400, 3200, 1600)
    assert entry["metadata_endpoints"] == {"IMDS": 1600}
    assert main(["inspect", "--json", "--service-port", "80", str(capture)]) == 0
    assert json.loads(capsys.readouterr().out)["files"][0]["metadata_calls"] == 0
    (tmp_path / "pcap").mkdir()
    alone = tmp_path / "pcap" / "k8s.pcap.gz"
    alone.write_bytes(capture.read_bytes())
    assert inspect(alone)["files"][0]["service_port_from"] == "detected"
