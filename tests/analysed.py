"""A bundled example analysed by the library, once per test session (read-only)."""

from dataclasses import dataclass
from functools import cache

from analysis import attribution
from analysis.attribution import Analysis
from analysis.findings import findings
from analysis.ingest import Evidence, load_evidence
from analysis.service import ServiceConfig, load_config
from tests.conftest import EXAMPLES


@dataclass(frozen=True)
class Analysed:
    config: ServiceConfig
    evidence: Evidence
    analysis: Analysis
    findings: list[dict]


@cache
def analysed(service: str) -> Analysed:
    folder = EXAMPLES / service
    config = load_config(folder)
    evidence = load_evidence(folder, config)
    analysis = attribution.analyse(evidence, config)
    return Analysed(config, evidence, analysis, findings(analysis, config, evidence))
