"""The metadata emulator answers as the real service does where SDKs depend on it."""

import urllib.request

from collector.emulator import TTL_HEADER, ImdsEmulator


def test_the_token_answer_echoes_its_ttl():
    # aws-sdk-go caches its IMDSv2 token for the TTL the answer carries; without the header it
    # asked for a new token six times per credential fetch (docs/method.md, "Conformance")
    with ImdsEmulator() as emulator:
        put = urllib.request.Request(emulator.endpoint + "/latest/api/token", method="PUT",
                                     headers={TTL_HEADER: "21600"})
        with urllib.request.urlopen(put, timeout=5) as answer:
            assert answer.headers[TTL_HEADER] == "21600"
            assert answer.read()


def test_example_values_say_what_they_are():
    """--example-values (the committed capture of orders-api): no value shaped like a real
    key id or a random token, each credential and token still distinct."""
    import json
    import re

    from collector.emulator import CREDENTIALS_PATH, TOKEN_HEADER

    with ImdsEmulator(example_values=True, role="orders-api-role") as emulator:
        tokens, documents = [], []
        for _ in range(2):
            put = urllib.request.Request(emulator.endpoint + "/latest/api/token", method="PUT",
                                         headers={TTL_HEADER: "60"})
            with urllib.request.urlopen(put, timeout=5) as answer:
                tokens.append(answer.read().decode())
            get = urllib.request.Request(emulator.endpoint + CREDENTIALS_PATH + "orders-api-role",
                                         headers={TOKEN_HEADER: tokens[-1]})
            with urllib.request.urlopen(get, timeout=5) as answer:
                documents.append(json.loads(answer.read()))
    assert tokens == ["EXAMPLE-imdsv2-token-1", "EXAMPLE-imdsv2-token-2"]
    assert documents[0]["AccessKeyId"] != documents[1]["AccessKeyId"]  # fresh on each fetch
    for document in documents:
        assert not re.fullmatch(r"(AKIA|ASIA)[A-Z0-9]{16}", document["AccessKeyId"])
        assert "EXAMPLE" in document["AccessKeyId"]
        assert document["SecretAccessKey"].startswith("EXAMPLE-")
        assert document["Token"].startswith("EXAMPLE-")
