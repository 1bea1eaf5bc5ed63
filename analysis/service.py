"""A service's evidence folder and its service.yaml."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

from analysis.errors import ConfigError, ServiceError

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")

#: JVM default when no security manager is installed: InetAddressCachePolicy.DEFAULT_POSITIVE = 30
#: (openjdk/jdk src/java.base/share/classes/sun/net/InetAddressCachePolicy.java).
DEFAULT_CACHE_TTL_S = 30.0


@dataclass(frozen=True)
class DnsConfig:
    names: tuple[str, ...] = ()
    lookups_per_request: float = 1.0
    cache_ttl_s: float = DEFAULT_CACHE_TTL_S


@dataclass(frozen=True)
class Budget:
    p50_ms: float = 10.0
    p99_ms: float = 50.0


@dataclass(frozen=True)
class ServiceConfig:
    name: str
    sdk: str | None = None
    sdk_version: str | None = None
    credential_provider: str | None = None
    dns: DnsConfig = field(default_factory=DnsConfig)
    budget: Budget = field(default_factory=Budget)
    baseline: str = "ec2"
    candidate: str = "k8s"
    formats: dict[str, str] = field(default_factory=dict)
    latency_unit: str | None = None   # for CSV / JSON latency columns whose name has no unit

    @property
    def environments(self) -> tuple[str, str]:
        return (self.baseline, self.candidate)


def check_name(service: str) -> str:
    """Refuse anything but a plain folder name (no '..', no '/', not empty)."""
    if not isinstance(service, str) or not _NAME.fullmatch(service) or ".." in service:
        raise ServiceError(
            f"SERVICE must be a plain folder name under the data directory "
            f"(letters, digits, '.', '_', '-'), got {service!r}"
        )
    return service


def list_services(data_dir: Path) -> list[str]:
    """Service folders under data_dir, sorted."""
    if not data_dir.is_dir():
        return []
    return sorted(p.name for p in data_dir.iterdir() if p.is_dir() and _NAME.fullmatch(p.name))


def service_dir(data_dir: Path, service: str) -> Path:
    """The evidence folder of a service; an unknown service names the ones that exist."""
    check_name(service)
    folder = data_dir / service
    if not folder.is_dir():
        known = ", ".join(list_services(data_dir)) or "none"
        raise ServiceError(f"no service {service!r} in {data_dir} (services found: {known})")
    return folder


def _section(cls, raw, where: str):
    if raw is None:
        return cls()
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; expected some of {sorted(known)}")
    values = {}
    for key, value in raw.items():
        if key == "names":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where}.names: expected a list of host names")
            value = tuple(value)
        elif isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{where}.{key}: expected a number, got {value!r}")
        elif value < 0:
            raise ConfigError(f"{where}.{key}: expected a number >= 0, got {value!r}")
        values[key] = value
    return cls(**values)


_TOP_KEYS = {"name", "sdk", "sdk_version", "credential_provider", "dns", "budget",
             "environments", "formats", "latency_unit"}
LATENCY_UNITS = ("ms", "s", "us")


def load_config(folder: Path) -> ServiceConfig:
    """Read data/<service>/service.yaml (optional) into a validated ServiceConfig."""
    path = folder / "service.yaml"
    if not path.exists():
        return ServiceConfig(name=folder.name)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping of keys {sorted(_TOP_KEYS)}")
    unknown = sorted(set(raw) - _TOP_KEYS)
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {unknown}; expected some of {sorted(_TOP_KEYS)}")
    for key in ("name", "sdk", "sdk_version", "credential_provider"):
        if key in raw and not isinstance(raw[key], str):
            raise ConfigError(f"{path}: {key}: expected a string, got {raw[key]!r}")
    envs = raw.get("environments") or {}
    if not isinstance(envs, dict) or set(envs) - {"baseline", "candidate"}:
        raise ConfigError(f"{path}: environments: expected {{baseline: NAME, candidate: NAME}}")
    for role, env in envs.items():
        check_env = isinstance(env, str) and _NAME.fullmatch(env)
        if not check_env:
            raise ConfigError(f"{path}: environments.{role}: expected a folder name, got {env!r}")
    formats = raw.get("formats") or {}
    if not isinstance(formats, dict) or not all(isinstance(v, str) for v in formats.values()):
        raise ConfigError(f"{path}: formats: expected a mapping of evidence kind to format name")
    unit = raw.get("latency_unit")
    if unit is not None and unit not in LATENCY_UNITS:
        raise ConfigError(f"{path}: latency_unit: expected one of {LATENCY_UNITS}, got {unit!r}")
    return ServiceConfig(
        latency_unit=unit,
        name=raw.get("name", folder.name),
        sdk=raw.get("sdk"),
        sdk_version=raw.get("sdk_version"),
        credential_provider=raw.get("credential_provider"),
        dns=_section(DnsConfig, raw.get("dns"), f"{path}: dns"),
        budget=_section(Budget, raw.get("budget"), f"{path}: budget"),
        baseline=envs.get("baseline", "ec2"),
        candidate=envs.get("candidate", "k8s"),
        formats=dict(formats),
    )
