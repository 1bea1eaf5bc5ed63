"""Build one service's report: the library computes, papermill runs the notebooks that
present it, nbconvert renders the last one.

The analysis is computed first (analysis/result.py), in this process: configuration and
evidence errors are raised before any kernel starts, located (file, line). The result and
summary.json are saved into the staging folder; the notebooks load the result from there.

Everything is built in a staging folder under REPORTS_DIR and moved into place only when the
whole run succeeded (analysis/publishing.py), so a failed run never touches the last good
report; its executed notebooks are kept in REPORTS_DIR/.failed/<service>/ for debugging.
"""

from __future__ import annotations

import os
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import nbformat
import papermill
from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.paths import jupyter_runtime_dir
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbconvert import HTMLExporter
from nbformat.v4 import new_code_cell, new_notebook
from traitlets import default

from analysis import browser, config, lifeline, publishing
from analysis import result as results
from analysis import service as services
from analysis.errors import ConfigError, EvidenceError, NotebookError, PublishError, ServiceError
from analysis.result import Result

#: Parameters the pipeline sets on every notebook (they have no other parameter).
PIPELINE_PARAMETERS = ("service", "data_dir", "result_dir")
#: The tool's own errors: raised in a notebook, their message is shown alone.
DOMAIN_ERRORS = {cls.__name__ for cls in (ConfigError, EvidenceError, ServiceError)}
#: Tags of the cells papermill adds to an executed notebook.
PAPERMILL_TAGS = {"injected-parameters", "papermill-error-cell-tag"}


class IpcKernelManager(AsyncKernelManager):
    """Kernels on local IPC sockets (files in Jupyter's runtime dir) instead of TCP ports.

    No port races when a fleet run starts many kernels at once, and no "running over TCP
    without encryption" warning on every run.
    """

    @default("transport")
    def _default_transport(self) -> str:
        return "ipc"

    def client(self, **kwargs):
        """A client for this kernel, remembered so close_clients() can stop its channels:
        nbclient leaves them open when it did not start the kernel itself."""
        made = super().client(**kwargs)
        self.__dict__.setdefault("_handed_out", []).append(made)
        return made

    def close_clients(self) -> None:
        for made in self.__dict__.pop("_handed_out", []):
            if made.channels_running:
                made.stop_channels()

    @default("ip")
    def _default_ip(self) -> str:
        # jupyter_client's default is a path relative to the working directory ("kernel-ipc"),
        # which a client started elsewhere cannot find and which litters notebooks/.
        runtime = Path(jupyter_runtime_dir())
        runtime.mkdir(parents=True, exist_ok=True)
        return str(runtime / f"latency-gap-{uuid.uuid4().hex[:12]}-ipc")


@dataclass
class ReportResult:
    service: str
    folder: Path
    seconds: float
    result: Result


def notebook_parameters(notebook: Path) -> dict[str, dict]:
    """The parameters a notebook declares in its `parameters` cell (name -> papermill info)."""
    return papermill.inspect_notebook(str(notebook))


def check_kernel(name: str = config.KERNEL_NAME) -> None:
    try:
        KernelSpecManager().get_kernel_spec(name)
    except NoSuchKernel:
        raise ConfigError(f"Jupyter kernel {name!r} is not registered: run `make setup`") from None


def _describe_cell(notebook: Path, exec_count: int | None) -> str:
    """Name the failed cell by its position among the notebook's own cells, id and first line.

    papermill adds cells to the saved notebook (injected parameters, an error banner), so the
    cell is found by its execution count and counted without those.
    """
    try:
        cells = nbformat.read(notebook, as_version=4).cells
    except (OSError, ValueError):
        return "a cell"
    own = [c for c in cells if not set(c.metadata.get("tags", [])) & PAPERMILL_TAGS]
    for number, cell in enumerate(own, start=1):
        if cell.cell_type == "code" and cell.get("execution_count") == exec_count:
            first = next((line for line in cell.source.splitlines() if line.strip()), "")
            return f"cell {number} [{cell.get('id', '?')}] `{first[:80]}`"
    return "a cell"


def render_html(executed: Path, target: Path, title: str, code: bool = False) -> Path:
    """nbconvert the executed notebook to one self-contained HTML file."""
    exporter = HTMLExporter(template_name="latency-gap",
                            extra_template_basedirs=[str(config.TEMPLATES_DIR)])
    exporter.exclude_input = not code
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    nb = nbformat.read(executed, as_version=4)
    nb.metadata["title"] = title
    body, _ = exporter.from_notebook_node(nb)
    target.write_text(body, encoding="utf-8")
    return target


def _reset_kernel(km: IpcKernelManager) -> None:
    """Forget the previous notebook's variables; the modules it imported stay loaded."""
    NotebookClient(new_notebook(cells=[new_code_cell("%reset -f")]), km=km).execute()
    km.close_clients()


def _run_notebooks(km: IpcKernelManager, notebooks: list[Path], built: Path, values: dict,
                   step: Callable[[int, str], None], service: str, reports: Path) -> None:
    """Execute the notebooks in turn in one kernel; a failure keeps them in .failed/."""
    for number, nb in enumerate(notebooks, start=2):
        step(number, f"running {nb.name}")
        executed = built / "notebooks" / nb.name
        try:
            if km.has_kernel:
                _reset_kernel(km)
            else:
                # the kernel dies with this process (a killed fleet worker included); its
                # death signal is tied to the thread starting it, which outlives it
                run_sync(km.start_kernel)(cwd=str(config.NOTEBOOKS_DIR),
                                          **lifeline.child_options())
            try:
                papermill.execute_notebook(
                    str(nb), str(executed), parameters=values,
                    kernel_name=config.KERNEL_NAME, cwd=str(config.NOTEBOOKS_DIR),
                    progress_bar=False, log_output=False, km=km)
            finally:
                km.close_clients()
        except papermill.PapermillExecutionError as exc:
            kept = publishing.keep_failed(built, reports, service)
            if exc.ename in DOMAIN_ERRORS:  # located already: file, line, what to do
                raise NotebookError(service, nb.name, None, exc.evalue, kept,
                                    publishing.last_good(reports, service)) from None
            cell = _describe_cell(kept / "notebooks" / nb.name, exc.exec_count) if kept \
                else "a cell"
            raise NotebookError(service, nb.name, cell, f"{exc.ename}: {exc.evalue}", kept,
                                publishing.last_good(reports, service)) from None
        except Exception as exc:  # the kernel died or could not start
            kept = publishing.keep_failed(built, reports, service)
            raise NotebookError(service, nb.name, "(kernel)", f"{type(exc).__name__}: {exc}",
                                kept, publishing.last_good(reports, service)) from None


def report(service: str, data_dir: str | os.PathLike | None = None,
           reports_dir: str | os.PathLike | None = None, code: bool = False,
           overrides: dict[str, object] | None = None,
           say: Callable[[str], None] | None = None, pdf: bool = False,
           result: Result | None = None) -> ReportResult:
    """Compute one service's result, run the notebooks that present it and publish
    reports/<service>/ (with report.pdf printed by the system Chromium when `pdf`).
    `overrides` ({dotted key: value}) set service.yaml keys for this run (what-if); a
    `result` already computed (a fleet worker's) is used as it is."""
    say = say or (lambda message: print(message, file=sys.stderr, flush=True))
    started = time.perf_counter()
    data, reports = config.data_dir(data_dir), config.reports_dir(reports_dir)
    config.check_apart(data, reports)
    notebooks = [config.NOTEBOOKS_DIR / name for name in config.NOTEBOOKS]
    steps = len(notebooks) + 3 + pdf

    def step(number: int, text: str) -> None:
        say(f"[{service}] {number}/{steps} {text} ({time.perf_counter() - started:.1f} s)")

    step(1, "reading and analysing the evidence")
    folder = services.service_dir(data, service)
    if reports.is_dir():  # a killed run's leftovers are put right first, even if this one fails;
        # links are checked before any cleanup: a .staging linked into the evidence is refused
        config.prepare_reports(data, reports, service)
        _recover(reports, service, say)
    result = result or results.compute(folder, overrides)
    check_kernel()
    if pdf:
        browser.chromium()  # fail before the work when there is no browser to print with

    config.prepare_reports(data, reports, service)
    current, built = "preparing the staging folder", None
    try:
        with publishing.staging(reports, service) as staging:
            built = config.service_reports(staging, service)
            (built / "notebooks").mkdir(parents=True)
            result.save(built)  # tables, summary.json, and what the notebooks load
            values = {"service": service, "data_dir": str(data), "result_dir": str(built)}
            # One kernel runs the notebooks in turn, reset between them: each notebook sees
            # only its own variables, and pandas, seaborn and analysis/ are imported once
            # (README, "Speed").
            km = IpcKernelManager(kernel_name=config.KERNEL_NAME)
            try:
                _run_notebooks(km, notebooks, built, values, step, service, reports)
                current = "rendering report.html"
                step(len(notebooks) + 2, current)
                render_html(built / "notebooks" / config.REPORT_NOTEBOOK,
                            built / "report.html", f"latency-gap: {service}", code=code)
                if pdf:
                    current = "printing report.pdf"
                    step(len(notebooks) + 3, current)
                    browser.write_pdf(built / "report.html", built / "report.pdf")
                current = "publishing"
                step(steps, current)
                results.drop_state(built)
                final = publishing.publish(built, reports, service)
            finally:
                if km.has_kernel:
                    run_sync(km.shutdown_kernel)(now=True)
    except NotebookError:
        raise
    except Exception as exc:  # noqa: BLE001 - disk full, permissions, the browser: name the
        # step, keep what was built (unless that fails too), never a traceback
        cause = exc.cause if isinstance(exc, publishing.NotPublished) else exc
        last_good = exc.last_good if isinstance(exc, publishing.NotPublished) else \
            publishing.last_good(reports, service)
        kept = publishing.keep_failed(built, reports, service) if built and built.exists() \
            else None
        raise PublishError(service, current, f"{type(cause).__name__}: {cause}", kept,
                           last_good) from None
    seconds = time.perf_counter() - started
    say(f"[{service}] report: {final / 'report.html'} (total {seconds:.1f} s)")
    return ReportResult(service, final, seconds, result)


def _recover(reports: Path, service: str, say: Callable[[str], None]) -> None:
    """Clean up after killed runs: an old report left aside, staging folders nobody owns."""
    try:
        done = publishing.recover(reports, service)
        publishing.clean_stale(reports)
    except OSError as exc:
        raise PublishError(service, "recovering the report a killed run left aside",
                           f"{type(exc).__name__}: {exc}", None,
                           publishing.last_good(reports, service)) from None
    if done:
        say(f"[{service}] {done}")
