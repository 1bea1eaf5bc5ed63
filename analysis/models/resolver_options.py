"""What resolv.conf's options make glibc do with one name: queries, round trips, and what a
lost packet costs.

Read in glibc's resolv/res_send.c at bminor/glibc 04e750e (2.42.9000):
- `__res_context_send` sends each name up to `attempts` (statp->retry) times to each of the
  first MAXNS nameservers in turn; `use-vc` (RES_USEVC) makes one TCP attempt per server.
- `send_dg` waits `timeout << ns` seconds on nameserver index ns (divided by the number of
  nameservers for ns > 0, at least 1 s): a query whose reply is lost costs that wait.
- By default A and AAAA go out together from one UDP socket (sendmmsg). Through Kubernetes'
  ClusterIP DNAT the two packets share a 5-tuple and race in conntrack; one is dropped and the
  lookup waits the timeout (weave works, "Racy conntrack and DNS lookup timeouts";
  kubernetes/kubernetes#56903). After such a timeout with one answer in, glibc itself resends
  one query at a time for the rest of that resolver state (RES_F_SNGLKUP, resolv-internal.h).
- `single-request` (RES_SNGLKUP) sends AAAA only after A's answer: no race, one more round trip
  per name; `single-request-reopen` (RES_SNGLKUPREOP) does the same from a new socket.
- `no-aaaa` (RES_NOAAAA, glibc 2.36) sends A only.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from analysis.ingest.resolv import DEFAULT_ATTEMPTS, DEFAULT_TIMEOUT_S, ResolvConf

#: NodeLocal DNSCache listens on this link-local address (kubernetes.io, "Using NodeLocal
#: DNSCache in Kubernetes Clusters"): no DNAT, no conntrack race on the pod's queries
NODE_LOCAL_DNS = "169.254.20.10"
#: a lost TCP segment is sent again after the initial retransmission timeout, 1 s (Linux
#: include/net/tcp.h TCP_TIMEOUT_INIT, RFC 6298 2.1), not after the resolver's timeout
TCP_RETRANSMIT_S = 1.0


@dataclass(frozen=True)
class ResolverOptions:
    """The options of one resolv.conf that change what a name costs (glibc defaults)."""

    timeout_s: int = DEFAULT_TIMEOUT_S
    attempts: int = DEFAULT_ATTEMPTS
    nameservers: tuple[str, ...] = ()
    flags: frozenset[str] = frozenset()

    @classmethod
    def of(cls, conf: ResolvConf | None) -> ResolverOptions:
        if conf is None:
            return cls()
        return cls(conf.timeout_s, conf.attempts, conf.nameservers, conf.flags)

    @classmethod
    def from_row(cls, row) -> ResolverOptions:
        """From a row of the `resolv` evidence table (space-separated strings)."""
        return cls(int(row["timeout_s"]), int(row["attempts"]),
                   tuple(str(row["nameservers"]).split()),
                   frozenset(str(row["flags"]).split()))

    @property
    def serial(self) -> bool:
        """A and AAAA one after the other (single-request or single-request-reopen)."""
        return bool({"single-request", "single-request-reopen"} & self.flags)

    @property
    def tcp(self) -> bool:
        return "use-vc" in self.flags

    @property
    def queries_per_name(self) -> int:
        """Queries one name costs getaddrinfo: A and AAAA, or A only with no-aaaa."""
        return 1 if "no-aaaa" in self.flags else 2

    @property
    def round_trips_per_name(self) -> int:
        """Resolver round trips per name: A and AAAA together are one, serial ones two, and
        TCP adds its handshake (the socket closes after each lookup)."""
        if self.tcp:
            return 2
        return self.queries_per_name if self.serial else 1

    @property
    def race(self) -> bool:
        """Whether A and AAAA can race in conntrack: in parallel over UDP from one socket, to a
        nameserver behind DNAT (anything but NodeLocal DNSCache's link-local address)."""
        local = all(_link_local_or_loopback(ns) for ns in self.nameservers) \
            if self.nameservers else False
        return self.queries_per_name == 2 and not self.serial and not self.tcp and not local

    @property
    def try_waits_s(self) -> tuple[float, ...]:
        """The wait of each try glibc makes for one name, in order (res_send.c: attempts
        rounds over the nameservers; `timeout << ns`, divided by their count for ns > 0)."""
        servers = max(min(len(self.nameservers), 3), 1)
        if self.tcp:
            return (TCP_RETRANSMIT_S,) * servers
        waits = []
        for _ in range(self.attempts):
            for ns in range(servers):
                seconds = self.timeout_s << ns
                if ns > 0:
                    seconds //= servers
                waits.append(float(max(seconds, 1)))
        return tuple(waits)

    @property
    def stall_s(self) -> float:
        """What one lost packet costs: the first try's wait."""
        waits = self.try_waits_s
        return waits[0] if waits else 0.0

    @property
    def give_up_s(self) -> float:
        """How long a name waits before glibc gives up on it (every try lost)."""
        return float(sum(self.try_waits_s))


    def describe(self) -> str:
        """One line: how names are sent and what a lost packet costs."""
        if self.tcp:
            how = "over TCP (use-vc): no race; a lost segment is sent again after ~1 s"
        elif self.queries_per_name == 1:
            how = "A only (no-aaaa): nothing to race"
        elif self.serial:
            flag = "single-request-reopen" if "single-request-reopen" in self.flags \
                else "single-request"
            how = f"A then AAAA ({flag}): no race, 2 round trips per name"
        else:
            how = "A and AAAA in parallel from one socket" + (
                " (conntrack race possible through DNAT)" if self.race else "")
        servers = max(len(self.nameservers), 1)
        return (f"timeout {self.timeout_s} s, attempts {self.attempts}, {servers} "
                f"nameserver{'s' if servers > 1 else ''}; {how}; a lost packet costs "
                f"{self.stall_s:g} s, a name is given up after {self.give_up_s:g} s")


def _link_local_or_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return False
    return ip.is_link_local or ip.is_loopback


def fix(options: ResolverOptions) -> str:
    """What to change so a lost packet costs less, as pod spec settings."""
    timeout = (f" A shorter `options timeout:1` (now {options.timeout_s} s) shortens each "
               "stall, at the price of a retry for every answer slower than 1 s."
               if options.timeout_s > 2 else "")
    if options.race:
        return ("Send A and AAAA from separate sockets: add `options single-request-reopen` "
                "through the pod's dnsConfig (`dnsConfig: {options: [{name: "
                "single-request-reopen}]}`; glibc only, musl/Alpine ignores it), or run "
                "NodeLocal DNSCache (no DNAT and conntrack on the pod's queries, TCP "
                "upstream). `conntrack -S` on the node shows insert_failed rising when the "
                f"race is the cause.{timeout}")
    return ("The resolver already avoids the A/AAAA race here; the stalls are lost packets or "
            "a slow upstream: run NodeLocal DNSCache (TCP upstream, a cache on the node) and "
            f"check CoreDNS's upstream and its errors.{timeout}")


def fix_code(options: ResolverOptions) -> list[dict]:
    """fix() as the pod's dnsConfig to paste: single-request-reopen against the race, and
    timeout:1 when the timeout is longer than 2 s; none when neither applies."""
    wanted = (["    - name: single-request-reopen"] if options.race else []) + \
        (["    - name: timeout", '      value: "1"'] if options.timeout_s > 2 else [])
    if not wanted:
        return []
    return [{"label": "the pod's dnsConfig (glibc images; musl/Alpine ignores these options)",
             "language": "yaml",
             "code": "# in the pod spec (spec.template.spec of the Deployment)\n"
                     "dnsConfig:\n  options:\n" + "\n".join(wanted) + "\n"}]
