"""The robustness suite's tally: what it tried, printed as one line at the end of the run."""

from collections import Counter

TALLY: Counter = Counter()


def pytest_terminal_summary(terminalreporter):
    ran = [r for key in ("passed", "failed", "error")
           for r in terminalreporter.stats.get(key, []) if "tests/robustness/" in r.nodeid]
    if not ran:
        return
    failed = [r for r in ran if r.outcome != "passed"]
    terminalreporter.write_line(
        f"robustness: {TALLY['cases']} fuzz cases tried, {TALLY['bad_inputs']} bad inputs "
        f"refused, {TALLY['files_scanned']} files scanned for {TALLY['canaries']} secrets, "
        f"{TALLY['injections']} injections escaped, {TALLY['faults']} faults injected, "
        f"failures {len(failed)}")
