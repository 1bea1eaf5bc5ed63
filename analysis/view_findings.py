"""The report's verdict banner and its findings section: every blocker with what its fix takes
off the gap, the fixes as code to copy, and each finding linked to the figures and tables that
show it. Every value from evidence or config is escaped here; the numbers come from the
library (analysis/fixes.py)."""

from __future__ import annotations

from html import escape

from analysis import fixes
from analysis import words as said
from analysis.attribution import Analysis

#: where the report shows what a finding says: (id prefix, [(anchor, what it is)])
SHOWN_IN = [
    ("credential-fetch-failures", [("tab-failed-fetches", "failed fetches")]),
    ("credential-role-listing", [("tab-failed-fetches", "failed fetches")]),
    ("imds-hop-limit", [("tab-failed-fetches", "failed fetches"),
                        ("fig-credentials", "credential timeline")]),
    ("credential-lock", [("fig-over-time", "latency over time")]),
    ("credential-calls-measured", [("fig-attribution", "what the gap is made of"),
                                   ("fig-waterfall", "what one request is made of")]),
    ("dns-queries-measured", [("fig-attribution", "what the gap is made of"),
                              ("fig-waterfall", "what one request is made of"),
                              ("tab-dns", "names per lookup")]),
    ("credential-", [("fig-attribution", "what the gap is made of"),
                     ("fig-credentials", "credential timeline"),
                     ("fig-over-time", "latency over time")]),
    ("java-v2", [("fig-credentials", "credential timeline")]),
    ("dns-", [("fig-attribution", "what the gap is made of"), ("fig-dig", "dig query times"),
              ("tab-dns", "names per lookup")]),
    ("check-every-request-pays", [("fig-ecdf", "latency distribution")]),
    ("check-load", [("fig-load", "latency against request rate")]),
    ("check-periodic-refresh", [("fig-over-time", "latency over time")]),
    ("undecided-gap", [("tab-latency", "latency by environment"),
                       ("fig-attribution", "what the gap is made of")]),
    ("too-few-requests", [("tab-latency", "latency by environment"),
                          ("tab-inputs", "what was read")]),
    ("missing-", [("tab-inputs", "what was read")]),
    ("rejected-lines", [("tab-rejected", "rejected lines")]),
    ("no-time-overlap", [("tab-time-ranges", "time ranges")]),
    ("no-backend-answer", [("tab-inputs", "what was read")]),
    ("unexplained-gap", [("fig-attribution", "what the gap is made of")]),
]

SEVERITY_COLOURS = {"blocker": "#b2182b", "warning": "#b35806", "info": "#4d4d4d"}
_DECISION_WORDS = {"over": "over", "within": "within", "undecided": "undecided against"}
_COPY_SCRIPT = """<script>
/* latency-gap: copy a fix to the clipboard; with the clipboard API refused (an old browser,
   a policy) the text is copied through a selection, or selected for Ctrl+C. */
if (!window.lgCopy) {
  window.lgCopy = true;
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button.lg-copy") : null;
    if (!button) { return; }
    var block = document.getElementById(button.getAttribute("data-copy"));
    var text = block.textContent;
    function said(words) {
      button.textContent = words;
      setTimeout(function () { button.textContent = "Copy"; }, 2500);
    }
    function selected() {
      var range = document.createRange();
      range.selectNodeContents(block);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      var copied = false;
      try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
      said(copied ? "Copied" : "Selected: press Ctrl+C");
    }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { said("Copied"); }, selected);
    } else {
      selected();
    }
  });
}
</script>"""


def words(finding_id: str) -> str:
    """A finding's name in words (analysis/words.py)."""
    return said.finding(finding_id)


def cause_words(cause: str) -> str:
    return said.cause(cause)


def signed(value: float) -> str:
    """A whole number of ms with its sign, a real minus sign, and no sign on a zero:
    `+41`, `\u22122`, `0`."""
    return said.signed(value).replace("-", "\u2212")


def ms(value: float) -> str:
    """Milliseconds for a sentence: `+41 ms`, `\u22122 ms`, `0 ms`."""
    return f"{signed(value)} ms"


def severity_badge(severity: str) -> str:
    """The severity in colour and in words (colour alone says nothing to some readers)."""
    return (f'<span class="lg-severity lg-severity-{escape(severity)}" style="background:'
            f'{SEVERITY_COLOURS.get(severity, "#4d4d4d")};color:#fff;padding:0 0.4em;'
            f'border-radius:3px;font-weight:bold">{escape(severity)}</span>')


def shown_in(finding_id: str) -> list[tuple[str, str]]:
    """The figures and tables that show a finding: [(anchor, what it is)]."""
    return next((places for prefix, places in SHOWN_IN if finding_id.startswith(prefix)), [])


def _links(finding_id: str) -> str:
    return ", ".join(f'<a href="#{anchor}">{escape(what)}</a>'
                     for anchor, what in shown_in(finding_id))


def _gap(analysis: Analysis, quantile: str) -> str:
    """The gap with its interval, and whether it is decided against the budget."""
    decided = analysis.verdict.get("by_quantile", {}).get(quantile)
    against = f"{_DECISION_WORDS[decided['decision']]} its {decided['budget_ms']:g} ms " \
              "budget" if decided else ""
    gap = analysis.gap_ms.get(quantile)
    if not gap:
        return f"not measured <small>({against})</small>" if against else "not measured"
    low, high = gap["ci95"]
    return (f"{ms(gap['value'])} <small>(95% interval {ms(low)} to {ms(high)}"
            f"{'; ' + against if against else ''})</small>")


def _effect(finding: dict, analysis: Analysis) -> str:
    gain = fixes.effect(finding, analysis.gap_ms)
    return ", ".join(f"{q} {ms(-v)}" for q, v in gain.items()) or "effect not predicted"


def _after(plan: dict, analysis: Analysis) -> str:
    """'p50 −2 ms, p99 +41 ms against budgets of 10 and 50 ms: predicted within budget'."""
    after = plan["gap_after_ms"]
    if not after:
        return "the gap after the fixes is not predicted (nothing is attributed)"
    budgets = {q: d["budget_ms"] for q, d in analysis.verdict.get("by_quantile", {}).items()}
    said = ", ".join(f"{q} {ms(v)}" for q, v in after.items())
    against = " and ".join(f"{budgets[q]:g}" for q in after if q in budgets)
    outcome = {True: "predicted within budget", False: "predicted still over budget",
               None: "readiness not predicted (" + ", ".join(
                   words(i) for i in plan["not_predicted"])
               + f" {'has' if len(plan['not_predicted']) == 1 else 'have'} no predicted "
               "effect on the gap)"}
    return f"{said} against budgets of {against} ms: {outcome[plan['within_budget']]}"


def _what_if(overrides: dict | None) -> str:
    """The banner's line naming a what-if run's overrides (empty for service.yaml as is)."""
    if not overrides:
        return ""
    given = ", ".join(f"<code>{escape(str(k))}={escape(str(v))}</code>"
                      for k, v in overrides.items())
    return (f'<p class="lg-what-if"><strong>What if:</strong> {given} (--set, this run '
            "only; service.yaml says otherwise)</p>")


def _blockers(analysis: Analysis, findings: list[dict]) -> str:
    """Every blocker with what its fix takes off at p50 and p99, and the gap after all of
    them (fixes.after_fixes)."""
    blockers = [f for f in findings if f["severity"] == "blocker"]
    if not blockers:
        return ""
    plans = fixes.after_fixes(analysis, findings)
    listed = "; ".join(f'<a href="#finding-{escape(f["id"])}">{escape(words(f["id"]))}</a>'
                       + (f" ({_effect(f, analysis)})" if f.get("cause") else "")
                       for f in blockers)
    count = f"{len(blockers)} blocker{'s' if len(blockers) != 1 else ''}"
    fixed = "it" if len(blockers) == 1 else f"all {len(blockers)}"
    after = f" After fixing {fixed}: {_after(plans['blockers'], analysis)}." \
        if plans["blockers"]["findings"] else ""
    line = f'<p class="lg-blockers"><strong>{count}:</strong> {listed}.{after}</p>'
    more = plans["all"]
    if more["findings"] != plans["blockers"]["findings"] and more["gap_after_ms"]:
        line += (f"<p>After all {len(more['findings'])} fixes, warnings included: "
                 f"{_after(more, analysis)}.</p>")
    return line


def banner(analysis: Analysis, what_if: dict | None = None,
           findings: list[dict] | None = None) -> str:
    """The verdict as the page's one <h1> (service, ready or blocked, cause), the gap at p50
    and p99, every blocker with its effect and the gap predicted after fixing them, one
    sentence, and the what-if overrides the run was made with."""
    ready = analysis.verdict["ready"]
    colour = "#1b7837" if ready else "#b2182b"
    return (
        f'<header class="lg-banner" data-ready="{"true" if ready else "false"}" '
        f'style="border-left:8px solid {colour};padding:0.6em 1em;background:#f7f7f7">'
        f'<h1 class="lg-verdict" style="font-size:1.6em;margin:0 0 0.3em 0">'
        f'{escape(analysis.service)}: {"READY" if ready else "BLOCKED"} &middot; '
        f'{escape(cause_words(analysis.verdict["cause"]))}</h1>'
        f'<p>{escape(analysis.candidate)} against {escape(analysis.baseline)} &middot; gap p50 '
        f'{_gap(analysis, "p50")} &middot; p99 {_gap(analysis, "p99")}</p>'
        f'<p>{escape(analysis.verdict["summary"])}</p>'
        f'{_blockers(analysis, findings or [])}{_what_if(what_if)}</header>')


def _code_blocks(finding: dict) -> str:
    blocks = []
    for number, piece in enumerate(finding.get("fix_code") or []):
        block = f"code-{finding['id']}-{number}"
        blocks.append(
            f'<div class="lg-code"><p class="lg-code-label">{escape(piece["label"])}</p>'
            f'<pre><code id="{escape(block)}" class="language-{escape(piece["language"])}">'
            f'{escape(piece["code"])}</code></pre><button type="button" class="lg-copy" '
            f'data-copy="{escape(block)}" aria-label="Copy: {escape(piece["label"])}">'
            "Copy</button></div>")
    return "".join(blocks)


def _card(finding: dict, analysis: Analysis) -> str:
    """One finding: what the evidence shows, the fix (with code to copy), what it takes off
    the gap, and where the report shows it."""
    links = _links(finding["id"])
    effect = f"<p><strong>Predicted gain:</strong> {_effect(finding, analysis)}.</p>" \
        if finding.get("gap_after_fix_ms") else ""
    return (f'<div class="lg-finding" id="finding-{escape(finding["id"])}">'
            f'<h3>{severity_badge(finding["severity"])} {escape(words(finding["id"]))}</h3>'
            f'<p><strong>Evidence:</strong> {escape(finding["evidence"])}</p>'
            f'<p><strong>Fix:</strong> {escape(finding["fix"])}</p>{_code_blocks(finding)}'
            f'{effect}{f"<p><strong>Shown in:</strong> {links}.</p>" if links else ""}</div>')


def _row(cells: list[str], strong: bool = False) -> str:
    tag = "th" if strong else "td"
    return "<tr>" + "".join(f"<{tag}>{c}</{tag}>" for c in cells) + "</tr>"


def _table(actionable: list[dict], analysis: Analysis, findings: list[dict]) -> str:
    """The findings to act on, each with its gain at p50 and p99 and the gap after its fix,
    then the gap after all of them."""
    header = ["severity", "finding", "gain at p50 (ms)", "gain at p99 (ms)",
              "gap after this fix, p50 / p99 (ms)", "shown in"]
    rows = []
    for f in actionable:
        gain, after = fixes.effect(f, analysis.gap_ms), f.get("gap_after_fix_ms") or {}
        rows.append(_row([
            severity_badge(f["severity"]),
            f'<a href="#finding-{escape(f["id"])}">{escape(words(f["id"]))}</a>',
            f"{round(gain['p50']):d}" if "p50" in gain else "&ndash;",
            f"{round(gain['p99']):d}" if "p99" in gain else "&ndash;",
            f"{signed(after['p50'])} / {signed(after['p99'])}" if after else "&ndash;",
            _links(f["id"]) or "&ndash;"]))
    plan = fixes.after_fixes(analysis, findings)["all"]
    if plan["gap_after_ms"] and plan["findings"]:
        removed = {q: analysis.gap_ms[q]["value"] - v for q, v in plan["gap_after_ms"].items()}
        after = plan["gap_after_ms"]
        label = "after all fixes" + (" with a predicted effect" if plan["not_predicted"]
                                     else "")
        rows.append(_row(["", label, f"{round(removed['p50']):d}",
                          f"{round(removed['p99']):d}",
                          f"{signed(after['p50'])} / {signed(after['p99'])}", ""], strong=True))
    return ('<table class="lg-table" id="tab-findings"><thead>'
            + "".join(f"<th>{h}</th>" for h in header) + "</thead><tbody>"
            + "".join(rows) + "</tbody></table>")


def findings_section(findings: list[dict], analysis: Analysis) -> str:
    """Blockers and warnings in a table with their gains and the gap after all fixes, then
    each as a card with its fix to copy; informational findings collapsed under "Checks that
    passed"."""
    actionable = [f for f in findings if f["severity"] != "info"]
    passed = [f for f in findings if f["severity"] == "info"]
    html = _table(actionable, analysis, findings) if actionable else \
        '<p id="tab-findings"><em>Nothing to fix: no blocker, no warning.</em></p>'
    html += "".join(_card(f, analysis) for f in actionable)
    if passed:
        html += (f'<details class="lg-passed"><summary>Checks that passed and notes '
                 f"({len(passed)})</summary>"
                 + "".join(_card(f, analysis) for f in passed) + "</details>")
    return html + _COPY_SCRIPT
