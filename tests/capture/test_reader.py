"""The reader on real captures (tcpdump on lo and on any) and on the same packets rewritten
into pcapng, gzip, big-endian, and the loopback/null and raw-IP link types."""

import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.strategies import binary, sampled_from

from analysis.capture.reader import (
    ETHERNET,
    LINUX_SLL,
    LINUX_SLL2,
    LOOP,
    NULL,
    RAW,
    ReadCounts,
    packets,
)
from analysis.errors import EvidenceError
from tests.capture.rewrite import gzipped, to_link, to_pcapng


def _fields(path, counts=None):
    return [(round(p.time, 6), p.proto, p.src, p.sport, p.dst, p.dport, p.flags, p.seq,
             p.length, bytes(p.payload)) for p in packets(path, counts)]


def test_tcpdump_on_lo_gives_ethernet_frames_of_tcp_and_udp(sequential):
    counts = ReadCounts()
    found = _fields(sequential.path, counts)
    assert counts.link_types == {ETHERNET} and counts.frames == counts.packets == len(found)
    assert counts.not_ip == counts.truncated_headers == 0
    requests = [f for f in found if f[5] == sequential.service_port and f[8]]
    assert len(requests) == 6 and requests[0][9].startswith(b"GET /items/0-0?")
    assert sum(1 for f in found if f[1] == 17 and f[5] == sequential.dns_port) == 6 * 3


@pytest.mark.parametrize("fixture, link", [("cooked", LINUX_SLL2), ("cooked_v1", LINUX_SLL)])
def test_tcpdump_on_any_gives_linux_cooked_frames(fixture, link, request):
    made = request.getfixturevalue(fixture)
    counts = ReadCounts()
    found = _fields(made.path, counts)
    assert counts.link_types == {link} and counts.not_ip == 0
    assert sum(1 for f in found if f[5] == made.service_port and f[8]) == 3


def test_nanosecond_stamps_keep_their_resolution(cooked):
    times = [p.time for p in packets(cooked.path)]
    assert any(round(t * 1e9) % 1000 for t in times)  # microsecond captures end in 000


@pytest.mark.parametrize("shape", ["pcapng", "gzip", "pcapng.gz", "big-endian", "null",
                                   "loop", "raw"])
def test_every_shape_of_the_same_capture_reads_the_same_packets(sequential, tmp_path, shape):
    src = sequential.path
    made = {
        "pcapng": lambda: to_pcapng(src, tmp_path / "c.pcapng"),
        "gzip": lambda: gzipped(src, tmp_path / "c.pcap.gz"),
        "pcapng.gz": lambda: gzipped(to_pcapng(src, tmp_path / "c.pcapng"), tmp_path / "c.gz"),
        "big-endian": lambda: to_link(src, tmp_path / "c.pcap", ETHERNET, ">"),
        "null": lambda: to_link(src, tmp_path / "c.pcap", NULL),
        "loop": lambda: to_link(src, tmp_path / "c.pcap", LOOP),
        "raw": lambda: to_link(src, tmp_path / "c.pcap", RAW),
    }[shape]()
    assert _fields(made) == _fields(src)


def test_a_capture_cut_mid_packet_reads_up_to_the_cut(sequential, tmp_path):
    data = sequential.path.read_bytes()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[:-7])
    assert _fields(cut) == _fields(sequential.path)[:-1]


def test_a_file_that_is_no_capture_is_an_error_naming_it(tmp_path):
    path = tmp_path / "access.log"
    path.write_text("10.0.0.1 - - [26/Nov/2026:02:00:00 +0000] \"GET / HTTP/1.1\" 200\n")
    with pytest.raises(EvidenceError, match=r"access.log: not a packet capture: expected pcap"):
        list(packets(path))


def test_an_unknown_link_type_is_an_error_naming_it(tmp_path):
    path = tmp_path / "wifi.pcap"
    path.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 105) +
                     struct.pack("<IIII", 1, 0, 4, 4) + b"\0\0\0\0")
    with pytest.raises(EvidenceError, match=r"wifi.pcap: link type 105 is not read"):
        list(packets(path))


def test_a_damaged_record_length_is_an_error_not_an_allocation(tmp_path):
    path = tmp_path / "damaged.pcap"
    path.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1) +
                     struct.pack("<IIII", 1, 0, 0xFFFFFFF0, 0xFFFFFFF0) + b"\0" * 64)
    with pytest.raises(EvidenceError, match=r"damaged.pcap: a packet record of \d+ bytes"):
        list(packets(path))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=binary(max_size=400), link=sampled_from([ETHERNET, LINUX_SLL, LINUX_SLL2, NULL,
                                                       RAW]))
def test_any_bytes_after_a_header_read_or_fail_as_evidence_errors(tmp_path_factory, body, link):
    from analysis.capture.reconstruct import reconstruct

    path = tmp_path_factory.mktemp("fuzz") / "fuzz.pcap"
    records = b"".join(struct.pack("<IIII", 1, 0, len(chunk), len(chunk)) + chunk
                       for chunk in (body[i:i + 80] for i in range(0, len(body), 80)))
    path.write_bytes(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, link) + records)
    try:
        reconstruct(path)
    except EvidenceError:
        pass
