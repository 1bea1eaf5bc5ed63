"""One request, segment by segment: measured where the evidence timed it, modelled otherwise."""

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from analysis import waterfall
from analysis.models.dns_cost import PER_NAME, WalkCost
from tests.analysed import analysed


def _request(table: pd.DataFrame, name: str) -> pd.DataFrame:
    return table[table["request"] == name]


def test_the_table_has_its_documented_columns_and_kinds():
    search = analysed("search-api")
    table = waterfall.segments(search.analysis, search.evidence.metadata)
    assert list(table.columns) == waterfall.COLUMNS
    assert set(table["kind"]) <= set(waterfall.KINDS)
    assert set(table["source"]) <= {waterfall.MEASURED, waterfall.MODELLED}


def test_a_typical_k8s_request_pays_the_timed_metadata_calls_on_top_of_the_app():
    search = analysed("search-api")  # kiam: every k8s request refreshes, calls timed
    table = waterfall.segments(search.analysis, search.evidence.metadata)
    ec2, k8s = _request(table, "ec2: typical request"), _request(table, "k8s: typical request")
    assert list(ec2["kind"]) == ["app"]
    assert ec2["ms"].sum() == search.analysis.latency_ms["ec2"]["p50"]
    calls = k8s[k8s["kind"] == "metadata"]
    assert list(calls["segment"]) == ["metadata call 1 (role name)",
                                      "metadata call 2 (credentials)"]
    assert (calls["source"] == waterfall.MEASURED).all()
    timed = search.analysis.refresh["k8s"].call_ms
    assert calls["ms"].tolist() == [np.median(timed)] * 2
    # the model's typical k8s request lands within a few ms of the median the log shows
    assert abs(k8s["ms"].sum() - search.analysis.latency_ms["k8s"]["p50"]) < 5


def test_a_dns_miss_only_some_requests_pay_gets_its_own_request_name_by_name():
    search = analysed("search-api")  # ndots 5: five names per uncached lookup, ~6% miss
    table = waterfall.segments(search.analysis)
    miss = search.analysis.dns["k8s"].miss_rate
    names = _request(table, waterfall.miss_request("k8s", miss))
    dns = names[names["kind"] == "dns"]
    walk = search.analysis.dns["k8s"].walk_costs()["elastic.example.com"]
    assert list(dns["segment"]) == [f"DNS {q}" for q in walk.queried]
    assert dns["ms"].tolist() == list(walk.name_ms)
    assert (dns["source"] == waterfall.MODELLED).all() and (dns["share"] == miss).all()
    assert "DNS" not in " ".join(_request(table, "k8s: typical request")["segment"])


def test_every_request_pays_dns_without_a_cache():
    listings = analysed("listings-api")  # no JVM cache: every request walks the search list
    table = waterfall.segments(listings.analysis)
    assert list(dict.fromkeys(table["request"])) == ["ec2: typical request",
                                                     "k8s: typical request"]
    k8s = _request(table, "k8s: typical request")
    assert (k8s["kind"] == "dns").sum() == 5
    assert abs(k8s["ms"].sum() - listings.analysis.latency_ms["k8s"]["p50"]) < 3


def test_names_timed_one_by_one_are_measured():
    search = analysed("search-api")
    est = search.analysis.dns["k8s"]
    walk = est.walk_costs()["elastic.example.com"]
    timed = WalkCost(walk.name, walk.queried, walk.local, PER_NAME,
                     tuple(np.array([2.0, 4.0]) for _ in walk.queried))
    analysis = replace(search.analysis, dns={**search.analysis.dns,
                                             "k8s": replace(est, walks={walk.name: timed})})
    table = waterfall.segments(analysis)
    dns = table[table["kind"] == "dns"]
    assert (dns["source"] == waterfall.MEASURED).all() and (dns["ms"] == 3.0).all()


def test_untimed_metadata_calls_are_modelled_and_sum_to_the_estimate():
    search = analysed("search-api")
    est = replace(search.analysis.refresh["k8s"], call_ms=np.empty(0), cost_ms=80.0)
    analysis = replace(search.analysis, refresh={**search.analysis.refresh, "k8s": est})
    calls = waterfall.segments(analysis).query("kind == 'metadata'")
    first = calls[calls["request"] == "k8s: typical request"]
    assert (first["source"] == waterfall.MODELLED).all() and first["ms"].sum() == 80.0


def test_a_service_within_budget_shows_two_equal_requests():
    payments = analysed("payments-api")  # refreshes are rare, DNS cached: app time only
    table = waterfall.segments(payments.analysis)
    assert waterfall.totals(table).tolist() == [30.0, 30.0]


def test_no_latency_no_request():
    search = analysed("search-api")
    thin = replace(search.analysis, latency_ms={})
    assert waterfall.segments(thin).empty


def test_captured_requests_join_the_table_in_the_same_shape():
    search = analysed("search-api")
    table = waterfall.segments(search.analysis)
    captured = pd.DataFrame([
        {"request": "k8s: captured request 1", "env": "k8s", "segment": "app", "kind": "app",
         "ms": 21.0, "source": "measured", "share": 1.0},
        {"request": "k8s: captured request 1", "env": "k8s", "segment": "metadata call 1",
         "kind": "metadata", "ms": 43.0, "source": "measured", "share": 1.0}])
    both = waterfall.extend(table, captured)
    assert waterfall.totals(both)["k8s: captured request 1"] == 64.0
    assert len(both) == len(table) + 2
    with pytest.raises(ValueError, match="'k8s: captured request 1' is already in the table"):
        waterfall.extend(both, captured)


@pytest.mark.parametrize(("change", "message"), [
    ({"kind": "tcp"}, r"row 0: kind 'tcp'; expected one of app, metadata, dns"),
    ({"source": "guessed"}, r"row 0: source 'guessed'; expected measured or modelled"),
    ({"ms": -1.0}, r"row 0: ms -1.0; expected a duration >= 0")])
def test_a_malformed_table_is_named_with_its_row(change, message):
    row = {"request": "r", "env": "k8s", "segment": "app", "kind": "app", "ms": 1.0,
           "source": "measured", "share": 1.0}
    with pytest.raises(ValueError, match=message):
        waterfall.validate(pd.DataFrame([{**row, **change}]), "capture.pcap")
    with pytest.raises(ValueError, match="missing column.s. share"):
        waterfall.validate(pd.DataFrame([row]).drop(columns="share"))
