"""Every figure and table renders for any verdict: small samples, a gap on the budget, no
backend times, evidence kinds missing in one or both environments.

The variants run the notebooks' cells in this process (tests/inprocess.py); three real
reports (papermill + nbconvert) cover the cases the issue names."""

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from analysis import pipeline
from analysis.simulate import SCENARIOS, Scenario, write_service
from analysis.summary import jsonable
from tests.inprocess import run_notebooks
from tests.words import raw_values

SEARCH, PAYMENTS = SCENARIOS["search-api"], SCENARIOS["payments-api"]
OPTIONAL_KINDS = ("dig", "credentials", "metadata", "resolv.conf")


def _service(root: Path, name: str, duration_s: float, scenario: Scenario = SEARCH,
             bare: tuple[str, ...] = ()) -> Path:
    """A simulated service; `bare` environments have latency logs and nothing else."""
    folder = write_service(replace(scenario, name=name, duration_s=duration_s,
                                   service_yaml={**scenario.service_yaml, "name": name}), root)
    for env in bare:
        for kind in OPTIONAL_KINDS:
            path = folder / env / kind
            path.unlink() if path.is_file() else shutil.rmtree(path)
    return folder


def _no_backend_times(folder: Path, env: str = "k8s") -> None:
    """Every request of env answered by the proxy alone: ingress-nginx logs '-' upstream."""
    log = folder / env / "latency" / "ingress-nginx.log"
    lines = [line.split(" ") for line in log.read_text().splitlines()]
    log.write_text("".join(" ".join([*p[:-3], "-", *p[-2:]]) + "\n" for p in lines))


def _consistent(summary: dict) -> None:
    blockers = [f["id"] for f in summary["findings"] if f["severity"] == "blocker"]
    assert not (summary["verdict"]["ready"] and blockers), blockers


VARIANTS = {
    # name: (how to build it, expected cause)
    "bare-ec2": (lambda root: _service(root, "bare-ec2", 900, bare=("ec2",)),
                 "credential_refresh"),
    "bare-k8s": (lambda root: _service(root, "bare-k8s", 900, bare=("k8s",)), "inconclusive"),
    "tiny-bare": (lambda root: _service(root, "tiny-bare", 20, bare=("ec2", "k8s")),
                  "inconclusive"),
    "near-budget": (lambda root: _service(root, "near-budget", 60, replace(
        PAYMENTS, seed=53, k8s=replace(PAYMENTS.k8s, extra_ms=10.0))), "inconclusive"),
    "no-backend-times": (lambda root: _no_backend_times(
        _service(root, "no-backend-times", 300, PAYMENTS)), "inconclusive"),
}


@pytest.mark.parametrize("name", VARIANTS)
def test_every_cell_renders(name, tmp_path):
    build, cause = VARIANTS[name]
    build(tmp_path / "data")
    namespace = run_notebooks(name, tmp_path / "data")
    summary = json.loads(json.dumps(jsonable(namespace["result"].summary())))
    assert namespace["analysis"].verdict["cause"] == summary["verdict"]["cause"] == cause
    _consistent(summary)


def _report(root: Path, name: str) -> tuple[dict, str]:
    pipeline.report(name, root / "data", root / "reports", say=lambda m: None)
    folder = root / "reports" / name
    summary = json.loads((folder / "summary.json").read_text())
    _consistent(summary)
    html = (folder / "report.html").read_text()
    assert raw_values(html) == []  # words, not variables, however thin the evidence
    return summary, html


def test_150_requests_with_a_clear_gap_are_conclusive(tmp_path):
    _service(tmp_path / "data", "small-api", 340)
    summary, html = _report(tmp_path, "small-api")
    assert 150 <= min(v["n"] for v in summary["latency_ms"].values()) < 200
    assert summary["verdict"]["cause"] == "credential_refresh"
    assert summary["gap_ms"]["p50"]["value"] == pytest.approx(87, abs=5)
    decided = summary["verdict"]["by_quantile"]
    assert (decided["p50"]["decision"], decided["p99"]["decision"]) == ("over", "undecided")
    assert "small-api: BLOCKED" in html and "undecided-gap-p99" in html


def test_ten_requests_are_inconclusive_and_still_reported(tmp_path):
    _service(tmp_path / "data", "tiny-api", 20)
    summary, html = _report(tmp_path, "tiny-api")
    assert max(v["n"] for v in summary["latency_ms"].values()) <= 12
    assert summary["verdict"]["cause"] == "inconclusive" and summary["gap_ms"] == {}
    assert "too-few-requests" in html and "tiny-api: BLOCKED" in html
    assert "After fixing" not in html  # nothing attributed: no gap after a fix to predict


def test_a_service_with_nothing_but_latency_logs_renders(tmp_path):
    _service(tmp_path / "data", "bare-api", 900, bare=("ec2", "k8s"))
    summary, html = _report(tmp_path, "bare-api")
    assert summary["verdict"]["cause"] == "inconclusive"
    for kind in ("dig", "credentials", "resolv.conf"):
        assert f"missing-{kind.replace('.', '-')}-k8s" in html
    assert html.count("MISSING") == 2 * len(OPTIONAL_KINDS)
