"""Real servers on loopback for the collector tests: Debian's dnsmasq on 127.0.0.77 and the
project's metadata emulator. Nothing leaves 127.0.0.0/8."""

import shutil
import socket
import subprocess
import time

import pytest

from collector.collect import udp_query
from collector.emulator import ImdsEmulator

DNS_HOST = "127.0.0.77"
#: the name the service resolves; dnsmasq answers it, and NXDOMAIN for the cluster's domains
NAME = "elastic.example.com"
SEARCH = ("svc.cluster.local", "cluster.local")


def _free_udp_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="session")
def dnsmasq(tmp_path_factory):
    binary = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
    log = tmp_path_factory.mktemp("dnsmasq") / "queries.log"
    port = _free_udp_port(DNS_HOST)
    process = subprocess.Popen([
        binary, "--no-daemon", "--conf-file=/dev/null", f"--listen-address={DNS_HOST}",
        f"--port={port}", "--bind-interfaces", "--no-resolv", "--no-hosts", "--user=root",
        "--pid-file=", "--local=/cluster.local/", f"--address=/{NAME}/10.1.2.3",
        "--log-queries", f"--log-facility={log}"], stderr=subprocess.DEVNULL)
    for _ in range(50):
        if udp_query(NAME, DNS_HOST, port, 0.2)[0] == "NOERROR":
            break
        time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("dnsmasq did not answer on 127.0.0.77")
    yield DNS_HOST, port, log
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def emulator():
    with ImdsEmulator(lifetime_s=900, delay_ms=5) as running:
        yield running


@pytest.fixture
def pod_resolv(tmp_path):
    path = tmp_path / "resolv.conf"
    path.write_text(f"search {' '.join(SEARCH)}\nnameserver {DNS_HOST}\noptions ndots:5\n")
    return path
