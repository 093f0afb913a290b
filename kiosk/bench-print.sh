#!/usr/bin/env bash
# `jiayuan bench print` against python-escpos: installs python-escpos from PyPI into a temporary venv,
# then runs the Swift encoder and the Python one on the same day-care receipt in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
count="${1:-2000}"
venv="$(mktemp -d)/venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q python-escpos
swift build -c release --product jiayuan
# A private cupsd with a capture queue, for submit-to-captured latency against `lp -o raw`.
cupsdir="$(mktemp -d /tmp/jiayuan-cups.XXXXXX)"
trap 'bash kiosk/dev/cupsd.sh stop "$cupsdir" >/dev/null 2>&1 || true; rm -rf "$cupsdir" "$(dirname "$venv")"' EXIT
bash kiosk/dev/cupsd.sh start "$cupsdir" >/dev/null
export CUPS_SERVER="$(. "$cupsdir/env"; echo "$JIAYUAN_TEST_CUPS_SERVER")"
"$(swift build -c release --show-bin-path)/jiayuan" bench print --count "$count" --python "$venv/bin/python" \
  --cups-queue capture --capture-dir "$cupsdir/captured"
