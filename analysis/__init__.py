"""latency-gap: measure and explain why a service got slower on Kubernetes."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("latency-gap")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0+unknown"
