"""Captures as evidence: `<env>/pcap/` in a service folder, and `latency-gap inspect` on one
capture or a folder holding captures."""

import json
import shutil

import pytest

from analysis import ingest
from analysis import service as services
from analysis.cli import main
from analysis.errors import ConfigError
from analysis.inspection import inspect
from analysis.service import CaptureSettings
from tests.capture.rewrite import gzipped


def _settings(made) -> CaptureSettings:
    return CaptureSettings(dns_ports=(made.dns_port,), metadata=tuple(made.metadata.items()))


def test_inspect_reports_the_requests_dns_queries_and_metadata_calls_of_a_capture(sequential):
    result = inspect(sequential.path, capture=_settings(sequential))
    assert result["ok"] and len(result["files"]) == 1
    entry = result["files"][0]
    assert entry["kind"] == "pcap" and entry["format"] == "pcap"
    assert entry["requests"] == 6 and entry["dns_queries"] == 18
    assert entry["metadata_calls"] == 18 and entry["metadata_endpoints"] == {"IMDS": 18}
    assert entry["dns_rcodes"]["NXDOMAIN"] == 6 and entry["statuses"] == {"200": 6}
    assert entry["service_port"] == sequential.service_port
    assert entry["attribution"]["requests ambiguous"] == 0


def test_the_command_prints_it_as_json(sequential, capsys):
    metadata = [f"{k}={v}" for k, v in sequential.metadata.items()]
    assert main(["inspect", str(sequential.path), "--json", "--dns-port",
                 str(sequential.dns_port), "--metadata", *metadata]) == 0
    entry = json.loads(capsys.readouterr().out)["files"][0]
    assert (entry["requests"], entry["dns_queries"], entry["metadata_calls"]) == (6, 18, 18)
    assert main(["inspect", str(sequential.path)]) == 0  # text; without options: no DNS
    assert "dns_queries 0" in capsys.readouterr().out


def test_a_bad_metadata_option_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["inspect", "x.pcap", "--metadata", "imds.local=IMDS"])
    assert exit_.value.code == 2 and "ADDRESS[:PORT]=NAME" in capsys.readouterr().err


def _with_capture(example_copy, made):
    folder = example_copy("search-api")
    (folder / "k8s" / "pcap").mkdir()
    shutil.copy(made.path, folder / "k8s" / "pcap" / "pod.pcap")
    gzipped(made.path, folder / "k8s" / "pcap" / "pod-2.pcap.gz")  # another pod, same times
    address, name = next(iter(made.metadata.items()))
    with open(folder / "service.yaml", "a") as out:
        out.write(f"capture:\n  dns_ports: [{made.dns_port}]\n  metadata:\n"
                  f"    '{address}': {name}\n")
    return folder


def test_a_pcap_folder_is_read_into_the_evidence(example_copy, sequential, tmp_path):
    folder = _with_capture(example_copy, sequential)
    config = services.load_config(folder)
    assert config.capture.dns_ports == (sequential.dns_port,)
    evidence = ingest.load_evidence(folder, config)
    requests, dns = evidence.capture_requests, evidence.capture_dns
    assert len(requests) == 12 and set(requests["env"]) == {"k8s"}
    assert len(dns) == 36 and len(evidence.capture_metadata) == 36
    # `request` is the row in the environment's requests table, across files
    owners = requests.iloc[dns["request"]]
    assert list(owners["source_file"]) == list(dns["source_file"])
    assert sorted(set(dns["request"])) == list(range(12))
    row = evidence.inputs[evidence.inputs["kind"] == "pcap"].iloc[0]
    assert (row["env"], row["files"], row["formats"]) == ("k8s", 2, "pcap")
    assert evidence.missing() == []
    ingest.write_tables(evidence, tmp_path / "tables")
    again = ingest.read_tables(tmp_path / "tables")
    assert len(again.capture_requests) == 12 and len(again.capture_dns) == 36
    entries = [f for f in inspect(folder)["files"] if f["kind"] == "pcap"]
    assert len(entries) == 2 and entries[1]["metadata_calls"] == 18


def test_a_service_without_captures_reads_as_before(example_copy, tmp_path):
    folder = example_copy("search-api")
    evidence = ingest.load_evidence(folder, services.load_config(folder))
    assert "pcap" not in set(evidence.inputs["kind"]) and evidence.capture_requests.empty
    ingest.write_tables(evidence, tmp_path / "tables")
    assert not list((tmp_path / "tables").glob("capture_*"))
    assert ingest.read_tables(tmp_path / "tables").capture_dns.empty


@pytest.mark.parametrize("section, message", [
    ("capture:\n  service_port: 99999\n", "capture.service_port: expected a port number"),
    ("capture:\n  metadata:\n    imds.local: IMDS\n", "'imds.local' is not an IP address"),
    ("capture:\n  port: 8080\n", "expected a mapping of some of service_port"),
])
def test_a_bad_capture_section_is_a_located_error(example_copy, section, message):
    folder = example_copy("search-api")
    with open(folder / "service.yaml", "a") as out:
        out.write(section)
    with pytest.raises(ConfigError, match=message):
        services.load_config(folder)


def test_a_capture_in_another_kinds_folder_says_where_it_goes(example_copy, sequential):
    from analysis.errors import EvidenceError

    folder = example_copy("search-api")
    shutil.copy(sequential.path, folder / "k8s" / "latency" / "pod.pcap")
    with pytest.raises(EvidenceError, match=r"pod.pcap: is a packet capture, not latency "
                       r"evidence: captures go in <env>/pcap/"):
        ingest.load_evidence(folder, services.load_config(folder))


def test_a_file_in_pcap_that_is_no_capture_is_an_error_naming_it(example_copy):
    from analysis.errors import EvidenceError

    folder = example_copy("search-api")
    (folder / "ec2" / "pcap").mkdir()
    (folder / "ec2" / "pcap" / "notes.txt").write_text("captured on ip-10-0-0-5\n")
    with pytest.raises(EvidenceError, match=r"notes.txt: not a packet capture: expected pcap "
                       r"or pcapng"):
        ingest.load_evidence(folder, services.load_config(folder))
    entry = [f for f in inspect(folder)["files"] if f["kind"] == "pcap"][0]
    assert "not a packet capture" in entry["error"]
