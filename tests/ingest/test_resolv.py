"""resolv.conf read as glibc reads it. The expected values of the glibc cases were checked
against glibc 2.36's res_ninit (a probe run with each file bind-mounted on /etc/resolv.conf),
but `-flag` (glibc 2.41)."""

import pytest

from analysis import ingest, service
from analysis.errors import EvidenceError
from analysis.ingest.resolv import parse_resolv_conf
from tests.conftest import FIXTURES

REAL = FIXTURES / "real" / "resolv"


def _conf(tmp_path, text: str):
    path = tmp_path / "resolv.conf"
    path.write_text(text)
    return parse_resolv_conf(path)


def test_pod_resolv_conf(fixture_path):
    conf = parse_resolv_conf(fixture_path("resolv-k8s.conf"))
    assert conf.nameservers == ("172.20.0.10",)
    assert len(conf.search) == 4 and conf.search[0] == "search.svc.cluster.local"
    assert (conf.ndots, conf.timeout_s, conf.attempts, conf.lines) == (5, 2, 2, 4)
    assert conf.flags == {"single-request-reopen"} and conf.ignored == ()


def test_unknown_options_are_ignored_and_named():
    conf = parse_resolv_conf(REAL / "jc-dhclient-rotate-timeout-retries.conf")
    assert (conf.timeout_s, conf.attempts, conf.flags) == (1, 2, {"rotate"})
    assert conf.ignored == ("line 3: option 'retries:1' is ignored (unknown to glibc)",)


def test_values_are_clamped_as_glibc_clamps_them(tmp_path):
    conf = _conf(tmp_path, "nameserver 10.0.0.1\noptions ndots:20 timeout:99 attempts:9\n")
    assert (conf.ndots, conf.timeout_s, conf.attempts) == (15, 30, 5)
    assert conf.ignored[0] == "line 2: ndots:20 is read by glibc as ndots:15 (its maximum, " \
        "RES_MAXNDOTS)"
    assert "RES_MAXRETRANS" in conf.ignored[1] and "RES_MAXRETRY" in conf.ignored[2]


@pytest.mark.parametrize("options, expected", [
    ("ndots:many timeout:0 attempts:0", (0, 1, 0)),   # strtol gives 0; send_dg waits >= 1 s
    ("ndots:-1 timeout:-5 attempts:-1", (15, 1, 0)),  # res_state keeps 4 bits of ndots
    ("ndots:5abc timeout:3.5 attempts:", (5, 3, 0)),
    ("ndots:99999999999 timeout:+4", (15, 4, 2)),
])
def test_numbers_are_read_like_strtol(tmp_path, options, expected):
    conf = _conf(tmp_path, f"nameserver 10.0.0.1\noptions {options}\n")
    assert (conf.ndots, conf.timeout_s, conf.attempts) == expected
    assert all(note.startswith("line 2: ") for note in conf.ignored) and conf.ignored


def test_attempts_zero_is_named_as_failing_every_lookup(tmp_path):
    conf = _conf(tmp_path, "nameserver 10.0.0.1\noptions attempts:0\n")
    assert conf.ignored == ("line 2: attempts:0: no query is sent: every DNS lookup fails",)


def test_flags_match_on_their_start_and_a_dash_clears_one(tmp_path):
    conf = _conf(tmp_path, "nameserver 10.0.0.1\noptions rotate:yes no_tld_query inet6 "
                 "no-reload edns0 trust-ad\noptions -edns0\n")
    assert conf.flags == {"rotate", "no-tld-query", "no-reload", "trust-ad"}
    assert conf.ignored == (
        "line 2: option 'rotate:yes' is read as 'rotate' (glibc compares the start of an "
        "option only)",
        "line 2: option 'inet6' is ignored (removed in glibc 2.30)")


def test_nameserver_lines_as_glibc_reads_them(tmp_path):
    conf = _conf(tmp_path, "nameserver 1.2.3.4 # office\nnameserver bogus\n"
                 "nameserver fe80::1%eth0\nnameserver 127.1\nnameserver 10.9.9.9\n")
    assert conf.nameservers == ("1.2.3.4", "fe80::1%eth0", "127.0.0.1")
    assert conf.ignored == (
        "line 1: text after nameserver 1.2.3.4 is ignored (glibc reads one address per line)",
        "line 2: nameserver 'bogus' is not an IP address (glibc ignores the line)",
        "line 5: nameserver 10.9.9.9 is ignored: glibc uses only the first 3 (MAXNS)")


def test_search_and_domain_lines(tmp_path):
    conf = _conf(tmp_path, "search a.example b.example\nsearch   \ndomain c.example d.example\n"
                 "search e.example\t f.example\nsearch\nnameserver 10.0.0.1\n")
    assert conf.search == ("e.example", "f.example")  # the last one with a value wins
    assert [note[:7] for note in conf.ignored] == ["line 2:", "line 3:", "line 5:"]
    assert "'search' without a value" in conf.ignored[0]
    assert conf.ignored[1] == "line 3: 'domain' takes one name: glibc ignores what follows " \
        "c.example"
    assert _conf(tmp_path, "domain c.example d.example\n").search == ("c.example",)


def test_long_search_lists_are_kept_whole_and_named(tmp_path):
    conf = _conf(tmp_path, "search a b c d e f g h\nnameserver 10.0.0.1\n")
    assert conf.search == tuple("abcdefgh")
    assert "glibc before 2.26 uses only the first 6 (MAXDNSRCH)" in conf.ignored[0]


def test_indented_nameserver_and_inline_comments_real_sample():
    conf = parse_resolv_conf(REAL / "jc-networkmanager-inline-comments-sortlist.conf")
    # the indented nameserver is not read, so the fourth one is the third glibc uses
    assert conf.nameservers == ("75.75.75.75", "75.75.76.76", "2001:558:feed::2")
    # glibc has no inline comments on a search line: the words are search domains
    assert conf.search == ("hello.com", "world.com", "#", "add", "another", "search", "list",
                           "for", "fun")
    assert [n.split(":")[0] for n in conf.ignored] == ["line 3", "line 4", "line 5", "line 12",
                                                       "line 12"]
    assert "'nameserver' is indented" in conf.ignored[2]
    assert "no comments after a search list" in conf.ignored[3]


def test_keywords_are_case_sensitive_and_unknown_lines_are_ignored(tmp_path):
    conf = _conf(tmp_path, "nameserver\t10.0.0.1\nnameserver\nNameserver 1.1.1.1\n"
                 "lookup file bind\nnameserver 10.0.0.2\nsortlist 10.0.0.0/255.0.0.0\n")
    assert conf.nameservers == ("10.0.0.1", "10.0.0.2")
    assert conf.ignored == (
        "line 2: 'nameserver' without a value (glibc ignores the line)",
        "line 3: unknown directive 'Nameserver' (glibc ignores the line)",
        "line 4: unknown directive 'lookup' (glibc ignores the line)")


@pytest.mark.parametrize("text", [
    b'{"nameserver": "10.0.0.2",\n "search": ["a.example"],\n "ndots": 5}\n',
    b"HTTP/1.1 200 OK\nContent-Type: text/plain\n\nnameserver 10.0.0.2\n",
    b"\x89PNG\r\n\x1a\n" + bytes(range(128, 256)) + b"\nnameserver 10.0.0.2\n",
])
def test_a_file_that_is_not_a_resolv_conf_is_an_error(tmp_path, text):
    path = tmp_path / "resolv.conf"
    path.write_bytes(text)
    with pytest.raises(EvidenceError, match=r"resolv.conf:1: does not look like a resolv.conf: "
                       r"\d of \d lines are no resolv.conf directive; expected lines starting "
                       r"with domain, search, nameserver, sortlist, options"):
        parse_resolv_conf(path)


def test_an_empty_or_comment_only_file_is_what_glibc_reads_too(tmp_path):
    conf = _conf(tmp_path, "# nothing here\n\n")
    assert (conf.nameservers, conf.search, conf.ndots, conf.lines) == ((), (), 1, 2)


def test_notes_are_redacted(tmp_path):
    conf = _conf(tmp_path, "nameserver 10.0.0.1\noptions AKIAIOSFODNN7EXAMPLE\n")
    assert "AKIAIOSFODNN7EXAMPLE" not in " ".join(conf.ignored)


def test_the_resolv_table_keeps_what_glibc_ignored(example_copy):
    folder = example_copy("payments-api")
    (folder / "k8s" / "resolv.conf").write_text("nameserver 169.254.20.10\nnameserver 10.0.0.9"
                                                " ; node-local\noptions ndots:2 no-reload\n")
    table = ingest.load_evidence(folder, service.load_config(folder)).resolv
    k8s = table[table["env"] == "k8s"].iloc[0]
    assert k8s["nameservers"] == "169.254.20.10 10.0.0.9" and k8s["flags"] == "no-reload"
    assert k8s["ignored"] == "line 2: text after nameserver 10.0.0.9 is ignored (glibc reads " \
        "one address per line)"


def test_without_options_the_numbers_are_glibcs_defaults(tmp_path):
    conf = _conf(tmp_path, "nameserver 10.0.0.1\n")
    # RES_TIMEOUT 5, RES_DFLRETRY 2 (resolv/resolv.h); ndots 1 (res_init.c)
    assert (conf.ndots, conf.timeout_s, conf.attempts, conf.flags) == (1, 5, 2, frozenset())


def test_unknown_options_are_kept_as_written(tmp_path):
    conf = _conf(tmp_path, "nameserver 10.0.0.1\noptions retries:1 ndots:2 inet6 "
                 "AKIAIOSFODNN7EXAMPLE single-request-reopen\n")
    assert conf.unknown_options[:2] == ("retries:1", "inet6")
    assert "AKIAIOSFODNN7EXAMPLE" not in " ".join(conf.unknown_options)
    assert (conf.ndots, conf.flags) == (2, {"single-request-reopen"})


def test_a_search_list_longer_than_old_glibcs_256_bytes_is_named(tmp_path):
    domains = [f"{'x' * 60}-{i}.example" for i in range(5)]
    conf = _conf(tmp_path, f"search {' '.join(domains)}\nnameserver 10.0.0.1\n")
    assert conf.search == tuple(domains)  # glibc 2.26+ walks every one
    assert conf.ignored == ("line 1: the search list takes 355 bytes: glibc before 2.26 uses "
                            "only the domains that fit in 256 (res_state defdname), later "
                            "versions all of them",)


def test_a_bad_value_is_named_by_its_file_and_line_in_the_resolv_table(example_copy):
    folder = example_copy("payments-api")
    (folder / "k8s" / "resolv.conf").write_text("nameserver 10.0.0.9\n\noptions timeout:soon "
                                                "attempts:9 fast-path\n")
    table = ingest.load_evidence(folder, service.load_config(folder)).resolv
    k8s = table[table["env"] == "k8s"].iloc[0]
    assert k8s["source_file"] == str(folder / "k8s" / "resolv.conf")
    assert (k8s["timeout_s"], k8s["attempts"], k8s["unknown_options"]) == (1, 5, "fast-path")
    assert k8s["ignored"].split("\n") == [
        "line 3: timeout:soon is read by glibc as timeout:1 (res_send.c waits at least 1 s per "
        "try)", "line 3: attempts:9 is read by glibc as attempts:5 (its maximum, RES_MAXRETRY)",
        "line 3: option 'fast-path' is ignored (unknown to glibc)"]
