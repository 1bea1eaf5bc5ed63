"""The reconstruction against the truth: the service's own timings of every phase of every
request it served while tcpdump captured (tests/capture/harness.py). Each phase is within
1 ms or 5%, whichever is larger."""

import pandas as pd
import pytest

from analysis.capture.reconstruct import (
    DNS_COLUMNS,
    METADATA_COLUMNS,
    REQUEST_COLUMNS,
    CaptureOptions,
    reconstruct,
)
from tests.capture.harness import NAME, SEARCH


def _options(made, **kwargs):
    return CaptureOptions(dns_ports=(made.dns_port,), metadata=made.metadata, **kwargs)


def _close(measured: float, truth: float, uncertainty: float = 0.0) -> bool:
    return abs(measured - truth) <= max(1.0, 0.05 * truth) + uncertainty


def _check_against_truth(row, truth, phases=("total", "dns", "metadata")):
    """The truth's times are the kernel's stamps of the service's own sockets (received and
    sent data), the clock tcpdump uses; only a connect's SYN has none: its call's start is
    known within how long connect() took (`uncertainty_ms`)."""
    for phase in phases:
        measured, expected = row[f"{phase}_ms"], getattr(truth, f"{phase}_ms")
        slack = truth.uncertainty_ms if phase == "metadata" else 0.0
        assert _close(measured, expected, slack), \
            f"{truth.path} {phase}: {measured} vs {expected} (+-{slack})"


def test_each_request_and_each_phase_matches_what_the_service_measured(sequential):
    built = reconstruct(sequential.path, "k8s", _options(sequential))
    requests = built.requests
    assert list(requests.columns) == REQUEST_COLUMNS
    assert list(requests["path"]) == [t.path for t in sequential.truths]  # query cut off
    assert set(requests["method"]) == {"GET"} and set(requests["status"]) == {200}
    assert not requests["ambiguous"].any() and requests["unreadable"].isna().all()
    assert set(requests["dns_queries"]) == {3} and set(requests["metadata_calls"]) == {3}
    for row, truth in zip(requests.to_dict("records"), sequential.truths, strict=True):
        _check_against_truth(row, truth)
        assert row["first_byte_ms"] <= row["total_ms"]
    assert built.counts["service_port"] == sequential.service_port
    assert built.counts["service_port_from"] == "detected"


def test_a_pod_like_profile_matches_what_the_service_measured(pod_like):
    """A and AAAA sent together: a request's DNS time is the time one of them was
    outstanding (the truth: first send to last answer, per name), 4 names of 2 queries."""
    built = reconstruct(pod_like.path, "k8s", _options(pod_like))
    requests = built.requests
    assert set(requests["dns_queries"]) == {8} and set(requests["metadata_calls"]) == {4}
    assert built.dns["paired"].all()
    forwarded = built.dns[built.dns["name"] == f"{NAME}."]
    assert (forwarded["ms"] >= 3).all() and set(forwarded["rcode"]) == {"NOERROR"}
    for row, truth in zip(requests.to_dict("records"), pod_like.truths, strict=True):
        _check_against_truth(row, truth)
        assert truth.dns_ms >= 3


def test_dns_queries_carry_name_type_rcode_and_the_a_aaaa_pair(sequential):
    dns = reconstruct(sequential.path, "k8s", _options(sequential)).dns
    assert list(dns.columns) == DNS_COLUMNS and len(dns) == 6 * 3
    first = dns.head(3)
    assert list(first["name"]) == [f"{NAME}.{SEARCH}.", f"{NAME}.", f"{NAME}."]
    assert list(first["type"]) == ["A", "A", "AAAA"]
    assert list(first["rcode"][:2]) == ["NXDOMAIN", "NOERROR"]
    assert list(first["paired"]) == [False, True, True]
    assert (dns["retransmissions"] == 0).all() and set(dns["transport"]) == {"udp"}
    assert (dns["attribution"] == "request").all() and list(dns["request"]) == \
        [i // 3 for i in range(18)]
    assert (dns["ms"] > 0).all() and (dns["ms"] < 50).all()


def test_metadata_calls_with_the_imdsv2_token_put_first(sequential):
    calls = reconstruct(sequential.path, "k8s", _options(sequential)).metadata
    assert list(calls.columns) == METADATA_COLUMNS and len(calls) == 6 * 3
    assert list(calls["method"][:3]) == ["PUT", "GET", "GET"]
    assert calls["path"][0] == "/latest/api/token"
    assert calls["path"][2] == "/latest/meta-data/iam/security-credentials/latency-gap-role"
    assert set(calls["endpoint"]) == {"IMDS"} and set(calls["status"]) == {200}
    assert calls["new_connection"].all() and (calls["ms"] >= 2).all()  # the emulator's delay


def test_an_address_not_listed_as_metadata_is_not_a_metadata_call(sequential):
    built = reconstruct(sequential.path, "k8s", CaptureOptions(dns_ports=(sequential.dns_port,)))
    assert built.metadata.empty and (built.requests["metadata_calls"] == 0).all()


def test_concurrent_requests_are_attributed_only_when_one_window_holds_the_exchange(concurrent):
    built = reconstruct(concurrent.path, "k8s", _options(concurrent))
    requests, truths = built.requests, {t.path: t for t in concurrent.truths}
    assert sorted(requests["path"]) == sorted(truths) and len(requests) == 12
    assert len(built.dns) == 12 * 3 and len(built.metadata) == 12 * 3
    for table in (built.dns, built.metadata):
        assert set(table["attribution"]) <= {"request", "ambiguous"}
        attributed = table[table["attribution"] == "request"]
        assert (table.loc[table["attribution"] == "ambiguous", "request"] == -1).all()
        for row in attributed.itertuples():  # its request's window holds it
            owner = requests.iloc[row.request]
            assert owner["start"] <= row.time <= owner["start"] + \
                pd.Timedelta(milliseconds=owner["total_ms"])
    counts = built.counts
    assert counts["dns request"] + counts["dns ambiguous"] == 36
    assert counts["requests ambiguous"] == int(requests["ambiguous"].sum()) > 0
    for row in requests.to_dict("records"):
        truth = truths[row["path"]]
        _check_against_truth(row, truth, ("total",))
        if not row["ambiguous"]:
            assert row["dns_queries"] == row["metadata_calls"] == 3
            _check_against_truth(row, truth)
        else:  # a lower bound: only what is surely its own
            assert row["metadata_ms"] <= truth.metadata_ms + 1


@pytest.mark.parametrize("fixture", ["cooked", "cooked_v1"])
def test_captures_on_any_reconstruct_the_same_way(fixture, request):
    made = request.getfixturevalue(fixture)
    built = reconstruct(made.path, "ec2", _options(made, service_port=made.service_port))
    assert built.counts["service_port_from"] == "given" and len(built.requests) == 3
    for row, truth in zip(built.requests.to_dict("records"), made.truths, strict=True):
        _check_against_truth(row, truth)


def test_a_short_snap_length_keeps_the_times_and_counts_what_it_cut(short_snap):
    built = reconstruct(short_snap.path, "k8s",
                        _options(short_snap, service_port=short_snap.service_port))
    requests = built.requests
    assert len(requests) == 3 and requests["method"].isna().all()
    assert set(requests["unreadable"]) == {"truncated"}
    # the token PUT's line fits in 34 bytes; the credential GETs' lines do not
    assert built.counts["unreadable: truncated"] == 3 + 3 * 2
    assert list(built.metadata["method"][:3].fillna("?")) == ["PUT", "?", "?"]
    for row, truth in zip(requests.to_dict("records"), short_snap.truths, strict=True):
        _check_against_truth(row, truth)


def test_sts_by_sni_pod_identity_dns_retries_and_tcp_and_what_is_left_out(tmp_path):
    from tests.capture.harness import dns_query
    from tests.capture.rewrite import frame, write_pcap
    from tests.capture.test_protocols import client_hello

    svc, client, resolver = "10.0.0.5", "10.0.0.9", "10.0.0.2"
    query = dns_query("x.example.com", 1, 1)
    answer = query[:2] + b"\x81\x80" + query[4:]
    tcp_query = dns_query("y.example.com", 28, 2)
    tcp_answer = tcp_query[:2] + b"\x81\x80" + tcp_query[4:]
    prefix = len(tcp_query).to_bytes(2, "big")
    t = 1_795_000_000.0
    packets = [
        (t, frame(client, 50000, svc, 8080, flags=0x02)),
        (t + 0.001, frame(client, 50000, svc, 8080, b"GET /a?k=SECRETQUERY HTTP/1.1\r\n\r\n")),
        (t + 0.002, frame(svc, 40001, resolver, 53, query, udp=True)),
        (t + 0.0025, frame(svc, 40001, resolver, 53, query, udp=True)),  # retransmitted
        (t + 0.004, frame(resolver, 53, svc, 40001, answer, udp=True)),
        (t + 0.005, frame(svc, 40002, resolver, 53, prefix + tcp_query)),
        (t + 0.006, frame(resolver, 53, svc, 40002, prefix + tcp_answer)),
        (t + 0.007, frame(svc, 41000, "169.254.170.23", 80, flags=0x02)),
        (t + 0.0072, frame(svc, 41000, "169.254.170.23", 80, b"GET /v1/credentials HTTP/1.1\r\n"
                           b"Authorization: SECRETTOKEN\r\n\r\n")),
        (t + 0.010, frame("169.254.170.23", 80, svc, 41000, b"HTTP/1.1 200 OK\r\n\r\n")),
        (t + 0.0101, frame("169.254.170.23", 80, svc, 41000, b'{"Token": "SECRETTOKEN"}',
                           seq=20)),
        (t + 0.011, frame(svc, 42000, "52.1.1.1", 443, flags=0x02)),
        (t + 0.0112, frame(svc, 42000, "52.1.1.1", 443,
                           client_hello("sts.us-east-1.amazonaws.com"))),
        (t + 0.015, frame("52.1.1.1", 443, svc, 42000, b"\x16\x03\x03\x00\x10" + b"s" * 16)),
        (t + 0.016, frame("52.1.1.1", 443, svc, 42000, b"\x17\x03\x03\x00\x10" + b"e" * 16,
                          seq=30)),
        (t + 0.020, frame(svc, 8080, client, 50000, b"HTTP/1.1 503 Busy\r\n\r\n")),
        (t + 0.100, frame(svc, 40003, resolver, 53, dns_query("z.example.com", 1, 3),
                          udp=True)),  # no request open, and never answered
        (t + 0.200, frame(client, 50001, svc, 8080, b"\x16\x03\x01\x00\x05hello")),
    ]
    path = write_pcap(tmp_path / "synthetic.pcap", packets)
    built = reconstruct(path, "k8s", CaptureOptions(service_port=8080))
    request = built.requests.iloc[0]
    assert len(built.requests) == 1 and request["status"] == 503 and request["path"] == "/a"
    assert request["dns_queries"] == 2 and request["metadata_calls"] == 2
    assert abs(request["total_ms"] - 19) < 0.01 and abs(request["dns_ms"] - 3) < 0.01
    assert abs(request["metadata_ms"] - (3.1 + 5)) < 0.01
    dns = built.dns
    assert list(dns["retransmissions"]) == [1, 0, 0]
    assert list(dns["transport"]) == ["udp", "tcp", "udp"]
    assert list(dns["rcode"]) == ["NOERROR", "NOERROR", "no answer"]
    assert list(dns["attribution"]) == ["request", "request", "outside"]
    calls = built.metadata
    assert list(calls["endpoint"]) == ["Pod Identity", "STS"]
    assert list(calls["method"]) == ["GET", "TLS"] and calls["new_connection"].all()
    assert built.counts["unreadable: tls connections"] == 1
    assert built.counts["dns outside"] == 1


def test_a_connection_on_ports_used_before_is_a_new_connection(tmp_path):
    from tests.capture.rewrite import frame, write_pcap

    svc, imds, t = "10.0.0.5", "169.254.169.254", 1_795_000_000.0
    packets = [(t, frame(svc, 50000, svc, 8080, b"GET /a HTTP/1.1\r\n\r\n"))]
    for at in (0.001, 0.010):  # no FIN seen between them: the capture missed it
        packets += [
            (t + at, frame(svc, 41000, imds, 80, flags=0x02)),
            (t + at + 0.001, frame(svc, 41000, imds, 80, b"PUT /latest/api/token HTTP/1.1\r\n")),
            (t + at + 0.003, frame(imds, 80, svc, 41000, b"HTTP/1.1 200 OK\r\n\r\n"))]
    packets.append((t + 0.02, frame(svc, 8080, svc, 50000, b"HTTP/1.1 200 OK\r\n\r\n")))
    built = reconstruct(write_pcap(tmp_path / "reuse.pcap", packets), "ec2",
                        CaptureOptions(service_port=8080))
    calls = built.metadata
    assert len(calls) == 2 and calls["new_connection"].all()
    assert [round(ms, 3) for ms in calls["ms"]] == [3.0, 3.0]


def test_an_ipv6_pod_calling_pod_identity_on_its_ipv6_address(tmp_path):
    from tests.capture.harness import dns_query
    from tests.capture.rewrite import frame, write_pcap

    pod, client, agent, resolver = "fd00:1::5", "fd00:1::9", "fd00:ec2::23", "fd00:1::2"
    query = dns_query("elastic.example.com", 28, 9)
    t = 1_795_000_000.0
    packets = [
        (t, frame(client, 50000, pod, 8080, b"GET /search HTTP/1.1\r\n\r\n")),
        (t + 0.001, frame(pod, 40001, resolver, 53, query, udp=True)),
        (t + 0.002, frame(resolver, 53, pod, 40001, query[:2] + b"\x81\x80" + query[4:],
                          udp=True)),
        (t + 0.003, frame(pod, 41000, agent, 80, flags=0x02)),
        (t + 0.004, frame(pod, 41000, agent, 80, b"GET /v1/credentials HTTP/1.1\r\n\r\n")),
        (t + 0.009, frame(agent, 80, pod, 41000, b"HTTP/1.1 200 OK\r\n\r\n")),
        (t + 0.012, frame(pod, 8080, client, 50000, b"HTTP/1.1 200 OK\r\n\r\n")),
    ]
    built = reconstruct(write_pcap(tmp_path / "v6.pcap", packets), "k8s")
    request = built.requests.iloc[0]
    assert built.counts["service_port"] == 8080  # detected
    assert (request["dns_queries"], request["metadata_calls"]) == (1, 1)
    assert round(request["metadata_ms"], 3) == 6.0 and round(request["dns_ms"], 3) == 1.0
    assert list(built.metadata["endpoint"]) == ["Pod Identity"]
    assert list(built.dns["type"]) == ["AAAA"]
