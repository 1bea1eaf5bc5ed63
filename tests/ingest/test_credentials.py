import numpy as np
import pandas as pd

from analysis.ingest.credentials import ImdsJson

CANARIES = ("CANARYSECRET", "CANARYTOKEN")


def test_concatenated_documents_pretty_and_compact(fixture_path):
    parsed = ImdsJson().parse(fixture_path("credentials-concatenated.json"))
    t = parsed.table
    assert parsed.rejected.empty
    assert list(t["code"]) == ["Success", "Success", "AssumeRoleUnauthorizedAccess"]
    assert list(t["line"]) == [1, 10, 11]
    assert list(t["lifetime_s"][:2]) == [900.0, 900.0]
    assert t["key_id"][0] != t["key_id"][1] and len(t["key_id"][0]) == 12


def test_secrets_never_reach_the_table(fixture_path):
    t = ImdsJson().parse(fixture_path("credentials-concatenated.json")).table
    dumped = t.to_csv()
    assert not any(c in dumped for c in CANARIES)
    assert "ASIAEXAMPLEKEYONE000" not in dumped
    assert not {"SecretAccessKey", "Token", "secret", "token"} & set(t.columns)


def test_curl_i_date_header_is_the_fetch_time(fixture_path):
    t = ImdsJson().parse(fixture_path("credentials-curl-i.txt")).table
    assert t["fetched_at"][0] == pd.Timestamp("2026-11-24T10:05:00Z")
    assert t["remaining_s"][0] == 9 * 60 + 12


def test_broken_document_is_rejected_without_its_secret(tmp_path):
    path = tmp_path / "creds.json"
    path.write_text('{"Code": "Success", "SecretAccessKey": "CANARYSECRETabc", "Tok\n')
    parsed = ImdsJson().parse(path)
    assert parsed.table.empty and len(parsed.rejected) == 1
    assert "CANARYSECRET" not in parsed.rejected.to_csv()


def test_json_lines_documents(fixture_path):
    t = ImdsJson().parse(fixture_path("credentials.jsonl")).table
    assert list(t["line"]) == [1, 2] and list(t["lifetime_s"]) == [900.0, 900.0]
    assert "CANARY" not in t.to_csv()


# --- terminal transcripts and failed fetches ---

import re  # noqa: E402

import pytest  # noqa: E402

from analysis.errors import EvidenceError  # noqa: E402
from analysis.ingest import curl_transcript  # noqa: E402
from analysis.ingest.registry import parse_file  # noqa: E402
from analysis.ingest.rows import check_rejected_share  # noqa: E402
from tests.conftest import FIXTURES  # noqa: E402

DOC = ('{"Code":"Success","LastUpdated":"2026-11-24T09:59:12Z","AccessKeyId":"ASIAEXAMPLEKEY00001",'
       '"SecretAccessKey":"CANARYSECRETx","Token":"CANARYTOKENx","Expiration":'
       '"2026-11-24T10:14:12Z"}')


def _parse(tmp_path, text: str):
    path = tmp_path / "creds.txt"
    path.write_text(text)
    fmt, parsed = parse_file("credentials", path)
    check_rejected_share(path, fmt.name, parsed)  # read as a report would
    return parsed


def _skipped(parsed) -> dict[int, str]:
    return dict(zip(parsed.skipped["line"], parsed.skipped["what"], strict=True))


def test_a_terminal_transcript_gives_its_document_and_every_failed_fetch(fixture_path):
    parsed = ImdsJson().parse(fixture_path("credentials-transcript.txt"))
    t = parsed.table
    assert parsed.rejected.empty
    assert list(zip(t["code"], t["line"], strict=True)) == [
        ("TokenPutTimeout", 12), ("TokenPutTimeout", 18), ("RoleNotFound", 20),
        ("RoleListing", 27), ("Success", 36), ("ProviderError", 39)]
    failed = t[t["code"] != "Success"]
    assert failed["lifetime_s"].isna().all() and failed["last_updated"].isna().all()
    # the 404 reply's Date is when that fetch failed; the document's reply Date its fetch time
    assert failed["fetched_at"].iloc[2] == pd.Timestamp("2026-11-24T10:00:00Z")
    assert t["remaining_s"].iloc[4] == 9 * 60 + 12
    whats = _skipped(parsed)
    assert whats[1] == whats[3] == curl_transcript.PROMPT and whats[4] == curl_transcript.TRACE
    assert whats[2] == curl_transcript.KUBECTL and whats[16] == curl_transcript.PROGRESS
    assert whats[14] == curl_transcript.REPEATED  # curl: (28) after curl -v's own line: once
    assert whats[21] == curl_transcript.HEADER and whats[25] == curl_transcript.BODY
    assert "CANARY" not in t.to_csv() + parsed.skipped.to_csv()


@pytest.mark.parametrize("line, what", [
    ("$ curl -s http://169.254.169.254/latest/meta-data/iam/security-credentials/", "prompt"),
    ("# curl http://169.254.169.254/latest/meta-data/iam/security-credentials/", "prompt"),
    ("user@host:~$ curl http://169.254.169.254/latest/api/token", "prompt"),
    ("root@search-api-7d9f:/# wget -qO- http://169.254.169.254/", "prompt"),
    ("/app $ wget -qO- http://169.254.169.254/latest/meta-data/iam/", "prompt"),
    ("(nfsuper) ~ $ curl http://169.254.169.254/latest/meta-data/", "prompt"),
    ("[root@ip-10-0-0-1 ~]# curl -v http://169.254.169.254/", "prompt"),
    ("bash-5.1$ curl http://169.254.169.254/latest/meta-data/", "prompt"),
    ("$", "prompt"),
    ("curl -i http://169.254.169.254/latest/meta-data/iam/security-credentials/r", "command"),
    ("kubectl exec -it search-api-7d9f -- curl -s http://169.254.169.254/", "command"),
    ("wget -qO- http://169.254.169.254/latest/meta-data/iam/security-credentials/", "command"),
    ('TOKEN=$(curl -X PUT "http://169.254.169.254/latest/api/token")', "command"),
    ("echo $TOKEN", "command"),
])
def test_prompts_and_command_lines_are_skipped_not_rejected(tmp_path, line, what):
    parsed = _parse(tmp_path, f"{line}\n{DOC}\n")
    assert parsed.rejected.empty and list(parsed.table["code"]) == ["Success"]
    assert _skipped(parsed)[1] == {"prompt": curl_transcript.PROMPT,
                                   "command": curl_transcript.COMMAND}[what]


def test_a_token_put_refused_is_a_failed_fetch_with_the_reply_date(tmp_path):
    parsed = _parse(tmp_path, (FIXTURES / "real" / "credentials" /
                               "imdsv2-token-put-403-trailing-slash-curl-v.txt").read_text())
    row = parsed.table.iloc[0]
    assert len(parsed.table) == 1 and row["code"] == "TokenPutForbidden" and row["line"] == 12
    assert row["fetched_at"] == pd.Timestamp("2023-01-27T15:36:10Z")
    assert set(parsed.skipped["what"]) == {curl_transcript.COMMAND, curl_transcript.TRACE}


@pytest.mark.parametrize("text, code", [
    ("Unable to find role for IP 10.2.3.4\n", "RoleNotFound"),
    ("pod with specificed IP not found\n", "PodNotFound"),
    ("$ curl http://169.254.169.254/latest/meta-data/iam/security-credentials/r\n"
     "Invalid role r\n", "RoleForbidden"),
    ("error fetching credentials: forbidden by policy\n", "ProviderError"),
    ("$ curl http://169.254.169.254/latest/meta-data/iam/security-credentials/\nmy-role\n",
     "RoleListing"),
    ("$ curl -m1 http://169.254.169.254/latest/meta-data/iam/security-credentials/r\n"
     "curl: (28) Connection timed out after 1001 milliseconds\n", "FetchTimeout"),
    ("curl -X PUT http://169.254.169.254/latest/api/token -m 1\n"
     "curl: (28) Connection timed out after 1001 milliseconds\n", "TokenPutTimeout"),
    ("curl http://169.254.169.254/latest/meta-data/iam/security-credentials/r\n"
     "curl: (7) Failed to connect to 169.254.169.254 port 80: Connection refused\n",
     "ConnectFailed"),
    ("/app $ wget -qO- http://169.254.169.254/latest/meta-data/iam/security-credentials/r\n"
     "wget: server returned error: HTTP/1.1 404 Not Found\n", "NotFound"),
    # an IMDS error page: one failed fetch, its HTML body skipped with it
    ("HTTP/1.1 404 Not Found\nContent-Type: text/html\n\n<?xml version=\"1.0\"?>\n<html>\n"
     "<title>404 - Not Found</title>\n</html>\n", "NotFound"),
    # a JSON error body names the failure better than its status
    ("HTTP/1.1 500 Internal Server Error\n\n{\"code\": \"AssumeRoleUnauthorizedAccess\"}\n",
     "AssumeRoleUnauthorizedAccess"),
])
def test_a_file_of_only_failed_fetches_is_read_not_refused(tmp_path, text, code):
    parsed = _parse(tmp_path, text)
    assert list(parsed.table["code"]) == [code] and parsed.rejected.empty
    assert parsed.table["lifetime_s"].isna().all() and parsed.table["key_id"].isna().all()


def test_a_file_with_neither_document_nor_failure_says_what_to_capture(tmp_path):
    token = "AQAEAGxUkTGs1cbPQ9TSkCUMwJn4VpfVZZtNNzpFCmVZvhDc0kA=="
    with pytest.raises(EvidenceError) as raised:
        _parse(tmp_path, "$ curl -X PUT http://169.254.169.254/latest/api/token\n"
                         f"{token}\n$ echo $TOKEN\n{token}\n")
    message = str(raised.value)
    assert "creds.txt:4" in message and "session token" in message
    assert "security-credentials/<role>" in message and token not in message


def test_lower_case_keys_and_a_container_document_are_read(tmp_path):
    container = ('HTTP/1.1 200 OK\nDate: Tue, 24 Nov 2026 10:00:00 GMT\n\n{"RoleArn":'
                 '"arn:aws:iam::123456789012:role/task","AccessKeyId":"ASIAEXAMPLEKEY00002",'
                 '"SecretAccessKey":"CANARYSECRETy","Token":"CANARYTOKENy",'
                 '"Expiration":"2026-11-24T10:30:00Z"}\n')
    t = _parse(tmp_path, container + '{"code": "AssumeRoleUnauthorizedAccess", '
                                     '"message": "EC2 cannot assume the role."}\n').table
    assert list(t["code"]) == ["Success", "AssumeRoleUnauthorizedAccess"]
    assert np.isnan(t["lifetime_s"][0]) and t["remaining_s"][0] == 1800.0
    assert t["key_id"][0] and "CANARY" not in t.to_csv()


def test_transcripts_are_detected_and_other_text_is_not():
    fmt = ImdsJson()
    assert fmt.detect(["/app $ wget -qO- http://169.254.169.254/latest/meta-data/iam/",
                       "wget: server returned error: HTTP/1.1 404 Not Found"]) == 1.0
    assert fmt.detect(["pod with specificed IP not found"]) == 1.0
    assert fmt.detect(["export AWS_SECRET_ACCESS_KEY=abc", "Token: abc"]) == 0.0


def test_every_failure_code_and_skipped_line_kind_is_documented():
    doc = (FIXTURES.parent.parent / "docs" / "formats.md").read_text()
    names = [v for k, v in vars(curl_transcript).items()
             if k.isupper() and isinstance(v, str) and v]
    codes = [code for _, code in curl_transcript.REPLIES] + \
        [*curl_transcript._BY_STATUS.values(), *curl_transcript._TOKEN_BY_STATUS.values()]
    missing = [n for n in names + codes if not re.search(rf"`{re.escape(n)}`", doc)]
    assert missing == []


@pytest.mark.parametrize("name", ["curl-v-security-credentials-301-redirect.txt",
                                  "imdsv2-token-put-200-metadata-mock-curl-v.txt"])
def test_a_real_transcript_without_document_is_refused_saying_what_to_capture(name):
    with pytest.raises(EvidenceError, match=r"capture the document itself.*security-credentials"
                                            r"/<role>") as raised:
        ImdsJson().parse(FIXTURES / "real" / "credentials" / name)
    assert "CANARY-REAL" not in str(raised.value)


def test_a_stray_word_after_a_document_is_no_role_listing(tmp_path):
    path = tmp_path / "creds.json"
    path.write_text(DOC + "\nEOF\n")
    parsed = ImdsJson().parse(path)
    assert list(parsed.table["code"]) == ["Success"] and list(parsed.rejected["line"]) == [2]
