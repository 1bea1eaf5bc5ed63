"""Format detection: ties are decided by each format's priority, never by import order."""

import pytest

from analysis.ingest import registry
from analysis.ingest.registry import REGISTRY, detect
from analysis.ingest.tabular import JsonLines


class _JsonLayout:
    """A format with a JSON layout of its own: it reads every `{...}` line, as json-lines does."""

    kind = "latency"

    def __init__(self, name: str, priority: int):
        self.name, self.priority = name, priority

    def detect(self, sample: list[str]) -> float:
        return sum(line.startswith("{") and line.endswith("}") for line in sample) / len(sample)


@pytest.fixture
def json_file(tmp_path):
    path = tmp_path / "access.jsonl"
    path.write_text('{"time": "2026-11-24T10:00:00Z", "duration_ms": 12}\n' * 3)
    return path


@pytest.mark.parametrize("reverse", [False, True])
def test_a_tie_goes_to_the_higher_priority_whatever_the_registration_order(
        json_file, monkeypatch, reverse):
    json_lines = JsonLines()
    above, below = _JsonLayout("json-above", json_lines.priority + 1), \
        _JsonLayout("json-below", json_lines.priority - 1)
    order = [json_lines, above, below]
    formats = {fmt.name: fmt for fmt in (reversed(order) if reverse else order)}
    monkeypatch.setitem(REGISTRY, "latency", formats)
    assert {fmt.detect(["{}"]) for fmt in order} == {1.0}  # all three tie
    assert detect("latency", json_file) is above
    del formats["json-above"]
    assert detect("latency", json_file) is json_lines


def test_reversing_the_registry_changes_no_detection(fixture_path, monkeypatch):
    names = ["ingress-nginx.log", "alb.log", "alb-athena.csv", "envoy.log", "istio.log",
             "latency.csv", "latency-seconds.jsonl"]
    before = [detect("latency", fixture_path(n)).name for n in names]
    monkeypatch.setitem(REGISTRY, "latency", dict(reversed(REGISTRY["latency"].items())))
    assert [detect("latency", fixture_path(n)).name for n in names] == before
    assert before == ["ingress-nginx", "aws-alb", "aws-alb-athena-csv", "envoy", "istio", "csv",
                      "json-lines"]


def test_two_formats_of_a_kind_cannot_share_a_priority(monkeypatch):
    monkeypatch.setitem(REGISTRY, "latency", dict(REGISTRY["latency"]))
    with pytest.raises(ValueError, match="priority 10, as 'json-lines' has"):
        registry.add(_JsonLayout("another-json", 10))
    registry.add(_JsonLayout("another-json", 11))
    assert "another-json" in REGISTRY["latency"]


def test_every_registered_format_has_a_priority_of_its_own():
    for kind, formats in REGISTRY.items():
        priorities = [fmt.priority for fmt in formats.values()]
        assert len(set(priorities)) == len(priorities), kind


def test_the_detection_table_of_the_docs_gives_each_format_its_priority():
    import re

    from analysis import config

    doc = (config.PROJECT_ROOT / "docs" / "formats.md").read_text()
    section = doc.split("## Detection")[1].split("\n## ")[0]
    rows = re.findall(r"^\| (\d+)(?: to (\d+))? \| (.+) \|$", section, re.M)
    documented = {}
    for high, low, names in rows:
        names = re.findall(r"`([^`]+)`", names)
        for i, name in enumerate(names):  # a range is listed highest first
            documented[name] = int(high) - (i if low else 0)
    assert documented == {name: fmt.priority for name, fmt in REGISTRY["latency"].items()}
