"""What resolv.conf's options make glibc do with one name (resolv/res_send.c)."""

import pytest

from analysis.ingest.resolv import parse_resolv_conf
from analysis.models.resolver_options import ResolverOptions, fix

CLUSTER_DNS = ("172.20.0.10",)


def test_defaults_send_a_and_aaaa_together_and_a_loss_costs_five_seconds():
    options = ResolverOptions(nameservers=CLUSTER_DNS)
    assert (options.queries_per_name, options.round_trips_per_name) == (2, 1)
    assert options.race  # one socket, through the ClusterIP DNAT
    assert (options.stall_s, options.give_up_s) == (5.0, 10.0)  # 2 attempts x 5 s


@pytest.mark.parametrize("flag", ["single-request", "single-request-reopen"])
def test_single_request_serialises_a_and_aaaa_no_race_one_more_round_trip(flag):
    options = ResolverOptions(nameservers=CLUSTER_DNS, flags=frozenset({flag}))
    assert not options.race and options.round_trips_per_name == 2 and options.stall_s == 5.0


def test_no_aaaa_sends_one_query_and_nothing_races():
    options = ResolverOptions(nameservers=CLUSTER_DNS, flags=frozenset({"no-aaaa"}))
    assert (options.queries_per_name, options.round_trips_per_name, options.race) == (1, 1, False)


def test_use_vc_goes_over_tcp_a_loss_costs_a_retransmission_not_the_timeout():
    options = ResolverOptions(nameservers=CLUSTER_DNS, flags=frozenset({"use-vc"}))
    assert not options.race and options.stall_s == 1.0 and options.round_trips_per_name == 2


def test_nodelocal_dnscache_has_no_dnat_so_no_race():
    assert not ResolverOptions(nameservers=("169.254.20.10",)).race
    assert not ResolverOptions(nameservers=("127.0.0.53",)).race


@pytest.mark.parametrize("timeout, attempts, waits", [
    (5, 2, (5, 3, 6, 5, 3, 6)),   # timeout << ns, divided by 3 for ns > 0
    (1, 1, (1, 1, 1)),            # 2 / 3 and 4 / 3 round down, then at least 1 s
    (30, 5, (30, 20, 40) * 5),
])
def test_each_try_waits_as_send_dg_computes_it(timeout, attempts, waits):
    options = ResolverOptions(timeout, attempts, ("10.0.0.1", "10.0.0.2", "10.0.0.3"))
    assert options.try_waits_s == tuple(float(w) for w in waits)
    assert options.stall_s == timeout and options.give_up_s == sum(waits)


def test_read_from_a_pod_resolv_conf(fixture_path):
    options = ResolverOptions.of(parse_resolv_conf(fixture_path("resolv-k8s.conf")))
    assert (options.timeout_s, options.attempts) == (2, 2)
    assert not options.race and options.round_trips_per_name == 2
    assert ResolverOptions.of(None) == ResolverOptions()


def test_the_fix_depends_on_whether_a_and_aaaa_race():
    racing = fix(ResolverOptions(nameservers=CLUSTER_DNS))
    assert "single-request-reopen" in racing and "dnsConfig" in racing
    assert "options timeout:1" in racing
    serial = fix(ResolverOptions(2, 2, CLUSTER_DNS, frozenset({"single-request-reopen"})))
    assert "already avoids" in serial and "NodeLocal DNSCache" in serial
    assert "timeout:1" not in serial
