#!/usr/bin/env bash
# Writes /etc/udev/rules.d/70-jiayuan-scanners.rules: USB scanners by vendor:product id, for the
# jiayuan-scanner group, the kiosk daemon's only device group. Only the scanners themselves join it — never
# every keyboard and touch screen (as the `input` group would), never a device that merely calls itself a
# scanner. The ids come from:
#   - usb_id = "vvvv:pppp" of each [[scanner]] in /var/lib/jiayuan/jiayuan.toml;
#   - the evdev devices the config's scanners name (source = "evdev:/dev/input/by-id/…"), if plugged in;
#   - keyboards plugged in now (/dev/input/by-id/*-event-kbd) whose USB vendor makes scanners
#     (Honeywell/Metrologic 0c2e, Zebra/Symbol 05e0, Newland 1eab, Datalogic 05f9), by their exact id.
# Run by install.sh and the package; run it again (as root) after adding a scanner, then
# `udevadm control --reload && udevadm trigger --subsystem-match=input --subsystem-match=tty`.
#
#   scanner-rules.sh [--root DIR] [--hardware-root DIR | --no-hardware]
#     --root DIR           the installed system's root (default /): config and rules file under it
#     --hardware-root DIR  look for devices under DIR/dev and DIR/sys instead of /dev and /sys (tests)
#     --no-hardware        only the config's usb_id entries (staging a package on a build machine)
# Prints how many scanner ids the rules hold.
set -euo pipefail
R=""
hw=""
probe=1
while [ $# -gt 0 ]; do
  case "$1" in
    --root) R="$(realpath -m "$2")"; [ "$R" = "/" ] && R=""; shift 2 ;;
    --hardware-root) hw="$(realpath -m "$2")"; [ "$hw" = "/" ] && hw=""; shift 2 ;;
    --no-hardware) probe=0; shift ;;
    *) echo "scanner-rules.sh: unknown option $1" >&2; exit 64 ;;
  esac
done

usb_id_of_event() {  # eventN → vvvv:pppp of the USB device above it in sysfs, or nothing
  local d
  d="$(realpath -m "$hw/sys/class/input/$1/device" 2>/dev/null)" || return 0
  while [ -n "$d" ] && [ "$d" != "/" ] && [ "$d" != "$hw/sys" ]; do
    if [ -f "$d/idVendor" ] && [ -f "$d/idProduct" ]; then
      echo "$(tr 'A-F' 'a-f' < "$d/idVendor" | tr -d '[:space:]'):$(tr 'A-F' 'a-f' < "$d/idProduct" | tr -d '[:space:]')"
      return 0
    fi
    d="$(dirname "$d")"
  done
}
event_of() {  # a /dev path (symlink) → eventN, if it leads to one
  local t
  t="$(realpath -m "$hw$1" 2>/dev/null)" || return 0
  case "$(basename "$t")" in event[0-9]*) basename "$t" ;; esac
}
scanner_ids() {
  local conf="$R/var/lib/jiayuan/jiayuan.toml" path ev id
  if [ -f "$conf" ]; then
    sed -n 's/^[[:space:]]*usb_id[[:space:]]*=[[:space:]]*"\([0-9A-Fa-f]\{4\}:[0-9A-Fa-f]\{4\}\)".*/\1/p' "$conf" | tr 'A-F' 'a-f'
  fi
  [ "$probe" = 1 ] || return 0
  if [ -f "$conf" ]; then
    sed -n 's/^[[:space:]]*source[[:space:]]*=[[:space:]]*"evdev:\([^"]*\)".*/\1/p' "$conf" | while read -r path; do
      ev="$(event_of "$path")"
      if [ -n "$ev" ]; then usb_id_of_event "$ev"; fi
    done
  fi
  for path in "$hw"/dev/input/by-id/*-event-kbd; do
    [ -e "$path" ] || [ -L "$path" ] || continue
    ev="$(event_of "${path#"$hw"}")"
    [ -n "$ev" ] || continue
    id="$(usb_id_of_event "$ev")"
    case "$id" in 0c2e:*|05e0:*|1eab:*|05f9:*) echo "$id" ;; esac
  done
  return 0
}
rules="$R/etc/udev/rules.d/70-jiayuan-scanners.rules"
mkdir -p "$(dirname "$rules")"
{
  echo "# Written by /usr/lib/jiayuan/scanner-rules: USB scanners by vendor:product id, for the jiayuan-scanner group"
  echo "# (the kiosk daemon's only device group). Add usb_id = \"vvvv:pppp\" (lsusb shows it) to a [[scanner]]"
  echo "# in /var/lib/jiayuan/jiayuan.toml and run /usr/lib/jiayuan/scanner-rules again to add a scanner."
  echo 'ACTION=="remove", GOTO="jiayuan_end"'
  ids="$(scanner_ids | sort -u)"
  [ -n "$ids" ] || echo "# No scanner was found or named in the config."
  for id in $ids; do
    v="${id%%:*}"
    p="${id##*:}"
    echo "SUBSYSTEM==\"input\", KERNEL==\"event*\", ATTRS{idVendor}==\"$v\", ATTRS{idProduct}==\"$p\", GROUP=\"jiayuan-scanner\", MODE=\"0640\", SYMLINK+=\"jiayuan-scanner\", SYMLINK+=\"input/jiayuan-scanner-\$env{ID_PATH_TAG}\", ENV{LIBINPUT_IGNORE_DEVICE}=\"1\""
    echo "SUBSYSTEM==\"tty\", KERNEL==\"ttyACM*\", ATTRS{idVendor}==\"$v\", ATTRS{idProduct}==\"$p\", GROUP=\"jiayuan-scanner\", MODE=\"0660\", SYMLINK+=\"jiayuan-serial-scanner\""
  done
  echo 'LABEL="jiayuan_end"'
} > "$rules.new"
chmod 0644 "$rules.new"
mv "$rules.new" "$rules"
echo "$(grep -c '^SUBSYSTEM=="input"' "$rules" || true) scanner id(s) in /etc/udev/rules.d/70-jiayuan-scanners.rules"
