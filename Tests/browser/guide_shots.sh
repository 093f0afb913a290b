#!/usr/bin/env bash
# The staff guide's close-ups (Tests/browser/guide_shots.py) against a demo kiosk whose clock is set to a
# weekday morning with faketime (Debian package faketime), printing to the private cupsd; writes them into
# docs/screenshots. Needs a debug build, the test venv (.build/test-venv) and chromium/chromedriver.
set -euo pipefail
cd "$(dirname "$0")/../.."
D=$(mktemp -d /tmp/jiayuan-shots.XXXXXX)
srv=""
trap '[ -n "$srv" ] && { pkill -P $srv 2>/dev/null; kill $srv 2>/dev/null; }; bash kiosk/dev/cupsd.sh stop $D/cups >/dev/null 2>&1 || true; rm -rf $D' EXIT
bash kiosk/dev/cupsd.sh start $D/cups >/dev/null; source $D/cups/env
bin=$PWD/.build/debug/jiayuan
export JIAYUAN_DATA=$D/data TZ=UTC
FT=(faketime '2026-12-07 03:20:00')
"${FT[@]}" $bin init --demo --kiosk-id shots >/dev/null
sed -i "s|target = \"file:prints\"|target = \"cups:capture\"|; s|# cups_server = \"localhost:631\"|cups_server = \"$JIAYUAN_TEST_CUPS_SERVER\"|" $JIAYUAN_DATA/jiayuan.toml
card() { $bin card show "$1"; }
ci() { "${FT[@]}" $bin checkin "$(card "$1")" --venue "$2" --at "2026-12-07T$3:00+08:00" >/dev/null || true; }
ci M000001 veterans 08:00; ci M000001 veterans 09:00
ci M000001 gym 10:00

"${FT[@]}" $bin correct "$(sqlite3 $JIAYUAN_DATA/jiayuan.sqlite "select max(seq) from event where member=1")" --reason "场所选错 wrong venue" >/dev/null
ci M000001 library 10:05
# (a child of a guardian with one child: the guardian of two brings both as a household below)
child=$(sqlite3 $JIAYUAN_DATA/jiayuan.sqlite "select printf('M%06d', id) from member where \"group\"='child' and born >= 2016
  and id not in (select child from guardian where guardian in (select guardian from guardian group by guardian having count(*) >= 2)) limit 1")
ci "$child" kids 09:30
# A household drop-off (issue 16): a guardian of two or more children brings them all; the floor groups them.
guardian=$(sqlite3 $JIAYUAN_DATA/jiayuan.sqlite "select printf('M%06d', g.guardian) from guardian g join member c on c.id = g.child
  where c.active = 1 group by g.guardian having count(*) >= 2 limit 1")
"${FT[@]}" $bin checkin "$(card "$guardian")" --venue kids --children all --at "2026-12-07T09:40:00+08:00" >/dev/null || true
elders=($(sqlite3 $JIAYUAN_DATA/jiayuan.sqlite "select printf('M%06d', id) from member where \"group\"='elder' limit 5"))
for e in "${elders[@]}"; do ci $e daycare 08:00; done
ci ${elders[0]} daycare 10:40; ci ${elders[1]} daycare 11:00; ci ${elders[2]} daycare 11:10
"${FT[@]}" $bin serve > $D/serve.log 2>&1 &
srv=$!
sleep 1; kill -0 $srv || { cat $D/serve.log; exit 1; }
for i in $(seq 1 100); do curl -sf http://127.0.0.1:8443/staff/login >/dev/null && break; sleep 0.3; done
py=$PWD/.build/test-venv/bin/python
JIAYUAN_E2E_PIN=246810 $py Tests/browser/guide_shots.py --url http://127.0.0.1:8443 --name 前台 --out docs/screenshots --member M000001
echo stop > $D/cups/control/fail
"${FT[@]}" $bin slip queue >/dev/null
JIAYUAN_E2E_PIN=246810 $py Tests/browser/guide_shots.py --url http://127.0.0.1:8443 --name 前台 --out docs/screenshots --printer-alert
