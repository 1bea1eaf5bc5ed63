"""The one computation of a service's analysis, and the result every output is made from.

compute() reads a service folder (service.yaml with any what-if overrides, the evidence),
analyses it and keeps everything in one Result: the configuration, the evidence tables, the
attribution, the findings, the predicted credential refresh moments and the fingerprint of
every evidence file. `latency-gap verdict` prints its summary; the report pipeline saves it
(save) and writes summary.json from it before any kernel starts; the notebooks load it (load)
and only present it; a fleet run takes its skip decision, summary and history row from it.
Evidence and configuration errors are raised here, located (file, line), never in a notebook.
"""

from __future__ import annotations

import os
import pickle
import stat
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from analysis import __version__, attribution, config, fingerprint, ingest, latency_digest, summary
from analysis import findings as found
from analysis import service as services
from analysis.attribution import Analysis
from analysis.errors import ConfigError
from analysis.ingest import Evidence
from analysis.latency_digest import LatencyDigest
from analysis.models import credentials as cred_model
from analysis.service import ServiceConfig

#: what save() writes beside the Parquet tables (tables/) and summary.json
STATE_FILE = "result.pickle"
TABLES = "tables"


class StaleResult(ConfigError):
    """A saved result written by another version of the tool."""


@dataclass
class Result:
    """One service's analysis: what a report, a verdict and a fleet run are made from."""

    service: str
    config: ServiceConfig
    evidence: Evidence
    analysis: Analysis
    findings: list[dict]
    #: env -> the predicted refresh moments of each credential it served (empty without an SDK)
    moments: dict[str, pd.DataFrame]
    #: {relative path: SHA-256} of every evidence file (fingerprint.evidence_files)
    files: dict[str, str]
    #: the `--set` overrides of this run ({dotted key: value}); {} for service.yaml as it is
    what_if: dict[str, object] = field(default_factory=dict)
    #: what the report shows of the latency table (ECDF, per-minute series, summary, time
    #: ranges): the notebooks draw from it, so a loaded result need not hold every request
    latency: LatencyDigest | None = None

    @property
    def fingerprint(self) -> str:
        """One SHA-256 for the whole evidence folder (fingerprint.combine)."""
        return fingerprint.combine(self.files)

    @property
    def policy(self) -> cred_model.RefreshPolicy | None:
        """The candidate's credential refresh policy (None when service.yaml names no SDK)."""
        return cred_model.policy(self.config.sdk, self.config.credential_provider)

    @property
    def refresh_window_s(self) -> float | None:
        """How long before expiry the candidate's SDK refreshes (None without an SDK)."""
        policy = self.policy
        return policy.refresh_before_expiry_s if policy else None

    @property
    def ready(self) -> bool:
        return bool(self.analysis.verdict["ready"])

    def summary(self) -> dict:
        """summary.json's content (contract in DESIGN.md)."""
        return summary.build(self.analysis, self.findings, self.evidence, self.files,
                             self.what_if)

    def save(self, folder: Path) -> Path:
        """Write the evidence tables (tables/*.parquet), summary.json and what load() needs
        into `folder`; returns it."""
        folder.mkdir(parents=True, exist_ok=True)
        ingest.write_tables(self.evidence, folder / TABLES)
        state = {"tool_version": __version__, "service": self.service, "config": self.config,
                 "analysis": self.analysis, "findings": self.findings,
                 "moments": self.moments, "files": self.files, "what_if": self.what_if,
                 "latency": self.latency}
        target = folder / STATE_FILE
        target.unlink(missing_ok=True)
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:  # readable and writable by this user only
            handle.write(pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL))
        summary.write(self.summary(), folder / "summary.json")
        return folder


def saved(folder: Path) -> bool:
    """Whether `folder` holds a result save() wrote."""
    return (folder / STATE_FILE).is_file() and (folder / TABLES).is_dir()


def load(folder: Path) -> Result:
    """The result save() wrote in `folder`, without the latency table's rows (the notebooks
    draw from Result.latency; the rows stay in tables/latency.parquet). The state file is a
    pickle, which runs code when read: it is read only from a folder this run's user owns
    and nobody else can write to, where the report pipeline saved it (its staging folder);
    it is never published."""
    if not saved(folder):
        raise ConfigError(f"{folder}: no saved result ({STATE_FILE} and {TABLES}/); build it "
                          "with `latency-gap report` or result.compute()")
    state_file = folder / STATE_FILE
    with open(state_file, "rb") as handle:  # checked on the descriptor it is read from
        info = os.fstat(handle.fileno())
        if info.st_uid != os.getuid() or info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise ConfigError(f"{state_file}: not read: a saved result must be owned by this "
                              "user and writable by nobody else (it is loaded with pickle)")
        state = pickle.loads(handle.read())  # noqa: S301 - save()'s own file, checked above
    if state.pop("tool_version") != __version__:
        raise StaleResult(f"{folder}: saved by another version of latency-gap; build it again")
    return Result(evidence=ingest.read_tables(folder / TABLES, rows=False), **state)


def drop_state(folder: Path) -> None:
    """Remove what only the notebooks of this run load (the pickle) before publishing: the
    published folder keeps summary.json and the Parquet tables."""
    (folder / STATE_FILE).unlink(missing_ok=True)


def compute(folder: Path, overrides: dict[str, object] | None = None,
            files: dict[str, str] | None = None) -> Result:
    """Read, check and analyse one service folder; `overrides` (service.parse_overrides) set
    service.yaml keys for this run only; `files`: the evidence files' hashes when the caller
    has just taken them (fingerprint.evidence_files; a fleet run hashes once). Raises the
    tool's located errors (ConfigError, EvidenceError) for bad configuration or evidence."""
    settings = services.load_config(folder, overrides)
    evidence = ingest.load_evidence(folder, settings)
    analysis = attribution.analyse(evidence, settings)
    policy = cred_model.policy(settings.sdk, settings.credential_provider)
    moments = {env: cred_model.refresh_moments(evidence.credentials, env, policy)
               for env in (analysis.baseline, analysis.candidate)} if policy else {}
    presented = latency_digest.digest(
        evidence.latency, analysis.baseline, analysis.candidate, evidence.time_ranges(),
        evidence.overlap(analysis.baseline, analysis.candidate))
    return Result(service=folder.name, config=settings, evidence=evidence, analysis=analysis,
                  findings=found.findings(analysis, settings, evidence), moments=moments,
                  files=fingerprint.evidence_files(folder) if files is None else dict(files),
                  what_if=dict(overrides or {}), latency=presented)


def verdict(service: str, data_dir: str | os.PathLike | None = None,
            overrides: dict[str, object] | None = None) -> Result:
    """`latency-gap verdict`: compute() for a service by name under the data directory; its
    summary() is what the command prints."""
    return compute(services.service_dir(config.data_dir(data_dir), service), overrides)


def for_notebook(service: str, data_dir: str | os.PathLike | None = None,
                 result_dir: str | os.PathLike | None = None) -> Result:
    """What the notebooks start with: the result the report pipeline saved for them in
    `result_dir` (its staging folder), or, opened in Jupyter (result_dir None), computed from
    the evidence as it is now: never a saved file that may be stale or planted."""
    if result_dir is not None:
        return load(Path(result_dir))
    return verdict(service, data_dir)
