import pytest

from analysis.ingest.transcript import COMMAND, KUBECTL, PROMPT, TIME_REPORT, invoked, what_is

TOOLS = frozenset({"dig", "nslookup", "host"})


@pytest.mark.parametrize("line", ["$ ", "# ", "$", "user@host:~$ ", "root@pod:/# ", "dnstools# ",
                                  "/app $ ", "bash-5.1$ ", "[ec2-user@ip-10-0-1-7 ~]$ ",
                                  "user@mac ~ % ", "PS C:\\Users\\me> "])
def test_a_prompt_alone_is_a_shell_prompt(line):
    assert what_is(line) == PROMPT


@pytest.mark.parametrize("line", [
    "$ kubectl exec -it dnsutils -- dig elastic.example.com", "dig @10.96.0.10 +short x.example",
    "root@ubuntu:/# nslookup hostnames", "dnstools# dig @10.240.2.23 a.default.svc.cluster.local.",
    "echo $TOKEN", "TOKEN=$(curl -s -X PUT http://169.254.169.254/latest/api/token)",
    "/app $ cat /etc/resolv.conf", "# dig @8.8.8.8 coredns.io"])
def test_a_command_with_or_without_its_prompt_is_a_command_line(line):
    assert what_is(line) == COMMAND


@pytest.mark.parametrize("line", [
    "; <<>> DiG 9.18.13 <<>> github.com", ";; Query time: 16 msec", "",
    "github.com.\t\t60\tIN\tA\t20.27.177.113", "host.example. 300 IN A 10.0.0.1",
    "Server:\t\t10.96.0.10", "puppet.default.svc.cluster.local has address 10.103.58.54",
    '  "Code" : "Success",', "{", "HTTP/1.1 200 OK", "Date: Tue, 24 Nov 2026 10:00:00 GMT",
    "10.0.3.1 - - [24/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 2 \"-\" \"x\""])
def test_evidence_lines_are_no_transcript_lines(line):
    assert what_is(line) is None


def test_kubectl_messages_and_time_reports_are_named():
    assert what_is("If you don't see a command prompt, try pressing enter.") == KUBECTL
    assert what_is('pod "dnsutils" deleted') == KUBECTL
    assert what_is("command terminated with exit code 1") == KUBECTL
    assert what_is("real    0m0.008s") == what_is("sys 0m0.003s") == TIME_REPORT


@pytest.mark.parametrize("line, program, args", [
    ("$ kubectl exec -it puppetdb-7cfdc5cd4b-7s8kh dig puppet", "dig", ["puppet"]),
    ("kubectl exec -it dig -n web -- dig +time=2 x.example", "dig", ["+time=2", "x.example"]),
    ("$ kubectl exec p -- sh -c 'for i in 1 2; do dig a.example; done'", "dig", ["a.example"]),
    ("[ec2-user@ip-10-0-1-7 ~]$ sudo time dig x.example | grep Query", "dig", ["x.example"]),
    ("root@ubuntu:/# nslookup hostnames.default 10.96.0.10", "nslookup",
     ["hostnames.default", "10.96.0.10"]),
    ("$ /usr/bin/host -t A puppet", "host", ["-t", "A", "puppet"]),
])
def test_invoked_finds_the_program_through_wrappers(line, program, args):
    assert invoked(line, TOOLS) == (program, args)


def test_invoked_is_none_for_other_commands_and_non_commands():
    assert invoked("$ echo $TOKEN", TOOLS) is None
    assert invoked(";; Query time: 1 msec", TOOLS) is None
    assert invoked("$ dig 'unbalanced x.example", TOOLS)[0] == "dig"  # a typo is still dig
