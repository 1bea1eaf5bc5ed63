"""Benchmark: `make report SERVICE=search-api` beside the floor any notebook report pays,
and `latency-gap verdict search-api --json` (the same summary, no kernel) beside the report.

The floor is one parameterized notebook that imports pandas and seaborn and draws one plot,
executed by papermill and exported to HTML by nbconvert, in one fresh Python process
as the pipeline does it. (Run as the `papermill` and `jupyter nbconvert` commands it costs
~1.5 s more here: each command imports the Jupyter stack again.) Each is timed RUNS times
with the venv present; the medians and their ratio are printed. Targets: the report within 2x
the floor; the verdict under half the report (issue 16: "well under").
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from analysis import config

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "report"
RUNS = 3
BIN = Path(sys.executable).parent


def floor_notebook(path: Path) -> None:
    parameters = new_code_cell("rows = 1000")
    parameters.metadata["tags"] = ["parameters"]
    nb = new_notebook(cells=[
        parameters,
        new_code_cell("import numpy as np\nimport pandas as pd\nimport seaborn as sns"),
        new_code_cell("frame = pd.DataFrame({'x': np.arange(rows), "
                      "'y': np.random.default_rng(0).normal(size=rows)})\n"
                      "sns.lineplot(data=frame, x='x', y='y');"),
    ])
    nb.metadata["kernelspec"] = {"name": config.KERNEL_NAME, "display_name": "latency-gap",
                                 "language": "python"}
    nbformat.write(nb, path)


def timed(command: list[str], cwd: Path = ROOT, codes: tuple[int, ...] = (0,)) -> float:
    started = time.perf_counter()
    run = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    took = time.perf_counter() - started
    if run.returncode not in codes:
        raise subprocess.CalledProcessError(run.returncode, command)
    return took


FLOOR = f"""
import nbformat, papermill
from nbconvert import HTMLExporter
papermill.execute_notebook("floor.ipynb", "floor-executed.ipynb", parameters={{"rows": 2000}},
                           kernel_name="{config.KERNEL_NAME}", progress_bar=False)
body, _ = HTMLExporter().from_notebook_node(nbformat.read("floor-executed.ipynb", 4))
open("floor.html", "w").write(body)
"""


def floor_once() -> float:
    return timed([sys.executable, "-c", FLOOR], cwd=OUT)


def report_once() -> float:
    return timed(["make", "--no-print-directory", "report", "SERVICE=search-api",
                  f"REPORTS_DIR={OUT / 'reports'}"])


def verdict_once() -> float:
    # exit 2: search-api is not ready, as expected
    return timed([str(BIN / "latency-gap"), "verdict", "search-api", "--json"], codes=(0, 2))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    floor_notebook(OUT / "floor.ipynb")
    floor_once()  # warm the file cache for both
    report_once()
    floor = [floor_once() for _ in range(RUNS)]
    report = [report_once() for _ in range(RUNS)]
    verdict = [verdict_once() for _ in range(RUNS)]
    f, r = statistics.median(floor), statistics.median(report)
    print(f"report: make report SERVICE=search-api median {r:.2f} s "
          f"(runs {', '.join(f'{x:.2f}' for x in report)}); floor notebook median {f:.2f} s "
          f"(runs {', '.join(f'{x:.2f}' for x in floor)}); ratio {r / f:.2f} (target <= 2)")
    v = statistics.median(verdict)
    print(f"verdict: latency-gap verdict search-api --json median {v:.2f} s "
          f"(runs {', '.join(f'{x:.2f}' for x in verdict)}) vs the report's {r:.2f} s; "
          f"ratio {v / r:.2f} (target < 0.5)")


if __name__ == "__main__":
    main()
