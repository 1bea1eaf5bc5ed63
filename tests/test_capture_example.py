"""scripts/capture-example, run again into tmp with fewer requests: the captured example's
story holds on a fresh capture (the script is re-runnable, its verdict does not depend on
the run)."""

import os
import shutil
import subprocess
import sys

import pytest

from analysis import attribution, config
from analysis.ingest import load_evidence
from analysis.service import load_config

SCRIPT = config.PROJECT_ROOT / "scripts" / "capture-example"
TOOLS = ("tcpdump", "dnsmasq", "dig")


def namespaces() -> bool:
    """Can this machine make network namespaces (a container without CAP_SYS_ADMIN cannot)?"""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    return subprocess.run(["unshare", "--net", "true"], capture_output=True).returncode == 0


@pytest.fixture(scope="module")
def recaptured(tmp_path_factory):
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing or os.geteuid() != 0:
        pytest.skip(f"needs root and {', '.join(TOOLS)} (missing: {missing or 'root'}); "
                    "scripts/ensure-test-tools.sh installs the tools")
    out = tmp_path_factory.mktemp("recaptured")
    at_once = namespaces()
    run = subprocess.run([sys.executable, str(SCRIPT), "--out", str(out), "--requests", "40",
                          *([] if at_once else ["--sequential"])],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return out / "orders-api", run.stdout, at_once


def test_a_fresh_capture_tells_the_same_story(recaptured):
    folder, said, _ = recaptured
    assert sorted(p.name for p in folder.iterdir()) == ["ec2", "k8s", "service.yaml"]
    for env in ("ec2", "k8s"):
        assert sorted(p.name for p in (folder / env).iterdir()) == [
            "credentials", "dig", "latency", "metadata", "pcap", "resolv.conf"]
    config_ = load_config(folder)
    evidence = load_evidence(folder, config_)
    assert evidence.inputs["rejected"].sum() == 0 and not evidence.missing()
    requests = evidence.capture_requests.groupby("env")
    assert requests.size().to_dict() == {"ec2": 40, "k8s": 40}
    assert requests["metadata_calls"].sum().to_dict() == {"ec2": 0, "k8s": 160}
    assert requests["dns_queries"].sum().to_dict() == {"ec2": 80, "k8s": 320}
    result = attribution.analyse(evidence, config_)
    assert result.verdict["cause"] == "both" and not result.verdict["ready"]
    assert result.gap_ms["p50"]["value"] > 25
    assert "wrote" in said


def test_the_two_environments_were_captured_at_the_same_time(recaptured):
    """Each in its own network namespace, at once: their access logs overlap in time, so
    the report does not warn that they cover different hours."""
    folder, _, at_once = recaptured
    if not at_once:
        pytest.skip("no network namespaces here (unshare --net failed): captured one after "
                    "the other with --sequential")
    config_ = load_config(folder)
    evidence = load_evidence(folder, config_)
    assert evidence.overlap("ec2", "k8s").total_seconds() > 0
