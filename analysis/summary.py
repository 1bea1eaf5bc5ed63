"""summary.json: the machine-readable result of one report (contract: README.md,
"What you get")."""

from __future__ import annotations

import json
import math
from pathlib import Path

from analysis import __version__, fixes
from analysis.attribution import Analysis, sources
from analysis.fingerprint import combine
from analysis.ingest import Evidence


def inputs(evidence: Evidence) -> dict:
    """{env: {kind: {files, lines, rejected, skipped, formats}}} from the ingest counts;
    `skipped` says what the skipped lines were ({"blank line": 2, ...})."""
    out: dict = {}
    whats = evidence.skipped_lines()
    for row in evidence.inputs.itertuples():
        mine = whats[(whats["env"] == row.env) & (whats["kind"] == row.kind)]
        out.setdefault(row.env, {})[row.kind] = {
            "files": int(row.files), "lines": int(row.lines), "rejected": int(row.rejected),
            "skipped": {w: int(n) for w, n in zip(mine["what"], mine["lines"], strict=True)},
            "formats": [f for f in row.formats.split(",") if f],
            **({"latency_from": row.latency_from} if getattr(row, "latency_from", "") else {}),
        }
    return out


def dns_cost(analysis: Analysis) -> dict:
    """Per environment: where the DNS cost comes from (measured per name, whole lookup,
    model) and, per host name, the names one uncached lookup queries and their median cost."""
    return {env: {"source": est.source, "miss_rate": round(est.miss_rate, 4),
                  "names": {n: {"queried": list(w.queried),
                                "cost_ms": [round(x, 2) for x in w.name_ms],
                                "answered_by_coredns": list(w.local), "source": w.source}
                            for n, w in est.walk_costs().items()}}
            for env, est in analysis.dns.items() if est is not None}


def build(analysis: Analysis, findings: list[dict], evidence: Evidence,
          files: dict[str, str] | None = None, what_if: dict | None = None) -> dict:
    """The summary; `files` (fingerprint.evidence_files) adds the evidence fingerprint;
    `what_if` is the run's `--set` overrides ({} when service.yaml was taken as it is)."""
    return {
        "service": analysis.service,
        "baseline": analysis.baseline,
        "candidate": analysis.candidate,
        "latency_ms": analysis.latency_ms,
        "gap_ms": analysis.gap_ms,
        "attribution_ms": analysis.attribution_ms,
        "predicted_ms": analysis.predicted_ms,
        "dns_cost": dns_cost(analysis),
        "verdict": {**analysis.verdict,
                    "blockers": [f["id"] for f in findings if f["severity"] == "blocker"]},
        "findings": findings,
        "after_fixes": fixes.after_fixes(analysis, findings),
        "inputs": inputs(evidence),
        "what_if": dict(what_if or {}),
        "tool_version": __version__,
        # only with packet captures: a service without them gives the summary it gave before
        **({"overhead_source": sources(analysis)} if analysis.measured else {}),
        **({"evidence": {"fingerprint": combine(files), "files": len(files)}}
           if files is not None else {}),
    }


def jsonable(value):
    """The summary with NaN and infinities as None, so every JSON reader accepts it."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
    return value


def write(summary: dict, path: Path) -> Path:
    """Write summary.json (NaN becomes null so every JSON reader accepts it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(jsonable(summary), indent=2, allow_nan=False) + "\n")
    return path


def render(summary: dict) -> str:
    """The summary as `latency-gap verdict` prints it: cause and readiness, the gap and its
    attribution at p50 and p99, the blockers, the what-if overrides."""
    verdict = summary["verdict"]
    lines = [f"{summary['service']}: {'READY' if verdict['ready'] else 'NOT READY'} "
             f"({verdict['cause']}) - {verdict['summary']}"]
    for quantile in ("p50", "p99"):
        gap = summary["gap_ms"].get(quantile)
        parts = summary["attribution_ms"].get(quantile) or {}
        shares = ", ".join(f"{cause} {ms:+.1f}" for cause, ms in parts.items())
        decided = verdict.get("by_quantile", {}).get(quantile)
        against = f"; {decided['decision']} its {decided['budget_ms']:g} ms budget" \
            if decided else ""
        lines.append(f"  gap {quantile}: " + (f"{gap['value']:+.1f} ms (95% CI "
                     f"{gap['ci95'][0]:+.1f} to {gap['ci95'][1]:+.1f}{against}): {shares}"
                     if gap else "n/a"))
    for finding in summary["findings"]:
        if finding["severity"] == "blocker":
            lines.append(f"  blocker {finding['id']}: {finding['evidence']}")
    plan = (summary.get("after_fixes") or {}).get("blockers") or {}
    if plan.get("findings") and plan.get("gap_after_ms"):
        after = plan["gap_after_ms"]
        within = {True: "within budget", False: "still over budget",
                  None: "readiness not predicted"}[plan["within_budget"]]
        lines.append(f"  after fixing the blockers (predicted): p50 {after['p50']:+.1f} ms, "
                     f"p99 {after['p99']:+.1f} ms, {within}")
    if summary.get("overhead_source"):
        lines.append("  per-request DNS and credential time: " + "; ".join(
            f"{env} {said['dns']}" for env, said in summary["overhead_source"].items()))
    if summary.get("what_if"):
        lines.append("  what if: " + ", ".join(f"{k}={v}" for k, v in summary["what_if"].items()))
    return "\n".join(lines)
