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
