"""Read a service's evidence folder into tidy tables, counting every line.

    data/<service>/<env>/latency/*      access logs        -> Evidence.latency
    data/<service>/<env>/dig/*          dig output         -> Evidence.dig
    data/<service>/<env>/credentials/*  IMDS documents     -> Evidence.credentials
    data/<service>/<env>/metadata/*     timed metadata calls (optional) -> Evidence.metadata
    data/<service>/<env>/resolv.conf    resolver config    -> Evidence.resolv
    data/<service>/<env>/pcap/*         packet captures (optional) -> Evidence.capture_*
"""

from __future__ import annotations

import os
import stat
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from analysis.capture import evidence as captures
from analysis.errors import EvidenceError, LatencyGapError
from analysis.files import check_inside, not_regular, resolved
from analysis.ingest import (  # noqa: F401 (the format modules register their formats)
    athena,
    aws_alb,
    credentials,
    dig,
    envoy,
    ingress_nginx,
    latency,
    legacy,
    metadata,
    tabular,
)
from analysis.ingest.registry import Format, parse_file
from analysis.ingest.resolv import ResolvConf, env_resolv_conf
from analysis.ingest.rows import (
    REJECTION_COLUMNS,
    SKIPPED_COLUMNS,
    check_rejected_share,
    no_skipped,
)

if TYPE_CHECKING:  # service.py compiles custom formats with ingest: no import back at runtime
    from analysis.service import ServiceConfig

#: Kinds read from a folder of files, with the module that defines their columns.
FILE_KINDS = {"latency": latency, "dig": dig, "credentials": credentials, "metadata": metadata}
KINDS = (*FILE_KINDS, "resolv.conf")
#: Without these the gap cannot be measured, so their absence is an error, not a finding.
REQUIRED_KINDS = ("latency",)
#: Extra evidence: without it a number is estimated instead of measured, nothing is missing.
OPTIONAL_KINDS = ("metadata",)
TABLES = ("latency", "dig", "credentials", "metadata", "resolv", "inputs", "rejected",
          "skipped")


@dataclass
class Evidence:
    """Everything read for one service, as tidy DataFrames with an `env` column."""

    latency: pd.DataFrame
    dig: pd.DataFrame
    credentials: pd.DataFrame
    metadata: pd.DataFrame    # timed metadata calls, often empty
    resolv: pd.DataFrame      # one row per environment that has a resolv.conf
    inputs: pd.DataFrame      # env, kind, files, lines, rejected, skipped, formats
    rejected: pd.DataFrame    # env, kind, source_file, line, reason, text
    # env, kind, source_file, line, what: lines that are neither records nor errors
    skipped: pd.DataFrame = field(default_factory=lambda: _skipped_of([]))
    # measured from packet captures (pcap/, analysis/capture): empty without them
    capture_requests: pd.DataFrame = field(
        default_factory=lambda: captures.empty_tables()["capture_requests"])
    capture_dns: pd.DataFrame = field(
        default_factory=lambda: captures.empty_tables()["capture_dns"])
    capture_metadata: pd.DataFrame = field(
        default_factory=lambda: captures.empty_tables()["capture_metadata"])

    def skipped_lines(self) -> pd.DataFrame:
        """How many lines of each kind were skipped per environment and evidence kind
        (`env`, `kind`, `what`, `lines`): "12 nginx error-log lines, not requests"."""
        return self.skipped.groupby(["env", "kind", "what"]).size().rename("lines") \
            .reset_index()

    def missing(self) -> list[tuple[str, str]]:
        """(env, kind) pairs with no evidence at all."""
        empty = self.inputs[(self.inputs["files"] == 0) & ~self.inputs["kind"].isin(OPTIONAL_KINDS)]
        return list(zip(empty["env"], empty["kind"], strict=True))

    def time_ranges(self) -> pd.DataFrame:
        """First and last timestamp per environment and kind (grep'd dig lines have none)."""
        stamped = {"latency": (self.latency, "time"), "dig": (self.dig, "time"),
                   "credentials": (self.credentials, "last_updated")}
        frames = [table.groupby("env")[column].agg(["min", "max", "count", "size"])
                  .reset_index().assign(kind=kind)
                  for kind, (table, column) in stamped.items() if not table.empty]
        return pd.concat(frames, ignore_index=True)[
            ["env", "kind", "min", "max", "size", "count"]].rename(columns={
                "min": "first", "max": "last", "size": "rows", "count": "with a timestamp"})

    def overlap(self, baseline: str, candidate: str) -> pd.Timedelta | None:
        """How long both environments' latency logs cover the same time (negative: a gap
        between them); None when one of them has no timestamped request."""
        times = self.latency.dropna(subset=["time"]).groupby("env")["time"].agg(["min", "max"])
        if not {baseline, candidate} <= set(times.index):
            return None
        b, c = times.loc[baseline], times.loc[candidate]
        return min(b["max"], c["max"]) - max(b["min"], c["min"])


def kind_files(folder: Path) -> list[Path]:
    """The files of one kind of evidence (`<env>/<kind>/`), to be parsed. Anything else there
    is an error, not skipped: a directory where a file belongs, or a link that leads outside
    the service's folder. (fingerprint.evidence_files hashes every file of a service.)"""
    if os.path.lexists(folder) and not folder.is_dir():
        resolved(folder)  # a symbolic link loop is named as one
        found = "a file" if folder.exists() else "a link that leads nowhere"
        raise EvidenceError(folder, f"expected a folder of {folder.name} files, found {found}")
    if not folder.is_dir():
        return []
    files = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith("."):
            continue
        if path.is_dir():
            raise EvidenceError(path, f"is a directory; {folder.name}/ holds evidence files "
                                "(move its contents up, or remove it)")
        check_inside(path, folder.parent.parent)
        mode = path.stat().st_mode
        if not stat.S_ISREG(mode):
            raise EvidenceError(path, not_regular(mode))
        files.append(path)
    return files


def _read_kind(env: str, kind: str, folder: Path, forced: str | Format | None, options: dict):
    module = FILE_KINDS[kind]
    tables, rejected, skipped, formats, fields, lines = [], [], [], set(), set(), 0
    files = kind_files(folder)
    for path in files:
        try:
            fmt, parsed = parse_file(kind, path, forced, options)
        except LatencyGapError:
            raise
        except MemoryError:
            raise EvidenceError(path, f"ran out of memory reading {kind} evidence of "
                                f"{path.stat().st_size >> 20} MB; split the file") from None
        except Exception as exc:  # noqa: BLE001 - Arrow, pandas: name the file, not a traceback
            raise EvidenceError(path, f"cannot be read as {kind} evidence: "
                                f"{type(exc).__name__}: {exc}") from None
        check_rejected_share(path, fmt.name, parsed)
        tables.append(parsed.table)
        rejected.append(parsed.rejected.assign(env=env, kind=kind))
        skipped.append(parsed.skipped.assign(env=env, kind=kind))
        formats.add(fmt.name)
        fields.add(parsed.latency_field)
        lines += parsed.lines
    table = concat_labelled(tables) if tables else pd.DataFrame(columns=module.COLUMNS)
    table.insert(0, "env", pd.Categorical.from_codes(np.zeros(len(table), np.int8), [env])
                 if kind == "latency" else env)
    count = {"env": env, "kind": kind, "files": len(files), "lines": lines,
             "rejected": sum(len(r) for r in rejected),
             "skipped": sum(len(r) for r in skipped), "formats": ",".join(sorted(formats)),
             "latency_from": ", ".join(sorted(fields - {""}))}
    return table, rejected, skipped, count


def _resolv_row(env: str, conf: ResolvConf) -> dict:
    row = asdict(conf)
    row.update(env=env, nameservers=" ".join(conf.nameservers), search=" ".join(conf.search),
               flags=" ".join(sorted(conf.flags)), ignored="\n".join(conf.ignored),
               unknown_options=" ".join(conf.unknown_options))
    return row


def check_layout(folder: Path, config: ServiceConfig) -> None:
    """Fail early, before any notebook runs, when an environment or required kind is missing."""
    for env in config.environments:
        env_dir = folder / env
        if not env_dir.is_dir():
            raise EvidenceError(env_dir, f"environment folder {env!r} is missing; expected "
                                f"{folder}/{{{','.join(config.environments)}}}/latency/...")
        for kind in REQUIRED_KINDS:
            if not kind_files(env_dir / kind):
                raise EvidenceError(env_dir / kind, f"no {kind} evidence for {env!r}; expected "
                                    f"files in {env_dir / kind}/")


def load_evidence(folder: Path, config: ServiceConfig) -> Evidence:
    """Read every environment's evidence under a service folder."""
    check_layout(folder, config)
    collected: dict[str, list] = {kind: [] for kind in FILE_KINDS}
    captured: dict[str, list] = {name: [] for name in captures.TABLES}
    rejected, skipped, counts, resolv_rows = [], [], [], []
    for env in config.environments:
        env_dir = folder / env
        for kind in FILE_KINDS:
            table, kind_rejected, kind_skipped, count = _read_kind(
                env, kind, env_dir / kind, config.formats.get(kind),
                {"latency_unit": config.latency_unit})
            if kind in REQUIRED_KINDS and table.empty:
                raise EvidenceError(env_dir / kind, f"no {kind} rows for {env!r}: every file "
                                    "was empty")
            collected[kind].append(table)
            rejected += kind_rejected
            skipped += kind_skipped
            counts.append(count)
        capture_files = kind_files(env_dir / captures.KIND)
        if capture_files:  # optional, and no row at all without it: as before captures
            tables, count = captures.read_captures(capture_files, env, config.capture)
            for name, table in tables.items():
                captured[name].append(table)
            counts.append(count)
        conf = env_resolv_conf(env_dir, folder)
        if conf:
            resolv_rows.append(_resolv_row(env, conf))
        counts.append({"env": env, "kind": "resolv.conf", "files": int(conf is not None),
                       "lines": conf.lines if conf else 0, "rejected": 0, "skipped": 0,
                       "latency_from": "",
                       "formats": "resolv.conf" if conf else ""})
    return Evidence(
        latency=concat_labelled(collected["latency"]),
        dig=pd.concat(collected["dig"], ignore_index=True),
        credentials=pd.concat(collected["credentials"], ignore_index=True),
        metadata=pd.concat(collected["metadata"], ignore_index=True),
        resolv=pd.DataFrame(resolv_rows),
        inputs=pd.DataFrame(counts),
        rejected=pd.concat(rejected, ignore_index=True)[["env", "kind", *REJECTION_COLUMNS]]
        if rejected else pd.DataFrame(columns=["env", "kind", *REJECTION_COLUMNS]),
        skipped=_skipped_of(skipped),
        **{name: pd.concat(parts, ignore_index=True) for name, parts in captured.items()
           if parts},
    )


def concat_labelled(frames: list[pd.DataFrame],
                    labels: tuple[str, ...] = ("env", "source_file")) -> pd.DataFrame:
    """Concatenate tables whose label columns are categorical, keeping them categorical (one
    code per row, not one string: a busy service's latency table has millions of rows, and
    selecting rows of an Arrow string column costs more than the analysis of them)."""
    kinds = {}
    for label in labels:
        columns = [frame[label] for frame in frames if label in frame]
        if len(columns) == len(frames) and all(
                isinstance(c.dtype, pd.CategoricalDtype) for c in columns):
            kinds[label] = pd.CategoricalDtype(sorted(set().union(
                *(c.cat.categories for c in columns))))
    return pd.concat([frame.astype(kinds) for frame in frames], ignore_index=True)


def _skipped_of(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Skipped-line tables of many files as one, typed even when there are none."""
    return pd.concat([no_skipped().assign(env="", kind=""), *parts],
                     ignore_index=True)[["env", "kind", *SKIPPED_COLUMNS]]


def write_tables(evidence: Evidence, folder: Path) -> None:
    """Save the tidy tables as Parquet (a saved result's, analysis/result.py)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        table = getattr(evidence, name)
        table.to_parquet(folder / f"{name}.parquet", index=False)
    for name in captures.TABLES:  # only when there were captures: a result without is as before
        if not getattr(evidence, name).empty:
            getattr(evidence, name).to_parquet(folder / f"{name}.parquet", index=False)


def read_tables(folder: Path, rows: bool = True) -> Evidence:
    """Load the tables write_tables saved; without `rows`, the latency table's columns but
    none of its rows (a busy service's millions of requests: Result.latency digests them)."""
    missing = [n for n in TABLES if not (folder / f"{n}.parquet").is_file()]
    if missing:
        raise EvidenceError(folder, f"tables {missing} are missing: the saved result is "
                            "incomplete; build it again (latency-gap report)")
    tables = {n: pd.read_parquet(folder / f"{n}.parquet") for n in TABLES
              if rows or n != "latency"}
    if not rows:
        tables["latency"] = pq.read_schema(folder / "latency.parquet").empty_table().to_pandas()
    tables.update({n: pd.read_parquet(folder / f"{n}.parquet") for n in captures.TABLES
                   if (folder / f"{n}.parquet").is_file()})
    return Evidence(**tables)
