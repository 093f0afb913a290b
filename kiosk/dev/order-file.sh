#!/usr/bin/env bash
# Regenerates kiosk/jiayuan.order: the functions `jiayuan serve` runs while it starts, serves the screen,
# takes a scan and a check-in, and idles, in the order callgrind first meets them. The release link
# (Package.swift, releaseLinkFlags) lays these functions out together, so the idle kiosk maps a few
# megabytes of code instead of touching a page here and there across the whole binary (docs/memory.md).
#
# Run it after large changes to the serving path; a stale file is harmless (unknown names are skipped,
# new functions land after the listed ones), it only costs memory. Needs valgrind (apt-get install valgrind).
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v valgrind >/dev/null || apt-get install -y -qq valgrind >/dev/null

built="$(bash kiosk/build-release.sh -q)"
work="$(mktemp -d)"
serve=""
trap 'if [ -n "$serve" ]; then kill "$serve" 2>/dev/null || true; fi; rm -rf "$work"' EXIT
# valgrind cannot read the DWARF of this binary; the symbol table is all it needs.
strip --strip-debug -o "$work/jiayuan" "$built"
bin="$work/jiayuan"
data="$work/data"
port=18599
console=18600
"$bin" init --demo --data "$data" --kiosk-id order-file >/dev/null

valgrind --tool=callgrind --demangle=no --compress-strings=no --compress-pos=no --dump-instr=no \
    --callgrind-out-file="$work/callgrind.out" "$bin" serve --data "$data" --port "$port" --console-port "$console" \
    >"$work/serve.log" 2>&1 &
serve=$!
url="http://127.0.0.1:$port"
for _ in $(seq 300); do curl -sf "$url/healthz" >/dev/null && break; sleep 0.2; done
curl -sf "$url/healthz" >/dev/null || { cat "$work/serve.log"; exit 1; }

# The screen: its page and files, the live stream, the figures it shows.
curl -s -N --max-time 40 "$url/api/stream" >/dev/null &
for path in / /assets/app.js /assets/app.css /assets/i18n.js /api/state /api/occupancy /healthz; do
    curl -sf "$url$path" >/dev/null || { echo "order-file.sh: GET $path failed" >&2; exit 1; }
done
# Scans through the demo FIFO scanner (one member, one child, one unknown code), then the venue choice.
for member in M000001 M000002; do
    "$bin" card show "$member" --data "$data" >"$data/scan.fifo"
    sleep 1
done
echo "garbage-from-the-scanner" >"$data/scan.fifo"
code="$("$bin" card show M000003 --data "$data")"
for venue in library gym veterans; do
    curl -s -X POST -H 'Content-Type: application/json' -d "{\"code\":\"$code\",\"venue\":\"$venue\"}" \
        "$url/api/checkin" >/dev/null
done
# The staff console's own door: its sign-in page.
curl -s "http://127.0.0.1:$console/staff/login" >/dev/null
# Idle long enough for every timer (watchdog, uploads, the closing sweep, the date cache) to fire.
sleep 35
curl -s "$url/healthz" >/dev/null
kill -TERM "$serve"
wait "$serve" || true
serve=""

# Every function of the binary that ran, first-met first.
nm --defined-only "$built" | awk '$2 ~ /^[tTwW]$/ {print $3}' | sort -u >"$work/defined"
grep -E '^c?fn=' "$work/callgrind.out" | sed -E 's/^c?fn=(\([0-9]+\) )?//' | awk '!seen[$0]++' >"$work/ran"
awk 'NR == FNR {defined[$0] = 1; next} defined[$0]' "$work/defined" "$work/ran" >kiosk/jiayuan.order
echo "kiosk/jiayuan.order: $(wc -l <kiosk/jiayuan.order) functions"
