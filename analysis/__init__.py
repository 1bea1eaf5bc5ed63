"""latency-gap: measure and explain why a service got slower on Kubernetes."""

import sys
from importlib.metadata import PackageNotFoundError, version

# jsonschema (nbformat validates notebooks with it on the report path) imports rfc3987_syntax
# when installed, which builds ~35 Lark grammars at import: ~0.8-1.1 s of every report
# (python-jsonschema/jsonschema issue #1392 and PR #1521: rfc3987-syntax 1.1.0 builds its
# grammars at import, ~2 s). It serves only the "iri" and "iri-reference" formats, which
# notebook validation (Draft 4, no format checker) never uses, and jsonschema skips those two
# checkers when the import fails; so this process refuses it. Set before any import of
# jsonschema; a process that already holds the module keeps it.
sys.modules.setdefault("rfc3987_syntax", None)

try:
    __version__ = version("latency-gap")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"
