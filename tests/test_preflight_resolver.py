"""preflight says what resolv.conf's options make of a lost packet."""

import pytest

from analysis.cli import main

POD = ("search shop.svc.cluster.local svc.cluster.local cluster.local\n"
       "nameserver 172.20.0.10\noptions ndots:5 {options}\n")


@pytest.mark.parametrize("options, said", [
    ("", "resolver: timeout 5 s, attempts 2, 1 nameserver; A and AAAA in parallel from one "
         "socket (conntrack race possible through DNAT); a lost packet costs 5 s, a name is "
         "given up after 10 s"),
    ("timeout:2 attempts:3 single-request-reopen",
     "resolver: timeout 2 s, attempts 3, 1 nameserver; A then AAAA (single-request-reopen): "
     "no race, 2 round trips per name; a lost packet costs 2 s, a name is given up after 6 s"),
    ("timeout:99 use-vc", "over TCP (use-vc): no race; a lost segment is sent again after "
                          "~1 s; a lost packet costs 1 s"),
])
def test_preflight_names_what_a_lost_packet_costs(tmp_path, capsys, options, said):
    (tmp_path / "pod.conf").write_text(POD.format(options=options))
    main(["preflight", "--resolv", str(tmp_path / "pod.conf"), "--names", "es.search",
          "--dns-ms", "3"])
    assert said in capsys.readouterr().out
