import pytest

from analysis.models.search_list import (
    candidates,
    cluster_of,
    fix,
    full_name,
    in_cluster,
    names_queried,
)

SEARCH = ["shop.svc.cluster.local", "svc.cluster.local", "cluster.local",
          "eu-west-1.compute.internal"]


def test_the_cluster_is_read_from_the_search_list():
    assert cluster_of(SEARCH) == ("shop", "cluster.local")
    assert cluster_of(["prod.svc.k8s.example.org", "svc.k8s.example.org"]) == \
        ("prod", "k8s.example.org")
    assert cluster_of(["eu-west-1.compute.internal"]) == (None, None)


def test_es_search_under_ndots_5_queries_two_names():
    assert names_queried("es.search", SEARCH, 5) == [
        "es.search.shop.svc.cluster.local.", "es.search.svc.cluster.local."]


@pytest.mark.parametrize("name, local", [
    ("es", True), ("es.search", True), ("es.search.svc", True), ("es.de.svc", True),
    ("es.shop", True), ("es.search.svc.cluster.local", True),
    ("elastic.example.com", False), ("es.de", False), ("db.example.io.", False),
    ("ip-10-0-0-1.eu-west-1.compute.internal", False),
])
def test_in_cluster_names_are_told_from_external_ones(name, local):
    assert in_cluster(name, SEARCH) is local


def test_outside_a_cluster_every_name_is_external():
    assert not in_cluster("es", ["eu-west-1.compute.internal"])
    assert names_queried("es", ["eu-west-1.compute.internal"], 1) == [
        "es.eu-west-1.compute.internal.", "es."]


def test_a_trailing_dot_is_one_name_and_ndots_is_clamped_at_15():
    assert candidates("a.b.", SEARCH, 5) == ["a.b."]
    deep = ".".join("x" * 16) + ".example.com"   # 17 dots: at least glibc's 15
    assert candidates(deep, SEARCH, 20)[0] == deep + "."


@pytest.mark.parametrize("name", ["es", "es.search", "es.search.svc", "es.shop",
                                  "elastic.example.com"])
def test_every_fix_keeps_the_name_resolving_in_one_query(name):
    full = full_name(name, SEARCH)
    assert full in fix(name, SEARCH, 5)
    assert names_queried(full, SEARCH, 5) == [full]          # one name ...
    assert full.rstrip(".").startswith(name)                  # ... that is this name
    if in_cluster(name, SEARCH):
        assert full.endswith(".svc.cluster.local.")
        assert f"{name}. (trailing dot)" not in fix(name, SEARCH, 5)
        # the ndots fix: the full name without its dot, with the ndots suggested
        ndots = int(fix(name, SEARCH, 5).split("ndots:")[1].split()[0])
        assert names_queried(full.rstrip("."), SEARCH, ndots) == [full]
