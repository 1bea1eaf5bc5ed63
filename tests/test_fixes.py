"""What fixing does (analysis/fixes.py) and the fixes as code to paste (fix_code), for the
bundled examples' own configuration."""

from dataclasses import replace

import pytest

from analysis import fixes, summary
from analysis.findings import JVM_DNS_CACHE_S, dns_findings
from analysis.models import resolver_options, search_list
from analysis.models.resolver_options import ResolverOptions
from tests.analysed import analysed

SEARCH = ["search.svc.cluster.local", "svc.cluster.local", "cluster.local",
          "eu-west-1.compute.internal"]


def _by_id(service: str) -> dict[str, dict]:
    return {f["id"]: f for f in analysed(service).findings}


def test_the_gap_after_every_fix_is_the_gap_minus_every_fixed_cause():
    analysis = analysed("search-api").analysis
    plans = fixes.after_fixes(analysis, analysed("search-api").findings)
    attr, gap = analysis.attribution_ms, analysis.gap_ms
    # search-api: one blocker (credentials); DNS is a warning at p99 (48 of a 50 ms budget)
    assert plans["blockers"]["findings"] == ["credential-refresh-every-request"]
    assert plans["blockers"]["gap_after_ms"] == \
        _by_id("search-api")["credential-refresh-every-request"]["gap_after_fix_ms"]
    assert plans["all"]["causes"] == ["credential_refresh", "dns"]
    for q in ("p50", "p99"):
        both = gap[q]["value"] - attr[q]["credential_refresh"] - attr[q]["dns"]
        assert plans["all"]["gap_after_ms"][q] == pytest.approx(both, abs=0.05)
        # Shapley shares add up: after every cause only the unexplained part is left
        assert plans["all"]["gap_after_ms"][q] == pytest.approx(attr[q]["unexplained"],
                                                                abs=0.15)
    assert plans["blockers"]["within_budget"] is True and plans["all"]["within_budget"] is True


def test_a_blocker_without_a_predicted_effect_leaves_readiness_unpredicted():
    analysis = analysed("search-api").analysis
    found = [*analysed("search-api").findings,
             {"id": "undecided-gap-p99", "severity": "blocker", "evidence": "e", "fix": "f"}]
    plan = fixes.after_fixes(analysis, found)["blockers"]
    assert plan["within_budget"] is None and plan["not_predicted"] == ["undecided-gap-p99"]
    assert plan["gap_after_ms"]  # the credential fix is still predicted


def test_nothing_attributed_predicts_nothing():
    analysis = replace(analysed("search-api").analysis, attribution_ms={}, gap_ms={})
    assert fixes.gap_after(analysis, ["dns"]) == {}


def test_summary_names_every_blocker_and_carries_the_plan():
    done = analysed("search-api")
    built = summary.build(done.analysis, done.findings, done.evidence)
    assert built["verdict"]["blockers"] == ["credential-refresh-every-request"]
    assert built["verdict"]["cause"] == "credential_refresh"  # its documented meaning stays
    assert set(built["after_fixes"]) == {"blockers", "all"}
    ready = analysed("payments-api")
    built = summary.build(ready.analysis, ready.findings, ready.evidence)
    assert built["verdict"]["blockers"] == [] and built["verdict"]["ready"] is True


def test_the_credential_fix_is_kiam_server_flags_above_the_sdks_threshold():
    code = _by_id("search-api")["credential-refresh-every-request"]["fix_code"]
    assert code == [{"label": "kiam-server flags (the kiam-server container's args)",
                     "language": "shell",
                     "code": "--session-duration=60m\n--session-refresh=20m\n"}]


def test_the_dns_fix_uses_the_names_of_service_yaml_and_the_jvm_cache_for_a_jvm():
    code = _by_id("search-api")["dns-search-expansion"]["fix_code"]
    assert code[0]["code"] == "elastic.example.com.\n"  # service.yaml's name, absolute
    assert code[1]["language"] == "yaml" and 'value: "2"' in code[1]["code"]
    ttl = analysed("search-api").config.dns.cache_ttl_s
    assert code[2] == {**code[2], "language": "properties",
                       "code": f"networkaddress.cache.ttl={ttl:g}\n"}
    # listings-api is Go (aws-sdk-go-v2): no JVM setting; its own name
    code = _by_id("listings-api")["dns-search-expansion"]["fix_code"]
    assert [c["language"] for c in code] == ["text", "yaml"]
    assert code[0]["code"] == "catalog.example.com.\n"
    assert JVM_DNS_CACHE_S > 0


def test_a_jvm_without_a_dns_cache_is_told_to_add_one():
    done = analysed("search-api")
    config = replace(done.config, dns=replace(done.config.dns, cache_ttl_s=0))
    found = dns_findings(done.analysis, config, done.evidence)[0]
    assert found.fix_code[2]["code"] == f"networkaddress.cache.ttl={JVM_DNS_CACHE_S}\n"
    assert "Add an application DNS cache" in found.fix


def test_an_in_cluster_name_is_written_in_full_and_ndots_fits_it():
    assert search_list.full_name("es.search", SEARCH) == "es.search.svc.cluster.local."
    assert search_list.fixed_ndots("es.search", SEARCH, 5) == 4
    assert search_list.fixed_ndots("elastic.example.com", SEARCH, 5) == 2
    assert 'value: "4"' in search_list.dns_config(4)


def test_the_stall_fix_is_the_pods_dns_config():
    racing = ResolverOptions(timeout_s=5)
    code = resolver_options.fix_code(racing)[0]["code"]
    assert "single-request-reopen" in code and 'value: "1"' in code
    assert resolver_options.fix_code(ResolverOptions(
        timeout_s=1, flags=frozenset({"single-request-reopen"}))) == []
