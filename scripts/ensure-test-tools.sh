#!/usr/bin/env bash
# Programs the tests run for real, from Debian's packages (never a downloaded build):
#   chromium        the browser check of report.html, and FORMAT=pdf
#   dnsmasq-base    a DNS server on 127.0.0.x for the collector tests
#   bind9-dnsutils  dig, which the collector uses when installed
#   tcpdump         real packet captures on loopback for the capture reconstruction tests
#   iproute2        `ip`: scripts/capture-example brings up each network namespace's loopback
#                   (`unshare` is util-linux's, essential on Debian)
# Installs what is missing; needs root (CI runs as root) or the programs already there.
set -euo pipefail
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v dnsmasq >/dev/null 2>&1 || [ -x /usr/sbin/dnsmasq ] || missing+=(dnsmasq-base)
command -v dig >/dev/null 2>&1 || missing+=(bind9-dnsutils)
command -v tcpdump >/dev/null 2>&1 || [ -x /usr/bin/tcpdump ] || missing+=(tcpdump)
command -v ip >/dev/null 2>&1 || [ -x /usr/sbin/ip ] || [ -x /sbin/ip ] || missing+=(iproute2)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ]; then
  echo "missing test programs: run 'sudo apt-get install -y ${missing[*]}'" >&2
  exit 1
fi
echo "installing Debian packages for the tests: ${missing[*]}..."
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
