#!/usr/bin/env bash
# Installs the Jiayuan kiosk as an appliance on Debian 12, in one command, as root. Safe to run again
# (an update keeps the data directory and its config).
#
#   bash kiosk/install.sh                      build the release binary here and install everything
#   bash kiosk/install.sh --binary PATH        install a prebuilt binary instead of building
#   bash kiosk/install.sh --root DIR           stage into DIR instead of / (no packages, no services,
#                                              no printer set-up; used by the .deb and the tests)
#   options: --kiosk-id ID (default: the host name), --skip-packages, --no-init (no data directory),
#            --hardware-root DIR (look for scanners under DIR/dev and DIR/sys instead of /dev and /sys: tests)
set -euo pipefail
cd "$(dirname "$0")/.."

root=""
binary=""
kiosk_id=""
packages=1
init=1
hw=""
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root="$(realpath -m "$2")"; shift 2 ;;
    --binary) binary="$(realpath "$2")"; shift 2 ;;
    --kiosk-id) kiosk_id="$2"; shift 2 ;;
    --skip-packages) packages=0; shift ;;
    --no-init) init=0; shift ;;
    --hardware-root) hw="$(realpath -m "$2")"; shift 2 ;;
    *) echo "install.sh: unknown option $1" >&2; exit 64 ;;
  esac
done
R="${root}"
say() { echo "jiayuan install: $*"; }

if [ -z "$R" ] && [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (sudo bash kiosk/install.sh)" >&2
  exit 1
fi

# 1. Packages the appliance runs with (not in --root mode: the .deb declares them instead).
runtime=(systemd libsqlite3-0 libqrencode4 libcups2 libcurl4 zlib1g tzdata espeak-ng cups cups-client cage chromium fonts-noto-cjk curl)
if [ -z "$R" ] && [ "$packages" = 1 ]; then
  missing=()
  for p in "${runtime[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
fi

# 2. The binary: prebuilt, or the release build of this source tree.
if [ -z "$binary" ]; then
  source kiosk/setup-deps.sh
  # The Swift runtime is linked in, so the installed program needs nothing from the toolchain.
  say "building the release binary (a few minutes the first time)"
  binary="$(bash kiosk/build-release.sh -q)"
fi
[ -x "$binary" ] || { echo "install.sh: $binary is not an executable" >&2; exit 1; }

# 3. Files.
install -D -m 0755 "$binary" "$R/usr/bin/jiayuan"
rm -rf "$R/usr/share/jiayuan/assets"
mkdir -p "$R/usr/share/jiayuan"
cp -R assets "$R/usr/share/jiayuan/assets"
find "$R/usr/share/jiayuan/assets" -type d -exec chmod 0755 {} + -o -type f -exec chmod 0644 {} +
install -D -m 0644 kiosk/jiayuan.toml.example "$R/usr/share/jiayuan/jiayuan.toml.example"
install -D -m 0644 README.md "$R/usr/share/doc/jiayuan/README.md"
# The guides the technician and the desk read on the machine itself, with their screenshots.
for doc in install.md staff-guide.md security.md; do
  install -D -m 0644 "docs/$doc" "$R/usr/share/doc/jiayuan/$doc"
done
for shot in docs/screenshots/staff-*.png; do
  install -D -m 0644 "$shot" "$R/usr/share/doc/jiayuan/screenshots/$(basename "$shot")"
done
for unit in jiayuan.service jiayuan-display.service jiayuan-backup.service jiayuan-backup.timer; do
  install -D -m 0644 "systemd/$unit" "$R/usr/lib/systemd/system/$unit"
done
install -D -m 0644 systemd/jiayuan.sysusers "$R/usr/lib/sysusers.d/jiayuan.conf"
install -D -m 0644 systemd/jiayuan.tmpfiles "$R/usr/lib/tmpfiles.d/jiayuan.conf"

# 4. Users and directories (systemd's own tools, also inside a staging root).
mkdir -p "$R/etc"
if [ -n "$R" ]; then
  systemd-sysusers --root="$R" "$R/usr/lib/sysusers.d/jiayuan.conf"
  systemd-tmpfiles --create --root="$R" "$R/usr/lib/tmpfiles.d/jiayuan.conf"
else
  systemd-sysusers /usr/lib/sysusers.d/jiayuan.conf
  systemd-tmpfiles --create /usr/lib/tmpfiles.d/jiayuan.conf
fi
uid="$(awk -F: '$1 == "jiayuan" { print $3 }' "$R/etc/passwd")"
gid="$(awk -F: '$1 == "jiayuan" { print $3 }' "$R/etc/group")"
[ -n "$uid" ] && [ -n "$gid" ] || { echo "install.sh: the jiayuan user was not created" >&2; exit 1; }

# 5. The data directory: created once from the example config, never overwritten.
data="$R/var/lib/jiayuan"
if [ "$init" = 1 ]; then
  if [ -f "$data/jiayuan.toml" ]; then
    say "keeping the existing data directory $data"
  else
    id="${kiosk_id:-$( (hostname -s 2>/dev/null || true) | tr -c 'A-Za-z0-9_\n-' '-' | cut -c1-64)}"
    [ -n "$id" ] || id="kiosk-1"
    "$R/usr/bin/jiayuan" init --data "$data" --kiosk-id "$id" --config kiosk/jiayuan.toml.example >/dev/null
    say "created kiosk $id in /var/lib/jiayuan (edit /var/lib/jiayuan/jiayuan.toml: centre, venues, [upload])"
  fi
  chown -R "$uid:$gid" "$data"
  chmod 0700 "$data"
fi

# 6. Scanner rights by USB id (kiosk/scanner-rules.sh; again by hand after adding a scanner).
install -D -m 0755 kiosk/scanner-rules.sh "$R/usr/lib/jiayuan/scanner-rules"
rules_args=()
[ -n "$R" ] && rules_args+=(--root "$R")
# Staging into a root looks at no hardware (the build machine's devices are not the kiosk's) unless told where.
if [ -n "$hw" ]; then rules_args+=(--hardware-root "$hw"); elif [ -n "$R" ]; then rules_args+=(--no-hardware); fi
say "udev: $(bash kiosk/scanner-rules.sh "${rules_args[@]}")"

# 7. On a live system: a CUPS queue for a USB receipt printer, udev, services.
if [ -z "$R" ]; then
  if command -v lpinfo >/dev/null 2>&1 && ! lpstat -p jiayuan-receipt >/dev/null 2>&1; then
    uri="$(lpinfo -v 2>/dev/null | awk '$1 == "direct" && $2 ~ /^usb:\/\// { print $2; exit }' || true)"
    if [ -n "$uri" ]; then
      # A raw queue (no PPD: ESC/POS goes to the printer as the kiosk made it; `-m raw` only adds CUPS 2.4's
      # deprecation warning). retry-job: a paper-out holds the job and tries it again instead of stopping the
      # queue for good (CUPS's default stop-printer); should it stop anyway, the kiosk starts it again itself.
      lpadmin -p jiayuan-receipt -E -v "$uri" -o printer-error-policy=retry-job -o printer-is-shared=false \
        -D "Jiayuan receipt printer" && say "CUPS queue jiayuan-receipt → $uri (retry-job)"
      if grep -q '^target = "file:prints"' "$data/jiayuan.toml"; then
        sed -i 's|^target = "file:prints"|target = "cups:jiayuan-receipt"|' "$data/jiayuan.toml"
      fi
    else
      say "no USB receipt printer found: receipts go to $data/prints until one is set up (see README)"
    fi
  fi
  if command -v udevadm >/dev/null 2>&1; then
    udevadm control --reload 2>/dev/null || true
    udevadm trigger --subsystem-match=input --subsystem-match=tty 2>/dev/null || true
  fi
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    systemctl enable jiayuan.service jiayuan-backup.timer jiayuan-display.service
    # Restart (not just start): after an update the new program must take over.
    systemctl restart jiayuan.service
    systemctl start jiayuan-backup.timer
    systemctl restart jiayuan-display.service || say "the screen did not start (no display attached?): systemctl status jiayuan-display"
    say "running: systemctl status jiayuan · screen on tty7 · http://127.0.0.1:8080/"
  else
    say "systemd is not running here: start it with: jiayuan serve --data /var/lib/jiayuan"
  fi
  "$R/usr/bin/jiayuan" doctor --data "$data" || true
fi
say "done"
