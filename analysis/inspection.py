"""`latency-gap inspect`: what the tool makes of a service folder or one evidence file."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import ingest
from analysis import service as services
from analysis.capture import evidence as captures
from analysis.errors import LatencyGapError
from analysis.files import check_inside
from analysis.ingest.registry import REGISTRY, Format, detect, parse_with
from analysis.ingest.resolv import parse_resolv_conf
from analysis.ingest.rows import check_rejected_share


def _kind_of(path: Path) -> str | None:
    if path.name == "resolv.conf":
        return "resolv.conf"
    if path.parent.name in ingest.FILE_KINDS:
        return path.parent.name
    if path.parent.name == captures.KIND or captures.capture_format(path):
        return captures.KIND
    return None


def _statistics(kind: str, table: pd.DataFrame) -> dict:
    if table.empty:
        return {}
    if kind == "latency":
        values = table["latency_ms"].dropna()
        quantiles = (0.5, 0.9, 0.99)  # at once: one partial sort of 5M values, not three
        stats = {f"latency_ms_p{int(q * 100)}": round(float(v), 1) for q, v in zip(
            quantiles, values.quantile(list(quantiles)), strict=True)} if len(values) else {}
        return {"requests": len(table), "no_backend_answer": int(table["latency_ms"].isna().sum()),
                **stats}
    if kind == "dig":
        times = table["query_time_ms"].dropna()
        return {"queries": len(table), "timeouts": int((table["status"] == "TIMEOUT").sum()),
                "statuses": table["status"].fillna("(none)").value_counts().to_dict(),
                "query_ms_median": float(np.median(times)) if len(times) else None,
                "query_ms_max": float(times.max()) if len(times) else None}
    if kind == "metadata":
        calls = table["duration_ms"]
        return {"calls": len(table), "failed_calls": int((table["status"] >= 400).sum()),
                "call_ms_median": float(calls.median()), "call_ms_max": float(calls.max())}
    lifetimes = table["lifetime_s"].dropna()
    failed = table.loc[table["code"] != "Success", "code"]
    return {"documents": len(table) - len(failed), "failed_fetches": len(failed),
            "failed_fetch_codes": failed.value_counts().to_dict(),
            "distinct_keys": int(table["key_id"].nunique()),
            "lifetime_s_min": float(lifetimes.min()) if len(lifetimes) else None,
            "lifetime_s_median": float(lifetimes.median()) if len(lifetimes) else None,
            "lifetime_s_max": float(lifetimes.max()) if len(lifetimes) else None}


def _time_range(table: pd.DataFrame) -> list[str] | None:
    column = next((c for c in ("time", "fetched_at", "last_updated") if c in table), None)
    if column is None:
        return None
    first, last = table[column].min(), table[column].max()  # NaT skipped, no copy
    return None if pd.isna(first) else [first.isoformat(), last.isoformat()]


def inspect_file(path: Path, kind: str | None = None, options: dict | None = None,
                 forced: str | Format | None = None) -> dict:
    """Detected (or `forced`) format, counts, first rejections, time range and statistics for
    one file."""
    kind = kind or _kind_of(path)
    if kind == captures.KIND:
        return captures.inspect_capture(path)
    result: dict = {"path": str(path), "kind": kind}
    try:
        if kind == "resolv.conf":
            conf = parse_resolv_conf(path)
            return {**result, "format": "resolv.conf", "lines": conf.lines, "rejected": 0,
                    "nameservers": list(conf.nameservers), "search": list(conf.search),
                    "ndots": conf.ndots, "timeout_s": conf.timeout_s,
                    "attempts": conf.attempts, "options": sorted(conf.flags),
                    "ignored": list(conf.ignored)}
        kinds = [kind] if kind else list(REGISTRY)
        fmt = detect(kind, path, forced) if kind and forced else _best_format(kinds, path)
        result["kind"] = fmt.kind
        parsed = parse_with(fmt, path, options)
        rejected = parsed.rejected
        result.update(
            format=fmt.name, lines=parsed.lines, parsed=len(parsed.table),
            latency_from=parsed.latency_field or None,
            skipped=parsed.skipped["what"].value_counts().to_dict() or None,
            rejected=len(rejected),
            first_rejections=[f"line {r.line}: {r.reason}: {r.text!r}"
                              for r in rejected.head(3).itertuples()],
            time_range=_time_range(parsed.table), **_statistics(fmt.kind, parsed.table))
        check_rejected_share(path, fmt.name, parsed)
    except LatencyGapError as exc:
        result["error"] = str(exc)
    return result


def _best_format(kinds: list[str], path: Path):
    errors = []
    for kind in kinds:
        try:
            return detect(kind, path)
        except LatencyGapError as exc:
            errors.append(str(exc))
    raise LatencyGapError(errors[0] if len(errors) == 1 else
                          f"{path}: not recognised as any kind of evidence ({', '.join(kinds)})")


def _capture_of_service(path: Path) -> services.CaptureSettings | None:
    """For a capture at <service>/<env>/pcap/<file>: its service.yaml's `capture:`, as the
    report would read it (None without a service.yaml; a broken one is the folder's
    inspect's to report)."""
    folder = path.resolve().parent.parent.parent
    if path.parent.name != captures.KIND or not (folder / "service.yaml").is_file():
        return None
    try:
        return services.load_config(folder).capture
    except LatencyGapError:
        return None


def inspect(path: Path, capture: services.CaptureSettings | None = None) -> dict:
    """A service folder or one file; `ok` is False when a report would fail on it. `capture`
    tells captures what they cannot say (service port, DNS ports, metadata endpoints); it
    replaces the `capture:` of the service.yaml of the folder (or of the service a capture
    file sits in)."""
    path = Path(path)
    if path.is_file():
        if _kind_of(path) == captures.KIND:
            entry = captures.inspect_capture(path, capture or _capture_of_service(path))
        else:
            entry = inspect_file(path)
        return {"path": str(path), "files": [entry], "errors": [], "missing": [],
                "ok": "error" not in entry}
    if not path.is_dir():
        return {"path": str(path), "files": [], "errors": [f"{path}: no such file or folder"],
                "missing": [], "ok": False}
    errors: list[str] = []
    try:
        config = services.load_config(path)
        ingest.check_layout(path, config)
    except LatencyGapError as exc:
        return {"path": str(path), "files": [], "errors": [str(exc)], "missing": [], "ok": False}
    files, missing = [], []
    options = {"latency_unit": config.latency_unit}
    for env in config.environments:
        for kind in ingest.FILE_KINDS:
            found = ingest.kind_files(path / env / kind)
            if not found and kind not in ingest.OPTIONAL_KINDS:
                missing.append(f"{env}/{kind}")
            files += [inspect_file(f, kind, options, config.formats.get(kind)) for f in found]
        try:
            files += [captures.inspect_capture(f, capture or config.capture)
                      for f in ingest.kind_files(path / env / captures.KIND)]
        except LatencyGapError as exc:
            files.append({"path": str(path / env / captures.KIND), "kind": captures.KIND,
                          "error": str(exc)})
        resolv = path / env / "resolv.conf"
        if not os.path.lexists(resolv):
            missing.append(f"{env}/resolv.conf")
            continue
        try:
            check_inside(resolv, path)
            files.append(inspect_file(resolv, "resolv.conf"))
        except LatencyGapError as exc:
            files.append({"path": str(resolv), "kind": "resolv.conf", "error": str(exc)})
    errors += [f["error"] for f in files if "error" in f]
    return {"path": str(path), "service": config.name, "files": files, "errors": errors,
            "missing": missing, "ok": not errors}


def render(result: dict) -> str:
    """The inspect result as text for a terminal."""
    out = [f"{result['path']}: {'OK' if result['ok'] else 'WOULD FAIL'}"]
    for entry in result["files"]:
        head = f"  {entry['path']}  [{entry.get('kind')}: {entry.get('format', '?')}]"
        counts = f"lines {entry.get('lines', '?')}, parsed {entry.get('parsed', '-')}, " \
                 f"rejected {entry.get('rejected', '?')}"
        out.append(f"{head}  {counts}")
        skip = {"path", "kind", "format", "lines", "parsed", "rejected", "first_rejections",
                "ignored", "error"}
        details = ", ".join(f"{k} {v}" for k, v in entry.items()
                            if k not in skip and v not in (None, [], {}))
        if details:
            out.append(f"      {details}")
        out += [f"      {r}" for r in entry.get("first_rejections", [])]
        out += [f"      ignored: {note}" for note in entry.get("ignored", [])]
        if "error" in entry:
            out.append(f"      ERROR {entry['error']}")
    out += [f"  missing: {m}" for m in result["missing"]]
    out += [f"  error: {e}" for e in result["errors"] if not any(
        e == f.get("error") for f in result["files"])]
    return "\n".join(out)
