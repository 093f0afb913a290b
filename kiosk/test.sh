#!/usr/bin/env bash
# Installs what the tests need, builds everything and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source kiosk/setup-deps.sh --tests
swift build --build-tests

# A private cupsd (own config, socket, port and spool under a temp folder; nothing under /etc) with raw
# capture queues, stopped again however the tests end.
cupsdir="$(mktemp -d /tmp/jiayuan-cups.XXXXXX)"
trap 'bash kiosk/dev/cupsd.sh stop "$cupsdir" >/dev/null 2>&1 || true; rm -rf "$cupsdir"' EXIT
bash kiosk/dev/cupsd.sh start "$cupsdir" >/dev/null
source "$cupsdir/env"
export JIAYUAN_BIN="$(swift build --show-bin-path)/jiayuan"
swift test --skip-build
