"""Fleet runs: parallel, one failure never stops the others, history, skip when unchanged,
a lock, exit codes, and a real Dask cluster."""

import json
import shutil
import subprocess
import sys
import textwrap

import duckdb
import pytest

from analysis import cli, fleet
from tests.conftest import EXAMPLES

INJECTED = "<script>alert('fleet')</script>"
#: the bundled examples (tests/test_examples.py tells each one's story)
EXAMPLE_NAMES = ("search-api", "listings-api", "payments-api", "orders-api")


@pytest.fixture(scope="module")
def fleet_runs(tmp_path_factory):
    """Three runs over the examples (orders-api's evidence is packet captures) plus
    `broken-api`: all good; nothing changed; broken-api's log replaced by garbage (with
    --force, so the good ones are processed again)."""
    root = tmp_path_factory.mktemp("fleet")
    data, reports = root / "data", root / "reports"
    for name in EXAMPLE_NAMES:
        shutil.copytree(EXAMPLES / name, data / name)
    shutil.copytree(EXAMPLES / "payments-api", data / "broken-api")
    quiet = {"say": lambda m: None, "progress": False, "jobs": 2}
    first = fleet.fleet(data, reports, **quiet)
    good_report = (reports / "broken-api" / "report.html").read_bytes()
    published = reports / "search-api" / "summary.json"  # the fleet never reads it back
    published.write_text(published.read_text().replace('"credential_refresh"', '"tampered"'))
    said = []
    started = []  # an unchanged run decides from the fingerprints: no worker, no parse
    real_executor = fleet.make_executor
    fleet.make_executor = lambda *a: started.append(a) or real_executor(*a)
    try:
        second = fleet.fleet(data, reports, **{**quiet, "say": said.append})
    finally:
        fleet.make_executor = real_executor
    second.said, second.workers_started = said, started
    log = data / "broken-api" / "k8s" / "latency" / "ingress-nginx.log"
    log.write_text("".join(f"garbage line {i} {INJECTED}\n" for i in range(50)))
    third = fleet.fleet(data, reports, force=True, **quiet)
    return reports, first, second, third, good_report


def _by_service(result):
    return {e["service"]: e for e in result.entries}


def test_first_run_processes_every_service(fleet_runs):
    reports, first, *_ = fleet_runs
    assert first.exit_code == fleet.EXIT_OK
    assert {e["status"] for e in first.entries} == {"ok"}
    assert _by_service(first)["search-api"]["cause"] == "credential_refresh"
    assert _by_service(first)["orders-api"]["cause"] == "both"
    for name in (*EXAMPLE_NAMES, "broken-api"):
        assert (reports / name / "report.html").is_file()


def test_a_second_run_with_nothing_changed_skips_all(fleet_runs):
    _, _, second, *_ = fleet_runs
    assert {e["status"] for e in second.entries} == {"skipped"}
    # the summary of an unchanged service comes from the history, not its published report
    assert _by_service(second)["search-api"]["cause"] == "credential_refresh"
    assert _by_service(second)["search-api"]["blockers"] == \
        _by_service(fleet_runs[1])["search-api"]["blockers"] != []
    assert second.workers_started == []
    assert any("5 services: 0 ok, 5 unchanged, 0 failed" in line for line in second.said), \
        second.said
    assert second.exit_code == fleet.EXIT_OK
    assert all(e["change"] == {"p50_ms": 0.0, "p99_ms": 0.0, "was_cause": e["cause"],
                               "was_ready": e["ready"]} for e in second.entries)


def test_a_broken_service_is_reported_and_the_others_processed(fleet_runs):
    reports, *_, third, good_report = fleet_runs
    assert third.exit_code == fleet.EXIT_FAILED
    entries = _by_service(third)
    assert [e["service"] for e in third.entries][0] == "broken-api", "failures first"
    broken = entries["broken-api"]
    assert broken["status"] == "failed" and broken["stale"]
    assert "ingress-nginx.log" in broken["error"]
    assert all(entries[s]["status"] == "ok" for s in EXAMPLE_NAMES)
    # the earlier good report is kept, byte for byte, and the index marks it stale
    assert (reports / "broken-api" / "report.html").read_bytes() == good_report
    index = (reports / "index.html").read_text()
    assert "FAILED</span><br><small>the linked report is the last good run's" in index


def test_index_is_self_contained_escaped_and_matches_fleet_json(fleet_runs):
    reports, *_ = fleet_runs
    index = (reports / "index.html").read_text()
    assert INJECTED not in index and "&lt;script&gt;" in index
    assert "http://" not in index and "https://" not in index
    data = json.loads((reports / "fleet.json").read_text())
    assert data["exit_code"] == fleet.EXIT_FAILED
    for entry in data["services"]:
        assert f">{entry['service']}<" in index
    assert index.count("<svg") == len(data["services"])  # a trend line per service


def test_fleet_json_says_what_changed_and_what_fixing_unblocks(fleet_runs):
    reports, first, second, third, _ = fleet_runs
    data = json.loads((reports / "fleet.json").read_text())
    entries = {e["service"]: e for e in data["services"]}
    assert data["counts"] == {"ok": 4, "skipped": 0, "failed": 1, "ready": 1, "blocked": 3}
    broken = entries["broken-api"]
    assert (broken["state"], broken["previous"]["state"], broken["previous"]["run_id"]) == \
        ("failed", "ready", second.run_id)
    assert broken["change_words"] == "was ready, now failed"
    search = entries["search-api"]
    assert search["cause_words"] == "credential refresh" and search["change_words"] is None
    assert search["unchanged_since"] == _by_service(first)["search-api"]["unchanged_since"]
    assert _by_service(second)["search-api"]["unchanged_since"] == search["unchanged_since"]
    assert [(g["fix"], g["services"]) for g in data["rollup"]] == [
        (["credential-refresh-every-request"], ["search-api"]),
        (["dns-search-expansion"], ["listings-api"]),
        (["credential-refresh-every-request", "dns-search-expansion"], ["orders-api"])]


def test_history_has_one_row_per_service_per_run(fleet_runs):
    reports, first, second, third, _ = fleet_runs
    with duckdb.connect(str(reports / "history.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT run_id, status, count(*) FROM runs GROUP BY run_id, status "
                           "ORDER BY min(run_at), status").fetchall()
        fingerprints = con.execute("SELECT count(DISTINCT evidence_fingerprint) FROM runs "
                                   "WHERE service = 'broken-api'").fetchone()[0]
    assert rows == [(first.run_id, "ok", 5), (second.run_id, "skipped", 5),
                    (third.run_id, "failed", 1), (third.run_id, "ok", 4)]
    assert fingerprints == 2  # the evidence changed between the runs
    trend = _by_service(third)["search-api"]["trend"]
    assert [t["run_id"] for t in trend] == [first.run_id, second.run_id, third.run_id]


def test_the_gate_exits_2_when_a_service_is_not_ready(tmp_path):
    shutil.copytree(EXAMPLES / "payments-api", tmp_path / "data" / "payments-api")
    shutil.copytree(EXAMPLES / "search-api", tmp_path / "data" / "search-api")
    args = ["fleet", "--data-dir", str(tmp_path / "data"), "--reports-dir",
            str(tmp_path / "reports")]
    assert cli.main([*args, "--services", "payments-api", "--gate"]) == fleet.EXIT_OK
    assert cli.main([*args, "--gate"]) == fleet.EXIT_GATE  # search-api is blocked
    assert cli.main(args) == fleet.EXIT_OK                  # without the gate: processed


def _row(ready, p50, low, high):
    return {"ready": ready, "gap_p50": p50, "gap_p50_low": low, "gap_p50_high": high,
            "gap_p99": p50, "gap_p99_low": low, "gap_p99_high": high}


@pytest.mark.parametrize(("previous", "current", "worse"), [
    (_row(True, 2, 1, 3), _row(False, 20, 18, 22), True),    # readiness lost
    (_row(False, 40, 38, 42), _row(False, 50, 47, 53), True),  # interval wholly above
    (_row(False, 40, 38, 42), _row(False, 41, 39, 43), False),  # within the noise
    (_row(False, 40, 38, 42), _row(False, 20, 18, 22), False),  # better
    (None, _row(False, 40, 38, 42), False),                   # no earlier run
])
def test_worse_means_readiness_lost_or_a_gap_clearly_larger(previous, current, worse):
    assert fleet.worse(current, previous) is worse


def test_gate_exit_codes_put_failures_first():
    ok = {"status": "ok", "ready": True, "worse": False}
    assert fleet.exit_code([ok], gate=True) == fleet.EXIT_OK
    assert fleet.exit_code([ok, {**ok, "worse": True}], gate=True) == fleet.EXIT_GATE
    assert fleet.exit_code([ok, {**ok, "ready": False}], gate=False) == fleet.EXIT_OK
    assert fleet.exit_code([{**ok, "ready": False}, {**ok, "status": "failed"}],
                           gate=True) == fleet.EXIT_FAILED


HOLD_LOCK = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from analysis.fleet import fleet_lock
    with fleet_lock(Path(sys.argv[1])):
        print("locked", flush=True)
        time.sleep(60)
""")


def test_a_second_run_on_the_same_reports_refuses_with_a_clear_message(tmp_path, capsys):
    reports = tmp_path / "reports"
    reports.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, str(reports)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        code = cli.main(["fleet", "--data-dir", str(EXAMPLES), "--reports-dir", str(reports),
                         "--wait", "0.5"])
        assert code == 1
        err = capsys.readouterr().err
        assert "another fleet run is using" in err and f"pid {holder.pid}" in err
        assert not (reports / "index.html").exists()
    finally:
        holder.kill()
        holder.wait()
    with fleet.fleet_lock(reports):  # a killed holder leaves no stale lock
        pass


def test_unknown_services_are_named(tmp_path):
    with pytest.raises(fleet.LatencyGapError, match="'nope'.*services found: listings-api"):
        fleet.fleet(EXAMPLES, tmp_path, only=["nope"], say=lambda m: None)


def test_the_fleet_runs_on_a_real_dask_cluster(tmp_path):
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                      dashboard_address=None, host="127.0.0.1") as cluster:
        result = fleet.fleet(EXAMPLES, tmp_path, only=["payments-api"], executor="dask",
                                 scheduler=cluster.scheduler_address, say=lambda m: None,
                                 progress=False)
    assert result.exit_code == fleet.EXIT_OK
    assert _by_service(result)["payments-api"]["status"] == "ok"
    assert (tmp_path / "payments-api" / "report.html").is_file()


def test_dask_needs_a_scheduler_and_says_so_before_any_work(tmp_path):
    with pytest.raises(fleet.LatencyGapError, match="--scheduler"):
        fleet.fleet(EXAMPLES, tmp_path, only=["payments-api"], executor="dask",
                        say=lambda m: None, force=True)
    assert list(tmp_path.iterdir()) == []


def test_the_skip_decision_needs_the_evidence_the_tool_the_report_and_a_full_row(tmp_path):
    from analysis import fingerprint

    data, reports = tmp_path / "data", tmp_path / "reports"
    shutil.copytree(EXAMPLES / "payments-api", data / "payments-api")
    (reports / "payments-api").mkdir(parents=True)
    (reports / "payments-api" / "summary.json").write_text("{}")
    files = fingerprint.evidence_files(data / "payments-api")
    row = {"tool_fingerprint": "t", "evidence_fingerprint": fingerprint.combine(files),
           "cause": "none", "ready": True, "blockers": "[]", "attribution": None,
           **{f"gap_{q}{e}": None for q in ("p50", "p99") for e in ("", "_low", "_high")}}

    def decide(last=row, tool="t", force=False):
        return fleet.unchanged("payments-api", data, reports, last, tool, force)

    skipped, hashed = decide()
    assert skipped.status == "skipped" and hashed is None
    assert skipped.summary["verdict"] == {"cause": "none", "ready": True}
    for changed in (decide(tool="other"), decide(force=True), decide(last=None),
                    decide(last={**row, "blockers": None}),  # recorded before blockers
                    decide(last={**row, "evidence_fingerprint": "old"})):
        assert changed == (None, files)  # run, with the files hashed once
    (reports / "payments-api" / "summary.json").unlink()
    assert decide() == (None, files)
