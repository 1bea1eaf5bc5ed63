"""Faults around a fleet run: a corrupt history is moved aside and the run goes on; a full
disk while recording the run or writing fleet.json is a one-line error that leaves no
temporary file; a history another process holds is named, not moved."""

import errno
import os
import shutil
import subprocess
import sys
import textwrap

import duckdb
import pytest

from analysis import cli, fleet, fleet_index, history
from tests.conftest import EXAMPLES
from tests.robustness.conftest import TALLY

SERVICE = "payments-api"


@pytest.fixture(scope="module")
def ran_once(tmp_path_factory):
    """One fleet run over one service: a run on a copy of it has nothing to redo."""
    root = tmp_path_factory.mktemp("fleet-faults")
    shutil.copytree(EXAMPLES / SERVICE, root / "data" / SERVICE)
    fleet.fleet(root / "data", root / "reports", jobs=1, say=lambda m: None,
                    progress=False)
    return root


@pytest.fixture
def copy(ran_once, tmp_path):
    """(data, reports) of a copy of that run, and the arguments of `latency-gap fleet`."""
    shutil.copytree(ran_once / "reports", tmp_path / "reports")
    data, reports = ran_once / "data", tmp_path / "reports"
    return data, reports, ["fleet", "--jobs", "1", "--data-dir", str(data), "--reports-dir",
                           str(reports)]


def _runs(reports):
    with duckdb.connect(str(reports / history.FILE_NAME), read_only=True) as con:
        return con.execute("SELECT count(*) FROM runs").fetchone()[0]


def _damage_block(path):
    """Flip bytes in the first data block, past the two headers (DuckDB's layout)."""
    blob = bytearray(path.read_bytes())
    for i in range(12288, 12288 + 4096):
        blob[i] ^= 0x5A
    path.write_bytes(bytes(blob))


def _torn_wal(path):
    """A history whose last transaction is in a WAL torn in the middle."""
    path.unlink()
    source = path.with_name("source.duckdb")
    con = duckdb.connect(str(source))
    con.execute(history.SCHEMA)
    con.execute("CHECKPOINT")
    con.execute("SET wal_autocheckpoint = '1GB'")
    con.execute("INSERT INTO runs (run_id, service, run_at, status) VALUES ('r', 's', now(), "
                "'ok')")
    shutil.copy(source, path)  # as a crash leaves it: the WAL not yet checkpointed
    wal = source.with_name(f"{source.name}.wal").read_bytes()
    middle = len(wal) // 2
    path.with_name(f"{path.name}.wal").write_bytes(wal[:middle] + bytes(16) + wal[middle + 16:])
    con.close()
    for leftover in source.parent.glob("source.duckdb*"):
        leftover.unlink()


DAMAGE = {"not a database": lambda p: p.write_bytes(os.urandom(20000)),
          "a damaged block": _damage_block, "a torn WAL": _torn_wal,
          "empty": lambda p: p.write_bytes(b"")}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_corrupt_history_is_moved_aside_and_the_run_goes_on(copy, damage, capsys):
    data, reports, args = copy
    DAMAGE[damage](reports / history.FILE_NAME)
    assert cli.main(args) == fleet.EXIT_OK
    err = capsys.readouterr().err
    aside = sorted(reports.glob(f"{history.FILE_NAME}.corrupt-*"))
    assert aside, sorted(p.name for p in reports.iterdir())
    said = [line for line in err.splitlines() if "moved aside" in line]
    assert len(said) == 1 and "is corrupt (" in said[0] and aside[0].name in said[0]
    assert "Traceback" not in err
    assert _runs(reports) == 1, "a fresh history holding this run"
    TALLY["faults"] += 1


def test_a_history_another_process_holds_is_named_not_moved(copy, capsys):
    data, reports, args = copy
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import duckdb, sys, time
        con = duckdb.connect({str(reports / history.FILE_NAME)!r})
        print("held", flush=True)
        time.sleep(120)
    """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert cli.main(args) == 1
    finally:
        holder.kill()
        holder.wait()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "history.duckdb: opening the run history failed" in err[0]
    assert "lock" in err[0]
    assert not list(reports.glob("*.corrupt-*"))
    assert _runs(reports) == 1
    TALLY["faults"] += 1


class _FullDiskConnection:
    """A DuckDB connection whose commit of the run's rows meets a full disk (as DuckDB says
    it when the WAL cannot be written)."""

    def __init__(self, real):
        self.real = real

    def executemany(self, *args, **kwargs):
        raise duckdb.TransactionException(
            f'TransactionContext Error: Failed to commit: Could not write file "{self.path}.wal"'
            ": No space left on device\nmore detail")

    def __getattr__(self, name):
        return getattr(self.real, name)


def test_a_full_disk_while_recording_the_run_is_one_line(copy, monkeypatch, capsys):
    data, reports, args = copy
    real_connect = duckdb.connect

    def connect(path, *a, **kw):
        made = _FullDiskConnection(real_connect(path, *a, **kw))
        made.path = path
        return made

    monkeypatch.setattr(history.duckdb, "connect", connect)
    before = (reports / "fleet.json").read_bytes()
    assert cli.main(args) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert any("to run" in line for line in err[:-1])  # progress lines, then the failure
    assert err[-1].startswith(f"latency-gap: error: {reports / history.FILE_NAME}: recording "
                              "run")
    assert "No space left on device" in err[-1] and "more detail" not in "".join(err)
    assert (reports / "fleet.json").read_bytes() == before
    monkeypatch.setattr(history.duckdb, "connect", real_connect)
    assert _runs(reports) == 1
    TALLY["faults"] += 1


def test_a_full_disk_while_writing_fleet_json_leaves_no_temporary_file(copy, monkeypatch,
                                                                       capsys):
    data, reports, args = copy
    real_write = fleet_index.Path.write_text

    def half_then_full(path, text, *a, **kw):
        if ".tmp-" in path.name:
            real_write(path, text[: len(text) // 2], *a, **kw)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
        return real_write(path, text, *a, **kw)

    monkeypatch.setattr(fleet_index.Path, "write_text", half_then_full)
    before = (reports / "fleet.json").read_bytes()
    assert cli.main(args) == 1
    monkeypatch.setattr(fleet_index.Path, "write_text", real_write)
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"latency-gap: error: {reports}: writing fleet.json and index.html "
                              "failed: [Errno 28] No space left on device")
    assert "Traceback" not in "".join(err)
    assert not list(reports.glob(".*.tmp-*"))
    assert (reports / "fleet.json").read_bytes() == before
    TALLY["faults"] += 1


def test_temporary_files_a_killed_run_left_are_removed(copy):
    data, reports, args = copy
    for name in (".fleet.json.tmp-4242", ".index.html.tmp-4242"):
        (reports / name).write_text("half")
    assert cli.main(args) == fleet.EXIT_OK
    assert not list(reports.glob(".*.tmp-*"))
    TALLY["faults"] += 1
