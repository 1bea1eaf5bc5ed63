"""The harness itself: a real capture, and the service's own account of every request."""


def test_a_capture_holds_packets_and_the_service_logs_every_phase(sequential):
    assert sequential.path.stat().st_size > 10_000 and sequential.dropped == 0
    assert [t.path for t in sequential.truths] == [f"/items/0-{i}" for i in range(6)]
    for truth in sequential.truths:
        assert truth.dns_queries == 3 and truth.metadata_calls == 3
        assert 0 < truth.dns_ms + truth.metadata_ms < truth.total_ms
    # the token and each document's secrets, as the service received them
    assert len(sequential.secrets) == 3 * 6 and all(len(s) > 20 for s in sequential.secrets)
    assert list(sequential.metadata.values()) == ["IMDS"]
