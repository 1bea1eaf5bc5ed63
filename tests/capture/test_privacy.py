"""Captures carry credential documents, IMDSv2 tokens and query strings in clear: none of it
reaches a table, a count or an error message (issue 19, privacy). The canaries are the real
secrets the emulator handed out during the capture, and a query string on every request."""

import json

import pytest

from analysis.capture.reconstruct import CaptureOptions, reconstruct
from analysis.errors import EvidenceError
from tests.capture.conftest import CANARY


def _canaries(made) -> list[str]:
    pieces = [p.split("=", 1)[1] for p in CANARY.split("&")]
    return [*made.secrets, CANARY, *pieces]


def _everything(built) -> str:
    return "\n".join([built.requests.to_csv(), built.dns.to_csv(), built.metadata.to_csv(),
                      json.dumps(built.counts, default=str)])


@pytest.mark.parametrize("fixture", ["sequential", "short_snap"])
def test_no_secret_of_the_wire_reaches_the_tables(fixture, request):
    made = request.getfixturevalue(fixture)
    raw = made.path.read_bytes()
    canaries = _canaries(made)
    if fixture == "sequential":  # the canaries are in the capture (else this proves nothing)
        assert all(secret.encode() in raw for secret in made.secrets)
        assert CANARY.encode() in raw
    else:  # what a snap length of 100 bytes left of them: the start of the query string
        assert CANARY[:10].encode() in raw
    # ...and in none of what the reconstruction gives
    built = reconstruct(made.path, "k8s", CaptureOptions(dns_ports=(made.dns_port,),
                                                         metadata=made.metadata))
    text = _everything(built)
    assert not [c for c in canaries if c in text]


def test_an_error_about_a_capture_quotes_none_of_its_bytes(tmp_path, sequential):
    secret = sequential.secrets[1]
    path = tmp_path / "not-a-capture.pcap"
    path.write_text(f'{{"SecretAccessKey": "{secret}"}}\n')
    with pytest.raises(EvidenceError) as error:
        reconstruct(path)
    assert secret not in str(error.value) and "not a packet capture" in str(error.value)


def test_no_secret_reaches_what_inspect_prints(sequential, capsys):
    from analysis.cli import main

    metadata = [f"{k}={v}" for k, v in sequential.metadata.items()]
    options = ["--dns-port", str(sequential.dns_port), "--metadata", *metadata]
    assert main(["inspect", str(sequential.path), "--json", *options]) == 0
    assert main(["inspect", str(sequential.path), *options]) == 0
    printed = capsys.readouterr()
    assert not [c for c in _canaries(sequential) if c in printed.out + printed.err]


def test_a_secret_in_a_path_or_a_name_leaves_the_reconstruction_redacted(tmp_path, monkeypatch):
    """Paths keep no query string, but a path or a DNS name can carry a secret of its own
    (`/reset/password=…`, a key id in a name): the capture's tables are redacted like every
    parser's, in the evidence and in what inspect prints."""
    import pandas as pd

    from analysis.capture import evidence
    from analysis.capture.reconstruct import Reconstruction

    key_id = "AKIA" + "Q" * 16

    def reconstructed(path, env, options):
        return Reconstruction(
            requests=pd.DataFrame({"start": pd.to_datetime(["2026-11-24T10:00:00Z"]),
                                   "method": ["GET"], "path": ["/reset/password=hunter2"]}),
            dns=pd.DataFrame({"request": [0], "name": [f"{key_id}.example.com."]}),
            metadata=pd.DataFrame({"request": [0], "path": [f"/creds/token={key_id}"]}),
            counts={"packets": 3})

    monkeypatch.setattr(evidence, "reconstruct", reconstructed)
    capture = tmp_path / "k8s.pcap"
    capture.write_bytes(b"\xd4\xc3\xb2\xa1" + bytes(20))
    tables, _ = evidence.read_captures([capture], "k8s")
    text = "\n".join(t.to_csv() for t in tables.values())
    assert "hunter2" not in text and key_id not in text and "<redacted>" in text
