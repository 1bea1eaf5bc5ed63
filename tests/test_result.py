"""The one computation (analysis/result.py): compute, save, load, and the verdict command
made from it without a kernel."""

import json
import os
import pickle

import pandas as pd
import pytest

from analysis import cli, result, summary, view
from analysis.errors import ConfigError, EvidenceError
from analysis.fingerprint import evidence_fingerprint
from tests.conftest import EXAMPLES
from tests.inprocess import run_notebooks


@pytest.fixture(scope="module")
def search():
    return result.compute(EXAMPLES / "search-api")


def _json(value) -> str:
    return json.dumps(summary.jsonable(value), sort_keys=True)


def test_one_computation_holds_what_a_report_needs(search):
    assert search.service == "search-api" and search.config.sdk == "aws-java-sdk-v1"
    assert search.analysis.verdict["cause"] == "credential_refresh" and not search.ready
    assert {f["id"] for f in search.findings} >= {"credential-refresh-every-request"}
    assert set(search.moments) == {"ec2", "k8s"} and not search.moments["k8s"].empty
    assert search.refresh_window_s == 900
    assert search.fingerprint == evidence_fingerprint(EXAMPLES / "search-api")
    out = search.summary()
    assert out["what_if"] == {} and out["evidence"]["fingerprint"] == search.fingerprint


def test_save_and_load_give_the_same_result(search, tmp_path):
    search.save(tmp_path / "saved")
    written = json.loads((tmp_path / "saved" / "summary.json").read_text())
    assert _json(written) == _json(search.summary())
    assert (tmp_path / "saved" / "tables" / "latency.parquet").is_file()
    loaded = result.load(tmp_path / "saved")
    assert _json(loaded.summary()) == _json(search.summary())
    # the notebooks draw from the digest: a loaded result holds no latency rows, their columns
    assert loaded.evidence.latency.empty
    assert list(loaded.evidence.latency.columns) == list(search.evidence.latency.columns)
    saved = pd.read_parquet(tmp_path / "saved" / "tables" / "latency.parquet")
    assert saved.shape == search.evidence.latency.shape
    pd.testing.assert_frame_equal(loaded.latency.minutes, search.latency.minutes)
    pd.testing.assert_frame_equal(loaded.latency.ecdf, search.latency.ecdf)
    assert list(loaded.moments["k8s"]["refresh_at"]) == list(search.moments["k8s"]["refresh_at"])


def test_load_without_a_saved_result_says_how_to_make_one(tmp_path):
    with pytest.raises(ConfigError, match="no saved result"):
        result.load(tmp_path)


def test_a_result_saved_by_another_version_is_refused(search, tmp_path):
    folder = tmp_path / "saved"
    search.save(folder)
    state = pickle.loads((folder / result.STATE_FILE).read_bytes())
    state["tool_version"], state["findings"] = "0.0.1", []
    (folder / result.STATE_FILE).unlink()
    (folder / result.STATE_FILE).write_bytes(pickle.dumps(state))
    os.chmod(folder / result.STATE_FILE, 0o600)
    with pytest.raises(result.StaleResult, match="another version"):
        result.load(folder)


def test_a_saved_result_others_can_write_is_not_unpickled(search, tmp_path):
    """The state file is a pickle: one that someone else could have written is refused
    before it is read (it would run their code)."""
    folder = tmp_path / "saved"
    search.save(folder)
    assert (folder / result.STATE_FILE).stat().st_mode & 0o777 == 0o600
    os.chmod(folder / result.STATE_FILE, 0o620)
    with pytest.raises(ConfigError, match="writable by nobody else"):
        result.load(folder)


def test_a_notebook_opened_by_hand_computes_from_the_evidence_never_a_saved_file(
        search, tmp_path, monkeypatch):
    monkeypatch.setattr(result, "load", lambda folder: pytest.fail("loaded a saved file"))
    shown = result.for_notebook("search-api", EXAMPLES)
    assert _json(shown.summary()) == _json(search.summary())


def test_errors_in_evidence_are_raised_located_by_compute(example_copy):
    folder = example_copy("payments-api")
    (folder / "k8s" / "latency" / "garbage.log").write_text("not an access log\n" * 5)
    with pytest.raises(EvidenceError, match="garbage.log.*not a known latency format"):
        result.compute(folder)


def test_verdict_is_the_summary_without_a_kernel(search, capsys):
    code = cli.main(["verdict", "search-api", "--data-dir", str(EXAMPLES), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == cli.EXIT_NOT_READY == 2
    assert _json(out) == _json(search.summary())
    code = cli.main(["verdict", "search-api", "--data-dir", str(EXAMPLES)])
    text = capsys.readouterr().out
    assert code == 2 and text.startswith("search-api: NOT READY (credential_refresh)")
    assert "blocker credential-refresh-every-request" in text and "gap p99: +" in text
    assert "after fixing the blockers (predicted): p50 -1.9 ms, p99 +41.0 ms, within budget" \
        in text


def test_verdict_exit_codes_match_the_fleet_gate(capsys):
    assert cli.main(["verdict", "listings-api", "--data-dir", str(EXAMPLES), "--json",
                     "--set", "budget.p50_ms=1000", "--set", "budget.p99_ms=5000"]) == 0
    assert cli.main(["verdict", "nope", "--data-dir", str(EXAMPLES)]) == 1
    assert "no service 'nope'" in capsys.readouterr().err


def test_the_notebooks_present_a_saved_what_if_result(tmp_path):
    """The pipeline saves the result before the notebooks run; they load and present it."""
    overrides = {"budget.p50_ms": 1000, "budget.p99_ms": 5000}
    made = result.compute(EXAMPLES / "search-api", overrides)
    made.save(tmp_path / "saved")
    namespace = run_notebooks("search-api", EXAMPLES, tmp_path / "saved")
    shown = namespace["result"]
    assert shown.what_if == overrides and shown.ready
    assert _json(shown.summary()) == _json(made.summary())
    banner = view.banner(shown.analysis, shown.what_if).data
    assert "READY" in banner and "What if:" in banner and "budget.p99_ms=5000" in banner
    assert "What if" not in view.banner(shown.analysis).data
