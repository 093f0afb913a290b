#!/usr/bin/env bash
# Removes the Jiayuan kiosk's program, units and rules, and KEEPS its data: /var/lib/jiayuan (the
# attendance log, members, keys and backups) and the jiayuan user stay, so a reinstall carries on.
#
#   bash kiosk/uninstall.sh [--root DIR]
set -euo pipefail
R=""
if [ "${1:-}" = "--root" ]; then R="$(realpath -m "$2")"; fi
if [ -z "$R" ] && [ "$(id -u)" -ne 0 ]; then
  echo "uninstall.sh: run as root" >&2
  exit 1
fi
units=(jiayuan-display.service jiayuan.service jiayuan-backup.timer jiayuan-backup.service)
if [ -z "$R" ] && [ -d /run/systemd/system ]; then
  systemctl disable --now "${units[@]}" 2>/dev/null || true
fi
for unit in "${units[@]}"; do rm -f "$R/usr/lib/systemd/system/$unit"; done
rm -f "$R/usr/bin/jiayuan" "$R/usr/lib/sysusers.d/jiayuan.conf" "$R/usr/lib/tmpfiles.d/jiayuan.conf" \
  "$R/etc/udev/rules.d/70-jiayuan-scanners.rules" "$R/usr/lib/jiayuan/scanner-rules"
rmdir "$R/usr/lib/jiayuan" 2>/dev/null || true
rm -rf "$R/usr/share/jiayuan" "$R/usr/share/doc/jiayuan"
if [ -z "$R" ]; then
  [ -d /run/systemd/system ] && systemctl daemon-reload
  command -v udevadm >/dev/null 2>&1 && udevadm control --reload 2>/dev/null || true
fi
echo "jiayuan uninstall: removed; the data in $R/var/lib/jiayuan and the jiayuan user are kept"
