#!/usr/bin/env bash
# Runs the kiosk with demo data: installs what is missing, builds, creates ./demo-data (SQLite file,
# file-backed virtual printer in demo-data/prints, a FIFO scanner), shows a check-in and a printed slip,
# then serves the resident screen on http://127.0.0.1:8080/ until Ctrl-C.
# JIAYUAN_DEMO_SERVE=0 stops after the command-line tour.
set -euo pipefail
cd "$(dirname "$0")/.."
source kiosk/setup-deps.sh
swift build --product jiayuan
bin="$(swift build --show-bin-path)/jiayuan"
export JIAYUAN_DATA="${JIAYUAN_DATA:-$PWD/demo-data}"

[ -f "$JIAYUAN_DATA/jiayuan.toml" ] || "$bin" init --demo --kiosk-id demo-kiosk
code="$("$bin" card show M000001 --png "$JIAYUAN_DATA/M000001-card.png")"
echo
echo "Card of member M000001 (QR written to $JIAYUAN_DATA/M000001-card.png):"
echo "  $code"
echo
echo "\$ jiayuan checkin <card> --venue veterans"
"$bin" checkin "$code" --venue veterans || true
echo
echo "\$ jiayuan slip queue        # prints to the file-backed virtual printer ($JIAYUAN_DATA/prints)"
"$bin" slip queue
echo
"$bin" report
echo
"$bin" doctor || true
[ "${JIAYUAN_DEMO_SERVE:-1}" = "0" ] && exit 0
cat <<TXT

The kiosk screen: open http://127.0.0.1:8080/ (Chromium: --kiosk --autoplay-policy=no-user-gesture-required).
Scan a card by writing its code into the demo scanner, e.g. in another terminal:
  $bin card show M000002 --data "$JIAYUAN_DATA" > "$JIAYUAN_DATA/scan.fifo"
or press the screen's "演示扫码 Demo scan" button. Ctrl-C stops the kiosk.
The staff console: http://127.0.0.1:8443/staff/login — demo account 前台, PIN 246810.

TXT
exec "$bin" serve
