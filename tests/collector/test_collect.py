"""The collector against real servers on loopback: what it writes is what the ingest reads,
with the lifetimes the endpoint served and none of its secrets."""

import http.server
import json
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from analysis import cli, config, ingest
from analysis import service as services
from collector import collect
from collector.emulator import ImdsEmulator
from tests.collector.conftest import NAME, SEARCH

COLLECT_PY = config.PROJECT_ROOT / "collector" / "collect.py"


@pytest.fixture(scope="module")
def backend():
    """The service itself, for --url: a loopback HTTP server answering 200."""
    class Ok(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/health"
    server.shutdown()


def _run(out, env, dnsmasq, resolv, endpoint, *extra, duration="1.2", interval="0.3"):
    host, port, _ = dnsmasq
    return collect.main(["--env", env, "--out", str(out), "--names", NAME, "--duration",
                         duration, "--interval", interval, "--resolv-conf", str(resolv),
                         "--resolver", host, "--resolver-port", str(port),
                         "--metadata-endpoint", endpoint, "--metadata-timeout", "0.3",
                         "--dns-timeout", "0.5", "--quiet", *extra])


@pytest.fixture
def collected(tmp_path, dnsmasq, pod_resolv, emulator, backend):
    out = tmp_path / "search-api"
    for env in ("ec2", "k8s"):
        assert _run(out, env, dnsmasq, pod_resolv, emulator.endpoint, "--url", backend,
                    "--dns-client", "builtin") == 0
    return out


def test_the_collected_folder_passes_inspect_and_ingest(collected):
    assert cli.main(["inspect", str(collected)]) == 0
    evidence = ingest.load_evidence(collected, services.load_config(collected))
    for kind in ("latency", "dig", "credentials", "metadata"):
        assert not getattr(evidence, kind).empty, kind
    assert int(evidence.inputs["rejected"].sum()) == 0


def test_dns_is_queried_as_glibc_would_and_timed_as_the_application_sees_it(collected,
                                                                            dnsmasq):
    dig = ingest.load_evidence(collected, services.load_config(collected)).dig
    queries = dig[dig["server"] != collect.SYSTEM_RESOLVER]
    lookups = dig[dig["server"] == collect.SYSTEM_RESOLVER]
    expected = [f"{NAME}.{domain}" for domain in SEARCH] + [NAME]  # ndots:5: search first
    assert list(queries["name"][:3]) == expected
    assert set(queries.loc[queries["name"] != NAME, "status"]) == {"NXDOMAIN"}
    assert set(queries.loc[queries["name"] == NAME, "status"]) == {"NOERROR"}
    assert len(lookups) * 3 == len(queries) and set(lookups["name"]) == {NAME}
    served = dnsmasq[2].read_text()
    assert f"query[A] {NAME}.svc.cluster.local from 127.0.0.1" in served  # a real server


def test_credential_lifetimes_are_what_the_endpoint_served(collected, emulator):
    creds = ingest.load_evidence(collected, services.load_config(collected)).credentials
    assert set(creds["lifetime_s"]) == {900.0}
    assert set(creds["key_id"]) == {collect.key_fingerprint(c["AccessKeyId"])
                                    for c in emulator.issued}
    assert creds["remaining_s"].between(890, 900).all()  # fetched fresh, FetchedAt kept
    calls = ingest.load_evidence(collected, services.load_config(collected)).metadata
    assert len(calls) == sum(emulator.counts[k] for k in ("token", "role", "credentials"))
    assert (calls["status"] == 200).all()


def test_no_secret_from_the_endpoint_reaches_any_written_file(collected, emulator):
    written = "\n".join(p.read_text(errors="replace") for p in collected.rglob("*")
                        if p.is_file())
    secrets = [c[k] for c in emulator.issued for k in ("SecretAccessKey", "Token",
                                                        "AccessKeyId")]
    assert secrets and not [s for s in secrets if s in written]


def test_an_unreachable_endpoint_is_recorded_with_its_timeout(tmp_path, dnsmasq, pod_resolv):
    silent = socket.socket()  # accepts connections, never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
    try:
        assert _run(tmp_path, "k8s", dnsmasq, pod_resolv, endpoint, "--duration", "0") == 0
    finally:
        silent.close()
    calls = next((tmp_path / "k8s" / "metadata").iterdir()).read_text().splitlines()
    assert calls[0] == "time,method,path,status,duration_ms"
    rows = [line.split(",") for line in calls[1:]]
    assert rows and all(r[3] == "0" and float(r[4]) >= 300 for r in rows)
    log = (tmp_path / "k8s" / "collector.log").read_text()
    assert "no answer after" in log and "(timeout 0.3 s)" in log
    assert "hop limit" in log  # the token PUT got no answer: the symptom is named


def test_a_dropped_token_put_falls_back_to_imdsv1(tmp_path, dnsmasq, pod_resolv):
    with ImdsEmulator(lifetime_s=3600, drop_token_put=True) as hop_limited:
        assert _run(tmp_path, "k8s", dnsmasq, pod_resolv, hop_limited.endpoint) == 0
        assert hop_limited.counts["token"] == 1 and hop_limited.counts["credentials"] >= 2
    docs = next((tmp_path / "k8s" / "credentials").iterdir()).read_text().splitlines()
    assert all(json.loads(d)["Code"] == "Success" for d in docs)


def test_dig_is_used_when_installed(tmp_path, dnsmasq, pod_resolv, emulator):
    assert shutil.which("dig"), "make test installs bind9-dnsutils"
    assert _run(tmp_path, "k8s", dnsmasq, pod_resolv, emulator.endpoint, "--dns-client",
                "dig", "--duration", "0") == 0
    text = next((tmp_path / "k8s" / "dig").iterdir()).read_text()
    assert "; <<>> DiG 9." in text  # dig's own banner, not ours
    parsed = ingest.dig.DigText().parse(next((tmp_path / "k8s" / "dig").iterdir()))
    queries = parsed.table[parsed.table["server"] != collect.SYSTEM_RESOLVER]
    assert list(queries["name"]) == [f"{NAME}.{d}" for d in SEARCH] + [NAME]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_stops_the_loop_and_keeps_what_was_collected(tmp_path, dnsmasq, pod_resolv,
                                                              emulator, sig):
    host, port, _ = dnsmasq
    process = subprocess.Popen(
        [sys.executable, str(COLLECT_PY), "--env", "k8s", "--out", str(tmp_path), "--names",
         NAME, "--duration", "60", "--interval", "0.2", "--resolv-conf", str(pod_resolv),
         "--resolver", host, "--resolver-port", str(port), "--metadata-endpoint",
         emulator.endpoint, "--dns-client", "builtin", "--quiet"],
        stdout=subprocess.PIPE, text=True)
    time.sleep(1.5)
    process.send_signal(sig)
    out, _ = process.communicate(timeout=20)
    assert process.returncode == 0
    assert json.loads(out)["samples"] >= 2
    assert "stopped by a signal" in (tmp_path / "k8s" / "collector.log").read_text()
    assert len(next((tmp_path / "k8s" / "credentials").iterdir()).read_text().splitlines()) >= 2


def test_collect_py_runs_alone_on_the_standard_library_of_python_3_8():
    # -S -I: no site-packages, no project on the path: only the standard library
    done = subprocess.run([sys.executable, "-S", "-I", str(COLLECT_PY), "--help"],
                          capture_output=True, text=True)
    assert done.returncode == 0 and "--metadata-endpoint" in done.stdout
    vermin = Path(sys.executable).parent / "vermin"
    checked = subprocess.run([str(vermin), "--no-tips", "--violations", "-t=3.8-",
                              str(COLLECT_PY)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_durations_read_as_people_write_them():
    assert [collect.parse_duration(t) for t in ("10m", "2s", "1h", "500ms", "90")] == \
        [600, 2, 3600, 0.5, 90]
    with pytest.raises(Exception, match="duration"):
        collect.parse_duration("ten minutes")


def test_existing_evidence_is_never_overwritten(tmp_path, dnsmasq, pod_resolv, emulator):
    (tmp_path / "k8s").mkdir()
    (tmp_path / "k8s" / "resolv.conf").write_text("nameserver 10.0.0.2\n")
    for _ in range(2):
        assert _run(tmp_path, "k8s", dnsmasq, pod_resolv, emulator.endpoint,
                    "--duration", "0") == 0
        time.sleep(1.1)  # a new run name: runs are named by host and second
    assert (tmp_path / "k8s" / "resolv.conf").read_text() == "nameserver 10.0.0.2\n"
    assert len(list((tmp_path / "k8s").glob("resolv.conf.collect-*"))) == 2
    assert len(list((tmp_path / "k8s" / "credentials").iterdir())) == 2  # one file per run


def test_the_endpoint_comes_from_the_sdks_environment_variable(tmp_path, dnsmasq, pod_resolv,
                                                                emulator, monkeypatch):
    monkeypatch.setenv(collect.ENDPOINT_ENV, emulator.endpoint)
    host, port, _ = dnsmasq
    assert collect.main(["--env", "k8s", "--out", str(tmp_path), "--duration", "0",
                         "--resolv-conf", str(pod_resolv), "--resolver", host,
                         "--resolver-port", str(port), "--quiet"]) == 0
    assert emulator.counts["credentials"] == 1


def test_per_name_times_the_collector_records_feed_the_dns_model(collected):
    """Collect, ingest, estimate: each name of the walk costs its own collected
    times (source `measured per name`), the names CoreDNS would answer told apart."""
    from analysis.models import dns as dns_model

    evidence = ingest.load_evidence(collected, services.load_config(collected))
    est = dns_model.dns_estimate("k8s", evidence.dig, evidence.resolv, (NAME,), 1, 0, 1.0)
    walk = est.walks[NAME]
    assert est.source == walk.source == "measured per name"
    assert walk.queried == tuple(f"{NAME}.{d}." for d in SEARCH) + (f"{NAME}.",)
    assert walk.local == (True, True, False)   # under cluster.local: CoreDNS's own zone
    dig = evidence.dig[(evidence.dig["env"] == "k8s")
                       & (evidence.dig["server"] != collect.SYSTEM_RESOLVER)]
    for queried, times in zip(walk.queried, walk.parts, strict=True):
        written = dig.loc[dig["name"].str.rstrip(".") == queried.rstrip("."), "total_ms"]
        assert sorted(times) == sorted(written) and len(times) >= 2
    assert walk.lookup_ms == pytest.approx(sum(float(np.median(t)) for t in walk.parts))
