"""Benchmark: a custom nginx format (ingress-nginx's default `log-format-upstream` given as a
string) against the built-in ingress-nginx parser, on the same generated 1M-line log.

Each run parses in a fresh process (imports not counted); runs alternate between them so the
shared machine's noise hits all alike; the median of each is printed in lines/s. "regex" is
the same compiled format read line by line with its RE2 expression, the path a format string
takes when its fields are not space-separated and quoted whole.
Target: the compiled format within ~20% of the built-in.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

from ingest import OUT, generate  # bench/nginx_log.py: the realistic log `make bench` reads

MEASURE = """
import json, sys, time
from pathlib import Path
from analysis.ingest.custom import compile_format
from analysis.ingest.ingress_nginx import IngressNginx
path = Path(sys.argv[1])
from analysis.ingest.regex_format import RegexLogFormat
fmt = IngressNginx() if sys.argv[2] == "built-in" else compile_format(
    "nginx", IngressNginx.log_format)
# "regex": what a format string that is not space-separated fields gets (its RE2 expression)
parse = RegexLogFormat.parse if sys.argv[2] == "regex" else type(fmt).parse
started = time.perf_counter()
parsed = parse(fmt, path)
seconds = time.perf_counter() - started
print(json.dumps({"lines": parsed.lines, "rows": len(parsed.table),
                  "rejected": len(parsed.rejected), "seconds": seconds}))
"""


def measure(path, which: str) -> dict:
    run = subprocess.run([sys.executable, "-c", MEASURE, str(path), which], capture_output=True,
                         text=True, check=True)
    return json.loads(run.stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    path = OUT / f"ingress-nginx-realistic-{args.lines}.log"
    if not path.exists():
        generate(path, args.lines)
    runs: dict[str, list[dict]] = {"built-in": [], "custom": [], "regex": []}
    for _ in range(args.runs):
        for which, results in runs.items():
            results.append(measure(path, which))
    rates = {}
    for which, results in runs.items():
        seconds = statistics.median(r["seconds"] for r in results)
        rates[which] = results[0]["lines"] / seconds
        each = ", ".join(f"{r['seconds']:.2f}" for r in results)
        print(f"{which:8}: {results[0]['rows']:,} rows of {results[0]['lines']:,} lines, "
              f"rejected {results[0]['rejected']}; {rates[which] / 1e6:.2f}M lines/s "
              f"(median of {each} s)")
    ratio = rates["custom"] / rates["built-in"]
    print(f"custom / built-in: {ratio:.2f} (target >= 0.8); the same format string on the "
          f"regex path: {rates['regex'] / rates['built-in']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
