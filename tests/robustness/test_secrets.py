"""Canary secrets planted in every credential variant never leave ingest: after a full report
and a fleet run (one service failing), no file under REPORTS_DIR, no executed notebook, no
table, history row or log line holds one. The evidence is byte for byte what it was."""

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from analysis import fleet
from tests.conftest import EXAMPLES, FIXTURES, tree_digest
from tests.robustness.conftest import TALLY

CANARIES = {f"{kind}{n}": f"CANARY{kind.upper()}{n}x9Q7zK2mVb" for kind in ("secret", "token")
            for n in range(8)}
#: secrets of the shapes real ones have, found by shape wherever they stand
SHAPES = {"access-key-id": "AKIAZ7Q3CANARY5KEY2X",
          "secret-key": "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",
          "jwt": "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.Q2FuYXJ5U2lnbmF0dXJlWDk",
          "session-token": "IQoJb3JpZ2luX2VjEJr" + "Zk9Q7mVb2Xp4Lw8Rt3Yn6" * 6}
#: secrets named by a key, in every spelling an access log, a header or a URL uses
KEYED = {f"keyed{n}": f"CANARYKEYED{n}x9Q7zK2" for n in range(10)}
ALL = {**CANARIES, **SHAPES, **KEYED}
ISSUED = "2026-11-24T09:59:12Z", "2026-11-24T10:14:12Z"


def _doc(n: int, indent: int | None = 2) -> str:
    return json.dumps({"Code": "Success", "LastUpdated": ISSUED[0], "Type": "AWS-HMAC",
                       "AccessKeyId": f"ASIACANARYKEY{n}",
                       "SecretAccessKey": CANARIES[f"secret{n}"], "Token": CANARIES[f"token{n}"],
                       "Expiration": ISSUED[1]}, indent=indent)


def plant(credentials: Path) -> None:
    """Every way curl or a loop of it writes credential documents, plus broken ones."""
    (credentials / "c0-one-pretty.json").write_text(_doc(0) + "\n")
    (credentials / "c1-concatenated.json").write_text(_doc(1) + "\n" + _doc(1) + "\n")
    (credentials / "c2-compact-run-on.json").write_text(_doc(2, None) + _doc(2, None))
    (credentials / "c3-lines.jsonl").write_text((_doc(3, None) + "\n") * 3)
    (credentials / "c4-curl-i.txt").write_text(
        "HTTP/1.1 200 OK\nDate: Tue, 24 Nov 2026 10:00:00 GMT\nContent-Type: text/plain\n\n"
        + _doc(4) + "\n")
    good = _doc(0, None)
    broken = '{"Code": "Success", "SecretAccessKey": "' + CANARIES["secret5"] + \
        '", "Token": "' + CANARIES["token5"]  # cut off: a rejected line, shown in the report
    (credentials / "c5-broken.jsonl").write_text("\n".join([good] * 40 + [broken]) + "\n")
    failure = {"Code": "AssumeRoleUnauthorizedAccess", "Message": "denied",
               "LastUpdated": ISSUED[0], "SecretAccessKey": CANARIES["secret6"],
               "Token": CANARIES["token6"]}
    (credentials / "c6-failure.json").write_text(json.dumps(failure) + "\n")
    # other spellings and escapes, in documents broken enough to be shown as rejected lines
    broken_keys = ('{"aws-secret-access-key": "' + KEYED["keyed0"] + '", "secret_key": "'
                   + KEYED["keyed1"] + '", "SecretAccessKey": "a\\"' + KEYED["keyed2"]
                   + '", "AccessKeyId": "' + SHAPES["access-key-id"] + '"')
    (credentials / "c7-spellings.jsonl").write_text("\n".join([good] * 40 + [broken_keys]) + "\n")
    # a terminal transcript: the session token echoed and sent, failed fetches beside a document
    token = CANARIES["token7"]
    (credentials / "c8-transcript.txt").write_text(
        '$ TOKEN=$(curl -s -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-'
        f'token-ttl-seconds: 21600")\n$ echo $TOKEN\n{token}\n$ curl -v -H "X-aws-ec2-metadata-'
        f'token: {token}" http://169.254.169.254/latest/meta-data/iam/security-credentials/r\n'
        f"> GET /latest/meta-data/iam/security-credentials/r HTTP/1.1\n"
        f"> X-aws-ec2-metadata-token: {token}\n< HTTP/1.1 200 OK\n<\n{_doc(7, None)}\n"
        "$ curl -X PUT http://169.254.169.254/latest/api/token -m 1\n"
        f"curl: (28) Operation timed out after 1000 milliseconds ({token})\n"
        f"$ curl http://169.254.169.254/latest/meta-data/iam/security-credentials/\n"
        f"Unable to find role for IP 10.2.3.4 {CANARIES['secret7']}\n")


def plant_other_kinds(env: Path) -> None:
    """Secrets in access logs (URLs, headers, cookies, JSON keys), dig output and metadata
    call records: in parsed lines and in lines rejected and shown in the report."""
    url = (f"/v1/items?X-Amz-Security-Token={KEYED['keyed3']}&X-Amz-Credential="
           f"{SHAPES['access-key-id']}%2F20261124&sig={SHAPES['secret-key']}")
    nginx = env / "latency" / "ingress-nginx.log"
    if nginx.exists():
        line = nginx.read_text().splitlines()[0].replace("/v1/items?id=0", url)
    else:
        nginx = env / "latency" / "alb.log"
        line = (FIXTURES / "alb.log").read_text().splitlines()[0].replace("/v1/items?id=0", url)
        nginx.write_text(f"{line}\n" * 60)
    with nginx.open("a") as log:
        log.write(line + "\n")                                            # parsed
        log.write(f"garbage Authorization: Bearer {SHAPES['jwt']}\n")     # rejected
        log.write(f"garbage cookie: session={KEYED['keyed4']}; theme=dark\n")
    rows = [{"time": f"2026-11-24T10:{m:02d}:00Z", "upstream_latency_ms": 20, "status": 200,
             "authorization": f"Bearer {KEYED['keyed5']}", "aws_secret_access_key":
             KEYED["keyed6"]} for m in range(40)]
    rows.append({"time": "not a time", "upstream_latency_ms": 20, "status": 200,
                 "authorization": f"Bearer {KEYED['keyed5']}", "aws_secret_access_key":
                 KEYED["keyed6"], "cookie": f"sid={KEYED['keyed7']}"})
    (env / "latency" / "app.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    with (env / "dig" / "dig.txt").open("a") as dig:
        dig.write(f"; <<>> DiG 9.18.28 <<>> {SHAPES['jwt']}.example.com\n;; Query time: 3 msec\n"
                  f"Token: {KEYED['keyed8']}\n")
    with (env / "metadata" / "calls.csv").open("a") as calls:
        calls.write(("2026-11-24T10:00:00Z,GET,/latest/meta-data/iam/security-credentials/?"
                     f"X-aws-ec2-metadata-token={SHAPES['session-token']},200,41.0\n") * 40 +
                    f"garbage,token={KEYED['keyed9']},x-aws-ec2-metadata-token: "
                    f"{SHAPES['secret-key']}\n")


def _text_of(path: Path) -> str:
    """What a file holds, decoded the way a reader of it would (Parquet and DuckDB compress)."""
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pandas().to_csv()
    if path.suffix == ".duckdb":
        with duckdb.connect(str(path), read_only=True) as con:
            tables = [t for (t,) in con.execute("SHOW TABLES").fetchall()]
            return "\n".join(str(con.execute(f"SELECT * FROM {t}").fetchall()) for t in tables)
    return path.read_bytes().decode("latin-1")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("canaries")
    data, reports = root / "data", root / "reports"
    shutil.copytree(EXAMPLES / "search-api", data / "search-api")
    shutil.copytree(EXAMPLES / "payments-api", data / "payments-api")
    shutil.copytree(EXAMPLES / "payments-api", data / "broken-api")
    for service in ("search-api", "broken-api"):
        for env in ("ec2", "k8s"):
            plant(data / service / env / "credentials")
            plant_other_kinds(data / service / env)
    log = data / "broken-api" / "k8s" / "latency" / "ingress-nginx.log"
    log.write_text(f"garbage token={KEYED['keyed0']} {SHAPES['secret-key']}\n" * 100)
    before = tree_digest(data)
    # the real commands, so the logs are everything they and their workers print
    command = [str(Path(sys.executable).parent / "latency-gap")]
    where = ["--data-dir", str(data), "--reports-dir", str(reports)]
    report = subprocess.run([*command, "report", "search-api", *where], capture_output=True,
                            text=True)
    assert report.returncode == 0, report.stderr
    run = subprocess.run([*command, "fleet", "--force", "--jobs", "2", *where],
                         capture_output=True, text=True)
    assert run.returncode == fleet.EXIT_FAILED, run.stderr
    logs = report.stdout + report.stderr + run.stdout + run.stderr
    result = json.loads((reports / "fleet.json").read_text())
    return data, reports, before, result, logs


def test_the_runs_happened_with_one_failure(runs):
    _, reports, _, result, logs = runs
    assert "broken-api: FAILED" in logs and "[search-api] report:" in logs
    statuses = {e["service"]: e["status"] for e in result["services"]}
    assert statuses == {"broken-api": "failed", "payments-api": "ok", "search-api": "ok"}
    # bad evidence stops a service before any kernel starts: no failed notebook is kept
    assert not (reports / ".failed" / "broken-api").exists()
    html = (reports / "search-api" / "report.html").read_text()
    assert "c5-broken.jsonl" in html  # the broken document is shown as a rejected line...


def test_no_canary_in_any_file_under_reports_or_any_log(runs):
    _, reports, _, _, logs = runs
    files = [p for p in reports.rglob("*") if p.is_file()]
    assert len(files) >= 25 and any(p.suffix == ".parquet" for p in files) and \
        any(p.suffix == ".duckdb" for p in files)
    assert not any(p.suffix == ".pickle" for p in files)  # the notebooks' state: not published
    # what the notebooks loaded during the run: the same result, saved as the pipeline saves it
    from analysis import result

    saved = result.compute(runs[0] / "search-api").save(reports.parent / "saved")
    files += [p for p in saved.rglob("*") if p.is_file()]
    assert any(p.suffix == ".pickle" for p in files)
    found = [(p, name) for p in files for name, value in ALL.items() if value in _text_of(p)]
    found += [("logs", name) for name, value in ALL.items() if value in logs]
    assert found == []  # ...without its secret
    TALLY["files_scanned"] += len(files) + 1
    TALLY["canaries"] += len(ALL)


def test_key_ids_are_fingerprints_not_keys(runs):
    _, reports, _, _, _ = runs
    table = pq.read_table(reports / "search-api" / "tables" / "credentials.parquet").to_pandas()
    assert not table["key_id"].dropna().str.startswith("ASIA").any()
    assert all("ASIACANARYKEY" not in _text_of(p) for p in reports.rglob("*") if p.is_file())


def test_evidence_is_byte_for_byte_unchanged(runs):
    data, _, before, _, _ = runs
    assert tree_digest(data) == before


def test_an_unrecognised_credentials_file_is_named_without_its_secrets(tmp_path):
    from analysis import ingest, service
    from analysis.errors import EvidenceError

    folder = tmp_path / "search-api"
    shutil.copytree(EXAMPLES / "search-api", folder)
    (folder / "k8s" / "credentials" / "env.sh").write_text(
        f"export AWS_SECRET_ACCESS_KEY={CANARIES['secret0']}\n"
        f"SecretAccessKey={CANARIES['secret1']}\nToken: {CANARIES['token1']}\n")
    with pytest.raises(EvidenceError) as raised:
        ingest.load_evidence(folder, service.load_config(folder))
    message = str(raised.value)
    assert "env.sh" in message and "not a known credentials format" in message
    assert not [name for name, value in CANARIES.items() if value in message], message
