"""summary.json: built from the analysis, written finite, read back the same."""

import json
import math

from analysis import summary
from analysis.fingerprint import combine
from tests.analysed import analysed

CONTRACT = {"service", "baseline", "candidate", "latency_ms", "gap_ms", "attribution_ms",
            "verdict", "findings", "inputs"}


def test_the_summary_holds_the_contract_and_reads_back_as_written(tmp_path):
    search = analysed("search-api")
    built = summary.build(search.analysis, search.findings, search.evidence,
                          {"k8s/dig/dig.txt": "ab" * 32})
    assert CONTRACT <= built.keys()
    assert built["evidence"] == {"fingerprint": combine({"k8s/dig/dig.txt": "ab" * 32}),
                                 "files": 1}
    path = summary.write(built, tmp_path / "out" / "summary.json")
    assert json.loads(path.read_text()) == json.loads(json.dumps(built))
    assert built["verdict"]["cause"] == "credential_refresh" and not built["verdict"]["ready"]
    for finding in built["findings"]:
        assert {"id", "severity", "evidence", "fix"} <= finding.keys()


def test_nan_and_infinity_are_written_as_null(tmp_path):
    path = summary.write({"gap_ms": {"p50": {"value": math.nan, "ci95": [-math.inf, 1.0]}},
                          "findings": [{"gain_ms": math.inf}]}, tmp_path / "summary.json")
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"gap_ms": {"p50": {"value": None, "ci95": [None, 1.0]}},
                                "findings": [{"gain_ms": None}]}


def test_inputs_count_every_environment_and_kind():
    search = analysed("search-api")
    inputs = summary.inputs(search.evidence)
    assert set(inputs) == {"ec2", "k8s"}
    latency = inputs["k8s"]["latency"]
    assert latency["files"] >= 1 and latency["lines"] > 0 and latency["rejected"] == 0
    assert latency["formats"] == ["ingress-nginx"]
