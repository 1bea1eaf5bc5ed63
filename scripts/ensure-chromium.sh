#!/usr/bin/env bash
# The browser test opens report.html in Debian's Chromium (never a downloaded browser build).
# Installs it when missing; needs root (CI runs as root) or an existing /usr/bin/chromium.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "chromium is missing: run 'sudo apt-get install -y chromium' (needed by tests/test_browser.py)" >&2
  exit 1
fi
echo "installing Debian's chromium for the browser test..."
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
command -v chromium >/dev/null
