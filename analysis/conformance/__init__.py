"""Real SDK clients check the credential refresh table (`make conformance`, docs/method.md).

checks.py plans the credential documents each table row is checked with, reads what the SDK
did and compares it with the table; run.py serves the documents from the metadata emulator
(collector/emulator.py) and runs each SDK's driver (conformance/) against it.
"""
