import math
import zoneinfo
from datetime import datetime

import pandas as pd
import pytest

from analysis.errors import EvidenceError
from analysis.ingest.dig import AMBIGUOUS, ZONES, DigText, when
from tests.conftest import FIXTURES

REAL = FIXTURES / "real" / "dig"


def _parse(tmp_path, text: str):
    path = tmp_path / "dig.txt"
    path.write_text(text)
    return DigText().parse(path)


def _answer(name: str, ms: int, banner: bool = True, when_: str = "Tue Nov 24 10:00:00 UTC 2026"):
    return ((f"\n; <<>> DiG 9.18.28 <<>> {name}\n;; global options: +cmd\n" if banner else "")
            + ";; Got answer:\n;; ->>HEADER<<- opcode: QUERY, status: NOERROR, id: 1\n\n"
            f";; QUESTION SECTION:\n;{name}.\t\tIN\tA\n\n;; ANSWER SECTION:\n"
            f"{name}.\t30\tIN\tA\t10.20.30.40\n\n;; Query time: {ms} msec\n"
            f";; SERVER: 172.20.0.10#53(172.20.0.10) (UDP)\n;; WHEN: {when_}\n"
            ";; MSG SIZE  rcvd: 64\n")


TIMED_OUT_TRY = ";; communications error to 172.20.0.10#53: timed out\n"


def test_whole_answers_give_name_status_time_and_server(fixture_path):
    parsed = DigText().parse(fixture_path("dig-answers.txt"))
    t = parsed.table
    assert parsed.rejected.empty
    assert list(t["status"]) == ["NOERROR", "NXDOMAIN", "TIMEOUT"]
    assert list(t["name"]) == ["elastic.example.com", "missing.example.com",
                               "elastic.example.com"]
    assert t["query_time_ms"][0] == 23 and t["server"][0] == "172.20.0.10"
    assert str(t["time"][1]) == "2026-11-24 10:00:30+00:00"
    assert math.isnan(t["query_time_ms"][2]) and t["timeout_ms"][2] == 2000  # +time=2
    # dig 9.18.5 and older print one line for every try: dig's default is 3 tries
    assert list(t["tries"]) == [1, 1, 3] and list(t["total_ms"]) == [23, 41, 6000]


def test_grepped_query_time_lines(fixture_path, gzipped):
    t = DigText().parse(gzipped("dig-grepped.txt")).table
    assert list(t["query_time_ms"]) == [0, 2, 1]
    assert list(t["tries"]) == [1, 1, 1] and list(t["total_ms"]) == [0, 2, 1]


def test_dig_short_output_is_a_clear_error(fixture_path):
    with pytest.raises(EvidenceError, match=r"dig \+short"):
        DigText().parse(fixture_path("dig-short.txt"))


def test_one_invocation_is_one_lookup_with_all_its_tries(fixture_path):
    t = DigText().parse(fixture_path("dig-failures.txt")).table
    # a try that timed out before the banner and one after it: one lookup, two tries
    assert list(t["status"]) == ["SERVFAIL", "TIMEOUT"]
    assert t["query_time_ms"][0] == 4003
    assert list(t["tries"]) == [1, 2] and list(t["total_ms"]) == [4003, 10000]
    assert t["name"][1] == "elastic.example.com" and t["timeout_ms"][1] == 5000


def test_tries_printed_before_the_banner_belong_to_the_lookup_whose_banner_follows(tmp_path):
    """dig 9.18.6+: each failed try is printed before the banner; the timeout must not take the
    previous answer's name, nor the next answer the timed-out one's."""
    text = (_answer("first.example.com", 3) + "\n" + TIMED_OUT_TRY * 3
            + "\n; <<>> DiG 9.18.28 <<>> +time=2 lost.example.com\n;; global options: +cmd\n"
            ";; no servers could be reached\n" + TIMED_OUT_TRY + _answer("slow.example.com", 7))
    t = _parse(tmp_path, text).table
    assert list(t["name"]) == ["first.example.com", "lost.example.com", "slow.example.com"]
    assert list(t["status"]) == ["NOERROR", "TIMEOUT", "NOERROR"]
    assert list(t["tries"]) == [1, 3, 2]
    # a timed-out lookup costs every try's timeout; an answer after a timeout costs both
    assert list(t["total_ms"]) == [3, 6000, 5007]
    assert t["query_time_ms"][2] == 7 and t["timeout_ms"][2] == 5000


def test_old_and_new_dig_give_the_same_lookups_for_the_same_timeouts(tmp_path):
    old = "; <<>> DiG 9.11.3 <<>> +tries=2 +time=1 x.example\n;; global options: +cmd\n" \
          ";; connection timed out; no servers could be reached\n"
    new = TIMED_OUT_TRY * 2 + "\n; <<>> DiG 9.18.13 <<>> +tries=2 +time=1 x.example\n" \
                              ";; global options: +cmd\n;; no servers could be reached\n"
    columns = ["name", "status", "tries", "timeout_ms", "total_ms"]
    old_t, new_t = _parse(tmp_path, old * 3).table, _parse(tmp_path, new * 3).table
    assert len(old_t) == len(new_t) == 3
    pd.testing.assert_frame_equal(old_t[columns], new_t[columns])
    assert list(new_t["total_ms"]) == [2000] * 3


def test_dig_options_set_the_timeout_and_tries(tmp_path):
    text = "".join(f"; <<>> DiG 9.11.3 <<>> {opts} x.example\n;; connection timed out; no "
                   "servers could be reached\n"
                   for opts in ("+ti=1", "+retry=1", "+tries=4 +timeout=2", "-p 5353 TXT"))
    t = _parse(tmp_path, text).table
    assert list(t["tries"]) == [3, 2, 4, 3] and list(t["timeout_ms"]) == [1000, 5000, 2000, 5000]
    assert set(t["name"]) == {"x.example"}  # not TXT, not the port


def test_tries_that_were_refused_are_unreachable_not_timeouts(tmp_path):
    t = _parse(tmp_path, ";; communications error to 10.96.0.10#53: connection refused\n" * 3
               + "; <<>> DiG 9.18.13 <<>> x.example\n;; no servers could be reached\n").table
    assert list(t["status"]) == ["UNREACHABLE"] and t["tries"][0] == 3
    assert math.isnan(t["total_ms"][0])  # a refusal costs no timeout; its time is unknown


def test_what_latency_gap_collect_writes_is_one_try_per_query(tmp_path):
    text = ("; <<>> DiG latency-gap-collect <<>> +getaddrinfo x.example\n;; connection timed "
            "out; no servers could be reached (+time=2, timeout)\n\n"
            "; <<>> DiG latency-gap-collect <<>> y.example\n;; communications error: "
            "TimeoutExpired, timed out\n\n")
    t = _parse(tmp_path, text).table
    assert list(t["name"]) == ["x.example", "y.example"]
    assert list(t["tries"]) == [1, 1] and list(t["total_ms"]) == [2000, 5000]


def test_a_terminal_transcript_is_read_and_its_prompts_counted(tmp_path):
    text = ("user@host:~$ echo $TOKEN\nAQoDYXdzEJr...CANARY-DIG-TRANSCRIPT\n"
            "user@host:~$ kubectl exec -it dnsutils -- dig +time=1 lost.example.com\n"
            + TIMED_OUT_TRY * 3 + "\n; <<>> DiG 9.18.13 <<>> +time=1 lost.example.com\n"
            ";; global options: +cmd\n;; no servers could be reached\n"
            "user@host:~$ kubectl exec -it dnsutils -- dig ok.example.com\n"
            + _answer("ok.example.com", 12) + "\nuser@host:~$ \n"
            "If you don't see a command prompt, try pressing enter.\n")
    parsed = _parse(tmp_path, text)
    assert parsed.rejected.empty
    assert list(parsed.table["name"]) == ["lost.example.com", "ok.example.com"]
    assert list(parsed.table["total_ms"]) == [3000, 12]
    whats = parsed.skipped.set_index("line")["what"]
    assert whats[1] == whats[3] == "command line" and whats[2] == "output of another command"
    assert (whats == "shell prompt").sum() == 1 and (whats == "kubectl message").sum() == 1
    assert "CANARY-DIG" not in parsed.table.to_csv() + parsed.skipped.to_csv()


def test_without_a_banner_the_command_line_names_the_lookup(tmp_path):
    text = ("$ dig @192.168.0.6 +short +tries=1 kubernetes.default.svc.cluster.local\n"
            ";; connection timed out; no servers could be reached\n"
            "root@ubuntu:/# nslookup hostnames.default 10.96.0.10\n"
            ";; connection timed out; no servers could be reached\n\n")
    parsed = _parse(tmp_path, text)
    t = parsed.table
    assert list(t["name"]) == ["kubernetes.default.svc.cluster.local", "hostnames.default"]
    assert list(t["tries"]) == [1, 3] and list(t["total_ms"]) == [5000, 15000]
    assert list(parsed.skipped["what"]) == ["command line", "command line", "blank line"]


def test_nslookup_answers_carry_no_timing_and_are_skipped(tmp_path):
    text = ("$ nslookup puppet\nServer:\t\t10.96.0.10\nAddress:\t10.96.0.10#53\n\n"
            "Name:\tpuppet.default.svc.cluster.local\nAddress: 10.103.58.54\n"
            "$ nslookup gone\n;; connection timed out; no servers could be reached\n")
    parsed = _parse(tmp_path, text)
    assert list(parsed.table["name"]) == ["gone"] and parsed.rejected.empty
    assert parsed.skipped["what"].value_counts()["nslookup output (no timing)"] == 4


def test_dig_warning_lines_are_dig_output_not_rejections():
    parsed = DigText().parse(REAL / "bind-9.11-servfail-mdns-warning-dnstools-prompt.txt")
    assert parsed.rejected.empty and list(parsed.table["status"]) == ["SERVFAIL"]
    assert sorted(parsed.skipped["what"]) == ["command line", "shell prompt", "shell prompt"]


def test_short_answers_in_a_transcript_are_an_error_naming_the_line(tmp_path):
    text = "$ dig +short a.example\n;; connection timed out; no servers could be reached\n" \
           "$ dig +short b.example\n10.0.0.1\n"
    with pytest.raises(EvidenceError, match=r"dig.txt:4: a `dig \+short` answer.*without"):
        _parse(tmp_path, text)


def test_answer_records_without_timing_say_to_add_stats():
    with pytest.raises(EvidenceError, match=r"\+noall \+answer.*\+stats"):
        DigText().parse(REAL / "dig-noall-answer-macos.txt")


def test_a_dig_that_printed_no_result_is_rejected(tmp_path):
    parsed = _parse(tmp_path, "$ dig a.example\n$ dig b.example\n" + _answer("b.example", 4))
    assert list(parsed.rejected["line"]) == [1] and "no result" in parsed.rejected["reason"][0]
    assert list(parsed.skipped["line"]) == [2]


@pytest.mark.parametrize("zone, expected", [
    ("CEST", "2018-06-25 18:17:15"), ("EDT", "2018-06-26 00:17:15"),
    ("BST", "2018-06-25 19:17:15"), ("UTC", "2018-06-25 20:17:15"),
    ("+0530", "2018-06-25 14:47:15"), ("-03", "2018-06-25 23:17:15")])
def test_when_in_a_named_zone_is_converted_to_utc(zone, expected):
    time, note = when(f"Mon Jun 25 20:17:15 {zone} 2018")
    assert note is None and time == pd.Timestamp(expected, tz="UTC")


@pytest.mark.parametrize("zone, words", [("CST", "names several"), ("PST", "Philippines"),
                                         ("XYZ", "unknown time zone XYZ")])
def test_when_in_an_ambiguous_or_unknown_zone_is_left_out_and_said(tmp_path, zone, words):
    parsed = _parse(tmp_path, _answer("a.example", 5, when_=f"Mon Oct 13 13:30:29 {zone} 2025"))
    assert pd.isna(parsed.table["time"][0]) and parsed.rejected.empty
    (note,) = parsed.skipped["what"]
    assert words in note and "time left out" in note


def test_the_zone_table_agrees_with_the_tz_database():
    offsets: dict[str, set[float]] = {}
    for key in zoneinfo.available_timezones():
        zone = zoneinfo.ZoneInfo(key)
        for month in (1, 7):
            moment = datetime(2025, month, 15, 12, tzinfo=zone)
            offsets.setdefault(moment.tzname(), set()).add(moment.utcoffset().total_seconds()
                                                           / 3600)
    if not offsets:
        pytest.skip("no tz database on this machine")
    for name, hours in ZONES.items():
        assert offsets.get(name, {hours}) == {hours}, name
    assert all(len(offsets[name]) > 1 for name in AMBIGUOUS)


def test_real_samples_keep_their_names_tries_and_times():
    def read(name):
        return DigText().parse(REAL / name).table

    lost = read("bind-9.18-communications-error-no-servers.txt").iloc[0]
    assert (lost["name"], lost["status"], lost["tries"], lost["total_ms"]) == \
        ("github.com", "TIMEOUT", 3, 15000)
    assert read("bind-9.10-macos-nxdomain-pst.txt")["name"][0] == "x.y.z.w.bl.spamcop.net"
    assert read("bind-9.11-debian-axfr-edt.txt")["time"][0] == \
        pd.Timestamp("2020-03-25 18:34:55", tz="UTC")
    assert read("bind-9.10-cname-chain-cet-no-prompt.txt")["time"][0] == \
        pd.Timestamp("2026-01-22 20:30:18", tz="UTC")
    nslookup = read("nslookup-bind-timeouts-root-prompt.txt")
    assert list(nslookup["name"]) == ["hostnames", "hostnames.default"] + \
        ["hostnames.default.svc.cluster.local"] * 2
    assert set(nslookup["status"]) == {"TIMEOUT"} and set(nslookup["total_ms"]) == {15000}
