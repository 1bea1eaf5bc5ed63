"""The few payload fields read from a capture, and nothing else."""

import ssl

from hypothesis import given, settings
from hypothesis.strategies import binary, lists

from analysis.capture.protocols import dns_message, request_line, server_name, status_code
from tests.capture.harness import dns_query


def test_the_request_line_gives_method_and_path_without_query():
    assert request_line(b"GET /items/7?token=s3cr3t HTTP/1.1\r\nAuthorization: x\r\n") == \
        ("GET", "/items/7")
    assert request_line(b"PUT /latest/api/token HTTP/1.1\r\n\r\n") == \
        ("PUT", "/latest/api/token")
    assert request_line(b"GET http://svc:8080/a/b?x=1 HTTP/1.1\r\n") == ("GET", "/a/b")
    assert request_line(b"GET /a#frag HTTP/1.0\r\n") == ("GET", "/a")


def test_what_cannot_be_read_says_why():
    assert request_line(b"\x16\x03\x01\x02\x00\x01") == "tls"
    assert request_line(b"GET /items/7?tok", cut=True) == "truncated"
    assert request_line(b"GE", cut=True) == "truncated"
    assert request_line(b"", cut=True) == "truncated"
    assert request_line(b"SSH-2.0-OpenSSH_9.2\r\n") == "not http"
    assert request_line(b"GET /x\r\n") == "not http"


def test_the_status_comes_from_the_status_line_only():
    assert status_code(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n") == 404
    assert status_code(b'{"Code": "Success"}') is None
    assert status_code(b"HTTP/1.1") is None


def test_a_dns_message_gives_id_question_and_rcode():
    assert dns_message(dns_query("elastic.example.com", 28, 4242)) == \
        (4242, False, 0, "elastic.example.com.", "AAAA")
    answer = bytearray(dns_query("a.svc.cluster.local", 1, 7))
    answer[2:4] = b"\x81\x83"  # a response, NXDOMAIN
    assert dns_message(bytes(answer)) == (7, True, 3, "a.svc.cluster.local.", "A")
    assert dns_message(b"\x00\x07\x01\x00") is None


def client_hello(name: str) -> bytes:
    """The ClientHello Python's own TLS stack sends for `name` (no network)."""
    context = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=name)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def test_the_server_name_of_a_real_client_hello():
    assert server_name(client_hello("sts.eu-west-1.amazonaws.com")) == \
        "sts.eu-west-1.amazonaws.com"
    assert server_name(b"GET / HTTP/1.1\r\n") is None
    assert server_name(client_hello("sts.amazonaws.com")[:40]) is None  # cut short


@settings(max_examples=200, deadline=None)
@given(payloads=lists(binary(max_size=120), min_size=1, max_size=6))
def test_any_payload_on_the_ports_that_are_read_is_read_or_counted(tmp_path_factory, payloads):
    from analysis.capture.reconstruct import CaptureOptions, reconstruct
    from tests.capture.rewrite import frame, write_pcap

    timed = []
    for i, payload in enumerate(payloads):
        t = 1_795_000_000 + i * 0.001
        timed += [(t, frame("10.0.0.5", 40000 + i, "10.0.0.2", 53, payload, udp=True)),
                  (t, frame("10.0.0.2", 53, "10.0.0.5", 40000 + i, payload, udp=True)),
                  (t, frame("10.0.0.9", 50000, "10.0.0.5", 8080, payload, seq=1 + i * 200)),
                  (t, frame("10.0.0.5", 41000, "169.254.169.254", 80, payload,
                            seq=1 + i * 200)),
                  (t, frame("169.254.169.254", 80, "10.0.0.5", 41000, payload,
                            seq=1 + i * 200)),
                  (t, frame("10.0.0.5", 42000, "52.1.1.1", 443, payload, seq=1 + i * 200)),
                  (t, frame("10.0.0.5", 42001, "10.0.0.2", 53, payload, seq=1 + i * 200))]
    path = write_pcap(tmp_path_factory.mktemp("payloads") / "p.pcap", timed)
    built = reconstruct(path, "k8s", CaptureOptions(service_port=8080))
    assert len(built.requests) <= len(payloads)
