"""Measured requests as segments (a waterfall's rows) and per-environment waits, from real
captures."""

import pytest

from analysis.capture.reconstruct import CaptureOptions, reconstruct
from analysis.capture.segments import (
    SEGMENT_COLUMNS,
    chosen_requests,
    measured_segments,
    measured_waits,
    request_segments,
)


@pytest.fixture(scope="module")
def built(sequential):
    return reconstruct(sequential.path, "k8s", CaptureOptions(
        dns_ports=(sequential.dns_port,), metadata=sequential.metadata))


def test_the_segments_of_a_request_cover_its_window_in_order(built, sequential):
    parts = request_segments(built.requests, built.dns, built.metadata, 2, "typical")
    assert list(parts.columns) == SEGMENT_COLUMNS and set(parts["source"]) == {"pcap"}
    assert list(parts["kind"]).count("dns") == 3 and list(parts["kind"]).count("metadata") == 3
    waits = parts[parts["kind"] != "app"]
    assert list(waits["segment"][:2]) == [
        "DNS A elastic.example.com.svc.cluster.local.", "DNS A elastic.example.com."]
    assert waits["segment"].iloc[3] == "IMDS PUT /latest/api/token"
    # one after another here (one thread, no parallel queries): they tile the window
    assert parts["start_ms"].iloc[0] == 0 and parts["start_ms"].is_monotonic_increasing
    ends = parts["start_ms"] + parts["ms"]
    assert (parts["start_ms"].iloc[1:].to_numpy() >= ends.iloc[:-1].to_numpy() - 1e-6).all()
    total = built.requests.loc[2, "total_ms"]
    assert abs(parts["ms"].sum() - total) < 1e-6
    app = parts.loc[parts["kind"] == "app", "ms"].sum()
    truth = sequential.truths[2]
    assert abs(app - (truth.total_ms - truth.dns_ms - truth.metadata_ms)) <= 1.0


def test_the_typical_and_the_slowest_request_of_each_environment(built):
    chosen = chosen_requests(built.requests)
    assert list(chosen["which"]) == ["typical", "slowest"] and set(chosen["env"]) == {"k8s"}
    slowest = chosen.loc[chosen["which"] == "slowest", "request"].iloc[0]
    assert built.requests.loc[slowest, "total_ms"] == built.requests["total_ms"].max()
    segments = measured_segments(built.requests, built.dns, built.metadata)
    assert set(segments["which"]) == {"typical", "slowest"}


def test_ambiguous_requests_are_never_chosen(concurrent):
    built = reconstruct(concurrent.path, "k8s", CaptureOptions(
        dns_ports=(concurrent.dns_port,), metadata=concurrent.metadata))
    chosen = chosen_requests(built.requests)
    assert not built.requests.loc[chosen["request"], "ambiguous"].any()


def test_measured_waits_count_what_the_requests_made(built):
    waits = measured_waits(built.requests).iloc[0]
    assert (waits["requests"], waits["unambiguous"], waits["with_metadata"]) == (6, 6, 6)
    assert (waits["metadata_calls_mode"], waits["with_mode"]) == (3, 6)
    assert waits["metadata_ms_p50"] > waits["dns_ms_p50"] > 0
