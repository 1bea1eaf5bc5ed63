"""Run each SDK's driver against the metadata emulator and print how it agrees with the table.

`make conformance` installs the clients first (conformance/install.sh); a client that could
not be installed or built is skipped with the reason the installer wrote. Loopback only.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from analysis.conformance import checks
from collector.emulator import ImdsEmulator

ROOT = Path(__file__).resolve().parents[2] / "conformance"
BUILD = ROOT / ".build"
DRIVER_TIMEOUT_S = 60
#: Variables that would let another provider answer before the instance metadata one.
AWS_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
                 "AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_WEB_IDENTITY_TOKEN_FILE",
                 "AWS_ROLE_ARN", "AWS_EC2_METADATA_DISABLED", "AWS_EC2_METADATA_V1_DISABLED")


@dataclass(frozen=True)
class Client:
    """A real SDK client: its table row, the driver command (endpoint and waits follow) and
    whether a wait moves the SDK's clock (True) or is slept."""

    sdk: str
    command: tuple[str, ...]
    virtual_clock: bool
    needs: tuple[Path, ...]  # files the installer makes; missing: the client is skipped

    def unavailable(self) -> str:
        """Why this client cannot run here, or ''."""
        reason = BUILD / f"{self.sdk}.skipped"
        if reason.exists():
            return reason.read_text().strip()
        missing = [p for p in self.needs if not p.exists()]
        if missing or not shutil.which(self.command[0]):
            return f"not installed ({', '.join(map(str, missing)) or self.command[0]}): " \
                   "run make conformance"
        return ""


def clients() -> list[Client]:
    node = ROOT / "node" / "node_modules"
    return [
        Client("botocore", (sys.executable, str(ROOT / "drivers" / "botocore_driver.py")),
               True, ()),
        Client("aws-sdk-js", ("node", str(ROOT / "node" / "driver.js"), "js"), True,
               (node / "aws-sdk",)),
        Client("aws-sdk-js-v3", ("node", str(ROOT / "node" / "driver.js"), "js-v3"), False,
               (node / "@aws-sdk" / "credential-provider-node",)),
        Client("aws-sdk-go", (str(BUILD / "v1"),), False, (BUILD / "v1",)),
        Client("aws-sdk-go-v2", (str(BUILD / "v2"),), False, (BUILD / "v2",)),
    ]


def drive(client: Client, case: checks.Case, home: Path) -> tuple[dict | None, str]:
    """Serve the case's credentials and run the driver: (its report, or None and why)."""
    env = {k: v for k, v in os.environ.items() if k not in AWS_VARIABLES}
    with ImdsEmulator(lifetime_s=case.lifetime_s) as emulator:
        env.update(AWS_EC2_METADATA_SERVICE_ENDPOINT=emulator.endpoint, HOME=str(home),
                   AWS_CONFIG_FILE=str(home / "none"), AWS_REGION="us-east-1",
                   AWS_SHARED_CREDENTIALS_FILE=str(home / "none"),
                   AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE="1")
        try:
            run = subprocess.run([*client.command, emulator.endpoint,
                                  *(f"{w:g}" for w in case.waits_s)],
                                 env=env, capture_output=True, text=True,
                                 timeout=DRIVER_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return None, f"the driver ran over {DRIVER_TIMEOUT_S} s"
    if run.returncode != 0:
        last = (run.stderr.strip().splitlines() or ["no message"])[-1]
        return None, f"driver exit {run.returncode}: {last}"
    return json.loads(run.stdout), ""


def check_client(client: Client, home: Path) -> checks.SdkResult:
    why = client.unavailable()
    if why:
        return checks.SdkResult(client.sdk, skipped=why)
    # the first case (just above the threshold) is the same whatever the version; the others
    # may depend on it (a deferral), so they are planned with the version the driver reports
    first, *_ = checks.plan(client.sdk, None, client.virtual_clock)
    report, failure = drive(client, first, home)
    version = (report or {}).get("version")
    found = checks.compare(first, version, report, failure)
    for case in checks.plan(client.sdk, version, client.virtual_clock)[1:]:
        report, failure = drive(client, case, home)
        found += checks.compare(case, version, report, failure)
    return checks.SdkResult(client.sdk, version, tuple(found))


def main() -> int:
    mine = clients()
    with tempfile.TemporaryDirectory(prefix="conformance-") as home:
        results = []
        for client in mine:
            results.append(check_client(client, Path(home)))
            print(results[-1].line(), flush=True)
    ran = {c.sdk for c in mine}
    lines, agree = checks.summary(results, [s for s in checks.table_sdks() if s not in ran])
    print("\n".join(lines[len(results):]))
    return 0 if agree else 1
