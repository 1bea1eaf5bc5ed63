"""Conformance driver for botocore: resolves credentials through botocore's default chain
once per step and prints, as JSON, the metadata calls each resolution made and how long
botocore will keep the credentials it holds.

Usage: python botocore_driver.py ENDPOINT WAIT_S...  A wait moves botocore's clock (with
time-machine) instead of sleeping, so a wait of 601 s costs nothing.
"""

import json
import sys
import time
import urllib.request
from datetime import UTC, datetime

import botocore
import botocore.session
import time_machine

SETTLE_S = 0.3  # a background refresh, if any, lands within this


def stats(endpoint: str) -> dict:
    with urllib.request.urlopen(endpoint + "/_emulator/stats", timeout=5) as answer:
        return json.load(answer)


def main(endpoint: str, waits: list[float]) -> dict:
    gets = []
    with time_machine.travel(datetime.now(UTC), tick=True) as clock:
        credentials = None
        for wait in waits:
            clock.shift(wait)
            before = stats(endpoint)
            if credentials is None:
                credentials = botocore.session.Session().get_credentials()
            credentials.get_frozen_credentials()  # what the signer asks before each request
            during = stats(endpoint)
            time.sleep(SETTLE_S)
            after = stats(endpoint)
            expiry = credentials._expiry_time  # botocore keeps no public accessor
            gets.append({"during": {k: during[k] - before[k] for k in during},
                         "after": {k: after[k] - during[k] for k in after},
                         "expires_in_s": (expiry - datetime.now(UTC)).total_seconds()})
    return {"version": botocore.__version__, "gets": gets}


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], [float(w) for w in sys.argv[2:]])))
