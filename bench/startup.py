"""Benchmark: start-up of the commands that run no notebook, beside `python -c "import pandas"`,
and the import cost of the report path with and without rfc3987_syntax's grammars.

Each command is a fresh process, run in turn with its yardstick (A B A B ...) RUNS times after
one warm-up; the medians of the wall times and the median of the pair-by-pair ratios are
printed. Targets (issue 17): `latency-gap --help` and `latency-gap preflight --sdk
aws-java-sdk-v1 --provider kiam` under `import pandas` (ratio < 1). The report path's "before"
imports rfc3987_syntax first, as jsonschema did before the package refused it.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

RUNS = 10
PY = sys.executable
TOOL = str(Path(PY).parent / "latency-gap")
PANDAS = [PY, "-c", "import pandas"]
PAIRS = [
    ("latency-gap --help", [TOOL, "--help"], "import pandas", PANDAS),
    ("latency-gap preflight --sdk aws-java-sdk-v1 --provider kiam",
     [TOOL, "preflight", "--sdk", "aws-java-sdk-v1", "--provider", "kiam"],
     "import pandas", PANDAS),
    ("import analysis.pipeline (the report path)", [PY, "-c", "import analysis.pipeline"],
     "the same with rfc3987_syntax's grammars built",
     [PY, "-c", "import rfc3987_syntax, analysis.pipeline"]),
]


def wall(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - started


def main() -> None:
    for name, command, against, baseline in PAIRS:
        wall(command), wall(baseline)  # warm-up: the file cache, not the figure
        pairs = [(wall(command), wall(baseline)) for _ in range(RUNS)]
        a = statistics.median(p[0] for p in pairs)
        b = statistics.median(p[1] for p in pairs)
        ratio = statistics.median(p[0] / p[1] for p in pairs)
        print(f"start-up: {name}: {a:.3f} s vs {against}: {b:.3f} s; ratio {ratio:.2f}"
              f"{' (target < 1)' if baseline is PANDAS else ''}")


if __name__ == "__main__":
    main()
