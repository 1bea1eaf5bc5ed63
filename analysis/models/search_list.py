"""The glibc search-list walk: which names one lookup queries, and where each name resolves.

glibc's `__res_context_search` (resolv/res_query.c): a name ending in '.' is queried as-is and
nothing else; a name with at least `ndots` dots is queried as-is first; then each search
domain in order, then the name as-is if it was not tried yet. The walk stops at the first name
that answers (man 5 resolv.conf). Which name answers depends on where the name lives: names
under the cluster domain are Kubernetes services (KEP-504 search list
`<ns>.svc.<domain> svc.<domain> <domain>`), every other name resolves only as written.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from analysis.ingest.resolv import MAXIMUM

#: res_setoptions clamps ndots to RES_MAXNDOTS (resolv.h)
MAX_NDOTS = MAXIMUM["ndots"][0]
#: last labels that read as a public top-level domain: the generic ones services use and
#: every two-letter country code; `internal` is EC2's private zone (compute.internal)
PUBLIC_LABELS = frozenset({"com", "net", "org", "io", "dev", "app", "cloud", "info", "biz",
                           "edu", "gov", "mil", "int", "aws", "internal", "local", "localhost"})
_COUNTRY = re.compile(r"[a-z]{2}")


def cluster_of(search: Sequence[str]) -> tuple[str | None, str | None]:
    """The pod's namespace and the cluster domain, read from the search list kubelet writes
    (first entry `<ns>.svc.<domain>`); (None, None) outside a cluster."""
    namespace, domain = None, None
    for entry in search:
        labels = entry.rstrip(".").split(".")
        if "svc" in labels[:2] and labels[-1] != "svc":
            at = labels.index("svc")
            domain = ".".join(labels[at + 1:])
            namespace = labels[0] if at == 1 and entry == search[0] else None
            break
    return namespace, domain


def in_cluster(name: str, search: Sequence[str]) -> bool:
    """Whether `name` resolves under the cluster domain: it is one label, ends with the domain,
    its last label is `svc` or the pod's namespace, or its last label does not read as a
    public one."""
    namespace, domain = cluster_of(search)
    if domain is None:
        return False
    bare = name.rstrip(".").lower()
    last = bare.rsplit(".", 1)[-1]
    if "." not in bare or bare == domain or bare.endswith("." + domain) \
            or last in ("svc", namespace):
        return True
    return not (last in PUBLIC_LABELS or _COUNTRY.fullmatch(last))


def full_name(name: str, search: Sequence[str]) -> str:
    """The fully qualified name an in-cluster `name` resolves as, with its trailing dot:
    `<svc>.<ns>.svc.<domain>.`; `name` as written (absolute) for any other name."""
    namespace, domain = cluster_of(search)
    bare = name.rstrip(".")
    if not in_cluster(name, search):
        return bare + "."
    if bare == domain or bare.endswith("." + domain):
        return bare + "."
    if bare.endswith(".svc"):
        return f"{bare}.{domain}."
    if "." not in bare:
        return f"{bare}.{namespace or '<ns>'}.svc.{domain}."
    return f"{bare}.svc.{domain}."


def candidates(name: str, search: Sequence[str], ndots: int) -> list[str]:
    """Every name glibc would query for `name`, in its order, if none answered."""
    if name.endswith("."):
        return [name]
    dots = name.count(".")
    as_is_first = dots >= min(ndots, MAX_NDOTS)
    walked = [f"{name}.{entry.rstrip('.')}." for entry in search]
    return [name + ".", *walked] if as_is_first else [*walked, name + "."]


def names_queried(name: str, search: Sequence[str], ndots: int) -> list[str]:
    """The names one uncached lookup of `name` queries: the walk up to the first that answers
    (all of them when none does: an in-cluster name outside the search list, or written
    absolute but short, `es.search.`)."""
    answer = full_name(name, search).lower()
    walk = candidates(name, search, ndots)
    for i, candidate in enumerate(walk):
        if candidate.lower() == answer:
            return walk[:i + 1]
    return walk


def fixed_ndots(name: str, search: Sequence[str], ndots: int) -> int:
    """The ndots at which one lookup of `name` (its full name, when in the cluster) is tried
    as written first."""
    if in_cluster(name, search):
        return min(full_name(name, search).count(".") - 1, ndots)
    return max(1, name.rstrip(".").count("."))


def fix(name: str, search: Sequence[str], ndots: int) -> str:
    """Changes that make one lookup of `name` query one name and keep it resolving."""
    full, bare = full_name(name, search), name.rstrip(".")
    dots = fixed_ndots(name, search, ndots)
    if in_cluster(name, search):
        short = f" A trailing dot on the short name ({bare}.) would not resolve." \
            if full != bare + "." else ""
        return (f"Use the full name {full} (trailing dot: one query), or write "
                f"{full.rstrip('.')} and set the pod's dnsConfig ndots:{dots} or "
                f"lower; a NodeLocal DNSCache cuts each query.{short}")
    return (f"Use {full} (trailing dot) or set the pod's dnsConfig ndots:{dots} (in-cluster "
            f"names with {dots} or more dots then try the literal name first); a NodeLocal "
            "DNSCache cuts each query.")


def dns_config(ndots: int) -> str:
    """The pod spec's dnsConfig that sets ndots (Kubernetes merges it into resolv.conf)."""
    return ("# in the pod spec (spec.template.spec of the Deployment)\n"
            f"dnsConfig:\n  options:\n    - name: ndots\n      value: \"{ndots}\"")
