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
  # (its unit is verified with systemd-analyze); debootstrap makes the throw-away Debian root of the installer test.
  packages+=(zbar-tools sqlite3 cups-daemon cups-client curl chromium chromium-driver fonts-noto-cjk python3-venv postgresql cage debootstrap)
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
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  for d in /opt/swift/usr/bin /usr/share/swift/usr/bin; do [ -x "$d/swift" ] && export PATH="$d:$PATH"; done
fi
command -v swift >/dev/null 2>&1 || { echo "jiayuan: the Swift 6 toolchain is not installed (see swift.org/install)" >&2; exit 1; }
