#!/usr/bin/env bash
# Installs the Debian 12 packages Jiayuan needs (run as root). Sourced by demo.sh and test.sh.
# Usage: setup-deps.sh [--tests]
set -euo pipefail

# zlib (gzip upload bodies), libcurl (HTTPS to the hub) and libpq (the hub on PostgreSQL) are linked too.
packages=(libsqlite3-dev libqrencode-dev libcups2-dev zlib1g-dev libcurl4-openssl-dev libpq-dev pkg-config tzdata espeak-ng)
if [ "${1:-}" = "--tests" ]; then
  # zbarimg decodes the QR codes we print; sqlite3 lets tests tamper with a database like an attacker would;
  # cupsd and lpadmin run the private print server of the printing tests; chromium and its driver (with
  # CJK fonts) show the resident screen to the browser test, whose selenium runs in a venv (python3-venv);
  # postgresql runs the private PostgreSQL server the hub's tests use; cage is the display unit's compositor
  # (its unit is verified with systemd-analyze); debootstrap makes the throw-away Debian root of the installer test;
  # nginx and openssl run the hub's TLS front test (a private nginx on a loopback port, a self-signed certificate).
  packages+=(zbar-tools sqlite3 cups-daemon cups-client curl chromium chromium-driver fonts-noto-cjk python3-venv postgresql cage debootstrap nginx openssl)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "jiayuan: missing packages: ${missing[*]} — run this as root or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "Installing: ${missing[*]}"
  apt-get update -qq
  # No service starts during the install (nginx's default site would listen on port 80 of every address);
  # the tests start their own private servers on loopback.
  policy=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 0755 /usr/sbin/policy-rc.d && policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  [ -z "$policy" ] || rm -f /usr/sbin/policy-rc.d
fi

if ! command -v swift >/dev/null 2>&1; then
  for d in /opt/swift/usr/bin /usr/share/swift/usr/bin; do [ -x "$d/swift" ] && export PATH="$d:$PATH"; done
fi
command -v swift >/dev/null 2>&1 || { echo "jiayuan: the Swift 6 toolchain is not installed (see swift.org/install)" >&2; exit 1; }
