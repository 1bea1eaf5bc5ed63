"""The `latency-gap` command: a thin layer over the library (Make targets call it)."""

from __future__ import annotations

import argparse
import ipaddress
import json
import math
import sys
from pathlib import Path

from analysis import __version__, config, durations
from analysis import service as services
from analysis.errors import LatencyGapError

# Commands import what they use when they run: --help, preflight, services and fleet's skip
# decision never import pandas, numpy, papermill or nbformat (tests/test_imports.py).

#: simulate.SCENARIOS' names, for --help without importing the simulator (numpy, pandas);
#: tests/test_cli.py checks they agree
EXAMPLES = ("listings-api", "payments-api", "search-api")


def _positive(text: str, zero: bool = False) -> float:
    """A number above zero (a lifetime of 0 or -5 minutes is a typo, not "unknown"); with
    `zero`, 0 too."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero):
        raise argparse.ArgumentTypeError(
            f"expected a number {'>= 0' if zero else 'above 0'}, got {text!r}")
    return value


def _duration(text: str, allow_zero: bool = False) -> float:
    """A duration option in seconds: 900, 900s, 15m, 1h."""
    try:
        return durations.seconds(text, allow_zero)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _lifetime(text: str) -> float:
    """--lifetime: a duration; a bare number under 60 was minutes in earlier releases and no
    credential lives under a minute (STS's least is 900 s), so it is refused, not misread."""
    seconds = _duration(text)
    if text.strip().replace(".", "", 1).isdigit() and seconds < 60:
        raise argparse.ArgumentTypeError(f"{text!r} would be {seconds:g} seconds; give a unit: "
                                         f"{text.strip()}m or {seconds * 60:g}s")
    return seconds


def cmd_report(args: argparse.Namespace) -> int:
    from analysis import pipeline  # papermill and nbconvert: not for the other commands

    pipeline.report(args.service, args.data_dir, args.reports_dir, code=args.code,
                          overrides=services.parse_overrides(args.set), pdf=args.pdf)
    return 0


#: `verdict` exit codes, as `fleet --gate`'s
EXIT_READY, EXIT_NOT_READY = 0, 2


def cmd_verdict(args: argparse.Namespace) -> int:
    from analysis import result as results
    from analysis.summary import jsonable, render

    found = results.verdict(args.service, args.data_dir, services.parse_overrides(args.set))
    summary = found.summary()
    if args.json:
        print(json.dumps(jsonable(summary), indent=2, allow_nan=False))
    else:
        print(render(summary))
    return EXIT_READY if found.ready else EXIT_NOT_READY


def _capture_settings(args: argparse.Namespace):
    """--service-port, --dns-port and --metadata as service.yaml's `capture:`; None: none
    given (a service folder's service.yaml says, or the defaults)."""
    from analysis.service import CaptureSettings

    if args.service_port is None and not args.dns_port and not args.metadata:
        return None
    return CaptureSettings(service_port=args.service_port,
                           dns_ports=tuple(args.dns_port or (53,)),
                           metadata=tuple(sorted(args.metadata or ())))


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"expected a port number from 1 to 65535, got {text!r}")
    return int(text)


def _endpoint(text: str) -> tuple[str, str]:
    """ADDRESS[:PORT]=NAME, e.g. 10.0.0.9:8181=kiam."""
    address, equals, name = text.rpartition("=")
    host = address.rpartition(":")[0] if address.count(":") == 1 else address
    try:
        ipaddress.ip_address(host)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected ADDRESS[:PORT]=NAME (10.0.0.9:8181=kiam), got {text!r}") from None
    if not equals or not name:
        raise argparse.ArgumentTypeError(f"expected ADDRESS[:PORT]=NAME, got {text!r}")
    return address, name


def cmd_inspect(args: argparse.Namespace) -> int:
    from analysis.inspection import inspect, render

    result = inspect(Path(args.path), capture=_capture_settings(args))
    print(json.dumps(result, indent=2, default=str) if args.json else render(result))
    return 0 if result["ok"] else 1


def cmd_preflight(args: argparse.Namespace) -> int:
    from analysis.preflight import preflight, render

    result = preflight(
        Path(args.path) if args.path else None, sdk=args.sdk, provider=args.provider,
        lifetime_s=args.lifetime, resolv=Path(args.resolv) if args.resolv else None,
        names=args.names.split(",") if args.names else [], rate_per_s=args.rate,
        cache_ttl_s=args.cache_ttl, lookups_per_request=args.lookups_per_request,
        sdk_version=args.sdk_version,
        settings=services.ProviderSettings(args.session_duration, args.session_refresh,
                                           args.session_ttl, args.hop_limit, args.imds_v2),
        dns_ms=args.dns_ms, dns_local_ms=args.dns_local_ms, budget_p50=args.budget_p50,
        budget_p99=args.budget_p99, aws_calls=args.aws_calls_per_request,
        overrides=services.parse_overrides(args.set))
    print(json.dumps(result.as_json(), indent=2) if args.json else render(result))
    return 1 if result.blocked else 0


def cmd_services(args: argparse.Namespace) -> int:
    for name in services.services(config.data_dir(args.data_dir)):
        print(name)
    return 0


def cmd_simulate(args: argparse.Namespace) -> int:
    from analysis import simulate

    simulate.simulate(Path(args.out), args.service, args.fleet, args.force,
                      say=lambda message: print(message, file=sys.stderr))
    return 0


def _pass_through(argv: list[str]) -> int | None:
    """`collect` and `imds-emulator` hand every argument, --help included, to their module."""
    if argv and argv[0] == "collect":
        from collector import collect
        return collect.main(argv[1:])
    if argv and argv[0] == "imds-emulator":
        from collector import emulator
        return emulator.main(argv[1:])
    return None


def cmd_fleet(args: argparse.Namespace) -> int:
    from analysis.fleet import fleet

    only = [s.strip() for s in args.services.split(",") if s.strip()] if args.services else None
    return fleet(args.data_dir, args.reports_dir, only, args.jobs, args.executor,
                     args.scheduler, args.gate, args.force, args.wait).exit_code


def _what_if_option(command: argparse.ArgumentParser) -> None:
    command.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                         help="what if: override a service.yaml key for this run only, dotted "
                         "into sections (budget.p99_ms=100, dns.cache_ttl_s=60); repeatable; "
                         "validated like service.yaml, recorded as what_if in summary.json")


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="latency-gap",
        description="Measure and explain the latency gap of a service moved from EC2 to "
                    "Kubernetes.")
    top.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = top.add_subparsers(dest="command", required=True)

    report = sub.add_parser("report", help="build reports/<service>/ for one service")
    report.add_argument("service", help="a folder name under the data directory")
    report.add_argument("--data-dir", help="evidence folder (default: $DATA_DIR or data/)")
    report.add_argument("--reports-dir", help="output folder (default: $REPORTS_DIR or reports/)")
    report.add_argument("--code", action="store_true", help="keep the code cells in report.html")
    report.add_argument("--pdf", action="store_true",
                        help="also print report.pdf with the system Chromium")
    _what_if_option(report)
    report.set_defaults(run=cmd_report)

    verdict = sub.add_parser(
        "verdict", help="the verdict and summary of one service, without building a report",
        description="Compute the summary (the content of summary.json) with no kernel and no "
                    "rendering. Exit 0: ready; 2: not ready; 1: could not run (as fleet --gate).")
    verdict.add_argument("service", help="a folder name under the data directory")
    verdict.add_argument("--data-dir", help="evidence folder (default: $DATA_DIR or data/)")
    verdict.add_argument("--json", action="store_true", help="print the summary as JSON")
    _what_if_option(verdict)
    verdict.set_defaults(run=cmd_verdict)

    inspect = sub.add_parser("inspect", help="check a service folder or one evidence file")
    inspect.add_argument("path", help="data/<service> or one file in it")
    inspect.add_argument("--json", action="store_true", help="print the result as JSON")
    inspect.add_argument("--service-port", type=_port, metavar="PORT",
                         help="captures: the port the service listens on (default: "
                         "service.yaml's capture.service_port, else the port that received "
                         "the most HTTP requests)")
    inspect.add_argument("--dns-port", type=_port, action="append", metavar="PORT",
                         help="captures: a port the resolver answers on (default 53; repeat)")
    inspect.add_argument("--metadata", type=_endpoint, action="append",
                         metavar="ADDRESS[:PORT]=NAME",
                         help="captures: one more metadata endpoint besides IMDS and Pod "
                         "Identity (a KIAM agent: 10.0.0.9:8181=kiam; repeat)")
    inspect.set_defaults(run=cmd_inspect)

    pre = sub.add_parser("preflight", help="find pathological defaults before migrating "
                         "(no latency logs needed); exit 1 on a blocker")
    pre.add_argument("path", nargs="?", help="data/<service> (service.yaml, resolv.conf, ...)")
    pre.add_argument("--sdk", help="SDK key, e.g. aws-java-sdk-v1 (docs/method.md)")
    pre.add_argument("--sdk-version", help="e.g. 1.24.0 (botocore changed in 1.25)")
    pre.add_argument("--provider", choices=services.CREDENTIAL_PROVIDERS,
                     help="how the pod gets credentials")
    pre.add_argument("--session-duration", type=_duration, metavar="DURATION",
                     help="kiam-server --session-duration (default 15m)")
    pre.add_argument("--session-refresh", type=_duration, metavar="DURATION",
                     help="kiam-server --session-refresh (default 5m)")
    pre.add_argument("--session-ttl", type=_duration, metavar="DURATION",
                     help="kube2iam --iam-role-session-ttl (default 15m)")
    pre.add_argument("--hop-limit", type=int, metavar="N",
                     help="the node's IMDS HttpPutResponseHopLimit (EC2 default 1; a pod "
                     "reading the node's IMDS needs 2)")
    pre.add_argument("--imds-v2", action=argparse.BooleanOptionalAction, default=None,
                     help="the SDK gets an IMDSv2 token (Java v1: a PUT before every GET)")
    pre.add_argument("--lifetime", type=_lifetime, metavar="DURATION",
                     help="credential lifetime, e.g. 15m or 900s "
                     "(default: the provider's)")
    pre.add_argument("--resolv", help="the pod's resolv.conf")
    pre.add_argument("--names", help="host names resolved per request, comma-separated")
    pre.add_argument("--aws-calls-per-request", type=lambda t: _positive(t, True),
                     metavar="N", help="AWS SDK calls one request makes (default 1; 0: none "
                     "on the request path; in a storm each call refreshes)")
    pre.add_argument("--lookups-per-request", type=float, default=1.0)
    pre.add_argument("--cache-ttl", type=lambda t: _duration(t, True), default=30.0,
                     help="application DNS cache in s (JVM default 30; 0: none)")
    pre.add_argument("--dns-ms", type=_positive, metavar="MS",
                     help="time of one forwarded resolver query in ms (default: the median of "
                     "the dig samples in folder mode, else assumed 2)")
    pre.add_argument("--dns-local-ms", type=_positive, metavar="MS",
                     help="time of one query CoreDNS answers itself (names under the cluster "
                     "domain; default: dig samples of such names, else assumed 1)")
    pre.add_argument("--budget-p50", type=_positive, metavar="MS",
                     help="p50 budget in ms (default: service.yaml's, else 10)")
    pre.add_argument("--budget-p99", type=_positive, metavar="MS",
                     help="p99 budget in ms (default: service.yaml's, else 50)")
    pre.add_argument("--rate", type=_positive, default=1.0,
                     help="requests per second (default 1; folder mode: the logs' rate)")
    pre.add_argument("--json", action="store_true", help="print the result as JSON")
    _what_if_option(pre)
    pre.set_defaults(run=cmd_preflight)

    listing = sub.add_parser("services", help="list the services under the data directory")
    listing.add_argument("--data-dir", help="evidence folder (default: $DATA_DIR or data/)")
    listing.set_defaults(run=cmd_services)

    sim = sub.add_parser("simulate", help="write the simulated example services")
    sim.add_argument("--out", default=str(config.PROJECT_ROOT / "data"), help="target folder")
    sim.add_argument("--service", action="append", choices=EXAMPLES,
                     help="only this example (repeatable)")
    sim.add_argument("--fleet", type=int, metavar="N",
                     help="instead: N services cycling through the examples with new seeds")
    sim.add_argument("--force", action="store_true", help="overwrite existing service folders")
    sim.set_defaults(run=cmd_simulate)

    fleet = sub.add_parser(
        "fleet", help="report every service under the data directory, in parallel",
        description="Exit 0: every service processed; 1: a service could not be processed; "
                    "2 (with --gate): a service is not ready or got worse since the last run.")
    fleet.add_argument("--services", help="only these services, comma-separated")
    fleet.add_argument("--jobs", type=int, help="parallel services (default: the core count)")
    fleet.add_argument("--executor", choices=["local", "dask"], default="local",
                       help="a local process pool, or a Dask distributed cluster")
    fleet.add_argument("--scheduler", help="Dask scheduler address, e.g. tcp://host:8786")
    fleet.add_argument("--gate", action="store_true",
                       help="exit 2 when a service is not ready or got worse")
    fleet.add_argument("--force", action="store_true",
                       help="rerun services whose evidence and tool are unchanged")
    fleet.add_argument("--wait", type=float, default=0, metavar="SECONDS",
                       help="wait this long for another run's lock instead of refusing")
    fleet.add_argument("--data-dir", help="evidence folder (default: $DATA_DIR or data/)")
    fleet.add_argument("--reports-dir", help="output folder (default: $REPORTS_DIR or reports/)")
    fleet.set_defaults(run=cmd_fleet)

    # listed for --help; main() hands their arguments to collector/ (see _pass_through)
    sub.add_parser("collect", help="collect evidence in this environment (collect --help)")
    sub.add_parser("imds-emulator", help="a metadata endpoint on loopback for tests and demos")
    return top


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    passed = _pass_through(argv)
    if passed is not None:
        return passed
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except LatencyGapError as exc:
        print(f"latency-gap: error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # a disk or permission problem no step named: still one line
        print(f"latency-gap: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("latency-gap: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
