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
