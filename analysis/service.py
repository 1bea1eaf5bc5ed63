"""A service's evidence folder and its service.yaml."""

from __future__ import annotations

import ipaddress
import math
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

from analysis import durations
from analysis.errors import ConfigError, ServiceError
from analysis.files import check_inside, read_bounded
from analysis.models.providers import CREDENTIAL_PROVIDERS, POLICIES

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
class ProviderSettings:
    """How the credential agent in the pod is configured, in seconds (None: its default).

    kiam-server --session-duration and --session-refresh (uswitch/kiam cmd/kiam/server.go):
    credentials live `session_duration` and are renewed `session_refresh` before they expire.
    kube2iam --iam-role-session-ttl (jtblin/kube2iam server/server.go): cached that long,
    asked of STS for twice that (iam/iam.go).
    hop_limit: the instance's HttpPutResponseHopLimit (1 by default on EC2; a pod reaching the
    node's IMDS needs 2); imds_v2: does the SDK get an IMDSv2 token (analysis/models/imds.py).
    """

    session_duration: float | None = None
    session_refresh: float | None = None
    session_ttl: float | None = None
    hop_limit: float | None = None
    imds_v2: bool | None = None


#: kiam-server refuses a shorter --session-duration (uswitch/kiam cmd/kiam/server.go)
KIAM_MIN_SESSION_DURATION_S = 15 * 60


def check_provider_settings(settings: ProviderSettings) -> str | None:
    """What is impossible in the settings (the agent would refuse to start), or None."""
    duration, refresh = settings.session_duration, settings.session_refresh
    if duration is not None and duration < KIAM_MIN_SESSION_DURATION_S:
        return "session_duration under 15m: kiam-server refuses it"
    if duration is not None and refresh is not None and refresh >= duration:
        return "session_refresh must be shorter than session_duration"
    hops = settings.hop_limit
    if hops is not None and (hops != int(hops) or not 1 <= hops <= 64):
        return f"hop_limit must be a whole number from 1 to 64 (EC2's range), got {hops:g}"
    return None


@dataclass(frozen=True)
class Budget:
    p50_ms: float = 10.0
    p99_ms: float = 50.0


@dataclass(frozen=True)
class CaptureSettings:
    """What packet captures (`<env>/pcap/`) cannot say themselves: the port the service
    listens on (None: the port that received the most HTTP requests), the resolver's ports,
    and extra metadata endpoints {address or address:port: name} beside IMDS and Pod
    Identity's link-local addresses (a KIAM or kube2iam agent reached on its own address)."""

    service_port: int | None = None
    dns_ports: tuple[int, ...] = (53,)
    metadata: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ServiceConfig:
    name: str
    sdk: str | None = None
    sdk_version: str | None = None
    credential_provider: str | None = None
    dns: DnsConfig = field(default_factory=DnsConfig)
    budget: Budget = field(default_factory=Budget)
    provider_settings: ProviderSettings = field(default_factory=ProviderSettings)
    baseline: str = "ec2"
    candidate: str = "k8s"
    #: kind -> a format name, or a parser compiled from a format string (ingest/custom.py)
    formats: dict[str, object] = field(default_factory=dict)
    latency_unit: str | None = None   # for CSV / JSON latency columns whose name has no unit
    aws_calls_per_request: float | None = None   # 0: no AWS call on the request path
    capture: CaptureSettings = field(default_factory=CaptureSettings)

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


def services(data_dir: Path) -> list[str]:
    """`latency-gap services`: the service folders under data_dir, sorted."""
    if not data_dir.is_dir():
        return []
    return sorted(p.name for p in data_dir.iterdir() if p.is_dir() and _NAME.fullmatch(p.name))


def unusable_folders(data_dir: Path) -> list[str]:
    """Folders under data_dir that cannot be a service (their name is not a plain folder
    name): a fleet run reports them instead of skipping them in silence."""
    if not data_dir.is_dir():
        return []
    return sorted(p.name for p in data_dir.iterdir()
                  if p.is_dir() and not p.name.startswith(".") and not _NAME.fullmatch(p.name))


def service_dir(data_dir: Path, service: str) -> Path:
    """The evidence folder of a service; an unknown service names the ones that exist."""
    check_name(service)
    folder = data_dir / service
    if not folder.is_dir():
        known = ", ".join(services(data_dir)) or "none"
        raise ServiceError(f"no service {service!r} in {data_dir} (services found: {known})")
    if data_dir.resolve() not in folder.resolve().parents:
        raise ServiceError(f"{folder} leads to {folder.resolve()}, outside the data directory "
                           f"{data_dir.resolve()}: a service folder must be inside it")
    return folder


class _StrictLoader(yaml.SafeLoader):
    """safe_load without anchors or aliases: service.yaml needs neither, and refusing them
    closes the alias bomb ("billion laughs") before anything is built. Unsafe tags
    (!!python/...) are refused by SafeLoader itself."""

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise yaml.composer.ComposerError(
                None, None, "anchors and aliases (&name, *name) are not allowed",
                event.start_mark)
        return super().compose_node(parent, index)


#: largest service.yaml read; real ones are a few hundred bytes
MAX_YAML_BYTES = 64 * 1024


def _key_lines(node, path: Path, prefix: str = "") -> dict[str, int]:
    """{'dns.cache_ttl_s': line} for every mapping key, so errors can name the line. A key
    given twice is an error: YAML would silently keep the last (a second `sdk:` once flipped
    the verdict)."""
    lines: dict[str, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            name = f"{prefix}{key.value}"
            if name in lines:
                raise ConfigError(f"{path}, line {key.start_mark.line + 1}: {name} is given "
                                  f"twice (first on line {lines[name]}); keep one")
            lines[name] = key.start_mark.line + 1
            lines.update(_key_lines(value, path, f"{name}."))
    return lines


def _read_yaml(path: Path) -> tuple[object, dict[str, int]]:
    check_inside(path, path.parent, ConfigError)
    data = read_bounded(path, MAX_YAML_BYTES, ConfigError, "service.yaml")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    if "\x00" in text:
        raise ConfigError(f"{path}, line {text.count(chr(10), 0, text.index(chr(0))) + 1}: "
                          "a NUL byte; a service.yaml is plain text")
    loader = _StrictLoader(text)
    try:
        node = loader.get_single_node()
        lines = _key_lines(node, path)
        return (loader.construct_document(node) if node is not None else None), lines
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    finally:
        loader.dispose()


class _Where:
    """Error messages that name the file, the line of the key, and the key; a key a what-if
    override set (or sits under) is named as the `--set` it came from."""

    def __init__(self, path: Path, lines: dict[str, int], overridden: tuple[str, ...] = ()):
        self.path, self.lines, self.overridden = path, lines, overridden

    def __call__(self, key: str) -> str:
        for given in self.overridden:
            if given == key or given.startswith(f"{key}.") or key.startswith(f"{given}."):
                return f"--set {given}"
        line = self.lines.get(key) or self.lines.get(key.split(".")[0]) or 1
        return f"{self.path}, line {line}: {key}"


def parse_overrides(pairs: list[str] | tuple[str, ...]) -> dict[str, object]:
    """`--set KEY=VALUE` options as {dotted key: value}, each value read as a YAML scalar
    (`60`, `20m`, `true`, `[a, b]`); the last of a key given twice wins."""
    overrides: dict[str, object] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key or any(not part for part in key.split(".")):
            raise ConfigError(f"--set {pair!r}: expected KEY=VALUE with a service.yaml key, "
                              "dotted into sections (e.g. budget.p99_ms=100)")
        loader = _StrictLoader(text)
        try:
            value = loader.get_single_data()
        except yaml.YAMLError as exc:
            raise ConfigError(f"--set {key}: not a YAML value: {exc}") from None
        finally:
            loader.dispose()
        if isinstance(value, dict):
            raise ConfigError(f"--set {key}: expected a single value, got a mapping; set each "
                              "key of a section on its own (e.g. budget.p99_ms=100)")
        if not isinstance(value, (str, int, float, bool, list, type(None))):
            value = text.strip()  # a date or a timestamp: kept as the text given
        overrides[key] = value
    return overrides


def _merge(raw: dict, overrides: dict[str, object], where: _Where) -> dict:
    """service.yaml's document with the overrides set into it (a copy: nothing is written)."""
    merged = {k: dict(v) if isinstance(v, dict) else v for k, v in raw.items()}
    for key, value in overrides.items():
        *sections, last = key.split(".")
        target = merged
        for depth, section in enumerate(sections):
            here = ".".join(sections[:depth + 1])
            if target.get(section) is None:
                target[section] = {}
            elif not isinstance(target[section], dict):
                raise ConfigError(f"{where(key)}: {here} is not a section "
                                  f"(it is {target[section]!r}); set {here}=VALUE instead")
            target[section] = dict(target[section])
            target = target[section]
        target[last] = value
    return merged


def _section(cls, raw, where: _Where, section: str):
    if raw is None:
        return cls()
    if not isinstance(raw, dict):
        raise ConfigError(f"{where(section)}: expected a mapping")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(raw) - set(known), key=str)
    if unknown:
        raise ConfigError(f"{where(f'{section}.{unknown[0]}')}: unknown key(s) {unknown}; "
                          f"expected some of {sorted(known)}")
    values = {}
    for key, value in raw.items():
        if key in DURATION_KEYS:
            try:
                value = durations.seconds(value, allow_zero=DURATION_KEYS[key])
            except ValueError as exc:
                raise ConfigError(f"{where(f'{section}.{key}')}: {exc}") from None
        elif key in BOOLEAN_KEYS:
            if not isinstance(value, bool):
                raise ConfigError(f"{where(f'{section}.{key}')}: expected true or false, "
                                  f"got {value!r}")
        elif key == "names":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{where(f'{section}.names')}: expected a list of host names")
            value = tuple(value)
        elif isinstance(value, bool) or not isinstance(value, (int, float)) or \
                not math.isfinite(value):
            raise ConfigError(f"{where(f'{section}.{key}')}: expected a number, got {value!r}")
        elif value < 0:
            raise ConfigError(f"{where(f'{section}.{key}')}: expected a number >= 0, "
                              f"got {value!r}")
        values[key] = value
    return cls(**values)


def _port(value, where: _Where, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
        raise ConfigError(f"{where(key)}: expected a port number from 1 to 65535, got {value!r}")
    return value


def _capture(raw, where: _Where) -> CaptureSettings:
    """`capture:` {service_port: 8080, dns_ports: [53], metadata: {10.0.0.9:8181: kiam}}."""
    if raw is None:
        return CaptureSettings()
    if not isinstance(raw, dict) or set(raw) - {"service_port", "dns_ports", "metadata"}:
        raise ConfigError(f"{where('capture')}: expected a mapping of some of service_port, "
                          "dns_ports, metadata")
    port = raw.get("service_port")
    ports = raw.get("dns_ports", [53])
    if not isinstance(ports, list) or not ports:
        raise ConfigError(f"{where('capture.dns_ports')}: expected a list of port numbers")
    metadata = raw.get("metadata") or {}
    if not isinstance(metadata, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        raise ConfigError(f"{where('capture.metadata')}: expected a mapping of address (or "
                          "address:port) to a name, e.g. {10.0.0.9:8181: kiam}")
    for address in metadata:
        host = address.rpartition(":")[0] if address.count(":") == 1 else address
        try:
            ipaddress.ip_address(host)
        except ValueError:
            raise ConfigError(f"{where('capture.metadata')}: {address!r} is not an IP "
                              "address (or address:port)") from None
    return CaptureSettings(
        service_port=None if port is None else _port(port, where, "capture.service_port"),
        dns_ports=tuple(_port(p, where, "capture.dns_ports") for p in ports),
        metadata=tuple(sorted(metadata.items())))


def _check_choices(raw: dict, where: _Where) -> None:
    """An unknown SDK or provider is an error here, before any kernel starts."""
    for key, known in (("sdk", sorted(POLICIES)), ("credential_provider", CREDENTIAL_PROVIDERS)):
        if key in raw and raw[key] not in known:
            raise ConfigError(f"{where(key)}: unknown {key} {raw[key]!r}; expected one of "
                              f"{', '.join(known)}")


#: keys whose value is a duration (900, 900s, 15m, 1h); True: 0 is allowed (no cache)
DURATION_KEYS = {"cache_ttl_s": True, "session_duration": False, "session_refresh": False,
                 "session_ttl": False}

#: keys whose value is true or false
BOOLEAN_KEYS = ("imds_v2",)

#: evidence kinds a format can be forced for (analysis/ingest FILE_KINDS)
FORMAT_KINDS = ("latency", "dig", "credentials", "metadata")


def _formats(raw, where: _Where) -> dict[str, object]:
    """`formats:` checked and compiled here, before any evidence is read or kernel started:
    a format name per kind, or for latency logs `{nginx: STRING}` / `{envoy: STRING}`."""
    if not raw:
        return {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where('formats')}: expected a mapping of evidence kind to format, "
                          "e.g. {latency: ingress-nginx}")
    from analysis.ingest import custom, registry  # pandas and pyarrow: only when a yaml names one

    formats: dict[str, object] = {}
    for kind, value in raw.items():
        key = f"formats.{kind}"
        if kind not in FORMAT_KINDS:
            raise ConfigError(f"{where(key)}: unknown evidence kind; expected some of "
                              f"{list(FORMAT_KINDS)}")
        if isinstance(value, str):
            if value not in registry.REGISTRY.get(kind, {}):
                raise ConfigError(f"{where(key)}: unknown {kind} format {value!r}; expected one "
                                  f"of {', '.join(sorted(registry.REGISTRY.get(kind, {})))}")
            formats[kind] = value
            continue
        if not isinstance(value, dict) or kind != "latency":
            raise ConfigError(f"{where(key)}: expected a format name" + (
                ", or {nginx: FORMAT STRING} or {envoy: FORMAT STRING}" if kind == "latency"
                else f"; format strings are for latency logs, got {value!r}"))
        unknown = sorted(set(value) - set(custom.DIALECTS), key=str)
        if unknown or len(value) != 1:
            at = f"{key}.{unknown[0]}" if unknown else key
            raise ConfigError(f"{where(at)}: expected exactly one of {list(custom.DIALECTS)} "
                              f"with its format string, got {sorted(map(str, value))}")
        ((dialect, template),) = value.items()
        try:
            formats[kind] = custom.compile_format(dialect, template)
        except custom.FormatStringError as exc:
            raise ConfigError(f"{where(f'{key}.{dialect}')}: {exc}") from None
    return formats


_TOP_KEYS = {"name", "sdk", "sdk_version", "credential_provider", "dns", "budget",
             "provider_settings", "aws_calls_per_request", "capture",
             "environments", "formats", "latency_unit"}
LATENCY_UNITS = ("ms", "s", "us")


def load_config(folder: Path, overrides: dict[str, object] | None = None) -> ServiceConfig:
    """Read data/<service>/service.yaml (optional) into a validated ServiceConfig; every
    error names the file, the line and what was expected. `overrides` ({dotted key: value},
    parse_overrides) are set into the document for this run only, then validated with it:
    an error in one names its `--set`. The file is never written."""
    path = folder / "service.yaml"
    if not os.path.lexists(path) and not overrides:
        return ServiceConfig(name=folder.name)
    raw, lines = _read_yaml(path) if os.path.lexists(path) else ({}, {})
    raw = {} if raw is None else raw
    where = _Where(path, lines, tuple(overrides or ()))
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}, line 1: expected a mapping of keys {sorted(_TOP_KEYS)}")
    if overrides:
        raw = _merge(raw, overrides, where)
    unknown = sorted(set(raw) - _TOP_KEYS, key=str)
    if unknown:
        raise ConfigError(f"{where(str(unknown[0]))}: unknown key(s) {unknown}; expected some "
                          f"of {sorted(_TOP_KEYS)}")
    for key in ("name", "sdk", "sdk_version", "credential_provider"):
        if key in raw and not isinstance(raw[key], str):
            raise ConfigError(f"{where(key)}: expected a string, got {raw[key]!r}")
    envs = raw.get("environments") or {}
    if not isinstance(envs, dict) or set(envs) - {"baseline", "candidate"}:
        raise ConfigError(f"{where('environments')}: expected {{baseline: NAME, "
                          "candidate: NAME}")
    for role, env in envs.items():
        check_env = isinstance(env, str) and _NAME.fullmatch(env)
        if not check_env:
            raise ConfigError(f"{where(f'environments.{role}')}: expected a folder name, "
                              f"got {env!r}")
    formats = _formats(raw.get("formats"), where)
    _check_choices(raw, where)
    if envs.get("baseline", "ec2") == envs.get("candidate", "k8s"):
        raise ConfigError(f"{where('environments')}: baseline and candidate are the same "
                          f"folder {envs.get('baseline', 'ec2')!r}; a gap needs two")
    unit = raw.get("latency_unit")
    if unit is not None and unit not in LATENCY_UNITS:
        raise ConfigError(f"{where('latency_unit')}: expected one of {LATENCY_UNITS}, "
                          f"got {unit!r}")
    settings = _section(ProviderSettings, raw.get("provider_settings"), where,
                        "provider_settings")
    problem = check_provider_settings(settings)
    if problem:
        raise ConfigError(f"{where('provider_settings')}: {problem}")
    calls = raw.get("aws_calls_per_request")
    if calls is not None and (isinstance(calls, bool) or not isinstance(calls, (int, float))
                              or not math.isfinite(calls) or calls < 0):
        raise ConfigError(f"{where('aws_calls_per_request')}: expected a number >= 0 (0: no "
                          f"AWS call on the request path), got {calls!r}")
    return ServiceConfig(
        capture=_capture(raw.get("capture"), where),
        aws_calls_per_request=calls,
        latency_unit=unit,
        name=raw.get("name", folder.name),
        sdk=raw.get("sdk"),
        sdk_version=raw.get("sdk_version"),
        credential_provider=raw.get("credential_provider"),
        dns=_section(DnsConfig, raw.get("dns"), where, "dns"),
        budget=_section(Budget, raw.get("budget"), where, "budget"),
        provider_settings=settings,
        baseline=envs.get("baseline", "ec2"),
        candidate=envs.get("candidate", "k8s"),
        formats=formats,
    )
