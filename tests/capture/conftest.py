"""Real captures on loopback, made once per test session into tmp (tests/capture/harness.py)."""

import pytest

from tests.capture.harness import Profile, capture

#: a canary query string: it crosses the wire in every request line and must reach no output
CANARY = "X-Amz-Signature=canary0123456789abcdef&token=canary-token-9f8e7d"


@pytest.fixture(scope="session")
def sequential(tmp_path_factory):
    """One keep-alive client, six requests one after another: every exchange attributable."""
    return capture(tmp_path_factory.mktemp("capture") / "sequential.pcap", clients=1,
                   requests=6, query=CANARY)


@pytest.fixture(scope="session")
def concurrent(tmp_path_factory):
    """Three keep-alive clients at once: windows overlap, some exchanges are ambiguous."""
    return capture(tmp_path_factory.mktemp("capture") / "concurrent.pcap", clients=3,
                   requests=4, pause_s=0.05)


@pytest.fixture(scope="session")
def cooked(tmp_path_factory):
    """tcpdump -i any as it writes by default here: Linux cooked v2, nanosecond stamps."""
    return capture(tmp_path_factory.mktemp("capture") / "any.pcap", clients=1, requests=3,
                   interface="any", nano=True)


@pytest.fixture(scope="session")
def cooked_v1(tmp_path_factory):
    """tcpdump -i any -y LINUX_SLL: Linux cooked v1."""
    return capture(tmp_path_factory.mktemp("capture") / "any-v1.pcap", clients=1, requests=3,
                   interface="any", link="LINUX_SLL")


@pytest.fixture(scope="session")
def short_snap(tmp_path_factory):
    """A snap length of 100 bytes: headers kept, request lines cut (Ethernet 14, IP 20 and
    TCP 32 bytes with timestamps leave 34 bytes of payload)."""
    return capture(tmp_path_factory.mktemp("capture") / "short.pcap", clients=1, requests=3,
                   snaplen=100, query=CANARY)


@pytest.fixture(scope="session")
def pod_like(tmp_path_factory):
    """The profile of orders-api's k8s capture (scripts/capture-example): 3 search domains,
    A and AAAA sent together, the name forwarded to an upstream that answers after 3 ms, a
    token PUT before each metadata GET."""
    profile = Profile(search=("ns.svc.cluster.local", "svc.cluster.local", "cluster.local"),
                      search_types=(1, 28), paired=True, upstream_ms=3, token_per_call=True)
    return capture(tmp_path_factory.mktemp("capture") / "pod.pcap", clients=1, requests=4,
                   profile=profile)
