"""A small emulator of the EC2 instance metadata credential API, for tests and demos.

moto's server answers only a few metadata paths, with no IMDSv2 token and a fixed one-day
expiry; this one serves what the collector and the AWS SDKs ask for:

    PUT /latest/api/token                          IMDSv2 token; 400 without the TTL header
    GET /latest/meta-data/iam/security-credentials/        the role name
    GET /latest/meta-data/iam/security-credentials/<role>  the credential document
    GET /_emulator/stats                           calls served so far, as JSON (not counted)

with a configurable credential lifetime, a response delay, IMDSv2 required or optional, and a
token PUT that is never answered (what a container sees when the instance's hop limit is 1).
With `example_values` its keys and tokens say EXAMPLE (as AWS's documentation's do), so a
capture of it can be committed (the bundled example orders-api, scripts/capture-example).
Credentials are fresh on every fetch (as EKS Pod Identity or IRSA hand them out), or cached
and renewed `renew_before_s` before expiry (as KIAM does). Standard library only, loopback
by default. Run it: `latency-gap imds-emulator --port 18080 --lifetime 15m --delay-ms 40`.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

TOKEN_PATH = "/latest/api/token"
CREDENTIALS_PATH = "/latest/meta-data/iam/security-credentials/"
TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "X-aws-ec2-metadata-token"


def _now() -> datetime:
    return datetime.now(UTC)


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


class ImdsEmulator:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, lifetime_s: float = 900,
                 renew_before_s: float | None = None, delay_ms: float = 0,
                 role: str = "latency-gap-role", require_token: bool = False,
                 drop_token_put: bool = False, example_values: bool = False):
        self.lifetime_s, self.renew_before_s = lifetime_s, renew_before_s
        self.delay_ms, self.role = delay_ms, role
        self.require_token, self.drop_token_put = require_token, drop_token_put
        self.example_values, self._serial = example_values, 0
        self._token_serial = itertools.count(1)  # next() is atomic: handler threads share it
        self.counts = {"token": 0, "role": 0, "credentials": 0, "other": 0}
        self.issued: list[dict] = []       # every credential handed out, secrets included
        self._tokens: dict[str, datetime] = {}
        self._current: dict | None = None
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ImdsEmulator:
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ImdsEmulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def credential(self) -> dict:
        """The document to serve now: fresh, or the cached one until it is due for renewal."""
        with self._lock:
            now = _now()
            due = self._current is None or self.renew_before_s is None or \
                self._current["expires"] - now <= timedelta(seconds=self.renew_before_s)
            if due:
                key_id, secret, token = self._secrets()
                self._current = {
                    "Code": "Success", "LastUpdated": _stamp(now), "Type": "AWS-HMAC",
                    "AccessKeyId": key_id, "SecretAccessKey": secret, "Token": token,
                    "Expiration": _stamp(now + timedelta(seconds=self.lifetime_s)),
                    "expires": now + timedelta(seconds=self.lifetime_s),
                }
                self.issued.append(self._current)
            return {k: v for k, v in self._current.items() if k != "expires"}

    def _secrets(self) -> tuple[str, str, str]:
        """AccessKeyId, SecretAccessKey and session Token: random, or with `example_values`
        numbered values that say what they are (none of them shaped like a real key id)."""
        if not self.example_values:
            return ("ASIA" + secrets.token_hex(8).upper(), secrets.token_urlsafe(30),
                    secrets.token_urlsafe(120))
        self._serial += 1
        return (f"ASIAEXAMPLE{self._serial:05d}", f"EXAMPLE-secret-access-key-{self._serial}",
                f"EXAMPLE-session-token-{self._serial}-" + "x" * 80)

    def session_token(self) -> str:
        """An IMDSv2 session token."""
        if not self.example_values:
            return secrets.token_urlsafe(32)
        return f"EXAMPLE-imdsv2-token-{next(self._token_serial)}"

    def _valid_token(self, token: str) -> bool:
        expires = self._tokens.get(token)
        return expires is not None and expires > _now()

    def _handler(self):
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet: tests and demos read counts
                pass

            def _send(self, status: int, body: str = "", kind: str = "text/plain",
                      headers: dict[str, str] | None = None) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", kind)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _delay(self) -> None:
                if emulator.delay_ms:
                    time.sleep(emulator.delay_ms / 1000)

            def do_PUT(self) -> None:  # noqa: N802 (http.server's naming)
                if self.path != TOKEN_PATH:
                    emulator.counts["other"] += 1
                    return self._send(404, "Not Found")
                emulator.counts["token"] += 1
                if emulator.drop_token_put:
                    time.sleep(30)  # never answered: the client's own timeout ends the call
                    self.close_connection = True
                    return None
                self._delay()
                try:
                    ttl = int(self.headers.get(TTL_HEADER, ""))
                except ValueError:
                    return self._send(400, "Bad Request: missing or invalid TTL header")
                if not 1 <= ttl <= 21600:
                    return self._send(400, "Bad Request: TTL out of range")
                token = emulator.session_token()
                emulator._tokens[token] = _now() + timedelta(seconds=ttl)
                # the real service echoes the TTL; aws-sdk-go's token provider needs it to
                # cache the token (without it, it asks again on every call)
                return self._send(200, token, headers={TTL_HEADER: str(ttl)})

            def do_GET(self) -> None:  # noqa: N802
                if self.path == "/_emulator/stats":
                    return self._send(200, json.dumps(emulator.counts), "application/json")
                if not self.path.startswith(CREDENTIALS_PATH):
                    emulator.counts["other"] += 1
                    return self._send(404, "Not Found")
                token = self.headers.get(TOKEN_HEADER)
                if token is not None and not emulator._valid_token(token):
                    return self._send(401, "Unauthorized")
                if emulator.require_token and token is None:
                    return self._send(401, "Unauthorized")
                self._delay()
                role = unquote(self.path[len(CREDENTIALS_PATH):])  # as a real endpoint does
                if not role:
                    emulator.counts["role"] += 1
                    return self._send(200, emulator.role)
                if role != emulator.role:
                    emulator.counts["other"] += 1
                    return self._send(404, "Not Found")
                emulator.counts["credentials"] += 1
                return self._send(200, json.dumps(emulator.credential(), indent=2),
                                  "application/json")

        return Handler


def main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="latency-gap imds-emulator",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=18080)
    parser.add_argument("--lifetime", default="15m", help="credential lifetime (15m, 6h, 900)")
    parser.add_argument("--renew-before", help="cache credentials and renew them this long "
                        "before expiry (KIAM: 5m); default: fresh on every fetch")
    parser.add_argument("--delay-ms", type=float, default=0, help="delay of every response")
    parser.add_argument("--require-token", action="store_true", help="IMDSv2 only")
    parser.add_argument("--drop-token-put", action="store_true",
                        help="never answer the token PUT (hop limit 1 seen from a container)")
    parser.add_argument("--role", default="latency-gap-role", help="the IAM role's name")
    parser.add_argument("--example-values", action="store_true",
                        help="keys and tokens that say EXAMPLE (safe to commit in a capture)")
    args = parser.parse_args(argv)
    from collector.collect import parse_duration

    emulator = ImdsEmulator(args.host, args.port, parse_duration(args.lifetime),
                            parse_duration(args.renew_before) if args.renew_before else None,
                            args.delay_ms, role=args.role, require_token=args.require_token,
                            drop_token_put=args.drop_token_put,
                            example_values=args.example_values).start()
    print(f"metadata emulator on {emulator.endpoint} (Ctrl-C to stop)", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        emulator.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
