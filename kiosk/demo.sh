#!/usr/bin/env bash
# Runs the kiosk with demo data: installs what is missing, builds, creates ./demo-data
# (SQLite file, file-backed virtual printer in demo-data/prints) and shows a check-in and a printed slip.
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
echo "\$ jiayuan checkin <card> --venue veterans --json"
"$bin" checkin "$code" --venue veterans --json || true
echo
echo "\$ jiayuan slip queue        # prints to the file-backed virtual printer ($JIAYUAN_DATA/prints)"
"$bin" slip queue
echo
"$bin" report
echo
"$bin" doctor || true
echo
echo "Data directory: $JIAYUAN_DATA   (export JIAYUAN_DATA=$JIAYUAN_DATA, then try: $bin --help)"
