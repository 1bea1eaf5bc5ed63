"""Fleet readiness runs: every service under DATA_DIR, in parallel, with history.

Each service is computed (analysis.result.compute) and its report built (analysis.pipeline.
report, which builds aside and publishes atomically) in a worker: a local process pool,
or a Dask distributed cluster through its concurrent.futures interface (`Client.get_executor`):
one code path, no scheduler of our own. The skip decision is taken in the parent from the
evidence fingerprint alone, before any parse: an unchanged service starts no worker and its row
comes from the history; the others' summary and history row come from the computed result.
A service's failure is recorded, never raised, so the others go on.
Each run appends one row per service to REPORTS_DIR/history.duckdb; REPORTS_DIR/fleet.json and
index.html show the run beside the earlier ones. A file lock (filelock) keeps two runs off one
REPORTS_DIR.
"""

from __future__ import annotations

import concurrent.futures as cf
import json
import multiprocessing
import os
import sys
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout
from tqdm import tqdm

from analysis import config, fingerprint, history, lifeline, publishing, words
from analysis import service as services
from analysis.errors import LatencyGapError
from analysis.redaction import redact

EXIT_OK, EXIT_FAILED, EXIT_GATE = 0, 1, 2
LOCK_NAME = ".fleet.lock"


class FleetBusy(LatencyGapError):
    """Another fleet run holds the reports folder."""


@dataclass
class Outcome:
    """One service in one run: what happened and the summary its report stands on."""

    service: str
    status: str                       # ok | failed | skipped (unchanged since its last run)
    seconds: float
    fingerprint: str
    summary: dict | None = None
    error: str | None = None


@dataclass
class FleetResult:
    run_id: str
    seconds: float
    entries: list[dict] = field(default_factory=list)
    exit_code: int = EXIT_OK


def run_service(service: str, data_dir: str, reports_dir: str,
                files: dict[str, str] | None = None) -> Outcome:
    """Compute one service's result and build its report; runs in a worker process. `files`:
    its evidence files' hashes as the parent read them for the skip decision (hashed once).
    The summary and the fingerprint come from the result, never from a file. Failures come
    back as data."""
    from analysis import pipeline  # imported in the worker, not in the parent
    from analysis import result as results

    started = time.perf_counter()
    folder = Path(data_dir) / service
    try:
        result = results.compute(services.service_dir(Path(data_dir), service), files=files)
        pipeline.report(service, data_dir, reports_dir, say=lambda message: None,
                              result=result)
        return Outcome(service, "ok", time.perf_counter() - started, result.fingerprint,
                       result.summary())
    except Exception as exc:  # noqa: BLE001 - one service's failure must not stop the fleet
        # LatencyGapError messages are redacted when made; anything else may quote evidence
        error = str(exc) if isinstance(exc, LatencyGapError) else \
            redact(f"{type(exc).__name__}: {exc}")
        try:  # the history row still says which evidence failed
            evidence = fingerprint.combine(files) if files is not None else \
                fingerprint.evidence_fingerprint(folder)
        except OSError:
            evidence = ""
        return Outcome(service, "failed", time.perf_counter() - started, evidence,
                       error=error)


def unchanged(name: str, data: Path, reports: Path, last: dict | None, tool: str,
              force: bool) -> tuple[Outcome | None, dict[str, str] | None]:
    """The skip decision, from the evidence fingerprint alone, before any parse: (a "skipped"
    outcome whose summary is the last good run's history row, None) when the evidence and
    the tool are unchanged since that run and its report is published; else (None, the
    evidence files' hashes for the worker, or None when they could not be read)."""
    started = time.perf_counter()
    try:
        files = fingerprint.evidence_files(services.service_dir(data, name))
    except (OSError, LatencyGapError):  # the worker names the problem
        return None, None
    # a row recorded before blockers were kept cannot stand in for the summary: run it
    summary = history.summary_of(last) if last and last.get("blockers") is not None else None
    if force or summary is None or last["tool_fingerprint"] != tool \
            or last["evidence_fingerprint"] != fingerprint.combine(files) \
            or not (reports / name / "summary.json").is_file():
        return None, files
    return Outcome(name, "skipped", time.perf_counter() - started,
                   last["evidence_fingerprint"], summary), None


@contextmanager
def fleet_lock(reports: Path, wait_s: float = 0):
    """Hold REPORTS_DIR/.fleet.lock for the run; refuse (or wait `wait_s`) when it is taken.

    filelock takes an flock on Linux: the kernel releases it when the holder dies, so a
    killed run never leaves a stale lock behind. Who holds it is written beside it.
    """
    path = reports / LOCK_NAME
    holder = reports / f"{LOCK_NAME}.json"
    lock = FileLock(path, timeout=wait_s)
    try:
        lock.acquire()
    except Timeout:
        try:
            info = json.loads(holder.read_text())
            who = f" (pid {info['pid']} on {info['host']}, started {info['started']})"
        except (OSError, ValueError, KeyError):
            who = ""
        raise FleetBusy(f"another fleet run is using {reports}{who}; wait for it to finish, "
                        "or pass --wait SECONDS to queue behind it") from None
    try:
        try:
            holder.write_text(json.dumps({"pid": os.getpid(), "host": os.uname().nodename,
                                          "started": datetime.now(UTC).isoformat()}))
        except OSError:  # a courtesy for whoever is refused; a full disk must not stop the run
            holder.unlink(missing_ok=True)
        yield
    finally:
        holder.unlink(missing_ok=True)
        lock.release()


def select(data: Path, only: list[str] | None) -> list[str]:
    found = services.services(data)
    if not only:
        if not found:
            raise LatencyGapError(f"no service folders under {data}")
        return found
    unknown = [s for s in only if s not in found]
    if unknown:
        raise LatencyGapError(f"unknown service(s) {', '.join(map(repr, unknown))} in {data} "
                              f"(services found: {', '.join(found) or 'none'})")
    return list(dict.fromkeys(only))


def default_jobs() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def check_executor(kind: str, scheduler: str | None) -> None:
    if kind not in ("local", "dask"):
        raise LatencyGapError(f"unknown executor {kind!r}; expected local or dask")
    if kind == "dask" and not scheduler:
        raise LatencyGapError("--executor dask needs --scheduler ADDRESS (e.g. tcp://host:8786)")


@contextmanager
def make_executor(kind: str, jobs: int, scheduler: str | None):
    """A concurrent.futures executor: a local process pool, or a Dask cluster's executor."""
    if kind == "local":
        # spawn: workers start clean, not as forks of a parent holding DuckDB and tqdm threads
        with cf.ProcessPoolExecutor(max_workers=jobs,
                                    mp_context=multiprocessing.get_context("spawn"),
                                    initializer=lifeline.die_with_parent,
                                    initargs=(os.getpid(),)) as pool:
            yield pool
        return
    try:
        from distributed import Client
    except ModuleNotFoundError:
        raise LatencyGapError("--executor dask needs dask.distributed: "
                              "pip install -e '.[dask]'") from None
    with Client(scheduler, timeout="20s") as client, client.get_executor(pure=False) as pool:
        yield pool


def _line(outcome: Outcome) -> str:
    if outcome.status == "failed":
        return f"{outcome.service}: FAILED ({outcome.seconds:.1f} s): {outcome.error}"
    verdict = (outcome.summary or {}).get("verdict", {})
    ready = "ready" if verdict.get("ready") else "blocked"
    took = "unchanged, skipped" if outcome.status == "skipped" else f"{outcome.seconds:.1f} s"
    return f"{outcome.service}: {words.cause(verdict.get('cause')) or '?'}, {ready} ({took})"


def fleet(data_dir: str | os.PathLike | None = None,
          reports_dir: str | os.PathLike | None = None, only: list[str] | None = None,
          jobs: int | None = None, executor: str = "local", scheduler: str | None = None,
          gate: bool = False, force: bool = False, wait_s: float = 0,
          say: Callable[[str], None] | None = None, progress: bool = True) -> FleetResult:
    """Process every selected service, record the run, and write fleet.json and index.html."""
    from analysis import fleet_index

    say = say or (lambda message: print(message, file=sys.stderr, flush=True))
    started, wall = datetime.now(UTC), time.perf_counter()
    data, reports = config.data_dir(data_dir), config.reports_dir(reports_dir)
    config.prepare_reports(data, reports)
    check_executor(executor, scheduler)
    names = select(data, only)
    jobs = jobs or default_jobs()
    with fleet_lock(reports, wait_s):
        run_id = f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
        fleet_index.remove_temporary(reports)  # a killed run's half-written fleet.json
        db = history.open_history(reports / history.FILE_NAME, say)
        try:
            tool = fingerprint.tool_fingerprint()
            last = db.last_good(names)
            before = db.last_runs(names)  # the run "was ..., now ..." compares with
            outcomes = [Outcome(name, "failed", 0.0, "", error=(
                f"{data / name} is not a usable service folder: a service name is letters, "
                "digits, '.', '_' and '-' (rename the folder)"))
                for name in services.unusable_folders(data) if not only]
            for outcome in outcomes:
                say(_line(outcome))
            # a service whose evidence and tool are unchanged since its last good run, with
            # its report published, is neither computed nor rendered: its row is reused
            todo, hashed = [], {}
            for name in names:
                skipped, hashed[name] = unchanged(name, data, reports, last.get(name), tool,
                                                  force)
                if skipped is None:
                    todo.append(name)
                else:
                    outcomes.append(skipped)
                    say(_line(skipped))
            say(f"fleet {run_id}: {len(names)} services, {len(names) - len(todo)} unchanged, "
                f"{len(todo)} to run" + (f" on {min(jobs, len(todo))} job(s) ({executor})"
                                         if todo else ""))
            if todo:  # no worker is started when nothing changed
                outcomes += _execute(todo, data, reports, hashed, jobs, executor, scheduler,
                                     say, progress)
            finished = datetime.now(UTC)
            db.record(run_id, finished, outcomes, tool)
            entries = fleet_entries(db, outcomes, last, reports, before, started)
        finally:
            db.close()
        result = FleetResult(run_id, time.perf_counter() - wall, entries)
        result.exit_code = exit_code(entries, gate)
        try:
            fleet_index.write(result, reports, started, finished, gate)
        except OSError as exc:
            raise LatencyGapError(
                f"{reports}: writing fleet.json and index.html failed: {exc}; the services' "
                "reports and the history are saved, the index still shows the previous run"
            ) from None
    counts = {s: sum(o.status == s for o in outcomes) for s in ("ok", "skipped", "failed")}
    say(f"fleet {run_id}: {len(outcomes)} services: {counts['ok']} ok, {counts['skipped']} "
        f"unchanged, {counts['failed']} failed in {result.seconds:.1f} s; "
        f"{reports / 'index.html'} (exit {result.exit_code})")
    return result


def _execute(todo: list[str], data: Path, reports: Path, hashed: dict, jobs: int,
             executor: str, scheduler: str | None, say: Callable[[str], None],
             progress: bool) -> list[Outcome]:
    done = []
    with make_executor(executor, min(jobs, len(todo)), scheduler) as pool, \
            tqdm(total=len(todo), unit="service", desc="fleet", file=sys.stderr,
                 disable=None if progress else True, dynamic_ncols=True) as bar:
        # disable=None: tqdm draws only on a terminal; a cron log gets one line per service
        futures = {pool.submit(run_service, name, str(data), str(reports),
                               hashed.get(name)): name for name in todo}
        for future in cf.as_completed(futures):
            try:
                outcome = future.result()
            except Exception as exc:  # noqa: BLE001 - a worker died or the cluster went away
                outcome = Outcome(futures[future], "failed", 0.0, "",
                                  error=f"worker lost: {type(exc).__name__}: {exc}")
            done.append(outcome)
            if not bar.disable:
                bar.write(_line(outcome), file=sys.stderr)
            else:
                say(_line(outcome))
            bar.set_postfix_str(f"last: {outcome.service} {outcome.status}")
            bar.update()
    return done


def exit_code(entries: list[dict], gate: bool) -> int:
    """1 when a service could not be processed; else, with the gate, 2 when a service is not
    ready or got worse since its last run; else 0."""
    if any(e["status"] == "failed" for e in entries):
        return EXIT_FAILED
    if gate and any(not e["ready"] or e["worse"] for e in entries):
        return EXIT_GATE
    return EXIT_OK


#: the order of the index: failures first, then blocked, then ready services
RANK = {"failed": 0, "blocked": 1, "ready": 2}


def worse(current: dict, previous: dict | None) -> bool:
    """Readiness lost, or a gap's 95% interval now wholly above the previous run's (the gate
    fails on it)."""
    if not previous or current.get("gap_p50") is None:
        return False
    if previous["ready"] and not current["ready"]:
        return True
    return any(current[f"gap_{q}_low"] is not None and previous[f"gap_{q}_high"] is not None
               and current[f"gap_{q}_low"] > previous[f"gap_{q}_high"] for q in ("p50", "p99"))


def _verdict_values(summary: dict | None) -> dict:
    summary = summary or {}
    verdict = summary.get("verdict", {})
    out = {"cause": verdict.get("cause"), "ready": bool(verdict.get("ready", False)),
           "blockers": [f["id"] for f in summary.get("findings", [])
                        if f.get("severity") == "blocker"]}
    for q in ("p50", "p99"):
        out[f"gap_{q}"], out[f"gap_{q}_low"], out[f"gap_{q}_high"] = history.gap_of(summary, q)
    return out


def state(entry: dict) -> str:
    """failed, blocked or ready: what the index counts and ranks."""
    if entry["status"] == "failed":
        return "failed"
    return "ready" if entry["ready"] else "blocked"


def rank(entry: dict) -> int:
    """Failures first, then blocked, then ready services."""
    return RANK[state(entry)]


def order(entry: dict) -> tuple:
    """The index's order: failures first, then blocked services by their p50 gap, largest
    first (then p99), then ready ones; by name within a tie."""
    gaps = (0.0, 0.0)
    if state(entry) == "blocked":
        gaps = tuple(-entry[f"gap_{q}"] if entry[f"gap_{q}"] is not None else float("inf")
                     for q in ("p50", "p99"))
    return rank(entry), *gaps, entry["service"]


def _previous(row: dict | None) -> dict | None:
    """The service's previous run (any status) as "was ..., now ..." needs it."""
    if row is None:
        return None
    failed = row["status"] == "failed" or row["cause"] is None
    return {"run_id": row["run_id"], "run_at": row["run_at"].astimezone(UTC).isoformat(),
            "status": row["status"],
            "state": "failed" if failed else "ready" if row["ready"] else "blocked",
            "cause": None if failed else row["cause"],
            "blockers": [] if failed else json.loads(row.get("blockers") or "[]")}


def _failed_run(reports: Path, service: str, started: datetime | None) -> str | None:
    """The link to this run's kept notebooks of a failed service (REPORTS_DIR/.failed/), when
    this run left them there (an older folder would show another failure)."""
    kept = reports / publishing.FAILED / service
    try:
        if started is None or kept.stat().st_mtime >= started.timestamp() - 1:
            return f"{publishing.FAILED}/{service}/" if kept.is_dir() else None
    except OSError:
        pass
    return None


def fleet_entries(db: history.History, outcomes: list[Outcome], last: dict[str, dict],
                  reports: Path, before: dict[str, dict] | None = None,
                  started: datetime | None = None) -> list[dict]:
    """One entry per service: this run's status, the verdict its report stands on, the change
    since `last` (History.last_good, read before this run was recorded) and since `before`
    (History.last_runs, likewise: the previous run whatever its status), whether it got
    worse, since when its evidence is unchanged, and the trend; failures first, then blocked
    (largest gap first), then ready."""
    out = []
    names = [o.service for o in outcomes]
    trends, since = db.trends(names), db.unchanged_since(names)
    before = before or {}
    for o in outcomes:
        report = reports / o.service / "report.html"
        previous = last.get(o.service)
        last_good = None  # a failed service's published report: its last good run's row
        if o.status == "failed" and previous and report.is_file():
            last_good = history.summary_of(previous)
        values = _verdict_values(o.summary if o.status != "failed" else last_good)
        change = None
        if previous and o.status != "failed" and values["gap_p50"] is not None:
            change = {"p50_ms": round(values["gap_p50"] - (previous["gap_p50"] or 0), 1),
                      "p99_ms": round(values["gap_p99"] - (previous["gap_p99"] or 0), 1),
                      "was_cause": previous["cause"], "was_ready": previous["ready"]}
        out.append({
            "service": o.service, "status": o.status, "seconds": round(o.seconds, 1),
            "stale": o.status == "failed" and last_good is not None,
            "error": o.error, **values,
            "ready": values["ready"] and o.status != "failed",
            "change": change,
            "previous": _previous(before.get(o.service)),
            "unchanged_since": since[o.service].isoformat()
            if o.status != "failed" and o.service in since else None,
            "failed_run": _failed_run(reports, o.service, started)
            if o.status == "failed" else None,
            "worse": o.status != "failed" and worse(values, previous),
            "report": f"{o.service}/report.html" if report.is_file() else None,
            "evidence_fingerprint": o.fingerprint,
            "trend": [{"run_id": t["run_id"], "gap_p50": t["gap_p50"], "gap_p99": t["gap_p99"],
                       "ready": t["ready"]} for t in trends.get(o.service, [])],
        })
    for entry in out:
        entry["state"] = state(entry)
    return sorted(out, key=order)
